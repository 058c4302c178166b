"""F.pad, F.interpolate, pixel/channel shuffle and their layers against torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402


def to_np(t):
    return np.array(t.detach().numpy())


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


def check(ft, fe, x, dtype=np.float32):
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt, ye = ft(xt), fe(xe)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert repr(ye.dtype) == repr(yt.dtype)
    np.testing.assert_allclose(to_np(ye), to_np(yt), **_tol(dtype))
    assert ye.grad_fn.name() == yt.grad_fn.name().split('::')[-1]
    g = np.random.RandomState(1).randn(*yt.shape).astype(dtype)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), **_tol(dtype))


def _x(shape, dtype=np.float32):
    return np.random.RandomState(0).randn(*shape).astype(dtype)


SHAPES = {1: (2, 3, 7), 2: (2, 3, 5, 6), 3: (1, 2, 3, 4, 5)}
PADS = {1: [(2, 3), (0, 1), (-1, 3)], 2: [(2, 3, 1, 4), (1, 0, 0, 2), (-1, 2, 2, -2)],
        3: [(2, 3, 1, 2, 2, 1), (1, 1, 0, 0, 1, 0)]}


@pytest.mark.parametrize('mode', ['constant', 'reflect', 'replicate', 'circular'])
@pytest.mark.parametrize('k', [1, 2, 3])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_pad(mode, k, dtype):
    for p in PADS[k]:
        for unbatched in (False, True):
            x = _x(SHAPES[k], dtype)
            if unbatched:
                x = x[0]
            check(lambda t: TF.pad(t, p, mode), lambda t: EF.pad(t, p, mode), x, dtype)


def test_constant_pad_value_and_dims():
    x = _x((2, 3, 4))
    check(lambda t: TF.pad(t, (1, 1, 2, 0, 1, 2), value=-1.5),
          lambda t: EF.pad(t, (1, 1, 2, 0, 1, 2), value=-1.5), x)
    xi = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(to_np(EF.pad(ember.tensor(xi), (1, 2), value=7)),
                                  to_np(TF.pad(torch.tensor(xi), (1, 2), value=7)))


CASES = [dict(scale_factor=2), dict(scale_factor=3), dict(scale_factor=1.7), dict(size=4),
         dict(scale_factor=0.6), dict(scale_factor=2.3, recompute_scale_factor=True),
         dict(size=11), dict(scale_factor=1)]
MODES = {'nearest': (1, 2, 3), 'nearest-exact': (1, 2, 3), 'area': (1, 2, 3), 'linear': (1,),
         'bilinear': (2,), 'bicubic': (2,), 'trilinear': (3,)}


@pytest.mark.parametrize('mode', list(MODES))
@pytest.mark.parametrize('case', CASES, ids=str)
def test_interpolate(mode, case):
    for k in MODES[mode]:
        x = _x(SHAPES[k])
        acs = [None] if mode in ('nearest', 'nearest-exact', 'area') else [False, True]
        for ac in acs:
            check(lambda t: TF.interpolate(t, mode=mode, align_corners=ac, **case),
                  lambda t: EF.interpolate(t, mode=mode, align_corners=ac, **case), x)


@pytest.mark.parametrize('mode', ['nearest', 'bilinear', 'bicubic', 'area'])
def test_interpolate_float64_and_tuples(mode):
    x = _x((2, 2, 5, 4), np.float64)
    ac = None if mode in ('nearest', 'area') else False
    for kw in [dict(size=(7, 3)), dict(scale_factor=(1.5, 2.5))]:
        check(lambda t: TF.interpolate(t, mode=mode, align_corners=ac, **kw),
              lambda t: EF.interpolate(t, mode=mode, align_corners=ac, **kw), x, np.float64)


def test_upsampling_gradcheck():
    x = ember.tensor(_x((1, 1, 3, 4), np.float64), requires_grad=True)
    for mode in ('nearest', 'bilinear', 'bicubic', 'area'):
        ac = None if mode in ('nearest', 'area') else True
        fn = lambda t: EF.interpolate(t, size=(5, 3), mode=mode, align_corners=ac)  # noqa: E731
        assert ember.autograd.gradcheck(fn, (x,))
        assert ember.autograd.gradgradcheck(fn, (x,))
    for mode in ('reflect', 'replicate', 'circular', 'constant'):
        fn = lambda t: EF.pad(t, (1, 2, 2, 1), mode) * 1  # noqa: E731
        assert ember.autograd.gradcheck(fn, (x,))
        assert ember.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize('r', [1, 2, 3])
def test_pixel_shuffle(r):
    check(lambda t: TF.pixel_shuffle(t, r), lambda t: EF.pixel_shuffle(t, r),
          _x((2, 2 * r * r, 3, 4)))
    check(lambda t: TF.pixel_unshuffle(t, r), lambda t: EF.pixel_unshuffle(t, r),
          _x((2, 2, 3 * r, 2 * r)))
    check(lambda t: TF.pixel_shuffle(t, r), lambda t: EF.pixel_shuffle(t, r),
          _x((2 * r * r, 2, 3)))
    check(lambda t: TF.pixel_shuffle(t, r), lambda t: EF.pixel_shuffle(t, r),
          _x((2, 1, r * r, 2, 2)))


@pytest.mark.parametrize('groups', [1, 2, 3])
def test_channel_shuffle(groups):
    check(lambda t: TF.channel_shuffle(t, groups), lambda t: EF.channel_shuffle(t, groups),
          _x((2, 6, 3, 2)))
    t, e = torch.nn.ChannelShuffle(groups), ember.nn.ChannelShuffle(groups)
    assert repr(e) == repr(t)
    check(t, e, _x((2, 6, 4)))


PAD_MODULES = [(f'{kind}Pad{k}d', k) for k in (1, 2, 3)
               for kind in ('Zero', 'Constant', 'Reflection', 'Replication', 'Circular')]


@pytest.mark.parametrize('name,k', PAD_MODULES, ids=[n for n, _ in PAD_MODULES])
def test_pad_modules(name, k):
    for padding in (1, tuple(range(1, 2 * k + 1))):
        args = (padding, 2.5) if name.startswith('Constant') else (padding,)
        t, e = getattr(torch.nn, name)(*args), getattr(ember.nn, name)(*args)
        assert repr(e) == repr(t)
        assert e.padding == t.padding
        check(t, e, _x((1, 2) + (7,) * k))


def test_upsample_modules():
    for args, kw in [((), {'scale_factor': 2}), ((), {'size': (4, 5), 'mode': 'bilinear'}),
                     ((), {'scale_factor': (2, 1.5), 'mode': 'bicubic', 'align_corners': True}),
                     ((3,), {}), ((), {'scale_factor': 0.5, 'mode': 'area'})]:
        t, e = torch.nn.Upsample(*args, **kw), ember.nn.Upsample(*args, **kw)
        assert repr(e) == repr(t)
        check(t, e, _x((1, 2, 4, 6)))
    for cls in ('UpsamplingNearest2d', 'UpsamplingBilinear2d'):
        for kw in ({'scale_factor': 2}, {'size': 5}):
            t, e = getattr(torch.nn, cls)(**kw), getattr(ember.nn, cls)(**kw)
            assert repr(e) == repr(t)
            check(t, e, _x((1, 2, 3, 4)))
    for name, arg in (('PixelShuffle', 2), ('PixelUnshuffle', 2)):
        t, e = getattr(torch.nn, name)(arg), getattr(ember.nn, name)(arg)
        assert repr(e) == repr(t)
        check(t, e, _x((1, 4, 4, 6)))


def test_deprecated_functions():
    x = _x((1, 2, 3, 3))
    with pytest.warns(UserWarning):
        ye = EF.upsample_bilinear(ember.tensor(x), scale_factor=2)
    with pytest.warns(UserWarning):
        yt = TF.upsample_bilinear(torch.tensor(x), scale_factor=2)
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning):
        ye = EF.upsample(ember.tensor(x), size=5)
    np.testing.assert_allclose(to_np(ye), to_np(TF.interpolate(torch.tensor(x), size=5)))


def _raises(ft, fe):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as ee:
        fe()
    assert str(ee.value) == str(et.value)


def test_errors():
    x = _x((1, 2, 3))
    t, e = torch.tensor(x), ember.tensor(x)
    cases = [
        lambda F, v: F.pad(v, (1,)),
        lambda F, v: F.pad(v, (1,) * 8),
        lambda F, v: F.pad(v, (3, 3), 'reflect'),
        lambda F, v: F.pad(v, (1,) * 6, 'replicate'),
        lambda F, v: F.pad(v[0, 0], (1, 1), 'reflect'),
        lambda F, v: F.pad(v, (4, 4), 'circular'),
        lambda F, v: F.pad(v, (1, 1), 'reflect', value=2),
        lambda F, v: F.pad(v, (1, 1), 'foo'),
        lambda F, v: F.interpolate(v, size=4, scale_factor=2),
        lambda F, v: F.interpolate(v),
        lambda F, v: F.interpolate(v, size=(2, 2)),
        lambda F, v: F.interpolate(v, scale_factor=2, mode='bilinear'),
        lambda F, v: F.interpolate(v, scale_factor=2, mode='nearest', align_corners=True),
        lambda F, v: F.interpolate(v, size=4, recompute_scale_factor=True),
        lambda F, v: F.pixel_shuffle(v, 2),
        lambda F, v: F.pixel_unshuffle(v, 2),
        lambda F, v: F.channel_shuffle(v, 3),
    ]
    for c in cases:
        _raises(lambda: c(TF, t), lambda: c(EF, e))
    _raises(lambda: torch.nn.CircularPad2d(1)(t[0, 0]), lambda: ember.nn.CircularPad2d(1)(e[0, 0]))
    _raises(lambda: TF.pad(torch.zeros(1, 2, 3, 3), (1, 1, 3, 3), 'reflect'),
            lambda: EF.pad(ember.zeros(1, 2, 3, 3), (1, 1, 3, 3), 'reflect'))
    with pytest.raises(TypeError):
        EF.interpolate(e, size=2.5)


def test_interpolate_speed_shape_large():
    """A UNet-sized bilinear upsample and its backward stay vectorised (runs in well under 1s)."""
    x = ember.tensor(_x((8, 32, 32, 32)), requires_grad=True)
    y = EF.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
    y.sum().backward()
    assert tuple(x.grad.shape) == (8, 32, 32, 32)
    np.testing.assert_allclose(to_np(x.grad), 4.0, rtol=1e-5)


@pytest.mark.parametrize('scale', [2, 3, 5])
@pytest.mark.parametrize('k', [1, 2])
def test_nearest_integer_upsampling_gradient(scale, k):
    # an integer factor's gradient is the sum of `scale` strided slices per axis
    # (_scatter_axis), added in order: along one axis torch's order, so the same bits
    from ember._ops import sampling
    calls = []
    real = sampling._scatter_axis

    def spy(g, idx, n, axis):
        calls.append(idx.shape[0] == n * scale)
        return real(g, idx, n, axis)
    x = _x(SHAPES[k])
    g = np.random.RandomState(2).randn(*x.shape[:2], *(s * scale for s in x.shape[2:]))
    g = g.astype(np.float32)
    grads = []
    for lib, F in ((torch, TF), (ember, EF)):
        xt = lib.tensor(x, requires_grad=True)
        sampling._scatter_axis = spy
        try:
            F.interpolate(xt, scale_factor=scale, mode='nearest').backward(lib.tensor(g))
        finally:
            sampling._scatter_axis = real
        grads.append(to_np(xt.grad))
    assert calls and all(calls)
    if k == 1:
        np.testing.assert_array_equal(grads[1], grads[0])
    else:  # torch adds a block's pixels row by row; ember one axis after the other
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-6)
