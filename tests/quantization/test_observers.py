"""Observers, fake-quantize modules and QConfigs against torch.ao.quantization: the same
statistics, scales and zero points (dtype, shape, values), outputs and gradients."""
import warnings

import numpy as np
import pytest
import torch
import torch.ao.quantization as tq

import ember
import ember.ao.quantization as eq

pytestmark = pytest.mark.filterwarnings('ignore')


def _t(lib, a):
    return lib.tensor(np.asarray(a))


def assert_tensor_same(a, b):
    assert str(b.dtype) == str(a.dtype).replace('torch.', 'torch.'), (a.dtype, b.dtype)
    assert tuple(b.shape) == tuple(a.shape)
    np.testing.assert_array_equal(b.numpy(), a.numpy())


def _batches(seed, shape=(4, 3, 5), n=3):
    rng = np.random.default_rng(seed)
    return [(rng.normal(0, 1 + i, shape) + i * 0.3).astype(np.float32) for i in range(n)]


OBSERVERS = [
    ('MinMaxObserver', {}),
    ('MinMaxObserver', {'dtype': 'qint8', 'qscheme': 'per_tensor_symmetric'}),
    ('MinMaxObserver', {'reduce_range': True}),
    ('MinMaxObserver', {'quant_min': 0, 'quant_max': 127}),
    ('MinMaxObserver', {'dtype': 'qint8', 'quant_min': -127, 'quant_max': 127,
                        'qscheme': 'per_tensor_symmetric', 'eps': 2 ** -12}),
    ('MinMaxObserver', {'dtype': 'quint8', 'qscheme': 'per_tensor_symmetric'}),
    ('MinMaxObserver', {'dtype': 'qint32'}),
    ('MovingAverageMinMaxObserver', {}),
    ('MovingAverageMinMaxObserver', {'averaging_constant': 0.5, 'dtype': 'qint8'}),
    ('PerChannelMinMaxObserver', {}),
    ('PerChannelMinMaxObserver', {'ch_axis': 1, 'dtype': 'qint8',
                                  'qscheme': 'per_channel_symmetric'}),
    ('PerChannelMinMaxObserver', {'ch_axis': 2, 'qscheme': 'per_channel_affine_float_qparams'}),
    ('MovingAveragePerChannelMinMaxObserver', {'ch_axis': 1}),
    ('MovingAveragePerChannelMinMaxObserver', {'averaging_constant': 0.3,
                                               'qscheme': 'per_channel_symmetric',
                                               'dtype': 'qint8'}),
    ('HistogramObserver', {}),
    ('HistogramObserver', {'reduce_range': True}),
    ('HistogramObserver', {'bins': 64, 'dtype': 'qint8', 'qscheme': 'per_tensor_symmetric'}),
]


def _kwargs(lib, kw):
    out = {}
    for k, v in kw.items():
        out[k] = getattr(lib, v) if isinstance(v, str) else v
    return out


@pytest.mark.parametrize('name,kw', OBSERVERS)
def test_observer_qparams(name, kw):
    a = getattr(tq, name)(**_kwargs(torch, kw))
    b = getattr(eq, name)(**_kwargs(ember, kw))
    assert b.quant_min == a.quant_min and b.quant_max == a.quant_max
    for x in _batches(len(name) + len(kw)):
        out = b(_t(ember, x))
        a(_t(torch, x))
        np.testing.assert_array_equal(out.numpy(), x)
    sa, za = a.calculate_qparams()
    sb, zb = b.calculate_qparams()
    if name == 'HistogramObserver':  # float32 sums in another order: an ulp apart at most
        np.testing.assert_allclose(sb.numpy(), sa.numpy(), rtol=1e-5)
        assert str(zb.dtype) == str(za.dtype)
        assert abs(zb.numpy().astype(int) - za.numpy().astype(int)).max() <= 1
    else:
        assert_tensor_same(sa, sb)
        assert_tensor_same(za, zb)
    sd_a, sd_b = a.state_dict(), b.state_dict()
    assert list(sd_b) == list(sd_a)
    if name != 'HistogramObserver':
        assert repr(b) == repr(a)


