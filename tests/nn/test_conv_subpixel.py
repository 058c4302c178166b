"""A strided convolution's input gradient by phases (sub-pixel): each phase of the input
gradient is the direct kernel's stride-1 full correlation of gy with that phase's sub-kernel,
interleaved by depth-to-space. Values and every gradient against torch, on the shapes where it
is taken and where it is not, split across the kernels' threads and not."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
from ember import _kernels  # noqa: E402
from ember._ops import _conv_split  # noqa: E402
from ember._ops import conv as conv_mod  # noqa: E402

RNG = np.random.default_rng(33)

pytestmark = pytest.mark.skipif(not _kernels.available() or _kernels.simd_lanes() < 8,
                                reason='the direct convolution kernel is not in use here')


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5 * max(1.0, float(np.abs(b).max())))


def _as_torch(n, cin, cout, sp, k, stride, padding, dtype=np.float32, need=(True, True),
              bias=False, **kw):
    """conv{1,2}d forward and backward on both libraries: values and gradients compared."""
    x = RNG.standard_normal((n, cin) + sp).astype(dtype)
    w = RNG.standard_normal((cout, cin) + k).astype(dtype)
    b = RNG.standard_normal(cout).astype(dtype) if bias else None
    name = f'conv{len(sp)}d'
    res = []
    gy = None
    for lib in (torch, ember):
        xt, wt = lib.from_numpy(x.copy()), lib.from_numpy(w.copy())
        bt = lib.from_numpy(b.copy()).requires_grad_() if bias else None
        for t, r in zip((xt, wt), need):
            t.requires_grad_(r)
        y = getattr(lib.nn.functional, name)(xt, wt, bt, stride=stride, padding=padding, **kw)
        if gy is None:
            gy = RNG.standard_normal(tuple(y.shape)).astype(dtype)
        y.backward(lib.from_numpy(gy))
        res.append([y.detach().numpy()] + [t.grad.numpy() for t in (xt, wt) if t.requires_grad]
                   + ([bt.grad.numpy()] if bias else []))
    for t, e in zip(*res):
        assert e.dtype == t.dtype and e.shape == t.shape
        _close(e, t)


TAKEN = [
    (4, 16, 32, (32, 32), (3, 3), 2, 1),        # ResNet's down-sampling layers
    (4, 32, 64, (16, 16), (3, 3), 2, 1),
    (3, 8, 5, (12, 10), (3, 3), 2, 0),          # no padding: gy's bottom rows padded
    (2, 9, 4, (12, 12), (5, 5), 2, 2),          # 5x5: phases of 3 and 2 taps
    (2, 8, 3, (9, 12), (3, 3), 3, 1),           # stride = kernel size
    (2, 8, 3, (8, 12), (3, 4), (2, 3), (1, 2)),  # unequal strides and paddings
    (2, 8, 3, (8, 8), (2, 2), 2, 0),            # one tap per phase
    (2, 8, 6, (8, 9), (3, 3), (2, 1), 1),       # stride 1 along one axis
    (2, 8, 4, (12, 12), (4, 4), 2, 3),          # padding above the kernel's reach
    (3, 10, 4, (16,), (3,), 2, 1),              # 1-d
]


@pytest.mark.parametrize('case', TAKEN)
def test_subpixel_as_torch(case, took, monkeypatch):
    monkeypatch.setattr(_conv_split, '_SPLIT_MIN', 1 << 40)     # on this thread
    taken = took(conv_mod, '_subpixel')
    _as_torch(*case)
    assert taken == [True]


@pytest.mark.parametrize('case', TAKEN[:3] + TAKEN[-1:])
def test_subpixel_split(case, took, two_threads, monkeypatch):
    """The batch split across the kernels' threads: the phases' calls of each image range
    recorded and run there, the weight gradient summed over the ranges."""
    monkeypatch.setattr(_conv_split, '_SPLIT_MIN', 0)
    taken = took(conv_mod, '_subpixel')
    deferred = took(_kernels, 'run_deferred')
    _as_torch(*case, bias=True)
    assert taken and all(taken)
    assert deferred == [True, True]     # the forward and the backward


@pytest.mark.parametrize('need', [(True, False), (True, True)])
def test_subpixel_input_gradient_alone(need, took):
    taken = took(conv_mod, '_subpixel')
    _as_torch(2, 8, 4, (10, 10), (3, 3), 2, 1, need=need)
    assert taken == [True]


@pytest.mark.parametrize('case,kw', [
    ((2, 8, 4, (12, 12), (3, 3), 2, 1, np.float64), {}),     # float64: NumPy's
    ((2, 4, 4, (12, 12), (3, 3), 2, 1), {}),                 # few input channels
    ((2, 8, 4, (11, 12), (3, 3), 2, 1), {}),                 # size not a multiple of stride
    ((2, 8, 4, (12, 12), (1, 1), 2, 0), {}),                 # stride above the kernel size
    ((2, 8, 4, (12, 12), (3, 3), 2, 2), {'dilation': 2}),
    ((2, 8, 4, (12, 12), (3, 3), 1, 1), {}),                 # stride 1: the full correlation
])
def test_subpixel_not_taken(case, kw, took):
    gx = took(conv_mod, '_grad_input_subpixel')
    _as_torch(*case, **kw)
    assert not gx


@pytest.mark.parametrize('op,wshape', [('conv2d', (4, 8, 3, 3)),
                                       ('conv_transpose2d', (8, 2, 2, 2))])
def test_kernels_off_before_backward(op, wshape, took):
    """The forward ran with the kernels (a stride-2 convolution; a transposed one by blocks,
    which saves no columns), the backward without them: NumPy's code, from what the forward
    saved."""
    phases = took(conv_mod, '_grad_input_subpixel')
    x = RNG.standard_normal((2, 8, 8, 8)).astype(np.float32)
    w = RNG.standard_normal(wshape).astype(np.float32)
    kw = dict(stride=2, padding=1) if op == 'conv2d' else dict(stride=2)
    res = []
    for lib in (torch, ember):
        xt, wt = (lib.from_numpy(a.copy()).requires_grad_() for a in (x, w))
        y = getattr(lib.nn.functional, op)(xt, wt, **kw)
        if lib is ember:
            if op == 'conv_transpose2d':
                assert y.grad_fn._saved_x2 is conv_mod._BLOCK
            with _kernels.disabled():
                y.square().sum().backward()
        else:
            y.square().sum().backward()
        res.append((xt.grad.numpy(), wt.grad.numpy()))
    for t, e in zip(*res):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=2e-5 * max(1.0, float(np.abs(t).max())))
    assert not phases


def test_resnet_down_block_training(two_threads):
    """A ResNet down-sampling block (3x3 stride 2 + BN + ReLU, 1x1 stride-2 shortcut) trained
    for a few Adam steps: losses and parameters as torch's."""
    def build(lib):
        lib.manual_seed(5)
        return (lib.nn.Sequential(lib.nn.Conv2d(16, 32, 3, 2, 1, bias=False),
                                  lib.nn.BatchNorm2d(32), lib.nn.ReLU(),
                                  lib.nn.Conv2d(32, 32, 3, 1, 1, bias=False)),
                lib.nn.Conv2d(16, 32, 1, 2, bias=False))
    x = RNG.standard_normal((8, 16, 16, 16)).astype(np.float32)
    out = []
    for lib in (torch, ember):
        body, short = build(lib)
        stem = lib.nn.Conv2d(16, 16, 3, 1, 1)       # so that the block's input has a gradient
        params = list(stem.parameters()) + list(body.parameters()) + list(short.parameters())
        opt = lib.optim.Adam(params, lr=1e-3)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            h = stem(lib.from_numpy(x))
            loss = (body(h) + short(h)).relu().mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        out.append((losses, [p.detach().numpy().copy() for p in params]))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-4)
    for t, e in zip(out[0][1], out[1][1]):
        _close(e, t)
