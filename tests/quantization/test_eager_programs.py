"""Eager-mode quantization programs on ember and torch: post-training static quantization of a
small CNN (fuse, prepare, calibrate, convert), a QAT step, quantize_dynamic of an MLP; the
printed models, state_dict keys, weights and outputs compared."""
import re
import warnings

import numpy as np
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings('ignore')


def _cnn(T, with_bn=True):
    nn, tq = T.nn, T.ao.quantization

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant = tq.QuantStub()
            self.conv = nn.Conv2d(2, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.relu = nn.ReLU()
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(4 * 4 * 4, 6)
            self.relu2 = nn.ReLU()
            self.out = nn.Linear(6, 3)
            self.dequant = tq.DeQuantStub()

        def forward(self, x):
            x = self.quant(x)
            x = self.pool(self.relu(self.bn(self.conv(x))))
            x = T.flatten(x, 1)
            x = self.relu2(self.fc(x))
            return self.dequant(self.out(x))
    T.manual_seed(0)
    net = Net()
    # BN statistics that are not the identity
    with T.no_grad():
        net.bn.running_mean.copy_(T.tensor([0.1, -0.2, 0.05, 0.0]))
        net.bn.running_var.copy_(T.tensor([1.5, 0.7, 1.0, 2.0]))
    return net


def _data(n, shape, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 1, shape).astype(np.float32) for _ in range(n)]


def _ptq(T, qconfig_name, backend=None):
    tq = T.ao.quantization
    net = _cnn(T).eval()
    net.qconfig = tq.get_default_qconfig(backend) if backend else getattr(tq, qconfig_name)
    fused = tq.fuse_modules(net, [['conv', 'bn', 'relu'], ['fc', 'relu2']])
    prepared = tq.prepare(fused)
    for x in _data(4, (3, 2, 8, 8), 1):
        prepared(T.tensor(x))
    converted = tq.convert(prepared)
    return fused, prepared, converted


_NUM = re.compile(r'-?\d+\.\d+(?:e[-+]\d+)?')


def assert_repr_close(b, a, rtol=1e-5):
    """The same printed text, numbers equal to rtol (the float convolution and matmul sum in
    another order than torch's kernels: observed ranges differ in the last digits)."""
    assert _NUM.split(b) == _NUM.split(a), (b, a)
    np.testing.assert_allclose([float(v) for v in _NUM.findall(b)],
                               [float(v) for v in _NUM.findall(a)], rtol=rtol)


def _assert_outputs_close(a, b, quantum):
    a, b = a.numpy(), b.numpy()
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= quantum * 1.01 + 1e-7, np.abs(a - b).max()


@pytest.mark.parametrize('qconfig_name', ['default_qconfig', 'default_per_channel_qconfig'])
def test_static_ptq_cnn(qconfig_name):
    (fa, pa, ca), (fb, pb, cb) = (_ptq(torch, qconfig_name), _ptq(ember, qconfig_name))
    assert repr(fb) == repr(fa)
    assert_repr_close(repr(pb), repr(pa))
    assert_repr_close(repr(cb), repr(ca))
    sa, sb = ca.state_dict(), cb.state_dict()
    assert list(sb) == list(sa)
    wa, wb = ca.fc.weight(), cb.fc.weight()
    np.testing.assert_array_equal(wb.int_repr().numpy(), wa.int_repr().numpy())
    np.testing.assert_array_equal(cb.conv.weight().int_repr().numpy(),
                                  ca.conv.weight().int_repr().numpy())
    for x in _data(3, (2, 2, 8, 8), 2):
        ya, yb = ca(torch.tensor(x)), cb(ember.tensor(x))
        _assert_outputs_close(ya, yb, ca.out.scale)
        # the quantized intermediate values, one quantum apart at most
        qa = ca.conv(ca.quant(torch.tensor(x)))
        qb = cb.conv(cb.quant(ember.tensor(x)))
        d = np.abs(qa.int_repr().numpy().astype(int) - qb.int_repr().numpy().astype(int))
        assert d.max() <= 1 and (d == 0).mean() > 0.95


def test_static_ptq_default_x86_qconfig():
    (fa, pa, ca), (fb, pb, cb) = _ptq(torch, None, 'x86'), _ptq(ember, None, 'x86')
    assert_repr_close(repr(pb), repr(pa))
    assert list(cb.state_dict()) == list(ca.state_dict())
    for mod in ('conv', 'fc', 'out'):
        # the histogram search sums float32 bins in another order: scales agree to 1e-5
        np.testing.assert_allclose(getattr(cb, mod).scale, getattr(ca, mod).scale, rtol=1e-5)
        assert abs(getattr(cb, mod).zero_point - getattr(ca, mod).zero_point) <= 1
    for x in _data(2, (2, 2, 8, 8), 3):
        _assert_outputs_close(ca(torch.tensor(x)), cb(ember.tensor(x)), 2 * ca.out.scale)


