"""Complex tensors against torch: autograd through the complex ops (torch's convention,
grad = dL/dx + i dL/dy), the real/imag views, and complex random draws under the same seed."""
import numpy as np
import pytest
import torch

import ember


def _assert_close(e, t, tol):
    e_np = e.detach().numpy() if isinstance(e, ember.Tensor) else e
    np.testing.assert_allclose(e_np, t.detach().resolve_conj().numpy(), rtol=tol, atol=tol)


COMPLEX_FNS = {
    'abs_of_square': lambda L, x: (x * x).abs().sum(),
    'real_imag': lambda L, x: (x.real * 2).sum() + (x.imag ** 2).sum(),
    'view_as_real': lambda L, x: L.view_as_real(x).pow(2).sum(),
    'conj': lambda L, x: (x * x.conj()).real.sum() + (x.conj() * 3).imag.sum(),
    'angle': lambda L, x: x.angle().sum(),
    'exp_sin': lambda L, x: (x.exp() + x.sin()).abs().sum(),
    'div_sqrt': lambda L, x: ((x + 2) / (x * x + 1)).sqrt().real.sum(),
    'sgn': lambda L, x: (x.sgn() * (1 + 2j)).real.sum(),
    'matmul': lambda L, x: (x.reshape(2, 3) @ x.reshape(3, 2)).abs().sum(),
    'sum_mean_views': lambda L, x: (x.reshape(2, 3).t().mean(0) * 1j).real.sum()
    + x[1:].sum().abs(),
    'complex_polar': lambda L, x: (L.complex(x.real, x.imag * 2) * 3).abs().sum()
    + L.polar(x.abs(), x.angle() * 2).real.sum(),
    'view_as_complex': lambda L, x: L.view_as_complex(L.view_as_real(x) * 2).imag.sum(),
}


@pytest.mark.parametrize('name', list(COMPLEX_FNS))
def test_complex_gradients_as_torch(name):
    a = np.array([1 + 2j, 3 - 1j, 0.5j, -1.5 + 0.25j, 2.0 + 0j, -0.5 - 0.5j])
    e = ember.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    le, lt = COMPLEX_FNS[name](ember, e), COMPLEX_FNS[name](torch, t)
    _assert_close(le, lt, 1e-12)
    le.backward()
    lt.backward()
    _assert_close(e.grad, t.grad, 1e-12)


def test_complex_gradient_at_zero_as_torch():
    a = np.array([0j, 1 + 1j])
    for f in (lambda x: x.angle().sum(), lambda x: x.sgn().real.sum(),
              lambda x: x.abs().sum()):
        e = ember.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        f(e).backward()
        f(t).backward()
        _assert_close(e.grad, t.grad, 1e-12)


def test_unsupported_complex_gradient_raises():
    """An op whose formula is written for real values refuses complex inputs at backward."""
    x = ember.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    y = ember.cumprod(x, 0)
    with pytest.raises(NotImplementedError, match='CumprodBackward0 for complex'):
        y.abs().sum().backward()


def test_real_views_share_memory():
    z = ember.tensor([1 + 2j, 3 - 1j])
    z.real.mul_(2)
    z.imag.zero_()
    assert z.tolist() == [2 + 0j, 6 + 0j]
    r = ember.view_as_real(z)
    r[0, 1] = 5
    assert z[0].item() == 2 + 5j


@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
def test_complex_random_draws_as_torch(dtype):
    for fn in (lambda L: L.randn(3, dtype=getattr(L, dtype)),
               lambda L: L.randn(40, dtype=getattr(L, dtype)),
               lambda L: L.empty(5, dtype=getattr(L, dtype)).normal_(2, 3),
               lambda L: L.randn_like(L.ones(4, 5, dtype=getattr(L, dtype)).t())):
        ember.manual_seed(7)
        torch.manual_seed(7)
        e, t = fn(ember), fn(torch)
        assert str(e.dtype) == str(t.dtype)
        _assert_close(e, t, 1e-6 if dtype == 'complex64' else 1e-12)
