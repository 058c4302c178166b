"""The transposed convolution whose kernel size is its stride (U-Net's 2x2 up-sampling) by the
compiled kernels (one GEMM per image laid out into the output's blocks, src/gemm.c): values
and every gradient against torch, split across the kernels' threads and not, on the shapes
where the kernel is taken and where it is not."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from ember import _kernels  # noqa: E402
from ember._ops import conv as conv_mod  # noqa: E402

RNG = np.random.default_rng(20)

pytestmark = pytest.mark.skipif(not _kernels.available(), reason='compiled kernels not built')


def _close(a, b):
    """float32 sums of a few thousand terms: to the scale of the largest value"""
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5 * max(1.0, float(np.abs(b).max())))


def _run(lib, arrays, need, fn):
    ts = [lib.from_numpy(a.copy()) if a is not None else None for a in arrays]
    for t, r in zip(ts, need):
        if t is not None and r:
            t.requires_grad_()
    y = fn(lib, *ts)
    return ts, y


def _as_torch(n, cin, cout, sp, k, bias=True, need=(True, True, True), fn=None, gy=None):
    """Runs fn (by default conv_transpose with stride = kernel size) on both libraries, checks
    the values and the gradients that `need` asks for; returns ember's (x, w, bias)."""
    x = RNG.standard_normal((n, cin) + sp).astype(np.float32)
    w = RNG.standard_normal((cin, cout) + k).astype(np.float32)
    b = RNG.standard_normal(cout).astype(np.float32) if bias else None
    if fn is None:
        def fn(lib, x, w, b):
            f = getattr(lib.nn.functional, f'conv_transpose{len(sp)}d')
            return f(x, w, b, stride=k)
    tt, ty = _run(torch, (x, w, b), need, fn)
    et, ey = _run(ember, (x, w, b), need, fn)
    assert tuple(ey.shape) == tuple(ty.shape) and ey.dtype == ember.float32
    _close(ey.detach().numpy(), ty.detach().numpy())
    g = RNG.standard_normal(tuple(ty.shape)).astype(np.float32) if gy is None else gy
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    for a, e, r in zip(tt, et, need):
        if a is None:
            continue
        if r:
            _close(e.grad.numpy(), a.grad.numpy())
        else:
            assert e.grad is None
    return et


CASES = [
    (4, 128, 64, (8, 8), (2, 2)),       # U-Net's up-samplings
    (4, 32, 16, (32, 32), (2, 2)),
    (3, 5, 7, (5, 6), (3, 2)),          # unequal strides, odd sizes
    (2, 3, 4, (4, 5), (1, 1)),          # 1x1: no blocks
    (3, 4, 3, (7,), (3,)),              # 1-d
]


@pytest.mark.parametrize('n,cin,cout,sp,k', CASES)
@pytest.mark.parametrize('bias', [True, False])
def test_block_transpose_as_torch(n, cin, cout, sp, k, bias, took, monkeypatch):
    monkeypatch.setattr(conv_mod, '_TRANSPOSE_SPLIT_MIN', 1 << 40)
    taken = took(conv_mod, '_block_kernel')
    deferred = took(_kernels, 'run_deferred')
    _as_torch(n, cin, cout, sp, k, bias)
    assert taken and all(taken)
    assert not deferred         # below the split floor: on this thread


@pytest.mark.parametrize('n,cin,cout,sp,k', CASES)
def test_block_transpose_split(n, cin, cout, sp, k, took, two_threads, monkeypatch):
    """Split over the images across the kernels' threads: the weight and bias gradients are
    the ranges' sums."""
    monkeypatch.setattr(conv_mod, '_TRANSPOSE_SPLIT_MIN', 0)
    deferred = took(_kernels, 'run_deferred')
    _as_torch(n, cin, cout, sp, k)
    assert deferred == [True, True]     # forward and backward on the library's threads


@pytest.mark.parametrize('need', [(True, False, False), (False, True, False),
                                  (False, False, True), (False, True, True)])
@pytest.mark.parametrize('split', [False, True])
def test_block_transpose_some_grads(need, split, two_threads, monkeypatch):
    if split:
        monkeypatch.setattr(conv_mod, '_TRANSPOSE_SPLIT_MIN', 0)
    inputs = _as_torch(4, 6, 5, (5, 5), (2, 2), need=need)
    assert [t.grad is not None for t in inputs] == list(need)