def _mlp(T):
    nn, tq = T.nn, T.ao.quantization
    T.manual_seed(1)
    return nn.Sequential(tq.QuantStub(), nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 4),
                         tq.DeQuantStub())


def test_qat_step_and_convert():
    outs = []
    for T in (torch, ember):
        tq = T.ao.quantization
        m = _mlp(T).train()
        m.qconfig = tq.get_default_qat_qconfig('x86')
        m = tq.fuse_modules_qat(m, [['1', '2']])
        prepared = tq.prepare_qat(m)
        opt = T.optim.SGD(prepared.parameters(), lr=0.1)
        losses = []
        for x in _data(3, (6, 5), 4):
            opt.zero_grad()
            loss = prepared(T.tensor(x)).pow(2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        prepared.eval()
        converted = tq.convert(prepared)
        y = converted(T.tensor(_data(1, (4, 5), 5)[0]))
        outs.append((repr(prepared), losses, repr(converted), y, converted))
    (pa, la, ca, ya, qa), (pb, lb, cb, yb, qb) = outs
    assert_repr_close(pb, pa)
    np.testing.assert_allclose(lb, la, rtol=1e-5)
    assert_repr_close(cb, ca)
    _assert_outputs_close(ya, yb, qa[3].scale)


def test_quantize_dynamic_mlp():
    outs = []
    for T in (torch, ember):
        tq = T.ao.quantization
        T.manual_seed(2)
        m = T.nn.Sequential(T.nn.Linear(6, 10), T.nn.ReLU(), T.nn.Linear(10, 3))
        q = tq.quantize_dynamic(m, {T.nn.Linear}, dtype=T.qint8)
        ys = [q(T.tensor(x)) for x in _data(3, (4, 6), 6)]
        outs.append((repr(q), list(q.state_dict()), ys, q))
    (ra, ka, ya, qa), (rb, kb, yb, qb) = outs
    assert rb == ra and kb == ka
    np.testing.assert_array_equal(qb[0].weight().int_repr().numpy(),
                                  qa[0].weight().int_repr().numpy())
    for p, q in zip(ya, yb):
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-5, atol=1e-6)


def test_deprecation_warning():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(ember.nn.Linear(2, 2)))
    assert any(issubclass(x.category, DeprecationWarning) and
               'torch.ao.quantization is deprecated' in str(x.message) for x in w)


def test_quantized_state_dict_round_trip():
    _, _, q = _ptq(ember, 'default_per_channel_qconfig')
    sd = q.state_dict()
    _, _, fresh = _ptq(ember, 'default_qconfig')
    fresh.load_state_dict(sd)
    assert repr(fresh) == repr(q)
    x = ember.tensor(_data(1, (2, 2, 8, 8), 9)[0])
    np.testing.assert_array_equal(fresh(x).numpy(), q(x).numpy())
    d = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(ember.nn.Linear(3, 2)))
    d2 = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(ember.nn.Linear(3, 2)))
    d2.load_state_dict(d.state_dict())
    y = ember.ones(1, 3)
    np.testing.assert_array_equal(d2(y).numpy(), d(y).numpy())


def test_qat_of_conv_bn_is_refused():
    tq = ember.ao.quantization
    m = ember.nn.Sequential(ember.nn.Conv2d(1, 2, 3), ember.nn.BatchNorm2d(2)).train()
    m.qconfig = tq.get_default_qat_qconfig('x86')
    fused = tq.fuse_modules_qat(m, [['0', '1']])
    assert type(fused[0]).__name__ == 'ConvBn2d'
    with pytest.raises(NotImplementedError, match='ConvBn2d'):
        tq.prepare_qat(fused)


def test_legacy_namespaces():
    import ember.nn.intrinsic
    import ember.nn.qat
    import ember.nn.quantized
    import ember.nn.quantized.dynamic
    assert ember.nn.quantized.Linear is ember.ao.nn.quantized.Linear
    assert ember.nn.quantized.dynamic.Linear is ember.ao.nn.quantized.dynamic.Linear
    assert ember.nn.intrinsic.ConvReLU2d is ember.ao.nn.intrinsic.ConvReLU2d
    assert ember.nn.qat.Linear is ember.ao.nn.qat.Linear
    assert ember.quantization.prepare is ember.ao.quantization.prepare
