"""RNN, LSTM, GRU, their cells and nn.utils.rnn, differential against torch."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1234)


def _e(a):
    return ember.from_numpy(np.ascontiguousarray(a).copy())


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a).copy())


def _copy_weights(em, tm):
    em.load_state_dict({k: _e(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _assert_close(e, t, tol):
    e = e.detach().numpy() if hasattr(e, 'detach') else e
    t = t.detach().numpy() if hasattr(t, 'detach') else t
    assert e.shape == t.shape and e.dtype == t.dtype
    np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


def _as_tuple(h):
    return h if isinstance(h, tuple) else (h,)


def _pair(cls, args, kw, dtype):
    tm = getattr(torch.nn, cls)(*args, **kw).to(getattr(torch, dtype))
    em = getattr(ember.nn, cls)(*args, **kw).to(getattr(ember, dtype))
    _copy_weights(em, tm)
    return em, tm


def _check_all(em, tm, e_in, t_in, e_out, t_out, tol):
    """Outputs, then gradients for random upstream grads of every output."""
    e_flat = [e_out[0]] + list(_as_tuple(e_out[1]))
    t_flat = [t_out[0]] + list(_as_tuple(t_out[1]))
    for a, b in zip(e_flat, t_flat):
        _assert_close(a, b, tol)
    grads = [RNG.standard_normal(tuple(b.shape)).astype(b.detach().numpy().dtype)
             for b in t_flat]
    torch.autograd.backward(t_flat, [_t(g) for g in grads])
    ember.autograd.backward(e_flat, [_e(g) for g in grads])
    for a, b in zip(e_in, t_in):
        if b.requires_grad:
            _assert_close(a.grad, b.grad, tol)
    for (n1, p1), (n2, p2) in zip(em.named_parameters(), tm.named_parameters()):
        assert n1 == n2
        _assert_close(p1.grad, p2.grad, tol)


CONFIGS = [
    ('RNN', {}),
    ('RNN', dict(nonlinearity='relu', num_layers=2)),
    ('RNN', dict(bidirectional=True, batch_first=True, bias=False)),
    ('LSTM', {}),
    ('LSTM', dict(num_layers=2, bidirectional=True)),
    ('LSTM', dict(proj_size=3, batch_first=True)),
    ('LSTM', dict(proj_size=2, num_layers=2, bidirectional=True, bias=False)),
    ('GRU', {}),
    ('GRU', dict(num_layers=3, batch_first=True)),
    ('GRU', dict(bidirectional=True, bias=False)),
]


@pytest.mark.parametrize('cls,kw', CONFIGS)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('with_h0', [False, True])
def test_layers_match_torch(cls, kw, dtype, with_h0):
    em, tm = _pair(cls, (4, 5), kw, dtype)
    T, B = 6, 3
    shape = (B, T, 4) if kw.get('batch_first') else (T, B, 4)
    x = RNG.standard_normal(shape).astype(dtype)
    ex, tx = _e(x).requires_grad_(), _t(x).requires_grad_()
    e_in, t_in = [ex], [tx]
    e_args, t_args = [ex], [tx]
    if with_h0:
        nd = (2 if kw.get('bidirectional') else 1) * kw.get('num_layers', 1)
        hsz = kw.get('proj_size') or 5
        h0 = RNG.standard_normal((nd, B, hsz)).astype(dtype)
        eh, th = _e(h0).requires_grad_(), _t(h0).requires_grad_()
        e_in.append(eh)
        t_in.append(th)
        if cls == 'LSTM':
            c0 = RNG.standard_normal((nd, B, 5)).astype(dtype)
            ec, tc = _e(c0).requires_grad_(), _t(c0).requires_grad_()
            e_in.append(ec)
            t_in.append(tc)
            e_args.append((eh, ec))
            t_args.append((th, tc))
        else:
            e_args.append(eh)
            t_args.append(th)
    tol = 1e-5 if dtype == 'float32' else 1e-10
    _check_all(em, tm, e_in, t_in, em(*e_args), tm(*t_args), tol)


@pytest.mark.parametrize('cls', ['RNN', 'LSTM', 'GRU'])
def test_unbatched_input(cls):
    em, tm = _pair(cls, (3, 4), dict(num_layers=2, bidirectional=True), 'float64')
    x = RNG.standard_normal((5, 3))
    ex, tx = _e(x).requires_grad_(), _t(x).requires_grad_()
    eo, to = em(ex), tm(tx)
    assert tuple(eo[0].shape) == tuple(to[0].shape) == (5, 8)
    _check_all(em, tm, [ex], [tx], eo, to, 1e-10)
    h = RNG.standard_normal((4, 4))
    hx_e = (_e(h), _e(h)) if cls == 'LSTM' else _e(h)
    hx_t = (_t(h), _t(h)) if cls == 'LSTM' else _t(h)
    _assert_close(em(ex, hx_e)[0], tm(tx, hx_t)[0], 1e-10)


@pytest.mark.parametrize('cls', ['RNN', 'LSTM', 'GRU'])
@pytest.mark.parametrize('enforce_sorted', [True, False])
def test_packed_sequence_input(cls, enforce_sorted):
    from torch.nn.utils import rnn as TR
    from ember.nn.utils import rnn as ER
    kw = dict(num_layers=2, bidirectional=True)
    if cls == 'LSTM':
        kw['proj_size'] = 3
    em, tm = _pair(cls, (4, 5), kw, 'float64')
    lengths = [6, 5, 3, 1] if enforce_sorted else [3, 6, 1, 5]
    x = RNG.standard_normal((6, 4, 4))
    ex, tx = _e(x).requires_grad_(), _t(x).requires_grad_()
    ep = ER.pack_padded_sequence(ex, lengths, enforce_sorted=enforce_sorted)
    tp = TR.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(ep.batch_sizes.numpy(), tp.batch_sizes.numpy())
    nd, hsz = 4, kw.get('proj_size', 5)
    h0 = RNG.standard_normal((nd, 4, hsz))
    c0 = RNG.standard_normal((nd, 4, 5))
    eh, th = _e(h0).requires_grad_(), _t(h0).requires_grad_()
    ec, tc = _e(c0).requires_grad_(), _t(c0).requires_grad_()
    if cls == 'LSTM':
        eo, ehn = em(ep, (eh, ec))
        to, thn = tm(tp, (th, tc))
    else:
        eo, ehn = em(ep, eh)
        to, thn = tm(tp, th)
    assert isinstance(eo, ER.PackedSequence)
    epad, elen = ER.pad_packed_sequence(eo, batch_first=True, total_length=7)
    tpad, tlen = TR.pad_packed_sequence(to, batch_first=True, total_length=7)
    np.testing.assert_array_equal(elen.numpy(), tlen.numpy())
    e_in = [ex, eh] + ([ec] if cls == 'LSTM' else [])
    t_in = [tx, th] + ([tc] if cls == 'LSTM' else [])
    _check_all(em, tm, e_in, t_in, (epad, ehn), (tpad, thn), 1e-10)


@pytest.mark.parametrize('cls', ['RNN', 'LSTM', 'GRU'])
def test_default_init_is_bitwise(cls):
    kw = dict(num_layers=2, bidirectional=True)
    if cls == 'LSTM':
        kw['proj_size'] = 2
    torch.manual_seed(7)
    tm = getattr(torch.nn, cls)(3, 4, **kw)
    ember.manual_seed(7)
    em = getattr(ember.nn, cls)(3, 4, **kw)
    assert list(em.state_dict()) == list(tm.state_dict())
    for (n, p), (_, q) in zip(em.named_parameters(), tm.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape), n
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert repr(em) == repr(tm)


def test_reprs():
    cases = [('RNN', (4, 6), dict(nonlinearity='relu', num_layers=2, dropout=0.5)),
             ('LSTM', (4, 6), dict(proj_size=2, batch_first=True, bias=False)),
             ('GRU', (4, 6), dict(bidirectional=True)),
             ('RNNCell', (4, 6), dict(nonlinearity='relu')),
             ('LSTMCell', (4, 6), {}), ('GRUCell', (3, 4), dict(bias=False))]
    for cls, args, kw in cases:
        assert repr(getattr(ember.nn, cls)(*args, **kw)) == repr(getattr(torch.nn, cls)(*args,
                                                                                        **kw))


def test_dropout_between_layers_same_seed():
    em, tm = _pair('LSTM', (4, 5), dict(num_layers=3, dropout=0.4), 'float32')
    x = RNG.standard_normal((5, 2, 4)).astype('float32')
    torch.manual_seed(11)
    ember.manual_seed(11)
    ex, tx = _e(x).requires_grad_(), _t(x).requires_grad_()
    _check_all(em, tm, [ex], [tx], em(ex), tm(tx), 1e-5)
    em.eval()
    tm.eval()
    _assert_close(em(_e(x))[0], tm(_t(x))[0], 1e-5)


@pytest.mark.parametrize('cls', ['RNNCell', 'LSTMCell', 'GRUCell'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_cells(cls, dtype):
    for kw in ({}, dict(bias=False)):
        em, tm = _pair(cls, (3, 4), kw, dtype)
        x = RNG.standard_normal((2, 3)).astype(dtype)
        h = RNG.standard_normal((2, 4)).astype(dtype)
        ex, tx = _e(x).requires_grad_(), _t(x).requires_grad_()
        eh, th = _e(h).requires_grad_(), _t(h).requires_grad_()
        if cls == 'LSTMCell':
            eo, to = em(ex, (eh, eh * 0.5)), tm(tx, (th, th * 0.5))
            eo, to = (eo[0], eo[1]), (to[0], to[1])
        else:
            eo, to = (em(ex, eh), ()), (tm(tx, th), ())
        tol = 1e-5 if dtype == 'float32' else 1e-10
        _check_all(em, tm, [ex, eh], [tx, th], eo, to, tol)
        # unbatched, no state
        eo1, to1 = em(_e(x[0])), tm(_t(x[0]))
        for a, b in zip(_as_tuple(eo1), _as_tuple(to1)):
            _assert_close(a, b, tol)


def test_relu_cell_and_layer():
    em, tm = _pair('RNNCell', (3, 4), dict(nonlinearity='relu'), 'float64')
    x = RNG.standard_normal((2, 3))
    _assert_close(em(_e(x)), tm(_t(x)), 1e-12)


def _raises_like(fe, ft):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(type(te.value)) as ee:
        fe()
    assert str(ee.value) == str(te.value)


def test_bad_hidden_shapes():
    em, tm = _pair('LSTM', (3, 4), {}, 'float32')
    x = RNG.standard_normal((5, 2, 3)).astype('float32')
    for h, c in [((1, 3, 4), (1, 2, 4)), ((1, 2, 4), (1, 2, 5)), ((2, 4), (2, 4))]:
        hh = RNG.standard_normal(h).astype('float32')
        cc = RNG.standard_normal(c).astype('float32')
        _raises_like(lambda: em(_e(x), (_e(hh), _e(cc))), lambda: tm(_t(x), (_t(hh), _t(cc))))
    _raises_like(lambda: em(_e(x[..., :2])), lambda: tm(_t(x[..., :2])))
    _raises_like(lambda: em(_e(x).double()), lambda: tm(_t(x).double()))
    _raises_like(lambda: em(_e(x[None])), lambda: tm(_t(x[None])))
    gm, gt = _pair('GRU', (3, 4), {}, 'float32')
    for h in [(1, 3, 4), (3, 4), (2, 2, 4)]:
        hh = RNG.standard_normal(h).astype('float32')
        _raises_like(lambda: gm(_e(x), _e(hh)), lambda: gt(_t(x), _t(hh)))
    rm, rt = _pair('RNN', (3, 4), {}, 'float32')
    _raises_like(lambda: rm(_e(x[None])), lambda: rt(_t(x[None])))


def test_bad_cell_shapes():
    for cls in ('RNNCell', 'LSTMCell', 'GRUCell'):
        em, tm = _pair(cls, (3, 4), {}, 'float32')
        x = RNG.standard_normal((2, 3)).astype('float32')
        cases = [(x[:, :2], None), (x, np.zeros((3, 4), 'float32')),
                 (x, np.zeros((2, 5), 'float32')), (x[None], None)]
        for xi, h in cases:
            if h is None:
                _raises_like(lambda: em(_e(xi)), lambda: tm(_t(xi)))
            elif cls == 'LSTMCell':
                _raises_like(lambda: em(_e(xi), (_e(h), _e(h))),
                             lambda: tm(_t(xi), (_t(h), _t(h))))
            else:
                _raises_like(lambda: em(_e(xi), _e(h)), lambda: tm(_t(xi), _t(h)))


def test_bad_constructor_args():
    for args, kw in [((3, 4), dict(dropout=1.5)), ((3, 4), dict(proj_size=4)),
                     ((0, 4), {}), ((3, 4), dict(num_layers=0)), ((3, 4), dict(bias=1))]:
        _raises_like(lambda: ember.nn.LSTM(*args, **kw), lambda: torch.nn.LSTM(*args, **kw))
    _raises_like(lambda: ember.nn.GRU(3, 4, proj_size=2), lambda: torch.nn.GRU(3, 4, proj_size=2))
    _raises_like(lambda: ember.nn.RNN(3, 4, nonlinearity='gelu'),
                 lambda: torch.nn.RNN(3, 4, nonlinearity='gelu'))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        ember.nn.LSTM(3, 4, dropout=0.5)
    assert any('num_layers greater than 1' in str(x.message) for x in w)


def test_double_backward_through_fused_layer():
    em, tm = _pair('GRU', (3, 4), {}, 'float64')
    x = RNG.standard_normal((4, 2, 3))
    ex, tx = _e(x).requires_grad_(), _t(x).requires_grad_()
    eg, = ember.autograd.grad(em(ex)[0].pow(2).sum(), ex, create_graph=True)
    tg, = torch.autograd.grad(tm(tx)[0].pow(2).sum(), tx, create_graph=True)
    _assert_close(eg, tg, 1e-10)
    eg.pow(2).sum().backward()
    tg.pow(2).sum().backward()
    _assert_close(ex.grad, tx.grad, 1e-9)
    for p, q in zip(em.parameters(), tm.parameters()):
        _assert_close(p.grad, q.grad, 1e-9)


def test_inplace_weight_change_is_detected():
    em, _ = _pair('LSTM', (3, 4), {}, 'float32')
    out, _ = em(_e(RNG.standard_normal((4, 2, 3)).astype('float32')))
    with ember.no_grad():
        em.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        out.sum().backward()


# ---- nn.utils.rnn -----------------------------------------------------------------------------

def test_pad_sequence_and_pack_sequence():
    from torch.nn.utils import rnn as TR
    from ember.nn.utils import rnn as ER
    seqs = [RNG.standard_normal((n, 2)) for n in (3, 5, 1)]
    es = [_e(s).requires_grad_() for s in seqs]
    ts = [_t(s).requires_grad_() for s in seqs]
    for bf in (False, True):
        for side in ('right', 'left'):
            e = ER.pad_sequence(es, batch_first=bf, padding_value=-1.5, padding_side=side)
            t = TR.pad_sequence(ts, batch_first=bf, padding_value=-1.5, padding_side=side)
            _assert_close(e, t, 0)
    g = RNG.standard_normal((5, 3, 2))
    ER.pad_sequence(es).backward(_e(g))
    TR.pad_sequence(ts).backward(_t(g))
    for a, b in zip(es, ts):
        _assert_close(a.grad, b.grad, 0)
    ep = ER.pack_sequence(es, enforce_sorted=False)
    tp = TR.pack_sequence(ts, enforce_sorted=False)
    _assert_close(ep.data, tp.data, 0)
    for name in ('batch_sizes', 'sorted_indices', 'unsorted_indices'):
        np.testing.assert_array_equal(getattr(ep, name).numpy(), getattr(tp, name).numpy())
    assert ep.batch_sizes.dtype == ember.int64
    for a, b in zip(ER.unpack_sequence(ep), TR.unpack_sequence(tp)):
        _assert_close(a, b, 0)
    padded = RNG.standard_normal((5, 3, 2))
    lengths = [3, 5, 1]
    for a, b in zip(ER.unpad_sequence(_e(padded), _e(np.array(lengths))),
                    TR.unpad_sequence(_t(padded), _t(np.array(lengths)))):
        _assert_close(a, b, 0)
    _raises_like(lambda: ER.pad_sequence([]), lambda: TR.pad_sequence([]))
    _raises_like(lambda: ER.pad_sequence(es, padding_side='up'),
                 lambda: TR.pad_sequence(ts, padding_side='up'))


def test_pack_padded_errors_and_repr():
    from torch.nn.utils import rnn as TR
    from ember.nn.utils import rnn as ER
    x = RNG.standard_normal((4, 3, 2))
    for lengths in ([2, 3, 1], [3, 2], [2, 1, 0]):
        _raises_like(lambda: ER.pack_padded_sequence(_e(x), lengths),
                     lambda: TR.pack_padded_sequence(_t(x), lengths))
    ep = ER.pack_padded_sequence(_e(x), [3, 2, 1])
    tp = TR.pack_padded_sequence(_t(x), [3, 2, 1])
    _raises_like(lambda: ER.pad_packed_sequence(ep, total_length=2),
                 lambda: TR.pad_packed_sequence(tp, total_length=2))
    ep = ER.pack_padded_sequence(_e(x.astype('float32')), [3, 2, 1])
    tp = TR.pack_padded_sequence(_t(x.astype('float32')), [3, 2, 1])
    assert repr(ep) == repr(tp)
    ep2 = ER.pack_padded_sequence(_e(x).transpose(0, 1), _e(np.array([3, 2, 1])),
                                  batch_first=True)
    _assert_close(ep2.data, TR.pack_padded_sequence(_t(x).transpose(0, 1), _t(np.array([3, 2, 1])),
                                             batch_first=True).data, 0)


@pytest.mark.parametrize('cfg', [
    dict(), dict(bidirectional=True, num_layers=2), dict(proj_size=5), dict(packed=True),
    dict(scale=20.0)], ids=['plain', 'bidirectional 2 layers', 'projection', 'packed',
                            'saturating'])
def test_lstm_float32_step_paths(cfg, kernel_path, monkeypatch):
    # a float32 LSTM step without a projection runs in one compiled pass each way (src/rnn.c,
    # the forward with its own tanh), else NumPy's passes: torch's outputs, states and every
    # gradient either way
    from ember import _kernels
    cfg = dict(cfg)
    packed, scale = cfg.pop('packed', False), cfg.pop('scale', 2.0)
    calls = []
    real_get = _kernels.get
    monkeypatch.setattr(_kernels, 'get', lambda name: calls.append(name) or real_get(name))
    x = (np.random.RandomState(1).randn(5, 9, 6) * scale).astype(np.float32)
    lengths = [9, 7, 7, 4, 1]
    res = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.LSTM(6, 8, batch_first=True, **cfg)
        xt = lib.from_numpy(x.copy()).requires_grad_()
        inp = lib.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=True) if packed \
            else xt
        out, (h, c) = m(inp)
        if packed:
            out = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)[0]
        (out.pow(2).sum() + h.sum() + c.pow(2).sum()).backward()
        res.append([out.detach().numpy(), h.detach().numpy(), c.detach().numpy(),
                    xt.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for t, e in zip(*res):
        assert e.dtype == np.float32 and e.shape == t.shape
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=2e-5)
    expected = kernel_path == 'compiled' and 'proj_size' not in cfg
    for name in ('ember_lstm_cell_f32', 'ember_lstm_cell_backward_f32'):    # forward, backward
        assert (name in calls and real_get(name) is not None) == expected
