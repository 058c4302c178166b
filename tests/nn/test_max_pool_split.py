"""Max pooling over tiling windows split over the batch across two threads: values, indices
and gradients against torch, where the split is taken and where it is not."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from ember._ops import pooling  # noqa: E402

RNG = np.random.default_rng(24)


def assert_pool_as_torch(x, k, dt, **kw):
    x = x.astype(dt)
    t = torch.from_numpy(x.copy()).requires_grad_()
    e = ember.from_numpy(x.copy()).requires_grad_()
    ty, ti = TF.max_pool2d(t, k, return_indices=True, **kw)
    ey, ei = EF.max_pool2d(e, k, return_indices=True, **kw)
    np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    g = RNG.standard_normal(tuple(ty.shape)).astype(dt)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


@pytest.fixture
def split_pool(monkeypatch, two_threads):
    monkeypatch.setattr(pooling, '_SPLIT_MIN', 0)


SHAPES = [((4, 3, 8, 8), 2), ((3, 2, 9, 7), 2), ((5, 2, 9, 9), 3), ((2, 3, 6, 8), (2, 4))]


@pytest.mark.parametrize('shape,k', SHAPES)
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_max_pool2d_split(shape, k, dt, split_pool, monkeypatch):
    calls = []
    real = pooling.run_ranges
    monkeypatch.setattr(pooling, 'run_ranges', lambda fn, r: calls.append(r) or real(fn, r))
    assert_pool_as_torch(RNG.standard_normal(shape), k, dt)
    assert len(calls) == 2 and len(calls[0]) == 2       # forward and backward, two ranges


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


@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_max_pool2d_unsplit(dt, monkeypatch):
    """Below the size floor, with one image or one thread: the calling thread only."""
    calls = []
    monkeypatch.setattr(pooling, 'run_ranges', lambda fn, r: calls.append(r))
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
