"""Pooling functions and layers against torch: values, indices, gradients, repr, errors."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

RNG = np.random.default_rng(1)


def _close(a, b, dt=np.float64):
    tol = 1e-5 if dt == np.float32 else 1e-10
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=tol, atol=tol)


def _compare(tfn, efn, shape, dt=np.float64, with_indices=False):
    x = RNG.standard_normal(shape).astype(dt)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ex = ember.from_numpy(x.copy()).requires_grad_()
    ty, ey = tfn(tx), efn(ex)
    if with_indices:
        (ty, ti), (ey, ei) = ty, ey
        assert ei.dtype == ember.int64
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    assert tuple(ey.shape) == tuple(ty.shape)
    assert ey.dtype == getattr(ember, np.dtype(dt).name)
    assert ey.grad_fn.name() == ty.grad_fn.name()
    _close(ty, ey, dt)
    g = RNG.standard_normal(tuple(ty.shape)).astype(dt)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    _close(tx.grad, ex.grad, dt)


F_CASES = [
    ('max_pool2d', (2, 3, 8, 8), (2,), {}),
    ('max_pool2d', (2, 3, 9, 9), (3, 2, 1, 2, True), {}),
    ('max_pool2d', (2, 3, 9, 9), ((3, 2), (2, 1), (1, 0)), {}),
    ('max_pool2d', (3, 9, 9), (2,), dict(ceil_mode=True)),
    ('max_pool3d', (2, 3, 5, 6, 7), (2,), dict(ceil_mode=True)),
    ('max_pool3d', (2, 3, 5, 6, 7), (3, 1, 1), {}),
    ('max_pool1d', (2, 3, 9), (3, 2, 1, 2, True), {}),
    ('max_pool1d', (3, 9), (2,), {}),
    ('avg_pool2d', (2, 3, 8, 8), (2,), {}),
    ('avg_pool2d', (2, 3, 9, 9), (3, 2, 1, True, False), {}),
    ('avg_pool2d', (2, 3, 9, 9), (3, 2, 1, True, True), {}),
    ('avg_pool2d', (2, 3, 9, 9), (3, 2, 1, False, True, 5), {}),
    ('avg_pool2d', (3, 9, 9), (2,), {}),
    ('avg_pool3d', (2, 3, 5, 6, 7), (3, 2, 1, True, False), {}),
    ('avg_pool1d', (2, 3, 9), (3, 2, 1, True, False), {}),
    ('adaptive_avg_pool2d', (2, 3, 9, 7), ((4, 3),), {}),
    ('adaptive_avg_pool2d', (2, 3, 8, 8), ((None, 4),), {}),
    ('adaptive_avg_pool2d', (3, 9, 7), (5,), {}),
    ('adaptive_avg_pool3d', (2, 3, 5, 6, 7), ((2, 3, 4),), {}),
    ('adaptive_avg_pool1d', (2, 3, 9), (4,), {}),
    ('adaptive_max_pool2d', (2, 3, 9, 7), ((4, 3),), {}),
    ('adaptive_max_pool3d', (2, 3, 5, 6, 7), ((2, 3, 4),), {}),
    ('adaptive_max_pool1d', (2, 3, 9), (4,), {}),
    ('lp_pool2d', (2, 3, 8, 8), (2, 2), {}),
    ('lp_pool1d', (2, 3, 8), (2, 3), dict(ceil_mode=True)),
]


@pytest.mark.parametrize('name,shape,args,kw', F_CASES)
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_functional(name, shape, args, kw, dt):
    _compare(lambda x: getattr(TF, name)(x, *args, **kw),
             lambda x: getattr(EF, name)(x, *args, **kw), shape, dt)


@pytest.mark.parametrize('name,shape,args,kw', [c for c in F_CASES if 'max' in c[0]])
def test_indices(name, shape, args, kw):
    _compare(lambda x: getattr(TF, name)(x, *args, return_indices=True, **kw),
             lambda x: getattr(EF, name)(x, *args, return_indices=True, **kw), shape,
             with_indices=True)


def test_max_pool_ties_and_nan():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    for m in (torch, ember):
        y, i = m.nn.functional.max_pool2d(m.from_numpy(x.copy()), 2, return_indices=True)
        if m is torch:
            ty, ti = y.numpy(), i.numpy()
    np.testing.assert_array_equal(y.numpy(), ty)
    np.testing.assert_array_equal(i.numpy(), ti)


@pytest.mark.parametrize('nsp', [1, 2, 3])
def test_max_unpool(nsp):
    shape = (2, 3) + (6,) * nsp
    x = RNG.standard_normal(shape)
    out_size = (7,) * nsp
    res = {}
    for m in (torch, ember):
        F = m.nn.functional
        y, i = getattr(F, f'max_pool{nsp}d')(m.from_numpy(x.copy()), 2, return_indices=True)
        y = y.detach().requires_grad_()
        u = getattr(F, f'max_unpool{nsp}d')(y, i, 2, output_size=out_size)
        u.backward(m.from_numpy(np.arange(u.numel(), dtype=np.float64).reshape(u.shape)))
        res[m] = (u, y.grad)
        mod = getattr(m.nn, f'MaxUnpool{nsp}d')(2)
        res[m, 'repr'] = repr(mod)
    assert res[ember, 'repr'] == res[torch, 'repr']
    assert res[ember][0].grad_fn.name() == res[torch][0].grad_fn.name()
    _close(res[torch][0], res[ember][0])
    _close(res[torch][1], res[ember][1])


def test_double_backward():
    x = ember.from_numpy(RNG.standard_normal((1, 2, 6, 6))).requires_grad_()
    for f in [lambda x: EF.max_pool2d(x, 3, 2, 1), lambda x: EF.avg_pool2d(x, 3, 2, 1),
              lambda x: EF.adaptive_avg_pool2d(x, 4), lambda x: EF.adaptive_max_pool2d(x, 4),
              lambda x: EF.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False)]:
        assert ember.autograd.gradcheck(f, (x,))
        assert ember.autograd.gradgradcheck(f, (x,))


MODULES = [
    ('MaxPool1d', (3,), {}, (2, 3, 8)),
    ('MaxPool2d', (3, 2, 1), dict(ceil_mode=True), (2, 3, 8, 8)),
    ('MaxPool2d', (2,), dict(dilation=2), (2, 3, 8, 8)),
    ('MaxPool3d', (2,), {}, (2, 3, 4, 4, 4)),
    ('AvgPool1d', (3, 2, 1), {}, (2, 3, 8)),
    ('AvgPool2d', (3, 2, 1), dict(count_include_pad=False, ceil_mode=True), (2, 3, 8, 8)),
    ('AvgPool3d', (2,), dict(divisor_override=3), (2, 3, 4, 4, 4)),
    ('AdaptiveAvgPool1d', (3,), {}, (2, 3, 8)),
    ('AdaptiveAvgPool2d', ((3, None),), {}, (2, 3, 8, 8)),
    ('AdaptiveAvgPool2d', (1,), {}, (2, 3, 8, 8)),
    ('AdaptiveAvgPool3d', (2,), {}, (2, 3, 4, 5, 4)),
    ('AdaptiveMaxPool1d', (3,), {}, (2, 3, 8)),
    ('AdaptiveMaxPool2d', ((3, 2),), {}, (2, 3, 8, 8)),
    ('AdaptiveMaxPool3d', (2,), {}, (2, 3, 4, 5, 4)),
    ('LPPool1d', (2, 3), {}, (2, 3, 8)),
    ('LPPool2d', (2, 2), dict(stride=1), (2, 3, 8, 8)),
]


@pytest.mark.parametrize('name,args,kw,shape', MODULES)
def test_modules(name, args, kw, shape):
    tm, em = getattr(torch.nn, name)(*args, **kw), getattr(ember.nn, name)(*args, **kw)
    assert repr(em) == repr(tm)
    if name == 'AdaptiveAvgPool2d' and args == (1,):
        # torch reduces with mean(); only the values and gradients are compared here
        x = RNG.standard_normal(shape)
        ty, ey = tm(torch.from_numpy(x)), em(ember.from_numpy(x))
        _close(ty, ey)
        return
    _compare(tm, em, shape, np.float32)


def _check_err(fn_t, fn_e, exc=RuntimeError):
    with pytest.raises(exc) as te:
        fn_t()
    with pytest.raises(exc) as ee:
        fn_e()
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize('case', [
    lambda m: m.nn.functional.max_pool2d(m.randn(2, 4, 8, 8), 9),
    lambda m: m.nn.functional.max_pool2d(m.randn(2, 4, 8, 8), 3, padding=2),
    lambda m: m.nn.functional.avg_pool2d(m.randn(2, 4, 8, 8), 3, padding=2),
    lambda m: m.nn.functional.avg_pool2d(m.randn(2, 4, 8, 8), 9),
    lambda m: m.nn.functional.max_pool2d(m.randn(8), 3),
    lambda m: m.nn.functional.max_pool3d(m.randn(2, 5, 5), 2),
    lambda m: m.nn.functional.max_pool1d(m.randn(2, 3, 4, 5), 2),
    lambda m: m.nn.functional.avg_pool1d(m.randn(2, 3, 4, 5), 2),
    lambda m: m.nn.functional.max_pool2d(m.randn(1, 2, 5, 5), 2, stride=0),
    lambda m: m.nn.functional.adaptive_avg_pool2d(m.randn(2, 4, 8, 8), (2, 2, 2)),
    lambda m: m.nn.functional.adaptive_avg_pool2d(m.randn(5), 2),
    lambda m: m.nn.functional.adaptive_max_pool2d(m.randn(5), 2),
])
def test_errors(case):
    _check_err(lambda: case(torch), lambda: case(ember))


def test_unpool_size_error():
    def f(m):
        x = m.randn(2, 4, 8, 8)
        return m.nn.functional.max_unpool2d(*m.nn.functional.max_pool2d(x, 2, return_indices=True),
                                            2, output_size=(3, 3))
    _check_err(lambda: f(torch), lambda: f(ember), ValueError)


@pytest.mark.parametrize('k,s', [(2, 2), (3, 3), (3, 2), (2, 1), ((2, 3), (2, 1))])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_avg_pool_windows_inside_the_input_match_torch_bits(k, s, dtype):
    # no padding: the windows' strided slices are added in window order, as torch adds a
    # window's values, then divided: the same bits
    x = np.random.default_rng(3).standard_normal((4, 5, 13, 12)).astype(dtype)
    got = ember.nn.functional.avg_pool2d(ember.from_numpy(x.copy()), k, s).numpy()
    want = TF.avg_pool2d(torch.from_numpy(x.copy()), k, s).numpy()
    np.testing.assert_array_equal(got, want)
