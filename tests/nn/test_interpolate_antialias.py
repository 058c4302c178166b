"""F.interpolate(antialias=True) against torch: bilinear and bicubic, shrinking and growing,
size and scale_factor, align_corners both ways, float32 and float64, values, gradients, grad_fn
names, double backward and the argument checks."""
import itertools

import numpy as np
import pytest
import torch

import ember

SHAPES = [((9, 13), dict(size=(4, 5))), ((9, 13), dict(size=(20, 7))),
          ((6, 7), dict(scale_factor=0.37)), ((8, 8), dict(scale_factor=(0.5, 1.7))),
          ((5, 11), dict(size=(5, 3)))]


@pytest.mark.parametrize('mode,ac,dtype', list(itertools.product(
    ['bilinear', 'bicubic'], [False, True], ['float32', 'float64'])))
@pytest.mark.parametrize('k', range(len(SHAPES)))
def test_antialias_matches_torch(mode, ac, dtype, k):
    insz, kw = SHAPES[k]
    x = np.random.default_rng(k).standard_normal((2, 3) + insz).astype(dtype)
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.interpolate(xt, mode=mode, align_corners=ac, antialias=True, **kw)
        w = lib.tensor(np.sin(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype))
        (y * w).sum().backward()
        res.append((y.grad_fn.name(), y.detach().numpy(), xt.grad.numpy()))
    assert res[0][0] == res[1][0]
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-13)
    for a, b in zip(res[0][1:], res[1][1:]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol)


def test_antialias_gradgradcheck():
    x = ember.randn(1, 2, 7, 6, dtype=ember.float64, requires_grad=True)
    for mode in ('bilinear', 'bicubic'):
        assert ember.autograd.gradgradcheck(
            lambda t: ember.nn.functional.interpolate(t, size=(3, 4), mode=mode,
                                                      antialias=True), (x,))


def test_antialias_argument_checks():
    for lib in (ember, torch):
        F = lib.nn.functional
        with pytest.raises(ValueError, match='Anti-alias option is restricted to bilinear, '
                                             'bicubic, and lanczos'):
            F.interpolate(lib.zeros(1, 1, 4), size=2, mode='linear', antialias=True)
        with pytest.raises(ValueError, match='Anti-alias option is restricted'):
            F.interpolate(lib.zeros(1, 1, 4, 4), size=2, mode='nearest', antialias=True)
