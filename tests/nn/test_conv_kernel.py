"""The compiled direct convolution (ember/_kernels/src/conv.c) against torch: forward values and
input, weight and bias gradients, on the shapes where ember takes it and where it does not, on
the compiled kernel and on the NumPy code (kernel_path), on one thread and split on two."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from ember._ops import _conv_split, conv as conv_mod  # noqa: E402

RNG = np.random.default_rng(7)


@pytest.fixture
def direct_calls(monkeypatch):
    """The (channels, output channels) of every call of the direct kernel's wrapper."""
    calls = []
    real = conv_mod._corr_direct

    def counted(fn, x, w, *args):
        calls.append((x.shape[1], w.shape[0]))
        return real(fn, x, w, *args)
    monkeypatch.setattr(conv_mod, '_corr_direct', counted)
    return calls


def assert_close(ember_t, torch_t):
    """float32 agreement, the tolerance scaled to the values' size (sums of many products)."""
    ref = torch_t.detach().numpy()
    got = ember_t.detach().numpy()
    assert got.shape == ref.shape and got.dtype == ref.dtype
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * scale)


def assert_conv_like_torch(x, w, b, fn='conv2d', **kw):
    """Forward and every gradient of ember's conv against torch's (x in its own layout)."""
    targs = [torch.from_numpy(np.ascontiguousarray(a)).requires_grad_()
             for a in (x, w, b) if a is not None]
    # np.copy keeps the layout: a channels-last x stays a non-contiguous NCHW array
    eargs = [ember.from_numpy(np.copy(a)).requires_grad_() for a in (x, w, b) if a is not None]
    assert eargs[0]._data.flags.c_contiguous == x.flags.c_contiguous
    ty = getattr(TF, fn)(*targs, **kw)
    ey = getattr(EF, fn)(*eargs, **kw)
    assert_close(ey, ty)
    g = RNG.standard_normal(tuple(ty.shape)).astype(x.dtype)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    for e, t in zip(eargs, targs):
        assert_close(e.grad, t.grad)


def _arrays(xs, ws, bias=True, dt=np.float32):
    x = RNG.standard_normal(xs).astype(dt)
    w = (RNG.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(dt)
    b = RNG.standard_normal(ws[0]).astype(dt) if bias else None
    return x, w, b


# (input NCHW, weight OIHW, stride, padding): the yardsticks' layers on smaller batches, and
# O not a multiple of 16, C = 1 and 3, strides 1 and 2, odd and non-square sizes and kernels
TAKEN = [
    ((3, 1, 32, 32), (6, 1, 5, 5), 1, 0),          # lenet
    ((3, 6, 14, 14), (16, 6, 5, 5), 1, 0),
    ((2, 3, 32, 32), (16, 3, 3, 3), 1, 1),         # resnet
    ((2, 16, 32, 32), (16, 16, 3, 3), 1, 1),
    ((2, 16, 32, 32), (32, 16, 3, 3), 2, 1),
    ((2, 32, 16, 16), (32, 32, 3, 3), 1, 1),
    ((2, 32, 16, 16), (64, 32, 3, 3), 2, 1),
    ((2, 64, 8, 8), (64, 64, 3, 3), 1, 1),
    ((1, 1, 64, 64), (16, 1, 3, 3), 1, 1),         # unet
    ((1, 64, 8, 8), (128, 64, 3, 3), 1, 1),
    ((1, 128, 8, 8), (128, 128, 3, 3), 1, 1),
    ((1, 128, 16, 16), (64, 128, 3, 3), 1, 1),
    ((2, 5, 9, 13), (20, 5, 3, 3), 1, 1),          # O = 20, odd sizes
    ((2, 3, 11, 7), (40, 3, 5, 3), 2, (2, 0)),     # O = 40, C = 3, 5x3 kernel, stride 2
    ((2, 7, 17, 31), (50, 7, 3, 3), (2, 1), 1),    # O = 50, mixed stride, 31 wide
    ((2, 24, 6, 5), (3, 24, 3, 3), 1, 2),          # pad 2 > what the input gradient reuses
    ((2, 2, 40, 61), (17, 2, 2, 4), 2, (1, 3)),    # even kernel, wide rows (several blocks)
    ((2, 9, 5, 5), (33, 9, 5, 5), 1, 0),           # one output pixel per image
]


@pytest.mark.parametrize('xs,ws,stride,padding', TAKEN)
def test_conv2d_taken(xs, ws, stride, padding, kernel_path, direct_calls):
    x, w, b = _arrays(xs, ws)
    assert_conv_like_torch(x, w, b, stride=stride, padding=padding)
    if kernel_path == 'compiled':
        assert (xs[1], ws[0]) in direct_calls
        # the stride-1 input gradient: the kernel on gy with the kernel flipped, C and O swapped
        pads = (padding,) * 2 if isinstance(padding, int) else padding
        grad_taken = (stride == 1 and xs[1] >= 8 and
                      all(p <= k - 1 for p, k in zip(pads, ws[2:])))
        assert ((ws[0], xs[1]) in direct_calls[1:]) == grad_taken
    else:
        assert not direct_calls


def test_conv2d_no_bias_and_same_padding(kernel_path, direct_calls):
    x, w, _ = _arrays((2, 6, 10, 9), (18, 6, 3, 4), bias=False)
    assert_conv_like_torch(x, w, None, padding='same')
    assert bool(direct_calls) == (kernel_path == 'compiled')


def test_conv2d_non_contiguous_input(kernel_path, direct_calls):
    x, w, b = _arrays((2, 12, 11, 10), (24, 12, 3, 3))
    xv = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)    # channels-last
    assert not xv.flags.c_contiguous
    assert_conv_like_torch(xv, w, b, padding=1)
    assert bool(direct_calls) == (kernel_path == 'compiled')


