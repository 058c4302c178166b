"""Transposed convolutions split over the batch across two threads (as convolutions are):
values and every gradient against torch, where the split is taken and where it is not."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from ember import _kernels  # noqa: E402
from ember._ops import conv as conv_mod  # noqa: E402

RNG = np.random.default_rng(15)

CASES = [
    (4, 6, 5, 2, 7, dict(stride=2)),                             # k == s: tiles, no overlap
    (3, 5, 4, 3, 6, dict(stride=2, padding=1, output_padding=1)),  # overlap, crop, odd batch
    (2, 4, 6, 3, 5, dict(dilation=2, padding=2)),
    (4, 6, 4, 3, 5, dict(stride=2, groups=2)),
    (5, 3, 4, 2, 8, {}),
]


def assert_transpose_as_torch(n, c, o, k, size, kw, dt, nsp=2, bias=True):
    g = kw.get('groups', 1)
    x = RNG.standard_normal((n, c) + (size,) * nsp).astype(dt)
    w = RNG.standard_normal((c, o // g if o % g == 0 else o) + (k,) * nsp).astype(dt)
    arrays = [x, w] + ([RNG.standard_normal(w.shape[1] * g).astype(dt)] if bias else [])
    t = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    e = [ember.from_numpy(a.copy()).requires_grad_() for a in arrays]
    name = f'conv_transpose{nsp}d'
    ty, ey = getattr(TF, name)(*t, **kw), getattr(EF, name)(*e, **kw)
    assert tuple(ey.shape) == tuple(ty.shape) and ey.dtype == getattr(ember, np.dtype(dt).name)
    tol = 1e-4 if dt == np.float32 else 1e-10
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    split = isinstance(ey.grad_fn._saved_x2, conv_mod._Split)
    gy = RNG.standard_normal(tuple(ty.shape)).astype(dt)
    ty.backward(torch.from_numpy(gy))
    ey.backward(ember.from_numpy(gy))
    for a, b in zip(t, e):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=tol, atol=tol)
    return split


@pytest.fixture
def split_threads(monkeypatch, two_threads):
    """Every transposed convolution split, by NumPy's code: the float32 kernel-size = stride
    ones would otherwise take the compiled kernel (tests/nn/test_conv_transpose_block.py)."""
    monkeypatch.setattr(conv_mod, '_TRANSPOSE_SPLIT_MIN', 0)
    with _kernels.disabled():
        yield


@pytest.mark.parametrize('n,c,o,k,size,kw', CASES)
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_conv_transpose2d_split(n, c, o, k, size, kw, dt, split_threads):
    split = assert_transpose_as_torch(n, c, o, k, size, kw, dt)
    assert split


@pytest.mark.parametrize('n,c,o,k,size,kw', CASES[:2])
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_conv_transpose2d_unsplit(n, c, o, k, size, kw, dt):
    """Below the size floor (or with one image) everything stays on the calling thread."""
    with _kernels.disabled():
        split = assert_transpose_as_torch(n, c, o, k, size, kw, dt)
    assert not split


@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_conv_transpose2d_one_image(dt, split_threads):
    split = assert_transpose_as_torch(1, 4, 3, 2, 5, dict(stride=2), dt)
    assert not split


@pytest.mark.parametrize('nsp', [1, 3])
def test_conv_transpose_split_ranks(nsp, split_threads):
    split = assert_transpose_as_torch(3, 4, 5, 2, 5, dict(stride=2), np.float64, nsp=nsp,
                                   bias=False)
    assert split


def test_conv_transpose_split_some_grads(split_threads):
    """Only the input (or only the weight) requiring grad through the split."""
    x = RNG.standard_normal((4, 6, 5, 5))
    w = RNG.standard_normal((6, 3, 2, 2))
    for k in (0, 1):
        t = [torch.from_numpy(a.copy()) for a in (x, w)]
        e = [ember.from_numpy(a.copy()) for a in (x, w)]
        t[k].requires_grad_()
        e[k].requires_grad_()
        TF.conv_transpose2d(*t, stride=2).square().sum().backward()
        EF.conv_transpose2d(*e, stride=2).square().sum().backward()
        np.testing.assert_allclose(e[k].grad.numpy(), t[k].grad.numpy(), rtol=1e-10)
        assert e[1 - k].grad is None


def test_conv_transpose_split_double_backward(split_threads):
    """create_graph through a split transposed convolution: second-order gradients as
    torch's."""
    x = RNG.standard_normal((4, 3, 5, 5))
    w = RNG.standard_normal((3, 2, 3, 3)) * 0.3
    res = []
    for lib, F in ((torch, TF), (ember, EF)):
        xt, wt = (lib.from_numpy(a.copy()).requires_grad_() for a in (x, w))
        y = F.conv_transpose2d(xt, wt, stride=2, padding=1)
        gx, gw = lib.autograd.grad((y.tanh() ** 2).sum(), (xt, wt), create_graph=True)
        ((gx ** 2).sum() + (gw ** 2).sum()).backward()
        res.append((gx, gw, xt.grad, wt.grad))
    for a, b in zip(*res):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-8,
                                   atol=1e-10)
