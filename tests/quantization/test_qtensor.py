"""Quantized tensors against torch: quantize/dequantize/int_repr values, qparams, printing,
the ops torch runs on them and the errors of those it refuses; fake quantization with its
straight-through gradient."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import ember

warnings.filterwarnings('ignore', message='torch.quantize_per_tensor')
pytestmark = pytest.mark.filterwarnings('ignore:torch.quantize_per_tensor')

QDTYPES = [('quint8', 0, 255), ('qint8', -128, 127), ('qint32', -1000, 1000)]


def both(fn):
    return fn(torch), fn(ember)


def assert_same_q(a, b):
    assert b.is_quantized and a.is_quantized
    assert repr(b.dtype) == repr(a.dtype)
    assert str(b.qscheme()) == str(a.qscheme())
    np.testing.assert_array_equal(b.int_repr().numpy(), a.int_repr().numpy())
    assert b.int_repr().dtype is getattr(ember, str(a.int_repr().dtype)[6:])
    np.testing.assert_array_equal(b.dequantize().numpy(), a.dequantize().numpy())
    if a.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        assert b.q_scale() == a.q_scale() and b.q_zero_point() == a.q_zero_point()
    else:
        np.testing.assert_array_equal(b.q_per_channel_scales().numpy(),
                                      a.q_per_channel_scales().numpy())
        np.testing.assert_array_equal(b.q_per_channel_zero_points().numpy(),
                                      a.q_per_channel_zero_points().numpy())
        assert b.q_per_channel_axis() == a.q_per_channel_axis()
    assert tuple(b.shape) == tuple(a.shape) and b.stride() == a.stride()
    assert repr(b) == repr(a)


def _ties(rng, shape, scale):
    """Values on and around the rounding ties of `scale` (float32)."""
    k = rng.integers(-200, 200, shape)
    frac = rng.choice([0.5, 0.49999, 0.50001, 0.0, 0.25], shape)
    return ((k + frac) * scale).astype(np.float32)


@pytest.mark.parametrize('name,zlo,zhi', QDTYPES)
@pytest.mark.parametrize('n', [1, 7, 8, 9, 33])
def test_quantize_per_tensor_values(name, zlo, zhi, n):
    rng = np.random.default_rng(n)
    for i in range(20):
        scale = float(rng.uniform(1e-3, 2))
        if i % 2:
            scale = float(np.float32(scale))
        zp = int(rng.integers(zlo, zhi + 1))
        x = _ties(rng, (n,), scale) if i % 3 else rng.normal(0, 60, n).astype(np.float32)
        a, b = both(lambda t: t.quantize_per_tensor(t.tensor(x), scale, zp, getattr(t, name)))
        assert_same_q(a, b)


def test_quantize_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0, 3.4e38] * 3, np.float32)
    for name, _, _ in QDTYPES[:2]:
        a, b = both(lambda t: t.quantize_per_tensor(t.tensor(x), 0.1, 3, getattr(t, name)))
        np.testing.assert_array_equal(b.int_repr().numpy(), a.int_repr().numpy())


def test_quantize_tensor_qparams_and_lists():
    x = np.array([[0.05, 0.15, -1.25, 2.5], [100., -100, 0.25, 0.35]], np.float32)
    a, b = both(lambda t: t.quantize_per_tensor(t.tensor(x), t.tensor(0.1), t.tensor(10),
                                                t.qint8))
    assert_same_q(a, b)
    a, b = both(lambda t: t.quantize_per_tensor(t.tensor(x), t.tensor(0.1, dtype=t.float64),
                                                t.tensor(1), t.quint8))
    assert_same_q(a, b)
    a, b = both(lambda t: t.quantize_per_tensor([t.tensor(x), t.tensor(x * 2)],
                                                t.tensor([0.1, 0.2]), t.tensor([1, 2]), t.qint8))
    assert type(a) is tuple and type(b) is tuple and len(b) == 2
    for p, q in zip(a, b):
        assert_same_q(p, q)
    a, b = both(lambda t: t.quantize_per_tensor(t.tensor(x), scale=0.1, zero_point=1,
                                                dtype=t.qint8))
    assert_same_q(a, b)


@pytest.mark.parametrize('name', ['quint4x2', 'quint2x4'])
@pytest.mark.parametrize('n', [1, 4, 5, 16, 17])
def test_sub_byte_types(name, n):
    rng = np.random.default_rng(n)
    x = rng.normal(0, 1, n).astype(np.float32)
    a, b = both(lambda t: t.quantize_per_tensor(t.tensor(x), 0.2, 2, getattr(t, name)))
    assert_same_q(a, b)


@pytest.mark.parametrize('name,zlo,zhi', QDTYPES)
@pytest.mark.parametrize('axis', [0, 1, 2])
def test_quantize_per_channel(name, zlo, zhi, axis):
    rng = np.random.default_rng(axis)
    shape = (3, 4, 5)
    c = shape[axis]
    for i in range(5):
        scales = rng.uniform(1e-3, 1, c)
        zps = rng.integers(zlo, zhi + 1, c)
        bshape = [1, 1, 1]
        bshape[axis] = c
        x = _ties(rng, shape, scales.astype(np.float32).reshape(bshape))
        a, b = both(lambda t: t.quantize_per_channel(t.tensor(x), t.tensor(scales),
                                                     t.tensor(zps), axis, getattr(t, name)))
        assert_same_q(a, b)


def test_quantize_per_channel_float_qparams():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (4, 6)).astype(np.float32)
    s = rng.uniform(0.01, 0.5, 4).astype(np.float32)
    z = rng.uniform(-3, 3, 4).astype(np.float32)
    a, b = both(lambda t: t.quantize_per_channel(t.tensor(x), t.tensor(s), t.tensor(z), 0,
                                                 t.quint8))
    assert_same_q(a, b)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=0, max_size=3),
       scale=st.floats(1e-3, 10), zp=st.integers(0, 255), seed=st.integers(0, 2 ** 16),
       signed=st.booleans())
def test_quantize_hypothesis(shape, scale, zp, seed, signed):
    rng = np.random.default_rng(seed)
    x = (rng.normal(0, 100, shape) * rng.choice([1, 0.01], shape)).astype(np.float32)
    name = 'qint8' if signed else 'quint8'
    zp = zp - 128 if signed else zp
    a, b = both(lambda t: t.quantize_per_tensor(t.tensor(x), scale, zp, getattr(t, name)))
    assert_same_q(a, b)


@pytest.mark.parametrize('name', ['quint8', 'qint8'])
@pytest.mark.parametrize('reduce_range', [False, True])
@pytest.mark.parametrize('kind', ['normal', 'positive', 'zeros', 'tiny', 'negative'])
def test_quantize_per_tensor_dynamic(name, reduce_range, kind):
    rng = np.random.default_rng(1)
    x = {'normal': rng.normal(0, 30, 50), 'positive': rng.uniform(1, 5, 50),
         'zeros': np.zeros(7), 'tiny': rng.normal(0, 1e-6, 20),
         'negative': -rng.uniform(0.5, 2, 9)}[kind].astype(np.float32)
    a, b = both(lambda t: t.quantize_per_tensor_dynamic(t.tensor(x), getattr(t, name),
                                                        reduce_range))
    assert_same_q(a, b)


def _q(t):
    x = np.array([[0.05, 0.15, -1.25, 2.5], [100., -100, 0.25, 0.35]], np.float32)
    return t.quantize_per_tensor(t.tensor(x), 0.1, 10, t.quint8)


@pytest.mark.parametrize('expr', [
    'q.view(4, 2)', 'q.t()', 'q[0]', 'q[:, 1:3]', 'q[:, ::2]', 'q.clone()', 'q.reshape(-1)',
    'q.contiguous()', 'q.flatten()', 'q.detach()', 'q.unsqueeze(0)', 'q.permute(1, 0)',
    'q.transpose(0, 1)', 'q.squeeze()', 'q.narrow(1, 0, 2)', 'q.expand(2, 2, 4)',
    'q.flip(0)', 'q.repeat(2, 1)', 'q.index_select(0, T.tensor([1]))', 'q.relu()',
    'T.relu(q)', 'T.nn.functional.relu(q)', 'q.clone().relu_()', 'T.cat([q, q])',
    'T.cat([q, q], 1)', 'T.stack([q, q])', 'T.flatten(q)', 'q.mean()', 'q.max()', 'q.min()',
    'q.sigmoid()', 'q.tanh()', 'q.clamp(0, 1)', 'q.clone().fill_(1)', 'q.data',
    'T.max_pool2d(q.view(1, 1, 2, 4), 2)', 'T.nn.functional.max_pool2d(q.view(1, 1, 2, 4), 2)',
    'T.nn.functional.adaptive_avg_pool2d(q.view(1, 1, 2, 4), 1)',
    'T.nn.functional.avg_pool2d(q.view(1, 1, 2, 4), 2)',
    'q.masked_fill(q.int_repr() > 12, 1.0)', 'T.empty_quantized([2, 3], q).shape',
    'q.clone().copy_(T.ones(2, 4))', 'q[q.int_repr() > 10]', 'q.sort().values',
    'q.topk(2).values',
])
def test_ops_on_quantized(expr):
    def run(T):
        q = _q(T)
        return eval(expr)
    a, b = both(run)
    if isinstance(a, torch.Tensor):
        if 'empty_quantized' in expr:
            return
        assert_same_q(a, b)
    else:
        assert tuple(a) == tuple(b)


@pytest.mark.parametrize('expr', [
    'q.chunk(2)', 'q.split(1)', 'q.unbind()', 'list(q)', 'T.dequantize([q, q])'])
def test_ops_giving_sequences(expr):
    def run(T):
        q = _q(T)
        return eval(expr)
    a, b = both(run)
    assert len(a) == len(b)
    for p, q in zip(a, b):
        if p.is_quantized:
            assert_same_q(p, q)
        else:
            np.testing.assert_array_equal(q.numpy(), p.numpy())


def test_metadata():
    a, b = both(_q)
    assert b.is_quantized and not ember.ones(2).is_quantized
    assert b.element_size() == a.element_size() and b.numel() == a.numel()
    assert b.type() == a.type() == 'torch.quantized.QUInt8Tensor'
    assert repr(type(b)) == repr(type(a))
    assert b.dim() == 2 and len(b) == 2 and b.size(0) == 2
    assert b[0, 0].item() == a[0, 0].item()
    assert b.t().is_contiguous() == a.t().is_contiguous()
    assert ember.equal(b, b) and torch.equal(a, a)
    assert b.to('cpu') is b and b.cpu() is b
    for name in ('qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4'):
        d, e = getattr(torch, name), getattr(ember, name)
        assert repr(d) == repr(e)
        assert d.is_floating_point == e.is_floating_point and d.itemsize == e.itemsize
        assert d.is_complex == e.is_complex
    for name in ('per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric',
                 'per_channel_symmetric', 'per_channel_affine_float_qparams'):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name))
        assert isinstance(getattr(ember, name), ember.qscheme)
    # dequantize of a float tensor is the tensor as float32
    x = ember.ones(2, dtype=ember.float64)
    assert ember.dequantize(x).dtype is ember.float32


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e), str(e).split('\n')[0]
    return None, None


@pytest.mark.parametrize('expr', [
    'q + q', 'q.sum()', 'q.abs()', 'q.mul(q)', 'q.sign()', 'q.numpy()', 'q.tolist()',
    'q.item()', 'q.float()', 'q.to(T.float32)', 'q.requires_grad_()', 'q.bool()',
    'x.q_scale()', 'x.int_repr()', 'x.qscheme()', 'x.q_zero_point()',
    'qc.q_scale()', 'q.q_per_channel_scales()', 'q.q_per_channel_axis()',
    'T.quantize_per_tensor(x.double(), 0.1, 0, T.qint8)',
    'T.quantize_per_tensor(x.long(), 0.1, 0, T.qint8)',
    'T.quantize_per_tensor(x, 0.1, 0, T.float)',
    'T.quantize_per_tensor(x, 0.1, 300, T.quint8)',
    'T.quantize_per_tensor(x, 0.1, -200, T.qint8)',
    'T.quantize_per_channel(x, T.tensor([0.1, 0.2]), T.tensor([1, 2]), 2, T.quint8)',
    'T.quantize_per_channel(x, T.tensor([0.1, 0.2, .3]), T.tensor([1, 2, 3]), 0, T.quint8)',
    'T.quantize_per_channel(x, [0.1, 0.2], [1, 2], 0, T.quint8)',
    'T.quantize_per_tensor_dynamic(x, T.qint32, True)',
    'T.dequantize([x])', 'T.empty_quantized([2], x)', 'q.is_signed()',
    'T.fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255)',
    'T.fake_quantize_per_tensor_affine(x, 0.1, 0, 10, 5)',
    'T.fake_quantize_per_channel_affine(x, T.tensor([0.1, 0.2]), T.tensor([1, 2]), 0, 0, 9)',
])
def test_errors(expr):
    def run(T):
        x = T.tensor([[0.05, 0.15, -1.25, 2.5], [100., -100, 0.25, 0.35]])
        q = T.quantize_per_tensor(x, 0.1, 10, T.quint8)
        qc = T.quantize_per_channel(x, T.tensor([0.1, 0.2]), T.tensor([1, 2]), 0, T.quint8)  # noqa
        return _err(lambda: eval(expr))
    (ta, ma), (tb, mb) = both(run)
    assert ta is not None and tb is ta, (ta, tb, ma, mb)
    if not (ta is NotImplementedError and 'Could not run' in ma):
        assert mb == ma
    else:
        assert mb.startswith("Could not run 'aten::") and 'Quantized' in ma


def test_deprecation_warning_once():
    import ember._ops.quantized as Q
    Q._DEPRECATION[0] = False
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        ember.quantize_per_tensor(ember.ones(2), 0.1, 0, ember.quint8)
        ember.quantize_per_tensor(ember.ones(2), 0.1, 0, ember.quint8)
    msgs = [str(x.message) for x in w]
    assert len(msgs) == 1 and 'are deprecated' in msgs[0]


# ---- fake quantization ------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('qparams', ['scalar', 'tensor'])
def test_fake_quantize_per_tensor(dtype, qparams):
    rng = np.random.default_rng(3)
    for i in range(10):
        scale = float(np.float32(rng.uniform(1e-3, 1)))
        zp = int(rng.integers(0, 256))
        x = np.concatenate([_ties(rng, (30,), scale) - zp * scale,
                            rng.normal(0, 100, 20)]).astype(dtype)
        g = rng.normal(size=x.shape).astype(dtype)

        def run(T):
            xt = T.tensor(x, requires_grad=True)
            if qparams == 'scalar':
                y = T.fake_quantize_per_tensor_affine(xt, scale, zp, 0, 255)
            else:
                y = T.fake_quantize_per_tensor_affine(
                    xt, T.tensor(scale), T.tensor(zp, dtype=T.int32), 0, 255)
            y.backward(T.tensor(g))
            return y, xt.grad
        (ya, ga), (yb, gb) = both(run)
        np.testing.assert_array_equal(yb.detach().numpy(), ya.detach().numpy())
        assert yb.dtype is getattr(ember, dtype)
        np.testing.assert_array_equal(gb.numpy(), ga.numpy())
        assert yb.grad_fn.name() == ya.grad_fn.name()


@pytest.mark.parametrize('zp_dtype', ['int32', 'float32'])
def test_fake_quantize_per_channel(zp_dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 3, (3, 4, 5)).astype(np.float32)
    g = rng.normal(size=x.shape).astype(np.float32)
    s = rng.uniform(0.01, 0.2, 4).astype(np.float32)
    z = rng.integers(-10, 10, 4).astype(zp_dtype)

    def run(T):
        xt = T.tensor(x, requires_grad=True)
        y = T.fake_quantize_per_channel_affine(xt, T.tensor(s), T.tensor(z), 1, -128, 127)
        y.backward(T.tensor(g))
        return y, xt.grad
    (ya, ga), (yb, gb) = both(run)
    np.testing.assert_array_equal(yb.detach().numpy(), ya.detach().numpy())
    np.testing.assert_array_equal(gb.numpy(), ga.numpy())
    assert yb.grad_fn.name() == ya.grad_fn.name()