@pytest.mark.parametrize('stride,padding', [(1, 1), (2, 2), (1, 0)])
def test_conv1d(stride, padding, kernel_path, direct_calls):
    x, w, b = _arrays((3, 5, 33), (20, 5, 3))
    assert_conv_like_torch(x, w, b, fn='conv1d', stride=stride, padding=padding)
    assert bool(direct_calls) == (kernel_path == 'compiled')


@pytest.mark.parametrize('dt,kw', [
    (np.float64, dict(padding=1)),
    (np.float32, dict(padding=1, groups=2)),
    (np.float32, dict(padding=2, dilation=2)),
    (np.float32, dict(padding=1, stride=3)),
])
def test_conv2d_not_taken(dt, kw, kernel_path, direct_calls):
    x, w, b = _arrays((2, 8, 12, 12), (16, 8 // kw.get('groups', 1), 3, 3), dt=dt)
    t = [torch.from_numpy(a).requires_grad_() for a in (x, w, b)]
    e = [ember.from_numpy(a.copy()).requires_grad_() for a in (x, w, b)]
    ty, ey = TF.conv2d(*t, **kw), EF.conv2d(*e, **kw)
    g = RNG.standard_normal(tuple(ty.shape)).astype(dt)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    for a, c in [(ey, ty)] + [(p.grad, q.grad) for p, q in zip(e, t)]:
        if dt == np.float64:
            np.testing.assert_allclose(a.detach().numpy(), c.detach().numpy(), rtol=1e-10,
                                       atol=1e-10)
        else:
            assert_close(a, c)
    assert not direct_calls


@pytest.mark.parametrize('xs,ws,stride', [
    ((4, 16, 32, 32), (16, 16, 3, 3), 1),
    ((3, 3, 20, 20), (20, 3, 3, 3), 2),
    ((5, 32, 8, 8), (48, 32, 3, 3), 1),
])
def test_conv2d_split_on_two_threads(xs, ws, stride, kernel_path, two_threads, count_splits,
                                     direct_calls, monkeypatch):
    """Each image range of the batch split runs the kernel once (on its own thread)."""
    monkeypatch.setattr(_conv_split, '_SPLIT_MIN', 0)
    parts = count_splits(_conv_split)
    x, w, b = _arrays(xs, ws)
    assert_conv_like_torch(x, w, b, stride=stride, padding=1)
    assert 2 in parts
    if kernel_path == 'compiled':
        # two forward parts, then (stride 1) two input-gradient parts with C and O swapped
        assert direct_calls[:2] == [(xs[1], ws[0])] * 2
        assert direct_calls[2:] == ([(ws[0], xs[1])] * 2 if stride == 1 else [])


@pytest.mark.parametrize('xs,ws,stride,padding', TAKEN[::3])
def test_portable_path_matches(xs, ws, stride, padding):
    """The kernel's plain C path (taken on CPUs without AVX-512) gives the dispatched path's
    values, channels-last and NCHW output alike."""
    from ember import _kernels
    if not _kernels.available():
        pytest.skip(f'no compiled kernels: {_kernels.why_not()}')
    restype, argtypes = _kernels._SIGNATURES['ember_conv2d_f32']
    _kernels.declare('ember_conv2d_portable_f32', restype, *argtypes)
    stride = (stride, stride) if isinstance(stride, int) else stride
    padding = (padding, padding) if isinstance(padding, int) else padding
    x, w, b = _arrays(xs, ws)
    xp = conv_mod._to_last(x, padding, padding)
    wk, bk = conv_mod._direct_weights(w, b)
    n, o = xs[0], ws[0]
    osp = [(p - k) // s + 1 for p, k, s in zip(xp.shape[1:3], ws[2:], stride)]
    per = osp[0] * osp[1]
    outs = []
    for name in ('ember_conv2d_f32', 'ember_conv2d_portable_f32'):
        for layout in ((o * per, 1, per), (o * per, o, 1)):
            y = np.full(n * o * per, np.nan, np.float32)
            _kernels.get(name)(n, xp.shape[1], xp.shape[2], xs[1], xp.ctypes.data, ws[2],
                               ws[3], o, wk.shape[-1], wk.ctypes.data, bk.ctypes.data,
                               stride[0], stride[1], osp[0], osp[1], y.ctypes.data, *layout)
            outs.append(y.reshape(n, o, *osp) if layout[1] == 1 else
                        np.moveaxis(y.reshape(n, *osp, o), -1, 1))
    ref = TF.conv2d(*(torch.from_numpy(a) for a in (x, w, b)), stride=stride,
                    padding=padding).numpy()
    for y in outs:
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4 * max(1, np.abs(ref).max()))


# Shapes for the kernel's block remainders (the AVX2 path's blocks: 2 registers of 8 channels x
# up to 6 pixels of a row, or 3 of each of two rows on short rows; 1 register x up to 12 pixels
# for the last <= 8 channels and for shallow blocks (KH*KW*C < 64); 16-channel weight slices
# packed where Opad > 16, up to 96 KB)
BLOCKS = [
    ((2, 2, 6, 13), (20, 2, 3, 3), 1, 1),          # shallow: 3 registers of 8, 4; 13 = 6 + 7
    ((2, 16, 5, 8), (24, 16, 3, 3), 1, 1),         # 8-pixel rows in pairs, odd row count, O=24
    ((2, 8, 9, 9), (12, 8, 3, 3), 1, 1),           # 9-pixel rows in pairs; 12 = 8 + 4 channels
    ((1, 8, 3, 1), (20, 8, 3, 3), 1, 1),           # 1-pixel rows in pairs; 20 = 16 + 4
    ((2, 3, 7, 27), (5, 3, 3, 3), 1, 1),           # one register, 27 = 9 + 9 + 9 pixels
    ((2, 1, 13, 29), (7, 1, 5, 5), 1, 2),          # 1 channel, 5x5, 29 = 9 + 10 + 10
    ((2, 6, 11, 50), (8, 6, 3, 3), 2, 1),          # stride 2, 8 channels, 25 pixels
    ((2, 10, 9, 16), (36, 10, 3, 3), 2, 1),        # stride 2, rows in pairs; 36 = 16 + 16 + 4
    ((2, 12, 6, 13), (17, 12, 3, 2), (1, 2), 1),   # mixed stride, 17 = 16 + 1
    ((3, 64, 4, 4), (40, 64, 3, 3), 1, 1),         # images inside the channel loop
    ((1, 128, 8, 8), (130, 128, 3, 3), 1, 1),      # 130 = 8 x 16 + 2, packed 72 KB slices
    ((1, 300, 5, 6), (20, 300, 3, 3), 1, 1),       # slices too big to pack (108 KB)
]


def _kernel_conv(x, w, b, stride, padding, layout):
    """ember_conv2d_f32 called directly, its output written NCHW ('first'), channels-last
    ('last') or at a pixel stride of 2 ('strided', neither contiguous), returned as NCHW."""
    from ember import _kernels
    stride = (stride, stride) if isinstance(stride, int) else stride
    padding = (padding, padding) if isinstance(padding, int) else padding
    xp = conv_mod._to_last(x, padding, padding)
    wk, bk = conv_mod._direct_weights(w, b)
    n, o = x.shape[0], w.shape[0]
    osp = [(p - k) // s + 1 for p, k, s in zip(xp.shape[1:3], w.shape[2:], stride)]
    per = osp[0] * osp[1]
    y = np.full(n * o * per * 2, np.nan, np.float32)
    steps = {'first': (o * per, 1, per), 'last': (o * per, o, 1),
             'strided': (2 * o * per, 2, 2 * per)}[layout]
    _kernels.get('ember_conv2d_f32')(n, xp.shape[1], xp.shape[2], x.shape[1], xp.ctypes.data,
                                     w.shape[2], w.shape[3], o, wk.shape[-1], wk.ctypes.data,
                                     bk.ctypes.data, stride[0], stride[1], osp[0], osp[1],
                                     y.ctypes.data, *steps)
    if layout == 'first':
        return y[:n * o * per].reshape(n, o, *osp)
    if layout == 'last':
        return np.moveaxis(y[:n * o * per].reshape(n, *osp, o), -1, 1)
    return y.reshape(n, o, *osp, 2)[..., 0]


@pytest.mark.parametrize('xs,ws,stride,padding', BLOCKS)
def test_conv2d_block_remainders(xs, ws, stride, padding, kernel_path, direct_calls):
    x, w, b = _arrays(xs, ws)
    assert_conv_like_torch(x, w, b, stride=stride, padding=padding)
    assert bool(direct_calls) == (kernel_path == 'compiled')
    if kernel_path == 'compiled':
        st = (stride, stride) if isinstance(stride, int) else stride
        ref = TF.conv2d(*(torch.from_numpy(a) for a in (x, w, b)), stride=st,
                        padding=padding).numpy()
        for layout in ('first', 'last', 'strided'):
            y = _kernel_conv(x, w, b, stride, padding, layout)
            np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4 * max(1, np.abs(ref).max()))