def test_block_transpose_strided_operands(two_threads, monkeypatch):
    """A channels-last input (copied for the kernel) and an upstream gradient that is a slice
    of a concatenation's (read in place, image by image), as U-Net's decoder gives it."""
    monkeypatch.setattr(conv_mod, '_TRANSPOSE_SPLIT_MIN', 0)

    def fn(lib, x, w, b):
        xl = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)      # channels-last
        y = lib.nn.functional.conv_transpose2d(xl, w, b, stride=2)
        skip = lib.ones(y.shape[0], 3, y.shape[2], y.shape[3])
        return lib.cat([skip, y], 1) * lib.arange(1.0, 8.0).reshape(1, 7, 1, 1)
    _as_torch(3, 4, 4, (5, 6), (2, 2), fn=fn)


@pytest.mark.parametrize('kw', [dict(stride=2, padding=1), dict(stride=2, output_padding=1),
                                dict(stride=1), dict(stride=2, groups=2),
                                dict(stride=2, dilation=2)])
def test_block_transpose_not_taken(kw, took):
    """Padding, output padding, kernel size != stride, groups, dilation: NumPy's code."""
    taken = took(conv_mod, '_block_kernel')

    def fn(lib, x, w, b):
        return lib.nn.functional.conv_transpose2d(x, w, b, **kw)
    _as_torch(2, 4, 3 if 'groups' not in kw else 2, (5, 5), (2, 2), bias='groups' not in kw,
              fn=fn)
    assert taken and not any(taken)


def test_block_transpose_float64_not_taken(took):
    taken = took(conv_mod, '_block_kernel')
    x = RNG.standard_normal((2, 3, 4, 4))
    w = RNG.standard_normal((3, 2, 2, 2))
    e = EF.conv_transpose2d(ember.from_numpy(x), ember.from_numpy(w), stride=2)
    t = TF.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)
    assert taken == [False]


def test_block_transpose_double_backward():
    """create_graph through a block transposed convolution: its recorded backward."""
    x = RNG.standard_normal((2, 3, 4, 4)).astype(np.float32)
    w = (RNG.standard_normal((3, 2, 2, 2)) * 0.3).astype(np.float32)
    res = []
    for lib in (torch, ember):
        xt, wt = (lib.from_numpy(a.copy()).requires_grad_() for a in (x, w))
        y = lib.nn.functional.conv_transpose2d(xt, wt, stride=2)
        gx, gw = lib.autograd.grad((y.tanh() ** 2).sum(), (xt, wt), create_graph=True)
        ((gx ** 2).sum() + (gw ** 2).sum()).backward()
        res.append((gx.detach().numpy(), gw.detach().numpy(), xt.grad.numpy(),
                    wt.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-5 * max(1.0, float(np.abs(a).max())))


def test_up_sampling_training_step(two_threads):
    """A U-Net decoder stage (ConvTranspose2d 2x2, pad, cat, conv, BN, ReLU) trained for a few
    SGD steps: losses and parameters as torch's."""
    def build(lib):
        lib.manual_seed(3)
        up = lib.nn.ConvTranspose2d(16, 8, 2, stride=2)
        conv = lib.nn.Sequential(lib.nn.Conv2d(16, 8, 3, padding=1), lib.nn.BatchNorm2d(8),
                                 lib.nn.ReLU())
        return up, conv
    x = RNG.standard_normal((4, 16, 16, 16)).astype(np.float32)
    skip = RNG.standard_normal((4, 8, 32, 32)).astype(np.float32)
    out = []
    for lib in (torch, ember):
        up, conv = build(lib)
        params = list(up.parameters()) + list(conv.parameters())
        opt = lib.optim.SGD(params, lr=0.05)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            y = conv(lib.cat([lib.from_numpy(skip), up(lib.from_numpy(x))], 1))
            loss = (y ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        out.append((losses, [p.detach().numpy().copy() for p in params]))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-4)
    for a, b in zip(out[0][1], out[1][1]):
        _close(b, a)