def test_observer_unobserved_and_errors():
    for lib, mod in ((torch, tq), (ember, eq)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            s, z = mod.MinMaxObserver().calculate_qparams()
        assert s.tolist() == [1.0] and z.tolist() == [0]
        assert any('must run observer' in str(x.message) for x in w)
    for kw in ({'qscheme': 'per_channel_affine'}, {'quant_min': 1, 'quant_max': 5},
               {'quant_min': 5, 'quant_max': 0}, {'dtype': 'float32'},
               {'qscheme': 'per_tensor_symmetric', 'reduce_range': True}):
        errs = []
        for lib, mod in ((torch, tq), (ember, eq)):
            try:
                mod.MinMaxObserver(**_kwargs(lib, kw))
                errs.append(None)
            except Exception as e:  # noqa: BLE001 - the type is compared
                errs.append(type(e))
        assert errs[0] is errs[1] and errs[0] is not None, (kw, errs)


def test_placeholder_recording_noop_fixed():
    for name in ('PlaceholderObserver', 'RecordingObserver', 'NoopObserver'):
        a, b = getattr(tq, name)(), getattr(eq, name)()
        assert repr(b) == repr(a)
        x = np.arange(4, dtype=np.float32)
        np.testing.assert_array_equal(b(_t(ember, x)).numpy(), x)
        with pytest.raises(Exception, match='calculate_qparams should not be called'):
            b.calculate_qparams()
    a = tq.default_fixed_qparams_range_0to1_observer()
    b = eq.default_fixed_qparams_range_0to1_observer()
    for p, q in zip(a.calculate_qparams(), b.calculate_qparams()):
        assert_tensor_same(p, q)
    r = eq.RecordingObserver()
    r(ember.ones(2))
    assert len(r.get_tensor_value()) == 1


@pytest.mark.parametrize('ctor', ['default_fake_quant', 'default_weight_fake_quant',
                                  'default_per_channel_weight_fake_quant',
                                  'default_fused_act_fake_quant', 'default_fused_wt_fake_quant',
                                  'default_fused_per_channel_wt_fake_quant',
                                  'default_fixed_qparams_range_neg1to1_fake_quant'])
def test_fake_quantize_modules(ctor):
    a, b = getattr(tq, ctor)(), getattr(eq, ctor)()
    assert repr(b) == repr(a)
    rng = np.random.default_rng(5)
    for step in range(4):
        x = rng.normal(0, 1 + step, (3, 4)).astype(np.float32)
        g = rng.normal(0, 1, (3, 4)).astype(np.float32)
        xa, xb = _t(torch, x).requires_grad_(), _t(ember, x).requires_grad_()
        ya, yb = a(xa), b(xb)
        np.testing.assert_array_equal(yb.detach().numpy(), ya.detach().numpy())
        ya.backward(_t(torch, g))
        yb.backward(_t(ember, g))
        np.testing.assert_array_equal(xb.grad.numpy(), xa.grad.numpy())
        if step == 2:
            a.apply(tq.disable_observer)
            b.apply(eq.disable_observer)
        if step == 3:
            a.apply(tq.disable_fake_quant)
            b.apply(eq.disable_fake_quant)
    assert repr(b) == repr(a)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sb) == list(sa)
    for k in sa:
        assert_tensor_same(sa[k], sb[k])


