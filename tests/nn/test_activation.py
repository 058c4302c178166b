"""Activation functions and layers against torch: values, gradients, grad_fn, repr, errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402


def to_np(t):
    return np.array(t.detach().numpy())


def _input(shape, dtype, seed=0):
    x = np.random.RandomState(seed).randn(*shape) * 3
    x.ravel()[:4] = [0.0, -3.0, 3.0, 0.5]  # kinks of relu6/hardswish/hardshrink
    return x.astype(dtype)


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def check(ft, fe, x, dtype=np.float32, extra=()):
    """Run ft (torch) and fe (ember) on copies of x; compare output, grads and grad_fn."""
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    et = [torch.tensor(a, requires_grad=True) for a in extra]
    ee = [ember.tensor(a, requires_grad=True) for a in extra]
    yt, ye = ft(xt, *et), fe(xe, *ee)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert repr(ye.dtype) == repr(yt.dtype)
    np.testing.assert_allclose(to_np(ye), to_np(yt), **_tol(dtype))
    assert ye.grad_fn.name() == yt.grad_fn.name()
    g = np.random.RandomState(1).randn(*yt.shape).astype(dtype)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), **_tol(dtype))
    for a, b in zip(ee, et):
        np.testing.assert_allclose(to_np(a.grad), to_np(b.grad), rtol=1e-4, atol=1e-5)


# (name, kwargs) for functions with the same name and arguments in both libraries
FUNCS = [
    ('relu', {}), ('relu6', {}), ('leaky_relu', {}), ('leaky_relu', {'negative_slope': 0.2}),
    ('elu', {}), ('elu', {'alpha': 0.5}), ('selu', {}), ('celu', {}), ('celu', {'alpha': 2.0}),
    ('gelu', {}), ('gelu', {'approximate': 'tanh'}), ('silu', {}), ('mish', {}),
    ('sigmoid', {}), ('tanh', {}), ('softplus', {}), ('softplus', {'beta': 2, 'threshold': 3}),
    ('softsign', {}), ('hardtanh', {}), ('hardtanh', {'min_val': -2.0, 'max_val': 0.5}),
    ('hardswish', {}), ('hardsigmoid', {}), ('hardshrink', {}), ('hardshrink', {'lambd': 1.5}),
    ('softshrink', {}), ('softshrink', {'lambd': 1.0}), ('tanhshrink', {}), ('logsigmoid', {}),
    ('threshold', {'threshold': 0.5, 'value': -2.0}), ('glu', {}), ('glu', {'dim': 0}),
    ('softmax', {'dim': 1}), ('log_softmax', {'dim': 0}), ('softmin', {'dim': -1}),
    ('rrelu', {}),
]


@pytest.mark.parametrize('name,kw', FUNCS, ids=[f'{n}-{k}' for n, k in FUNCS])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_functional(name, kw, dtype):
    x = _input((4, 6), dtype)
    check(lambda t: getattr(TF, name)(t, **kw), lambda t: getattr(EF, name)(t, **kw), x, dtype)


def test_large_magnitudes_stay_finite():
    x = np.array([-200.0, -30.0, 0.0, 30.0, 200.0], np.float32)
    for name in ('softplus', 'logsigmoid', 'mish', 'silu', 'elu', 'selu', 'gelu'):
        check(lambda t: getattr(TF, name)(t), lambda t: getattr(EF, name)(t), x)


@pytest.mark.parametrize('nparam', [1, 3])
def test_prelu(nparam):
    x = _input((2, 3, 4), np.float32)
    w = np.array([0.25, -0.5, 1.5][:nparam], np.float32)
    check(lambda t, w: TF.prelu(t, w), lambda t, w: EF.prelu(t, w), x, extra=(w,))
    check(lambda t, w: TF.prelu(t, w), lambda t, w: EF.prelu(t, w), x[0, 0], extra=(w[:1],))


def test_prelu_module_and_init():
    t, e = torch.nn.PReLU(3, init=0.1), ember.nn.PReLU(3, init=0.1)
    assert repr(e) == repr(t)
    np.testing.assert_array_equal(to_np(e.weight), to_np(t.weight))
    assert list(dict(e.named_parameters())) == ['weight']
    x = _input((2, 3, 5), np.float32)
    check(t, e, x)
    np.testing.assert_allclose(to_np(e.weight.grad), to_np(t.weight.grad), rtol=1e-5)


INPLACE = [('relu', {}), ('relu6', {}), ('elu', {}), ('selu', {}), ('celu', {'alpha': 1.5}),
           ('leaky_relu', {'negative_slope': 0.1}), ('hardtanh', {}), ('silu', {}), ('mish', {}),
           ('hardswish', {}), ('hardsigmoid', {}), ('rrelu', {}),
           ('threshold', {'threshold': 0.1, 'value': 2.0})]


@pytest.mark.parametrize('name,kw', INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace(name, kw):
    x = _input((3, 5), np.float32)

    def run(lib, F):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf * 1
        out = getattr(F, name)(y, inplace=True, **kw)
        assert out is y
        out.backward(lib.ones_like(out))
        return to_np(out), to_np(leaf.grad), out.grad_fn.name()
    t, e = run(torch, TF), run(ember, EF)
    np.testing.assert_allclose(e[0], t[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(e[1], t[1], rtol=1e-5, atol=1e-6)
    assert e[2] == t[2]
    # without autograd, the write goes straight into the tensor's memory
    xe = ember.tensor(x)
    assert getattr(EF, name)(xe, inplace=True, **kw) is xe
    np.testing.assert_allclose(to_np(xe), t[0], rtol=1e-6, atol=1e-7)


def test_underscore_functions():
    x = _input((3, 4), np.float32)
    for name, args in [('relu_', ()), ('elu_', ()), ('leaky_relu_', (0.3,)), ('hardtanh_', ()),
                       ('threshold_', (0.2, 1.0)), ('selu_', ()), ('celu_', ())]:
        a, b = torch.tensor(x), ember.tensor(x)
        getattr(TF, name)(a, *args)
        getattr(EF, name)(b, *args)
        np.testing.assert_allclose(to_np(b), to_np(a), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('seed', [0, 5])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_rrelu_training_bitwise(seed, dtype):
    x = _input((6, 7), dtype)
    torch.manual_seed(seed)
    ember.manual_seed(seed)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt = torch.nn.RReLU(0.1, 0.4)(xt)
    ye = ember.nn.RReLU(0.1, 0.4)(xe)
    np.testing.assert_array_equal(to_np(ye), to_np(yt))
    assert ye.grad_fn.name() == yt.grad_fn.name() == 'RreluWithNoiseBackward0'
    yt.sum().backward()
    ye.sum().backward()
    np.testing.assert_array_equal(to_np(xe.grad), to_np(xt.grad))
    # the generator streams stay in step afterwards
    np.testing.assert_array_equal(to_np(ember.rand(5)), to_np(torch.rand(5)))


MODULES = [
    ('ReLU', ()), ('ReLU', (True,)), ('ReLU6', ()), ('ReLU6', (True,)), ('LeakyReLU', ()),
    ('LeakyReLU', (0.2, True)), ('PReLU', ()), ('PReLU', (4, 0.5)), ('RReLU', ()),
    ('RReLU', (0.1, 0.3, True)), ('ELU', ()), ('ELU', (0.5, True)), ('SELU', ()),
    ('SELU', (True,)), ('CELU', ()), ('CELU', (2.0,)), ('GELU', ()), ('GELU', ('tanh',)),
    ('SiLU', ()), ('SiLU', (True,)), ('Mish', ()), ('Mish', (True,)), ('Sigmoid', ()),
    ('Tanh', ()), ('Softmax', ()), ('Softmax', (1,)), ('LogSoftmax', (-1,)), ('Softmin', (0,)),
    ('Softmax2d', ()), ('Softplus', ()), ('Softplus', (2.0, 10.0)), ('Softsign', ()),
    ('Hardtanh', ()), ('Hardtanh', (-2.0, 3.0, True)), ('Hardswish', ()),
    ('Hardswish', (True,)), ('Hardsigmoid', ()), ('Hardsigmoid', (True,)), ('Hardshrink', ()),
    ('Hardshrink', (0.3,)), ('Softshrink', ()), ('Softshrink', (1.0,)), ('Tanhshrink', ()),
    ('Threshold', (0.1, 20)), ('Threshold', (0.1, 2.0, True)), ('GLU', ()), ('GLU', (1,)),
    ('LogSigmoid', ()),
]


@pytest.mark.parametrize('name,args', MODULES, ids=[f'{n}{a}' for n, a in MODULES])
def test_module(name, args):
    t = getattr(torch.nn, name)(*args)
    e = getattr(ember.nn, name)(*args)
    assert repr(e) == repr(t)
    assert isinstance(e, ember.nn.Module)
    t.eval()
    e.eval()
    x = _input((2, 4, 3, 2), np.float32)
    if name == 'PReLU':
        e.weight.data.copy_(ember.tensor(to_np(t.weight)))
    check(lambda v: t(v * 1), lambda v: e(v * 1), x)


def test_hardtanh_deprecated_kwargs_and_attrs():
    with pytest.warns(FutureWarning):
        e = ember.nn.Hardtanh(min_value=-2.0)
    assert e.min_val == -2.0
    assert ember.nn.Softplus(2).beta == torch.nn.Softplus(2).beta
    assert ember.nn.ReLU6().max_val == 6.0


def _raises(ft, fe):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as ee:
        fe()
    assert str(ee.value) == str(et.value)


def test_errors():
    x = np.zeros((2, 3), np.float32)
    t, e = torch.tensor(x), ember.tensor(x)
    _raises(lambda: TF.hardtanh(t, 2.0, 1.0), lambda: EF.hardtanh(e, 2.0, 1.0))
    _raises(lambda: TF.glu(t, 1), lambda: EF.glu(e, 1))
    _raises(lambda: TF.gelu(t, approximate='foo'), lambda: EF.gelu(e, approximate='foo'))
    _raises(lambda: TF.prelu(t, torch.ones(2)), lambda: EF.prelu(e, ember.ones(2)))
    _raises(lambda: TF.prelu(t, torch.ones(3, 1)), lambda: EF.prelu(e, ember.ones(3, 1)))
    _raises(lambda: TF.softshrink(t, -1.0), lambda: EF.softshrink(e, -1.0))
    _raises(lambda: torch.nn.Softmax2d()(t), lambda: ember.nn.Softmax2d()(e))
    _raises(lambda: torch.nn.Hardtanh(1.0, 0.0), lambda: ember.nn.Hardtanh(1.0, 0.0))


@pytest.mark.parametrize('name,kw', [('elu', {}), ('celu', {'alpha': 0.7}), ('selu', {}),
                                     ('gelu', {}), ('gelu', {'approximate': 'tanh'}),
                                     ('silu', {}), ('mish', {}), ('softplus', {'beta': 1.5}),
                                     ('logsigmoid', {}), ('glu', {}), ('hardswish', {}),
                                     ('leaky_relu', {}), ('prelu', {})])
def test_gradcheck(name, kw):
    x = ember.tensor(_input((2, 4), np.float64) + 0.01, requires_grad=True)
    if name == 'prelu':
        w = ember.tensor([0.3, -0.2], dtype=ember.float64, requires_grad=True)
        args = (x.reshape(2, 2, 2), w)
        fn = EF.prelu
    else:
        args = (x,)
        fn = lambda v: getattr(EF, name)(v, **kw)  # noqa: E731
    assert ember.autograd.gradcheck(fn, args)
    if name in ('elu', 'gelu', 'silu', 'mish', 'softplus', 'glu', 'logsigmoid'):
        assert ember.autograd.gradgradcheck(fn, args)


def test_gelu_float32_dense_range(kernel_path):
    # the float32 fast path (erf from A&S 7.1.26, derivative from the forward) over the whole
    # range, with a non-contiguous input; torch's own float32 GELU is ~1e-6 off the exact value
    x = np.linspace(-10, 10, 40001).astype(np.float32)
    x = np.stack([x, -x], 1)[:, 0]
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt, ye = TF.gelu(xt[::2]), EF.gelu(xe[::2])
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-5, atol=2e-6)
    g = np.random.RandomState(0).randn(*yt.shape).astype(np.float32)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), rtol=1e-5, atol=1e-6)
    # double backward goes through Tensor ops and agrees with the saved derivative
    xe2 = ember.tensor(x[:50], requires_grad=True)
    (gr,) = ember.autograd.grad(EF.gelu(xe2).sum(), xe2, create_graph=True)
    xt2 = torch.tensor(x[:50], requires_grad=True)
    (grt,) = torch.autograd.grad(TF.gelu(xt2).sum(), xt2, create_graph=True)
    np.testing.assert_allclose(to_np(gr), to_np(grt), rtol=1e-5, atol=1e-6)
    gg, ggt = gr.sum(), grt.sum()
    gg.backward()
    ggt.backward()
    np.testing.assert_allclose(to_np(xe2.grad), to_np(xt2.grad), rtol=1e-4, atol=1e-5)


def test_gelu_half():
    x = _input((4, 6), np.float32)
    for dt in (torch.float16,):
        yt = TF.gelu(torch.tensor(x).to(dt)).float()
        ye = EF.gelu(ember.tensor(x).to(getattr(ember, str(dt).split('.')[1]))).float()
        np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize('shape', [(0,), (2, 0, 3), (1,)])
def test_gelu_empty_and_scalar(shape):
    x = np.full(shape, 0.3, np.float32)
    check(lambda t: TF.gelu(t), lambda t: EF.gelu(t), x)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_gelu_tanh_dense_range(dtype):
    # forward and the derivative saved by the forward; float32's 1 - tanh^2 cancels near
    # |x| ~ 5 (torch's tanh and NumPy's differ by an ulp there), hence the wider atol
    x = np.linspace(-9, 9, 3001).astype(dtype)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt, ye = TF.gelu(xt, approximate='tanh'), EF.gelu(xe, approximate='tanh')
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(ye), to_np(yt), **tol)
    g = np.random.RandomState(0).randn(x.size).astype(dtype)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    if dtype == np.float32:
        tol = dict(rtol=1e-5, atol=5e-6)  # one ulp of tanh near +-1 is ~1e-6 of 1 - t^2
    np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), **tol)


def test_gelu_float32_special_values(kernel_path):
    # infinities and NaN give torch's NaN, huge negatives underflow to torch's signed zero,
    # tiny values keep their sign, in the forward and in the derivative. These are the values
    # of torch's oneDNN path (relu(x) - |x| Phi(-|x|)), which it takes on AVX-512 CPUs; on
    # others its ATen kernel computes x (1 + erf) / 2, which gives inf at inf and +0.0 where
    # the oneDNN form gives -0.0 or a tiny negative: there only the ordinary values compare.
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 30, -30, -5, 1e-30, -1e-30, -14, -13.5,
                  -104, -110, 87.5, -87.5, 3.4e38, -3.4e38], np.float32)
    if torch.backends.cpu.get_cpu_capability() != 'AVX512':
        x = np.array([0.0, 30, -5, 1e-30, -1e-30, 87.5, -2.5, 1.5], np.float32)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt, ye = TF.gelu(xt), EF.gelu(xe)
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-5, atol=1e-6)
    real = ~np.isnan(to_np(yt))     # a NaN's sign bit means nothing
    np.testing.assert_array_equal(np.signbit(to_np(ye))[real], np.signbit(to_np(yt))[real])
    yt.sum().backward()
    ye.sum().backward()
    np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('shape', [(3, 5), (8, 16, 32, 32)])     # the second splits by images
def test_relu_inplace_saves_its_output_as_torch(shape, two_threads, kernel_path):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    x.flat[::7] = -0.0
    res = {}
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        y = xt * 1
        z = lib.relu_(y)
        assert z is y and y._version == 1 and type(y.grad_fn).__name__ == 'ReluBackward0'
        (z * z).sum().backward()
        y2 = xt * 1
        w = lib.nn.functional.relu(y2, inplace=True) * 2
        y2.add_(1)      # the saved output changed: backward refuses, naming Relu
        with pytest.raises(RuntimeError) as err:
            w.sum().backward()
        res[lib.__name__] = (z.detach().numpy(), xt.grad.numpy(), str(err.value))
    np.testing.assert_array_equal(res['ember'][0], res['torch'][0])
    np.testing.assert_array_equal(np.signbit(res['ember'][0]), np.signbit(res['torch'][0]))
    np.testing.assert_array_equal(res['ember'][1], res['torch'][1])
    assert res['ember'][2] == res['torch'][2]
    # out of place, NaN and signed zeros, and the gradient through the saved output
    x[0, 0] = np.nan
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt, ye = TF.relu(xt), EF.relu(xe)
    np.testing.assert_array_equal(to_np(ye), to_np(yt))
    np.testing.assert_array_equal(np.signbit(to_np(ye)), np.signbit(to_np(yt)))
    g = rng.standard_normal(shape).astype(np.float32)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_array_equal(to_np(xe.grad), to_np(xt.grad))


@pytest.mark.parametrize('fn', ['sigmoid', 'silu', 'logsigmoid', 'glu'])
@pytest.mark.parametrize('shape', [(7, 30), (64, 784)], ids=['below the kernel', 'kernel'])
def test_sigmoid_paths(shape, fn, kernel_path):
    # float32 sigmoid (and the ops built on it) in one compiled pass from 256 elements,
    # NumPy's passes below: torch's values, non-finite inputs and |x| past exp's range included
    x = np.random.RandomState(3).randn(*shape).astype(np.float32) * 30
    x.ravel()[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 88.7, -103.9, -120.0]
    ops = {'sigmoid': (torch.sigmoid, ember.sigmoid), 'silu': (TF.silu, EF.silu),
           'logsigmoid': (TF.logsigmoid, EF.logsigmoid), 'glu': (TF.glu, EF.glu)}
    ft, fe = ops[fn]
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ex = ember.from_numpy(x.copy()).requires_grad_()
    ty, ey = ft(tx), fe(ex)
    g = np.random.RandomState(4).randn(*ty.shape).astype(np.float32)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    assert ey.dtype == ember.float32 and tuple(ey.shape) == tuple(ty.shape)
    np.testing.assert_allclose(to_np(ey), to_np(ty), rtol=2e-6, atol=1e-7)
    # (glu's gradient products of inputs up to ~100 lose a few digits on both paths)
    np.testing.assert_allclose(to_np(ex.grad), to_np(tx.grad), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('slope', [0.01, 0.2, 0.0, 1.0, 1.5, -0.3])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_leaky_relu_slopes_and_special_values(slope, dtype):
    # slopes in [0, 1] take max(x, slope * x), others the select: torch's bits either way
    x = np.random.RandomState(2).randn(50).astype(dtype)
    x[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-30]
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ex = ember.from_numpy(x.copy()).requires_grad_()
    ty, ey = TF.leaky_relu(tx, slope), EF.leaky_relu(ex, slope)
    assert to_np(ey).tobytes() == to_np(ty).tobytes()
    g = np.random.RandomState(3).randn(50).astype(dtype)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    np.testing.assert_array_equal(to_np(ex.grad), to_np(tx.grad))


@pytest.mark.parametrize('slope', [0.01, 0.2, 0.0, 1.5, -0.3])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('inplace', [False, True])
def test_leaky_relu_gradient_kernel_bits(slope, dtype, inplace, kernel_path):
    # from 16K elements the gradient is one compiled pass (src/activation.c), on the NumPy
    # path np.where: torch's bits on both, special values included
    from ember._ops import activation
    x = np.random.RandomState(5).randn(4, 64, 80).astype(dtype)
    x.flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-30]
    g = np.random.RandomState(6).randn(*x.shape).astype(dtype)
    grads = []
    for lib, F in ((torch, TF), (ember, EF)):
        xt = lib.from_numpy(x.copy()).requires_grad_()
        y = F.leaky_relu(xt * 1, slope, inplace=inplace)
        if inplace and slope < 0:   # torch refuses this backward; so does ember
            with pytest.raises(RuntimeError, match='negative slope which is not supported'):
                y.backward(lib.from_numpy(g.copy()))
            continue
        y.backward(lib.from_numpy(g.copy()))
        grads.append(to_np(xt.grad))
    if grads:
        np.testing.assert_array_equal(grads[1], grads[0])
    taken = activation._float_kernel('leaky_relu_backward', g, x) is not None
    assert taken == (kernel_path == 'compiled')
