"""The compiled weight-gradient kernel of the convolution (ember/_kernels/src/conv_wgrad.c,
taken by conv._weight_grad for float32, groups 1, no dilation): weight, bias and input
gradients against torch on both the kernel and the NumPy code (`kernel_path`), on the shapes
where the kernel is taken and where it is not, on one thread and split across two."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from ember import _kernels  # noqa: E402
from ember._ops import conv as conv_mod  # noqa: E402

RNG = np.random.default_rng(25)


@pytest.fixture
def taken(took):
    """Records, per call of the weight gradient, whether the compiled kernel computed it."""
    return took(conv_mod, '_weight_grad_kernel')


def _grads(lib, F, arrays, need, gy, nsp, kw):
    ts = [lib.from_numpy(a.copy()) if a is not None else None for a in arrays]
    for t, r in zip(ts, need):
        if t is not None and r:
            t.requires_grad_()
    y = getattr(F, f'conv{nsp}d')(*ts, **kw)
    y.backward(lib.from_numpy(gy))
    return y, [t.grad.numpy() if t is not None and t.grad is not None else None for t in ts]


def assert_conv_grads_as_torch(xshape, wshape, kw=None, dt=np.float32, bias=True,
                               need=(True, True, True), x_view=None, gy_view=None):
    """ember's and torch's gradients of conv{1,2}d agree (x_view / gy_view: a function of the
    input / output gradient array giving the non-contiguous view actually passed)."""
    kw = kw or {}
    nsp = len(xshape) - 2
    x = RNG.standard_normal(xshape).astype(dt)
    if x_view is not None:
        x = x_view(x)
    w = (RNG.standard_normal(wshape) / np.sqrt(np.prod(wshape[1:]))).astype(dt)
    b = RNG.standard_normal(wshape[0]).astype(dt) if bias else None
    with torch.no_grad():
        yshape = tuple(getattr(TF, f'conv{nsp}d')(torch.from_numpy(x), torch.from_numpy(w),
                                                  **kw).shape)
    gy = RNG.standard_normal(yshape).astype(dt)
    if gy_view is not None:
        gy = gy_view(gy)
    ey, eg = _grads(ember, EF, [x, w, b], need, gy, nsp, kw)
    ty, tg = _grads(torch, TF, [x, w, b], need, gy, nsp, kw)
    tol = 1e-4 if dt == np.float32 else 1e-10
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    for e, t, r in zip(eg, tg, need):
        assert (e is None) == (t is None)
        if t is not None:
            assert r
            # a weight gradient sums N*L products: its error scales with its size
            np.testing.assert_allclose(e, t, rtol=tol, atol=tol * max(1.0, np.abs(t).max()))


YARDSTICK_LIKE = [
    # lenet
    ((4, 1, 32, 32), (6, 1, 5, 5), {}),
    ((4, 6, 14, 14), (16, 6, 5, 5), {}),
    # resnet
    ((2, 3, 32, 32), (16, 3, 3, 3), dict(padding=1)),
    ((2, 16, 32, 32), (16, 16, 3, 3), dict(padding=1)),
    ((2, 16, 32, 32), (32, 16, 3, 3), dict(padding=1, stride=2)),
    ((2, 32, 16, 16), (32, 32, 3, 3), dict(padding=1)),
    ((2, 32, 16, 16), (64, 32, 3, 3), dict(padding=1, stride=2)),
    ((2, 64, 8, 8), (64, 64, 3, 3), dict(padding=1)),
    # unet
    ((1, 16, 64, 64), (16, 16, 3, 3), dict(padding=1)),
    ((1, 32, 16, 16), (64, 32, 3, 3), dict(padding=1)),
    ((2, 64, 8, 8), (128, 64, 3, 3), dict(padding=1)),
    ((1, 128, 8, 8), (128, 128, 3, 3), dict(padding=1)),
    ((1, 128, 16, 16), (64, 128, 3, 3), dict(padding=1)),
    ((1, 32, 64, 64), (16, 32, 3, 3), dict(padding=1)),
]

ODD = [
    ((3, 5, 9, 11), (21, 5, 3, 3), dict(padding=1, stride=2)),    # O = 16 + 5 (masked lanes)
    ((2, 7, 10, 9), (40, 7, 3, 3), dict(padding=(1, 0))),          # O = 2.5 vectors
    ((2, 4, 9, 9), (70, 4, 3, 3), dict(stride=(1, 2))),            # O: a 4-vector block + 1
    ((2, 1, 12, 13), (5, 1, 5, 5), dict(padding=2)),               # C = 1, 25 taps
    ((3, 3, 11, 10), (33, 3, 3, 3), dict(padding=1, stride=2)),    # C = 3, stride 2
    ((2, 24, 7, 5), (8, 24, 1, 1), dict(padding=1)),               # a padded 1x1 kernel
    ((2, 6, 9, 8), (12, 6, 2, 4), dict(padding='same')),           # even kernel, lo != hi
    # the AVX2 path's tiles (8-channel vectors in blocks of 1-3, <= 12 accumulators)
    ((2, 7, 9, 10), (13, 7, 3, 3), dict(padding=1)),               # O = 8 + 5, 63 rows
    ((2, 3, 10, 9), (44, 3, 3, 3), dict(stride=2)),                # 6 vectors: 3 + 3, 4 lanes
    ((3, 5, 7, 7), (7, 5, 2, 2), dict(padding=1)),                 # O < 8: 12-row tiles
    ((2, 4, 23, 29), (40, 4, 3, 3), dict(padding=1)),    # gy packed 512 pixels at a time
    ((3, 6, 45, 40), (33, 6, 3, 3), dict(padding=1, stride=2)),    # and 1 lane left
]


@pytest.mark.filterwarnings('ignore:Using padding=.same. with even kernel')
@pytest.mark.parametrize('xshape,wshape,kw', YARDSTICK_LIKE + ODD)
def test_grads_as_torch_where_the_kernel_is_taken(xshape, wshape, kw, kernel_path, taken):
    first = xshape[1] <= 3
    assert_conv_grads_as_torch(xshape, wshape, kw, need=(not first, True, True))
    assert taken and all(t == (kernel_path == 'compiled') for t in taken)


@pytest.mark.parametrize('xshape,wshape,kw,dt', [
    ((2, 6, 9, 9), (20, 6, 3, 3), dict(padding=1), np.float64),
    ((2, 8, 9, 9), (20, 4, 3, 3), dict(padding=1, groups=2), np.float32),
    ((2, 6, 11, 11), (20, 6, 3, 3), dict(padding=2, dilation=2), np.float32),
    ((2, 1, 16, 16), (16, 1, 3, 3), dict(padding=1), np.float32),     # 9 taps: NumPy's
])
def test_grads_as_torch_where_the_kernel_is_not_taken(xshape, wshape, kw, dt, kernel_path,
                                                      taken):
    assert_conv_grads_as_torch(xshape, wshape, kw, dt=dt)
    assert not any(taken)


@pytest.mark.parametrize('c,x_view,gy_view', [
    (12, lambda a: a.transpose(0, 1, 3, 2), None),                 # transposed input
    (6, lambda a: a[:, ::2], None),                                 # every other channel
    (12, None, lambda a: np.ascontiguousarray(a.swapaxes(2, 3)).swapaxes(2, 3)),  # columns
    (12, None, np.asfortranarray),
])
def test_non_contiguous_operands(c, x_view, gy_view, kernel_path, taken):
    assert_conv_grads_as_torch((3, 12, 10, 10), (20, c, 3, 3), dict(padding=1), x_view=x_view,
                               gy_view=gy_view)
    assert taken and all(t == (kernel_path == 'compiled') for t in taken)


@pytest.mark.parametrize('bias', [False, True])
def test_only_the_weight_needs_a_gradient(bias, kernel_path, taken):
    for kw in (dict(padding=1), dict(padding=1, stride=2)):
        assert_conv_grads_as_torch((3, 16, 12, 12), (24, 16, 3, 3), kw, bias=bias,
                                   need=(False, True, False))
    assert taken and all(t == (kernel_path == 'compiled') for t in taken)


def test_conv1d(kernel_path, taken):
    assert_conv_grads_as_torch((3, 8, 40), (20, 8, 3), dict(padding=1))
    assert_conv_grads_as_torch((3, 8, 41), (20, 8, 5), dict(stride=2))
    assert_conv_grads_as_torch((2, 5, 37), (11, 5, 4), dict(stride=2, padding=1))
    assert taken and all(t == (kernel_path == 'compiled') for t in taken)


@pytest.mark.skipif(_kernels.simd_lanes() != 8, reason='an AVX2 CPU without AVX-512F')
@pytest.mark.parametrize('c,o,k,want', [
    (1, 16, 3, True),       # 9 taps x channels: taken on AVX2 (not on AVX-512)
    (2, 16, 2, False),      # 8: NumPy's
    (64, 72, 3, True),      # wide layers too (gy packed)
])
def test_the_avx2_gates(c, o, k, want, taken):
    assert_conv_grads_as_torch((2, c, 10, 10), (o, c, k, k), dict(padding=1),
                               need=(c > 1, True, True))
    assert taken == [want]


@pytest.fixture
def split_threads(monkeypatch, two_threads):
    """Two threads and no size floor, so every batched convolution is split."""
    from ember._ops import _conv_split
    monkeypatch.setattr(_conv_split, '_SPLIT_MIN', 0)


@pytest.mark.parametrize('xshape,wshape,kw', [YARDSTICK_LIKE[i] for i in (0, 2, 4, 7)] + [
    ((3, 5, 9, 11), (21, 5, 3, 3), dict(padding=1, stride=2)),    # odd batch: 1 + 2 images
    ((5, 20, 8, 9), (8, 20, 3, 3), dict(padding=1)),
])
def test_grads_as_torch_split_across_two_threads(xshape, wshape, kw, kernel_path, taken,
                                                  split_threads):
    first = xshape[1] <= 3
    assert_conv_grads_as_torch(xshape, wshape, kw, need=(not first, True, True))
    # one call per image range
    assert len(taken) == 2 and all(t == (kernel_path == 'compiled') for t in taken)


# ---- the C function itself: the AVX-512, AVX2 and portable paths ------------------------------

_kernels.declare('ember_conv_wgrad4_plain_f32', None, *(['p'] + ['i64'] * 4 + ['p'] +
                                                        ['i64'] * 13 + ['p'] * 4))
_kernels.declare('ember_conv_wgrad4_avx2_f32', None, *(['p'] + ['i64'] * 4 + ['p'] +
                                                       ['i64'] * 13 + ['p'] * 4))


def _reference(x, gy, k, s):
    """gw (O, C, kh, kw) and gb of channels-last x (N, Hp, Wp, C) and gy (N, O, OH, OW), in
    float64."""
    n, o, oh, ow = gy.shape
    gw = np.zeros((o, x.shape[-1]) + k)
    for i in range(k[0]):
        for j in range(k[1]):
            win = x[:, i:i + s[0] * (oh - 1) + 1:s[0], j:j + s[1] * (ow - 1) + 1:s[1]]
            gw[:, :, i, j] = np.einsum('nyxc,noyx->oc', win.astype(np.float64), gy)
    return gw, gy.sum((0, 2, 3), dtype=np.float64)


def _gy_layout(gy, layout):
    """gy (N, O, OH, OW) as the kernel may receive it, with its (image, row, channel, pixel)
    element strides: NCHW, channels-last rows, the interior of a padded channels-last array,
    or NCHW rows inside wider ones."""
    if layout == 'nchw':
        g = gy
        return g, (g.strides[0], g.strides[2], g.strides[1], g.strides[3])
    if layout == 'nchw_wide':
        g = np.zeros(gy.shape[:3] + (gy.shape[3] + 3,), gy.dtype)[..., 1:-2]
        g[...] = gy
        return g, (g.strides[0], g.strides[2], g.strides[1], g.strides[3])
    g = np.ascontiguousarray(gy.transpose(0, 2, 3, 1))
    if layout == 'padded':
        p = np.zeros((g.shape[0], g.shape[1] + 2, g.shape[2] + 2, g.shape[3]), g.dtype)
        p[:, 1:-1, 1:-1] = g
        g = p[:, 1:-1, 1:-1]
    return g, (g.strides[0], g.strides[1], g.strides[3], g.strides[2])


@pytest.mark.skipif(not _kernels.available(), reason='no compiled kernels')
@pytest.mark.parametrize('name', ['ember_conv_wgrad4_f32', 'ember_conv_wgrad4_avx2_f32',
                                  'ember_conv_wgrad4_plain_f32'])
@pytest.mark.parametrize('n,c,o,hw,k,s,layout', [
    (3, 5, 21, (9, 11), (3, 3), (2, 2), 'nchw'),
    (2, 16, 70, (8, 8), (3, 3), (1, 1), 'last'),
    (2, 1, 6, (12, 12), (5, 5), (1, 1), 'nchw_wide'),
    (1, 130, 17, (4, 5), (2, 3), (1, 2), 'padded'),
    (3, 4, 33, (7, 6), (3, 3), (1, 1), 'padded'),
    (2, 3, 24, (8, 8), (3, 3), (1, 1), 'nchw'),         # whole 8 x 8 transpositions only
    (2, 7, 44, (5, 13), (3, 3), (1, 1), 'nchw'),        # 8 x 8 ones and the edges
    (2, 9, 8, (1, 19), (1, 3), (1, 2), 'nchw'),         # 1-d, one vector
    (3, 5, 33, (23, 20), (3, 3), (2, 2), 'padded'),     # AVX2: gy packed in chunks
])
def test_the_c_paths_with_the_bias_gradient(name, n, c, o, hw, k, s, layout):
    oh, ow = hw
    x = RNG.standard_normal((n, s[0] * (oh - 1) + k[0], s[1] * (ow - 1) + k[1], c)).astype(
        np.float32)
    gy = RNG.standard_normal((n, o, oh, ow)).astype(np.float32)
    want_w, want_b = _reference(x, gy, k, s)
    g, gs = _gy_layout(gy, layout)
    gw = np.empty((o, c) + k, np.float32)
    gb = np.empty(o, np.float32)
    acc = np.empty(gw.size, np.float32)
    scratch = np.empty(n * oh * ow * o, np.float32)
    _kernels.get(name)(x.ctypes.data, *[a // 4 for a in x.strides], g.ctypes.data,
                       *[a // 4 for a in gs], n, c, o, *k, oh, ow, *s, scratch.ctypes.data,
                       acc.ctypes.data, gw.ctypes.data, gb.ctypes.data)
    np.testing.assert_allclose(gw, want_w, rtol=1e-4, atol=1e-4 * np.abs(want_w).max())
    np.testing.assert_allclose(gb, want_b, rtol=1e-4, atol=1e-4 * np.abs(want_b).max())
