"""F.scaled_dot_product_attention and nn.MultiheadAttention, differential against torch."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(99)


def _e(a):
    return ember.from_numpy(np.ascontiguousarray(a).copy())


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a).copy())


def _assert_close(e, t, tol):
    e, t = e.detach().numpy(), t.detach().numpy()
    assert e.shape == t.shape and e.dtype == t.dtype
    np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


def _tol(dtype):
    return 2e-5 if dtype == 'float32' else 1e-10


# ---- scaled_dot_product_attention -------------------------------------------------------------

def _sdpa_case(mask_kind, dtype, L=4, S=5, E=6):
    q = RNG.standard_normal((2, 3, L, E)).astype(dtype)
    k = RNG.standard_normal((2, 3, S, E)).astype(dtype)
    v = RNG.standard_normal((2, 3, S, 7)).astype(dtype)
    mask = None
    if mask_kind == 'bool':
        mask = RNG.random((L, S)) > 0.3
        mask[:, 0] = True
    elif mask_kind == 'bool4d':
        mask = RNG.random((2, 3, L, S)) > 0.5
        mask[..., 1, :] = False   # a row with nothing to attend to
    elif mask_kind == 'float':
        mask = RNG.standard_normal((2, 1, L, S)).astype(dtype)
        mask[0, 0, 2, 1] = -np.inf
    return q, k, v, mask


@pytest.mark.parametrize('mask_kind', [None, 'bool', 'bool4d', 'float'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('is_causal', [False, True])
@pytest.mark.parametrize('scale', [None, 0.3])
def test_sdpa_matches_torch(mask_kind, dtype, is_causal, scale):
    q, k, v, mask = _sdpa_case(mask_kind, dtype)
    if is_causal:
        k, v = k[:, :, :4], v[:, :, :4, :6]
        if mask is not None:
            mask = mask[..., :4]
    e_in = [_e(a).requires_grad_() for a in (q, k, v)]
    t_in = [_t(a).requires_grad_() for a in (q, k, v)]
    em = None if mask is None else _e(mask)
    tm = None if mask is None else _t(mask)
    eo = ember.nn.functional.scaled_dot_product_attention(*e_in, attn_mask=em,
                                                           is_causal=is_causal, scale=scale)
    to = torch.nn.functional.scaled_dot_product_attention(*t_in, attn_mask=tm,
                                                           is_causal=is_causal, scale=scale)
    _assert_close(eo, to, _tol(dtype))
    g = RNG.standard_normal(tuple(to.shape)).astype(dtype)
    eo.backward(_e(g))
    to.backward(_t(g))
    for a, b in zip(e_in, t_in):
        _assert_close(a.grad, b.grad, _tol(dtype) * 5)


def test_sdpa_mask_with_is_causal():
    q = RNG.standard_normal((1, 2, 3, 4))
    m = RNG.random((3, 3)) > 0.3
    for vd in (4, 5):
        v = RNG.standard_normal((1, 2, 3, vd))
        args_e = (_e(q), _e(q), _e(v))
        args_t = (_t(q), _t(q), _t(v))
        try:
            to = torch.nn.functional.scaled_dot_product_attention(*args_t, attn_mask=_t(m),
                                                                   is_causal=True)
        except RuntimeError as err:
            with pytest.raises(RuntimeError, match='Explicit attn_mask should not be set'):
                ember.nn.functional.scaled_dot_product_attention(*args_e, attn_mask=_e(m),
                                                                 is_causal=True)
            assert 'Explicit attn_mask' in str(err)
        else:
            eo = ember.nn.functional.scaled_dot_product_attention(*args_e, attn_mask=_e(m),
                                                                   is_causal=True)
            _assert_close(eo, to, 1e-10)


def test_sdpa_float_mask_gradient_and_gqa():
    q = RNG.standard_normal((1, 4, 3, 8))
    k = RNG.standard_normal((1, 2, 5, 8))
    v = RNG.standard_normal((1, 2, 5, 8))
    m = RNG.standard_normal((3, 5))
    ein = [_e(a).requires_grad_() for a in (q, k, v, m)]
    tin = [_t(a).requires_grad_() for a in (q, k, v, m)]
    eo = ember.nn.functional.scaled_dot_product_attention(*ein[:3], attn_mask=ein[3],
                                                           enable_gqa=True)
    to = torch.nn.functional.scaled_dot_product_attention(*tin[:3], attn_mask=tin[3],
                                                           enable_gqa=True)
    _assert_close(eo, to, 1e-10)
    eo.sum().backward()
    to.sum().backward()
    for a, b in zip(ein, tin):
        _assert_close(a.grad, b.grad, 1e-10)


def test_sdpa_dropout_is_random_and_scaled():
    q = _e(RNG.standard_normal((2, 8, 4)).astype('float32'))
    ember.manual_seed(0)
    a = ember.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    b = ember.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.0)
    assert not np.allclose(a.numpy(), b.numpy())
    ember.manual_seed(0)
    a2 = ember.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), a2.numpy())


# ---- MultiheadAttention -----------------------------------------------------------------------

def _copy(em, tm):
    em.load_state_dict({k: _e(v.detach().numpy()) for k, v in tm.state_dict().items()})


E, H, L, S, N = 8, 2, 3, 5, 2


def _mha_inputs(kw, dtype):
    kd, vd = kw.get('kdim', E), kw.get('vdim', E)
    bf = kw.get('batch_first', False)

    def shape(n, d):
        return (N, n, d) if bf else (n, N, d)
    return (RNG.standard_normal(shape(L, E)).astype(dtype),
            RNG.standard_normal(shape(S, kd)).astype(dtype),
            RNG.standard_normal(shape(S, vd)).astype(dtype))


def _masks(kind, dtype):
    f = {}
    if kind == 'kpm_bool':
        m = RNG.random((N, S)) < 0.4
        m[:, 0] = False
        f['key_padding_mask'] = m
    elif kind == 'kpm_float':
        m = np.where(RNG.random((N, S)) < 0.4, -np.inf, 0.0).astype(dtype)
        m[:, 0] = 0
        f['key_padding_mask'] = m
    elif kind == 'attn2d_float':
        f['attn_mask'] = RNG.standard_normal((L, S)).astype(dtype)
    elif kind == 'attn3d_bool':
        m = RNG.random((N * H, L, S)) < 0.4
        m[..., 0] = False
        f['attn_mask'] = m
    elif kind == 'both_bool':
        m = RNG.random((L, S)) < 0.3
        m[:, 0] = False
        k = RNG.random((N, S)) < 0.3
        k[:, 0] = False
        f.update(attn_mask=m, key_padding_mask=k)
    return f


MHA_CONFIGS = [{}, dict(add_bias_kv=True), dict(add_zero_attn=True), dict(kdim=6, vdim=7),
               dict(bias=False), dict(batch_first=True)]
MASKS = [None, 'kpm_bool', 'kpm_float', 'attn2d_float', 'attn3d_bool', 'both_bool']


@pytest.mark.parametrize('kw', MHA_CONFIGS)
@pytest.mark.parametrize('masks', MASKS)
@pytest.mark.parametrize('need_weights,average', [(True, True), (True, False), (False, True)])
def test_mha_matches_torch(kw, masks, need_weights, average):
    dtype = 'float64'
    tm = torch.nn.MultiheadAttention(E, H, **kw).double()
    em = ember.nn.MultiheadAttention(E, H, **kw).double()
    _copy(em, tm)
    q, k, v = _mha_inputs(kw, dtype)
    f = _masks(masks, dtype)
    ein = [_e(a).requires_grad_() for a in (q, k, v)]
    tin = [_t(a).requires_grad_() for a in (q, k, v)]
    eo, ew = em(*ein, need_weights=need_weights, average_attn_weights=average,
                **{a: _e(b) for a, b in f.items()})
    to, tw = tm(*tin, need_weights=need_weights, average_attn_weights=average,
                **{a: _t(b) for a, b in f.items()})
    _assert_close(eo, to, 1e-10)
    assert (ew is None) == (tw is None)
    if tw is not None:
        _assert_close(ew, tw, 1e-10)
    g = RNG.standard_normal(tuple(to.shape))
    eo.backward(_e(g))
    to.backward(_t(g))
    for a, b in zip(ein, tin):
        _assert_close(a.grad, b.grad, 1e-10)
    for (n1, p1), (n2, p2) in zip(em.named_parameters(), tm.named_parameters()):
        assert n1 == n2
        _assert_close(p1.grad, p2.grad, 1e-10)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_mha_self_attention_causal_and_unbatched(dtype):
    tm = torch.nn.MultiheadAttention(E, H).to(getattr(torch, dtype))
    em = ember.nn.MultiheadAttention(E, H).to(getattr(ember, dtype))
    _copy(em, tm)
    x = RNG.standard_normal((4, N, E)).astype(dtype)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=getattr(torch, dtype))
    emask = ember.nn.Transformer.generate_square_subsequent_mask(4, dtype=getattr(ember, dtype))
    _assert_close(emask, mask, 0)
    for need in (True, False):
        eo = em(_e(x), _e(x), _e(x), attn_mask=emask, is_causal=True, need_weights=need)
        to = tm(_t(x), _t(x), _t(x), attn_mask=mask, is_causal=True, need_weights=need)
        _assert_close(eo[0], to[0], _tol(dtype))
    # unbatched (L, E) input with a 3-D (H, L, S) mask
    xu = x[:, 0]
    m3 = RNG.standard_normal((H, 4, 4)).astype(dtype)
    eo, ew = em(_e(xu), _e(xu), _e(xu), attn_mask=_e(m3))
    to, tw = tm(_t(xu), _t(xu), _t(xu), attn_mask=_t(m3))
    _assert_close(eo, to, _tol(dtype))
    _assert_close(ew, tw, _tol(dtype))


def test_mha_init_state_dict_and_repr():
    for kw in ({}, dict(kdim=3, vdim=5, add_bias_kv=True)):
        torch.manual_seed(5)
        tm = torch.nn.MultiheadAttention(E, H, **kw)
        ember.manual_seed(5)
        em = ember.nn.MultiheadAttention(E, H, **kw)
        assert repr(em) == repr(tm)
        ts, es = tm.state_dict(), em.state_dict()
        assert list(ts) == list(es)
        for name in ts:
            assert tuple(es[name].shape) == tuple(ts[name].shape)
            np.testing.assert_array_equal(es[name].numpy(), ts[name].numpy())
    assert [n for n, _ in ember.nn.MultiheadAttention(E, H).named_parameters()] == \
        ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']


def test_mha_dropout_train_same_seed():
    tm = torch.nn.MultiheadAttention(E, H, dropout=0.3)
    em = ember.nn.MultiheadAttention(E, H, dropout=0.3)
    _copy(em, tm)
    x = RNG.standard_normal((L, N, E)).astype('float32')
    torch.manual_seed(3)
    ember.manual_seed(3)
    eo, ew = em(_e(x), _e(x), _e(x))
    to, tw = tm(_t(x), _t(x), _t(x))
    _assert_close(eo, to, 2e-5)
    _assert_close(ew, tw, 2e-5)
    em.eval()
    tm.eval()
    _assert_close(em(_e(x), _e(x), _e(x))[0], tm(_t(x), _t(x), _t(x))[0], 2e-5)


def _raises_like(fe, ft):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(type(te.value)) as ee:
        fe()
    assert str(ee.value) == str(te.value)


def test_mha_bad_arguments():
    tm = torch.nn.MultiheadAttention(E, H).double()
    em = ember.nn.MultiheadAttention(E, H).double()
    x = RNG.standard_normal((L, N, E))
    bad = [dict(attn_mask=np.zeros((L, L + 1))), dict(attn_mask=np.zeros((3, L, S))),
           dict(key_padding_mask=np.zeros((N, L + 2), bool)),
           dict(key_padding_mask=np.zeros((N, L), np.int64)),
           dict(is_causal=True)]
    for f in bad:
        _raises_like(lambda: em(_e(x), _e(x), _e(x), **{a: _e(b) if hasattr(b, 'shape') else b
                                                        for a, b in f.items()}),
                     lambda: tm(_t(x), _t(x), _t(x), **{a: _t(b) if hasattr(b, 'shape') else b
                                                        for a, b in f.items()}))
    _raises_like(lambda: em(_e(x[..., :6]), _e(x), _e(x)),
                 lambda: tm(_t(x[..., :6]), _t(x), _t(x)))
    for args in ((7, 2), (0, 2)):
        _raises_like(lambda: ember.nn.MultiheadAttention(*args),
                     lambda: torch.nn.MultiheadAttention(*args))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        em(_e(x), _e(x), _e(x), key_padding_mask=_e(np.zeros((N, L), bool)),
           attn_mask=_e(np.zeros((L, L))))
    assert any('mismatched key_padding_mask and attn_mask' in str(i.message) for i in w)