def test_qconfigs():
    for name in ('default_qconfig', 'default_per_channel_qconfig', 'default_dynamic_qconfig',
                 'default_qat_qconfig', 'default_qat_qconfig_v2', 'float16_dynamic_qconfig',
                 'default_debug_qconfig', 'per_channel_dynamic_qconfig',
                 'float_qparams_weight_only_qconfig'):
        a, b = getattr(tq, name), getattr(eq, name)
        assert type(b).__name__ == type(a).__name__
        assert repr(b.activation()) == repr(a.activation())
        assert repr(b.weight()) == repr(a.weight())
    for backend in ('x86', 'fbgemm', 'qnnpack', 'onednn'):
        a, b = tq.get_default_qconfig(backend), eq.get_default_qconfig(backend)
        assert repr(b.activation()) == repr(a.activation())
        assert repr(b.weight()) == repr(a.weight())
        for version in (0, 1):
            a = tq.get_default_qat_qconfig(backend, version)
            b = eq.get_default_qat_qconfig(backend, version)
            assert repr(b.activation()) == repr(a.activation())
            assert repr(b.weight()) == repr(a.weight())
    with pytest.raises(AssertionError, match='not supported'):
        eq.get_default_qconfig('cuda')
    with pytest.raises(ValueError, match='observer instance'):
        eq.QConfig(activation=eq.MinMaxObserver(), weight=eq.MinMaxObserver)
    assert eq.qconfig_equals(eq.get_default_qconfig('x86'), eq.get_default_qconfig('fbgemm'))
    assert not eq.qconfig_equals(eq.default_qconfig, eq.default_per_channel_qconfig)
    assert ember.quantization.QConfig is eq.QConfig
    assert ember.quantization.default_qconfig is eq.default_qconfig


def test_stubs():
    lin_a, lin_b = torch.nn.Linear(2, 2), ember.nn.Linear(2, 2)
    assert repr(eq.QuantWrapper(lin_b)) == repr(tq.QuantWrapper(lin_a))
    assert repr(eq.QuantStub()) == repr(tq.QuantStub())
    x = ember.ones(2)
    assert eq.DeQuantStub()(x) is x


def test_observer_state_dict_helpers():
    a = torch.nn.Sequential(torch.nn.Linear(2, 2))
    a.activation_post_process = tq.MinMaxObserver()
    a.activation_post_process(torch.arange(4.))
    b = ember.nn.Sequential(ember.nn.Linear(2, 2))
    b.activation_post_process = eq.MinMaxObserver()
    b.activation_post_process(ember.arange(4.))
    da, db = tq.get_observer_state_dict(a), eq.get_observer_state_dict(b)
    assert list(db) == list(da)
    c = ember.nn.Sequential(ember.nn.Linear(2, 2))
    c.activation_post_process = eq.MinMaxObserver()
    eq.load_observer_state_dict(c, db)
    assert c.activation_post_process.max_val.item() == 3.0


@pytest.mark.parametrize('per_channel,symmetric', [(False, False), (False, True),
                                                   (True, False), (True, True)])
def test_fused_moving_avg_obs_fake_quant_op(per_channel, symmetric):
    rng = np.random.default_rng(7)

    def state(lib):
        if per_channel:
            return [lib.tensor([]), lib.tensor([]), lib.ones(3), lib.zeros(3, dtype=lib.int32)]
        return [lib.tensor(float('inf')), lib.tensor(float('-inf')), lib.tensor([1.]),
                lib.tensor([0], dtype=lib.int32)]
    sa, sb = state(torch), state(ember)
    qmin, qmax = (-128, 127) if symmetric else (0, 255)
    for step in range(3):
        x = rng.normal(0.5, 2, (3, 5)).astype(np.float32)
        g = rng.normal(size=(3, 5)).astype(np.float32)
        outs = []
        for lib, st in ((torch, sa), (ember, sb)):
            xt = lib.tensor(x, requires_grad=True)
            y = lib.fused_moving_avg_obs_fake_quant(
                xt, lib.tensor([1]), lib.tensor([int(step != 1)]), st[0], st[1], st[2], st[3],
                0.1, qmin, qmax, 0, per_channel, symmetric)
            y.backward(lib.tensor(g))
            outs.append((y, xt.grad))
        (ya, ga), (yb, gb) = outs
        np.testing.assert_array_equal(yb.detach().numpy(), ya.detach().numpy())
        np.testing.assert_array_equal(gb.numpy(), ga.numpy())
        assert yb.grad_fn.name() == ya.grad_fn.name()
        for p, q in zip(sa, sb):
            assert_tensor_same(p, q)
