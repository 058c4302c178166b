"""F.grid_sample and F.affine_grid against torch: values, gradients for input and grid
(float32 and float64, every mode, padding mode and align_corners, 4-D and 5-D), gradcheck,
errors and warnings."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


def _run(lib, x, g, **kw):
    xt = lib.tensor(x, requires_grad=True)
    gt = lib.tensor(g, requires_grad=True)
    y = lib.nn.functional.grid_sample(xt, gt, **kw)
    w = lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(x.dtype))
    (y * w).sum().backward()
    return y.grad_fn.name(), y.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()


def _inputs(nd, dtype, seed):
    r = np.random.default_rng(seed)
    x = r.standard_normal((2, 3, 4, 5) if nd == 2 else (2, 3, 3, 4, 5)).astype(dtype)
    g = r.uniform(-1.4, 1.4, (2,) + (3, 2, 4)[:nd] + (nd,)).astype(dtype)
    # points exactly on the edges and the centre (the clipping/reflection kinks)
    g.reshape(-1)[:6] = [-1, 1, 0, 1, -1, -1]
    return x, g


CASES = [(nd, mode, pad, ac) for nd, mode, pad, ac in itertools.product(
    (2, 3), ('bilinear', 'nearest', 'bicubic'), ('zeros', 'border', 'reflection'),
    (True, False)) if not (nd == 3 and mode == 'bicubic')]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('nd,mode,pad,ac', CASES)
def test_grid_sample_matches_torch(nd, mode, pad, ac, dtype):
    x, g = _inputs(nd, np.dtype(dtype), len(mode) * 7 + len(pad) + ac)
    kw = dict(mode=mode, padding_mode=pad, align_corners=ac)
    e = _run(ember, x, g, **kw)
    t = _run(torch, x, g, **kw)
    assert e[0] == t[0]
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == 'float32' else dict(rtol=1e-10, atol=1e-12)
    for a, b in zip(e[1:], t[1:]):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
@pytest.mark.parametrize('pad', ['zeros', 'border', 'reflection'])
def test_grid_sample_gradcheck(mode, pad):
    x = ember.tensor(RNG.standard_normal((1, 2, 3, 4)), requires_grad=True)
    # away from the kinks (integer pixel positions, the clip bounds)
    g = ember.tensor(RNG.uniform(-1.2, 1.2, (1, 2, 3, 2)) + 0.013, requires_grad=True)
    for ac in (True, False):
        assert ember.autograd.gradcheck(
            lambda a, b: ember.nn.functional.grid_sample(a, b, mode=mode, padding_mode=pad,
                                                         align_corners=ac), (x, g))


def test_grid_sample_3d_gradcheck():
    x = ember.tensor(RNG.standard_normal((1, 2, 3, 3, 2)), requires_grad=True)
    g = ember.tensor(RNG.uniform(-1.1, 1.1, (1, 2, 2, 1, 3)) + 0.011, requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda a, b: ember.nn.functional.grid_sample(a, b, padding_mode='reflection',
                                                     align_corners=False), (x, g))


@pytest.mark.parametrize('nd,mode,pad,ac', CASES[::2] + CASES[1::5])
def test_grid_sample_second_order_matches_torch(nd, mode, pad, ac):
    r = np.random.default_rng(len(CASES))
    x = r.standard_normal((2, 2, 3, 4) if nd == 2 else (1, 2, 3, 2, 3))
    g = r.uniform(-1.3, 1.3, (x.shape[0],) + (2, 3, 2)[:nd] + (nd,)) + 0.01
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        gt = lib.tensor(g, requires_grad=True)
        y = lib.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=pad,
                                          align_corners=ac)
        gx, gg = lib.autograd.grad((y * y).sum(), (xt, gt), create_graph=True)
        second = lib.autograd.grad((gx * gx).sum() + (gg * gg.cos()).sum(), (xt, gt),
                                   allow_unused=True)
        res.append([gx.detach().numpy(), gg.detach().numpy()] +
                   [np.zeros(t.shape) if a is None else a.numpy()
                    for a, t in zip(second, (x, g))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
def test_grid_sample_gradgradcheck(mode):
    x = ember.tensor(RNG.standard_normal((1, 2, 3, 3)), requires_grad=True)
    g = ember.tensor(RNG.uniform(-1.2, 1.2, (1, 2, 2, 2)) + 0.013, requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda a, b: ember.nn.functional.grid_sample(a, b, mode=mode, padding_mode='border',
                                                     align_corners=False), (x, g))


def test_grid_sample_errors_and_warning():
    for lib in (ember, torch):
        F = lib.nn.functional
        x, g = lib.zeros(1, 1, 2, 2), lib.zeros(1, 2, 2, 2)
        with pytest.warns(UserWarning, match='Default grid_sample and affine_grid behavior'):
            F.grid_sample(x, g)
        with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or "
                                             "'bicubic', but got: 'linear'"):
            F.grid_sample(x, g, mode='linear', align_corners=False)
        with pytest.raises(ValueError, match="but got: 'wrap'"):
            F.grid_sample(x, g, padding_mode='wrap', align_corners=False)
        with pytest.raises(RuntimeError, match='bicubic interpolation only supports 4D input'):
            F.grid_sample(lib.zeros(1, 1, 2, 2, 2), lib.zeros(1, 1, 1, 1, 3), mode='bicubic',
                          align_corners=False)
        with pytest.raises(RuntimeError, match='expected grid to have size 2 in last '
                                               'dimension'):
            F.grid_sample(x, lib.zeros(1, 2, 2, 3), align_corners=False)
        with pytest.raises(RuntimeError, match='expected grid and input to have same batch'):
            F.grid_sample(x, lib.zeros(2, 2, 2, 2), align_corners=False)
        with pytest.raises(RuntimeError, match='expected scalar type Float but found Double'):
            F.grid_sample(x, lib.zeros(1, 2, 2, 2, dtype=lib.float64), align_corners=False)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('size,ac', [((2, 3, 4, 5), True), ((2, 3, 4, 5), False),
                                     ((2, 1, 3, 2, 4), True), ((2, 1, 3, 2, 4), False),
                                     ((2, 3, 1, 5), False)])
def test_affine_grid_matches_torch(size, ac, dtype):
    nd = len(size) - 2
    theta = RNG.standard_normal((2, nd, nd + 1)).astype(dtype)
    res = []
    for lib in (ember, torch):
        th = lib.tensor(theta, requires_grad=True)
        grid = lib.nn.functional.affine_grid(th, lib.Size(size), align_corners=ac)
        w = lib.tensor(np.sin(np.arange(grid.numel())).reshape(tuple(grid.shape)).astype(dtype))
        (grid * w).sum().backward()
        res.append((grid.grad_fn.name(), grid.detach().numpy(), th.grad.numpy()))
    assert res[0][0] == res[1][0]
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-13)
    for a, b in zip(res[0][1:], res[1][1:]):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, **tol)
    th = ember.tensor(theta.astype(np.float64), requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda t: ember.nn.functional.affine_grid(t, size, align_corners=ac), (th,))


def test_affine_grid_errors_and_warnings():
    for lib in (ember, torch):
        F = lib.nn.functional
        with pytest.raises(ValueError, match='Expected theta to have floating point type'):
            F.affine_grid(lib.zeros(1, 2, 3, dtype=lib.int64), [1, 1, 2, 2], align_corners=False)
        with pytest.raises(ValueError, match=r'Expected a batch of 2D affine matrices of shape '
                                             r'Nx2x3 for size \[1, 1, 2, 2\]\. Got'):
            F.affine_grid(lib.zeros(1, 3, 4), [1, 1, 2, 2], align_corners=False)
        with pytest.raises(NotImplementedError, match='affine_grid only supports 4D and 5D'):
            F.affine_grid(lib.zeros(1, 2, 3), [1, 1, 2], align_corners=False)
        with pytest.raises(ValueError, match='Expected non-zero, positive output size'):
            F.affine_grid(lib.zeros(1, 2, 3), [1, 0, 2, 2], align_corners=False)
        with pytest.warns(UserWarning, match='unit-size grids when align_corners=True'):
            F.affine_grid(lib.zeros(1, 2, 3), [1, 1, 1, 2], align_corners=True)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            F.affine_grid(lib.zeros(1, 2, 3), [1, 1, 2, 2], align_corners=False)


def test_top_level_ops():
    x = ember.randn(1, 2, 3, 3)
    g = ember.rand(1, 2, 2, 2) * 2 - 1
    a = ember.grid_sampler(x, g, 0, 0, False)
    b = ember.nn.functional.grid_sample(x, g, align_corners=False)
    assert ember.equal(a, b)
    assert ember.equal(ember.grid_sampler_2d(x, g, 1, 2, True),
                       ember.nn.functional.grid_sample(x, g, mode='nearest',
                                                       padding_mode='reflection',
                                                       align_corners=True))
    th = ember.randn(1, 2, 3)
    assert ember.equal(ember.affine_grid_generator(th, [1, 2, 3, 3], False),
                       ember.nn.functional.affine_grid(th, [1, 2, 3, 3], align_corners=False))
