"""Max pooling over tiling windows split over the batch across two threads: values, indices
and gradients against torch, where the split is taken and where it is not, with the compiled
kernel (ember/_kernels/src/pool.c) and with the NumPy code."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from ember._ops import pooling  # noqa: E402

RNG = np.random.default_rng(24)

both_paths = pytest.mark.usefixtures('kernel_path')     # compiled and NumPy


def assert_pool_as_torch(x, k, dt, g=None, fn='max_pool2d', **kw):
    """Values, indices and the gradient (of g, or a random one; signed zeros included)."""
    x = x.astype(dt)
    t = torch.from_numpy(x.copy()).requires_grad_()
    e = ember.from_numpy(x.copy()).requires_grad_()
    ty, ti = getattr(TF, fn)(t, k, return_indices=True, **kw)
    ey, ei = getattr(EF, fn)(e, k, return_indices=True, **kw)
    np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    if g is None:
        g = RNG.standard_normal(tuple(ty.shape)).astype(dt)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(np.signbit(e.grad.numpy()), np.signbit(t.grad.numpy()))


@pytest.fixture
def split_pool(monkeypatch, two_threads):
    monkeypatch.setattr(pooling, '_SPLIT_MIN', 0)


SHAPES = [((4, 3, 8, 8), 2), ((3, 2, 9, 7), 2), ((5, 2, 9, 9), 3), ((2, 3, 6, 8), (2, 4)),
          ((2, 3, 6, 39), 2), ((2, 2, 4, 32), 2),     # 8-wide blocks, with a tail and without
          ((3, 2, 4, 2), 2), ((2, 1, 2, 3), 2)]       # planes smaller than a block


@both_paths
@pytest.mark.parametrize('shape,k', SHAPES)
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_max_pool2d_split(shape, k, dt, split_pool, monkeypatch):
    calls = []
    real = pooling.run_ranges
    monkeypatch.setattr(pooling, 'run_ranges',
                        lambda fn, r, *a, **kw: calls.append(r) or real(fn, r, *a, **kw))
    assert_pool_as_torch(RNG.standard_normal(shape), k, dt)
    assert len(calls) == 2 and len(calls[0]) == 2       # forward and backward, two ranges


@both_paths
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_max_pool2d_split_ties_nan_inf(dt, split_pool):
    """Ties (the first position wins), NaN windows and infinite gradients in either half."""
    x = RNG.integers(0, 3, (4, 2, 6, 6)).astype(dt)
    x[3, 1, 0, 1] = np.nan
    x[0, 0, 2, 2] = np.nan
    assert_pool_as_torch(x, 2, dt)
    t = torch.from_numpy(x.copy()).requires_grad_()
    e = ember.from_numpy(x.copy()).requires_grad_()
    g = np.ones((4, 2, 3, 3), dtype=dt)
    g[2, 0, 1, 1] = np.inf
    TF.max_pool2d(t, 2).backward(torch.from_numpy(g))
    EF.max_pool2d(e, 2).backward(ember.from_numpy(g))
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


@both_paths
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_max_pool2d_unsplit(dt, monkeypatch):
    """Below the size floor, with one image or one thread: the calling thread only."""
    calls = []
    monkeypatch.setattr(pooling, 'run_ranges', lambda fn, r, *a, **kw: calls.append(r))
    assert_pool_as_torch(RNG.standard_normal((3, 2, 8, 8)), 2, dt)
    assert_pool_as_torch(RNG.standard_normal((1, 2, 8, 8)), 2, dt)
    before = ember.get_num_threads()
    monkeypatch.setattr(pooling, '_SPLIT_MIN', 0)
    ember.set_num_threads(1)
    try:
        assert_pool_as_torch(RNG.standard_normal((4, 2, 8, 8)), 2, dt)
    finally:
        ember.set_num_threads(before)
    assert calls == []


@both_paths
def test_max_pool2d_split_double_backward(split_pool):
    x = RNG.standard_normal((4, 2, 6, 6))
    res = []
    for lib, F in ((torch, TF), (ember, EF)):
        xt = lib.from_numpy(x.copy()).requires_grad_()
        (gx,) = lib.autograd.grad((F.max_pool2d(xt, 2) ** 3).sum(), (xt,), create_graph=True)
        (gx ** 2).sum().backward()
        res.append((gx, xt.grad))
    for a, b in zip(*res):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)


@both_paths
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_max_pool_tiled_edge_values(dt):
    """Several NaNs in one window, -0.0 and infinite gradients, 1-d pooling, and inputs the
    kernel does not take (non-contiguous) beside ones it does."""
    x = RNG.standard_normal((2, 3, 8, 10)).astype(dt)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    x[1, 2, 4:6, 4:6] = np.nan
    x[0, 1, 2:4, 2:4] = -0.0
    x[1, 1, 2:4, 2:4] = 0.0
    g = -np.zeros((2, 3, 4, 5), dtype=dt)
    g[1, 0, 0, 0] = -np.inf
    assert_pool_as_torch(x, 2, dt, g)
    assert_pool_as_torch(RNG.standard_normal((3, 2, 11)), 3, dt, fn='max_pool1d')
    assert_pool_as_torch(RNG.standard_normal((3, 2, 8, 12))[..., ::2], 2, dt)


@pytest.mark.parametrize('h,w', [(2, 2), (4, 2), (2, 3), (6, 14), (4, 34)])
def test_max_pool_kernel_stays_in_its_planes(h, w):
    """The compiled backward may write a short row's block past the row, never past its range
    of planes (another thread's), and the forward reads only inside the planes."""
    from ember import _kernels
    fwd = _kernels.get('ember_max_pool2d_tiled_f32')
    bwd = _kernels.get('ember_max_pool2d_tiled_backward_f32')
    if fwd is None or bwd is None:
        pytest.skip('no compiled kernels')
    planes, p0, p1 = 6, 2, 4
    oh, ow = h // 2, w // 2
    x = RNG.standard_normal((planes, h, w)).astype(np.float32)
    best = np.full((planes, oh, ow), 7.0, np.float32)
    arg = np.full(best.shape, 9, np.int16)
    fwd(p0, p1, h, w, x.ctypes.data, 2, 2, oh, ow, best.ctypes.data, arg.ctypes.data)
    ref_best, ref_arg = pooling._max_tiled(x[p0:p1][:, None], (2, 2), (oh, ow))
    np.testing.assert_array_equal(best[p0:p1], ref_best[:, 0])
    np.testing.assert_array_equal(arg[p0:p1], ref_arg[:, 0])
    assert (best[:p0] == 7).all() and (best[p1:] == 7).all() and (arg[p1:] == 9).all()
    g = RNG.standard_normal(best.shape).astype(np.float32)
    gx = np.full(x.shape, 5.0, np.float32)
    bwd(p0, p1, h, w, 2, 2, oh, ow, g.ctypes.data, arg.ctypes.data, gx.ctypes.data)
    meta = ((p1 - p0, 1, h, w), (2, 2), (2, 2), (0, 0), (1, 1), (oh, ow))
    ref = pooling._max_scatter_tiled(g[p0:p1][:, None], arg[p0:p1][:, None], meta)
    np.testing.assert_array_equal(gx[p0:p1], ref[:, 0])
    assert (gx[:p0] == 5).all() and (gx[p1:] == 5).all()
