"""Transformer encoder/decoder layers, stacks and nn.Transformer, differential against torch."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

if not (hasattr(ember.nn, 'LayerNorm') and hasattr(ember.nn, 'Dropout')):
    pytest.skip("nn.LayerNorm / nn.Dropout not available yet", allow_module_level=True)

RNG = np.random.default_rng(7)
E, H, FF, L, S, N = 8, 2, 16, 4, 5, 3


def _e(a):
    return ember.from_numpy(np.ascontiguousarray(a).copy())


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a).copy())


def _close(e, t, tol):
    e, t = e.detach().numpy(), t.detach().numpy()
    assert e.shape == t.shape and e.dtype == t.dtype
    np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


def _copy(em, tm):
    em.load_state_dict({k: _e(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _check_run(em, tm, inputs, kw, tol, train=True):
    _copy(em, tm)
    em.train(train)
    tm.train(train)
    ein = [_e(a).requires_grad_() for a in inputs]
    tin = [_t(a).requires_grad_() for a in inputs]
    eo = em(*ein, **{k: _e(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
    to = tm(*tin, **{k: _t(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
    _close(eo, to, tol)
    g = RNG.standard_normal(tuple(to.shape)).astype(inputs[0].dtype)
    eo.backward(_e(g))
    to.backward(_t(g))
    for a, b in zip(ein, tin):
        _close(a.grad, b.grad, tol)
    for (n1, p1), (n2, p2) in zip(em.named_parameters(), tm.named_parameters()):
        assert n1 == n2
        _close(p1.grad, p2.grad, tol)


def _act(kw):
    """The same constructor kwargs for both libraries (a callable activation translated)."""
    e, t = dict(kw), dict(kw)
    if kw.get('activation') == 'silu_fn':
        e['activation'] = ember.nn.functional.silu
        t['activation'] = torch.nn.functional.silu
    return e, t


LAYER_CONFIGS = [{}, dict(norm_first=True), dict(activation='gelu', batch_first=True),
                 dict(bias=False), dict(activation='silu_fn', layer_norm_eps=1e-3)]


def _causal(n, dtype):
    return torch.nn.Transformer.generate_square_subsequent_mask(n, dtype=getattr(torch, dtype)
                                                                ).numpy()


@pytest.mark.parametrize('kw', LAYER_CONFIGS)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_encoder_layer(kw, dtype):
    ekw, tkw = _act(kw)
    em = ember.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, **ekw).to(getattr(ember, dtype))
    tm = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, **tkw).to(getattr(torch, dtype))
    bf = kw.get('batch_first', False)
    x = RNG.standard_normal((N, L, E) if bf else (L, N, E)).astype(dtype)
    tol = 2e-5 if dtype == 'float32' else 1e-10
    _check_run(em, tm, [x], {}, tol)
    _check_run(em, tm, [x], dict(src_mask=_causal(L, dtype), is_causal=True), tol)
    kpm = RNG.random((N, L)) < 0.3
    kpm[:, 0] = False
    _check_run(em, tm, [x], dict(src_key_padding_mask=kpm), tol)


@pytest.mark.parametrize('kw', LAYER_CONFIGS)
def test_decoder_layer(kw):
    ekw, tkw = _act(kw)
    em = ember.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, **ekw).double()
    tm = torch.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, **tkw).double()
    bf = kw.get('batch_first', False)
    x = RNG.standard_normal((N, L, E) if bf else (L, N, E))
    mem = RNG.standard_normal((N, S, E) if bf else (S, N, E))
    mkpm = RNG.random((N, S)) < 0.3
    mkpm[:, 0] = False
    _check_run(em, tm, [x, mem], dict(tgt_mask=_causal(L, 'float64'), tgt_is_causal=True,
                                memory_key_padding_mask=mkpm), 1e-10)
    _check_run(em, tm, [x, mem], dict(memory_mask=RNG.standard_normal((L, S))), 1e-10)


def test_encoder_decoder_stacks_and_transformer():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        tm = torch.nn.Transformer(E, H, 2, 2, FF, dropout=0.0).double()
        em = ember.nn.Transformer(E, H, 2, 2, FF, dropout=0.0).double()
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    src = RNG.standard_normal((S, N, E))
    tgt = RNG.standard_normal((L, N, E))
    skpm = RNG.random((N, S)) < 0.3
    skpm[:, 0] = False
    _check_run(em, tm, [src, tgt], dict(tgt_mask=_causal(L, 'float64'),
                                  src_key_padding_mask=skpm, memory_key_padding_mask=skpm),
         1e-10)
    _check_run(em, tm, [src, tgt], {}, 1e-10, train=False)
    with pytest.raises(RuntimeError, match='the batch number of src and tgt must be equal'):
        em(_e(src), _e(tgt[:, :2]))
    with pytest.raises(RuntimeError, match='must be equal to d_model'):
        em(_e(src[..., :4]), _e(tgt))


def test_transformer_default_init_bitwise():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.manual_seed(0)
        tm = torch.nn.Transformer(E, H, 1, 1, FF)
        ember.manual_seed(0)
        em = ember.nn.Transformer(E, H, 1, 1, FF)
    for (n, p), (_, q) in zip(em.state_dict().items(), tm.state_dict().items()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=n)


def test_encoder_eval_nested_tensor_zeros_padding():
    layer_t = torch.nn.TransformerEncoderLayer(E, H, FF, batch_first=True)
    layer_e = ember.nn.TransformerEncoderLayer(E, H, FF, batch_first=True)
    tm = torch.nn.TransformerEncoder(layer_t, 2)
    em = ember.nn.TransformerEncoder(layer_e, 2)
    _copy(em, tm)
    tm.eval()
    em.eval()
    x = RNG.standard_normal((N, L, E)).astype('float32')
    kpm = np.zeros((N, L), bool)
    kpm[0, 2:] = True
    kpm[1, 3:] = True
    with torch.no_grad():
        to = tm(_t(x), src_key_padding_mask=_t(kpm))
    with ember.no_grad():
        eo = em(_e(x), src_key_padding_mask=_e(kpm))
    _close(eo, to, 2e-5)
    assert np.all(eo.numpy()[0, 2:] == 0)


def test_encoder_nested_tensor_warning_and_repr():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        enc = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(E, H, FF), 2)
    assert any('enable_nested_tensor is True' in str(i.message) for i in w)
    assert enc.use_nested_tensor is False
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, FF), 2,
                                        norm=torch.nn.LayerNorm(E))
        e = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(E, H, FF), 2,
                                        norm=ember.nn.LayerNorm(E))
    assert repr(e) == repr(t)
    with pytest.raises(RuntimeError, match='activation should be relu/gelu, not tanh'):
        ember.nn.TransformerEncoderLayer(E, H, activation='tanh')


def test_dropout_training_same_seed():
    tm = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.2)
    em = ember.nn.TransformerEncoderLayer(E, H, FF, dropout=0.2)
    x = RNG.standard_normal((L, N, E)).astype('float32')
    torch.manual_seed(21)
    ember.manual_seed(21)
    _check_run(em, tm, [x], {}, 2e-5)


def test_generate_square_subsequent_mask():
    for n in (1, 4):
        for dt in ('float32', 'float64'):
            e = ember.nn.Transformer.generate_square_subsequent_mask(n, dtype=getattr(ember, dt))
            t = torch.nn.Transformer.generate_square_subsequent_mask(n, dtype=getattr(torch, dt))
            _close(e, t, 0)
    assert ember.nn.Transformer.generate_square_subsequent_mask(3).dtype == ember.float32
