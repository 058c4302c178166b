"""torch.special's orthogonal polynomials, spherical_bessel_j0, log_ndtr and ndtri against
torch: values over [-1.5, 1.5] (and the exact values at +-1), degrees -1..12 as numbers and as
tensors, float32 and float64; log_ndtr and ndtri with their gradients, far into the tails."""
import numpy as np
import pytest
import torch

import ember

POLYNOMIALS = ['chebyshev_polynomial_t', 'chebyshev_polynomial_u', 'chebyshev_polynomial_v',
               'chebyshev_polynomial_w', 'shifted_chebyshev_polynomial_t',
               'shifted_chebyshev_polynomial_u', 'shifted_chebyshev_polynomial_v',
               'shifted_chebyshev_polynomial_w', 'hermite_polynomial_h', 'hermite_polynomial_he',
               'laguerre_polynomial_l', 'legendre_polynomial_p']
X = np.concatenate([np.linspace(-1.5, 1.5, 31), [-1.0, 1.0, 0.0, 0.5]])


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', POLYNOMIALS)
def test_polynomials_as_torch(name, dtype):
    tol = 1e-4 if dtype == np.float32 else 1e-9
    fe, ft = getattr(ember.special, name), getattr(torch.special, name)
    for n in (-1, 0, 1, 2, 3, 5, 7, 9, 12):
        e, t = fe(ember.tensor(X.astype(dtype)), n), ft(torch.tensor(X.astype(dtype)), n)
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=tol, atol=tol)
    n = np.array([3.0, 4.5, -2.0])[:, None]
    np.testing.assert_allclose(fe(ember.tensor(X), ember.tensor(n)).numpy(),
                               ft(torch.tensor(X), torch.tensor(n)).numpy(), rtol=1e-9, atol=1e-9)
    # torch computes these without a gradient: the result has no history
    assert not fe(ember.tensor(X, requires_grad=True), 3).requires_grad
    assert not ft(torch.tensor(X, requires_grad=True), 3).requires_grad


def test_spherical_bessel_j0_as_torch():
    x = np.concatenate([np.linspace(-30, 30, 121), [0.0, 1e-3, -0.49, 0.51]])
    np.testing.assert_allclose(ember.special.spherical_bessel_j0(ember.tensor(x)).numpy(),
                               torch.special.spherical_bessel_j0(torch.tensor(x)).numpy(),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize('name, xs', [
    ('log_ndtr', [-1000., -100, -40, -25, -20.5, -19, -5, -0.5, 0, 0.3, 5, 40]),
    ('ndtri', [1e-12, 0.01, 0.2, 0.5, 0.7, 0.999])])
def test_log_ndtr_and_ndtri_with_gradients(name, xs):
    x = np.array(xs)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = getattr(ember.special, name)(e), getattr(torch.special, name)(t)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-12)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-12)
