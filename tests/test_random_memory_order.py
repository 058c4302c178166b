"""Random fills of non-contiguous tensors draw in torch's memory order (issue 11).

Every test builds the same views (transposes, permutes, slices, an attention output
``(B, T, H, D).transpose(1, 2)``) in ember and in torch, seeds both generators alike, and
compares the results bit for bit, with their strides.
"""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')

# name -> (base shape, view applied to a tensor of either library)
VIEWS = {
    'transpose': ((5, 7), lambda x: x.t()),
    'permute3': ((3, 4, 5), lambda x: x.permute(2, 0, 1)),
    'slice': ((6, 8), lambda x: x[:, ::2]),
    'slice_t': ((8, 6), lambda x: x[::2].t()),
    'attention': ((2, 9, 4, 8), lambda x: x.transpose(1, 2)),
    'size1': ((3, 1, 20), lambda x: x.permute(2, 1, 0)),
}


def _pair(view, dtype='float32'):
    shape, fn = VIEWS[view]
    base = (np.arange(np.prod(shape)) / 7.0 + 0.25).astype(dtype).reshape(shape)
    return fn(ember.tensor(base)), fn(torch.tensor(base))


def _assert_same(e, t):
    a, b = np.asarray(e.detach()), t.detach().numpy()
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_array_equal(a, b)
    # the strides that order memory (a size-1 dim's stride is arbitrary: elementwise ops
    # may pick another one than torch there; the *_like tests below compare all of them)
    big = [i for i, n in enumerate(t.shape) if n > 1]
    assert [e.stride(i) for i in big] == [t.stride(i) for i in big], (e.stride(), t.stride())


def _both(fn, view, dtype='float32', seed=0):
    e, t = _pair(view, dtype)
    ember.manual_seed(seed)
    torch.manual_seed(seed)
    re, rt = fn(ember, e), fn(torch, t)
    return (e if re is None else re), (t if rt is None else rt)


LIKE = {
    'rand_like': lambda L, x: L.rand_like(x),
    'randn_like': lambda L, x: L.randn_like(x),
    'randint_like': lambda L, x: L.randint_like(x, 10),
    'randint_like_lh': lambda L, x: L.randint_like(x, -5, 1000),
    'randn_like_f64': lambda L, x: L.randn_like(x, dtype=L.float64),
    'rand_like_contig': lambda L, x: L.rand_like(x, memory_format=L.contiguous_format),
}


@pytest.mark.parametrize('view', sorted(VIEWS))
@pytest.mark.parametrize('op', sorted(LIKE))
def test_like_samplers_fill_in_memory_order(view, op):
    _assert_same(*_both(LIKE[op], view))


INPLACE = {
    'uniform_': lambda L, x: x.uniform_(-2, 3),
    'normal_': lambda L, x: x.normal_(1.0, 0.5),
    'random_': lambda L, x: x.random_(),
    'random_to': lambda L, x: x.random_(7),
    'random_from_to': lambda L, x: x.random_(-3, 9),
    'bernoulli_': lambda L, x: x.bernoulli_(0.3),
    'bernoulli_tensor_same_layout': lambda L, x: x.bernoulli_(L.rand_like(x)),
    'bernoulli_tensor_contiguous':
        lambda L, x: x.bernoulli_(L.rand(x.shape, dtype=x.dtype)),
    'exponential_': lambda L, x: x.exponential_(2.0),
    'geometric_': lambda L, x: x.geometric_(0.2),
    'cauchy_': lambda L, x: x.cauchy_(),
    'log_normal_': lambda L, x: x.log_normal_(),
}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('view', sorted(VIEWS))
@pytest.mark.parametrize('op', sorted(INPLACE))
def test_inplace_samplers_fill_in_memory_order(view, op, dtype):
    _assert_same(*_both(INPLACE[op], view, dtype))


OUT_OF_PLACE = {
    'bernoulli_probs': lambda L, x: L.bernoulli(x / x.max()),
    'bernoulli_p': lambda L, x: L.bernoulli(x, 0.3),
    'method_bernoulli': lambda L, x: (x / x.max()).bernoulli(),
    'normal_mean': lambda L, x: L.normal(x, 1.0),
    'normal_mean_std': lambda L, x: L.normal(x, x / 10 + 1),
    'normal_std': lambda L, x: L.normal(0.0, x / 10 + 1),
}


@pytest.mark.parametrize('view', sorted(VIEWS))
@pytest.mark.parametrize('op', sorted(OUT_OF_PLACE))
def test_out_of_place_samplers_of_non_contiguous_inputs(view, op):
    _assert_same(*_both(OUT_OF_PLACE[op], view))


def _f(L):
    return L.nn.functional


DROPOUT = {
    'dropout': lambda L, x: _f(L).dropout(x, 0.4),
    'dropout_inplace': lambda L, x: _f(L).dropout(x, 0.4, inplace=True),
    'torch.dropout': lambda L, x: L.dropout(x, 0.25, True),
    'nn.Dropout': lambda L, x: L.nn.Dropout(0.3)(x),
    'nn.Dropout_inplace': lambda L, x: L.nn.Dropout(0.3, inplace=True)(x),
    'alpha_dropout': lambda L, x: _f(L).alpha_dropout(x, 0.4, True),
    'alpha_dropout_inplace': lambda L, x: _f(L).alpha_dropout(x, 0.4, True, inplace=True),
    'nn.AlphaDropout': lambda L, x: L.nn.AlphaDropout(0.2)(x),
    'feature_alpha_dropout': lambda L, x: _f(L).feature_alpha_dropout(x, 0.4, True),
    'dropout2d': lambda L, x: _f(L).dropout2d(x, 0.5),
    'dropout1d': lambda L, x: _f(L).dropout1d(x, 0.5) if x.dim() in (2, 3) else x * 1,
    'dropout3d': lambda L, x: _f(L).dropout3d(x, 0.5) if x.dim() in (4, 5) else x * 1,
}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('view', sorted(VIEWS))
@pytest.mark.parametrize('op', sorted(DROPOUT))
def test_dropout_of_non_contiguous_inputs(view, op, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _assert_same(*_both(DROPOUT[op], view, dtype, seed=3))


@pytest.mark.parametrize('view', ['transpose', 'attention', 'slice_t'])
def test_dropout_gradient_of_a_transposed_leaf(view):
    shape, fn = VIEWS[view]
    base = np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    grads = []
    for L in (ember, torch):
        L.manual_seed(5)
        leaf = L.tensor(base, requires_grad=True)
        y = _f(L).dropout(fn(leaf), 0.5)
        (y * L.arange(y.numel(), dtype=L.float32).reshape(y.shape)).sum().backward()
        grads.append((y, leaf.grad))
    _assert_same(*[g[0] for g in grads])
    np.testing.assert_array_equal(np.asarray(grads[0][1]), grads[1][1].numpy())


def test_attention_block_dropout_matches_torch():
    """Multi-head attention: nn.Dropout on the attention weights and on the head view
    (B, T, H, D).transpose(1, 2) draws the same masks as torch under the same seed."""
    B, T, H, D = 2, 6, 3, 4
    x = np.random.default_rng(0).standard_normal((B, T, H * D)).astype(np.float32)
    res = []
    for L in (ember, torch):
        L.manual_seed(11)
        drop = L.nn.Dropout(0.3)
        heads = L.tensor(x).view(B, T, H, D).transpose(1, 2)
        att = L.softmax(heads @ heads.transpose(-2, -1) / D ** 0.5, dim=-1)
        att_d, heads_d = drop(att), drop(heads)
        y = (att_d @ heads_d).transpose(1, 2).contiguous().view(B, T, H * D)
        res.append([np.asarray(v.detach()) if L is ember else v.detach().numpy()
                    for v in (att_d, heads_d, y)])
    (ea, eh, ey), (ta, th, ty) = res
    np.testing.assert_array_equal(ea == 0, ta == 0)         # the same mask
    np.testing.assert_array_equal(eh, th)                   # exact input: exact output
    np.testing.assert_allclose(ey, ty, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('view', sorted(VIEWS) + ['expand'])
@pytest.mark.parametrize('fn', ['empty_like', 'zeros_like', 'ones_like', 'full_like'])
def test_like_keeps_torch_strides(view, fn):
    def make(L):
        if view == 'expand':
            x = L.arange(5.).reshape(5, 1).expand(5, 4)
        else:
            shape, f = VIEWS[view]
            x = f(L.zeros(shape))
        if fn == 'full_like':
            return L.full_like(x, 2.5)
        return getattr(L, fn)(x)
    e, t = make(ember), make(torch)
    assert e.stride() == t.stride()
    assert e.is_contiguous() == t.is_contiguous()
    if fn != 'empty_like':
        np.testing.assert_array_equal(np.asarray(e), t.numpy())


@pytest.mark.parametrize('fmt', ['contiguous_format', 'channels_last', 'preserve_format'])
def test_like_memory_format_argument(fmt):
    for fn in ('empty_like', 'zeros_like', 'rand_like'):
        e = getattr(ember, fn)(ember.zeros(2, 3, 4, 5).transpose(1, 3),
                               memory_format=getattr(ember, fmt))
        t = getattr(torch, fn)(torch.zeros(2, 3, 4, 5).transpose(1, 3),
                               memory_format=getattr(torch, fmt))
        assert e.stride() == t.stride(), (fn, fmt)
    ember.manual_seed(1)
    torch.manual_seed(1)
    e = ember.randn_like(ember.zeros(2, 3, 4, 5), memory_format=ember.channels_last)
    t = torch.randn_like(torch.zeros(2, 3, 4, 5), memory_format=torch.channels_last)
    _assert_same(e, t)


def test_channels_last_needs_rank_4():
    with pytest.raises(RuntimeError, match='rank 4'):
        torch.empty_like(torch.zeros(2, 3), memory_format=torch.channels_last)
    with pytest.raises(RuntimeError, match='rank 4'):
        ember.empty_like(ember.zeros(2, 3), memory_format=ember.channels_last)


def test_fill_of_an_expanded_tensor_raises_as_torch():
    for L in (ember, torch):
        x = L.zeros(5, 1).expand(5, 4)
        for name, args in (('uniform_', ()), ('normal_', ()), ('bernoulli_', (0.5,)),
                           ('random_', ())):
            with pytest.raises(RuntimeError, match='more than one element of the written-to'):
                getattr(x, name)(*args)


def test_generator_argument_of_like_samplers():
    e, t = _pair('attention')
    ge, gt = ember.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    _assert_same(ember.rand_like(e, generator=ge), torch.rand_like(t, generator=gt))
    _assert_same(ember.randn_like(e, generator=ge), torch.randn_like(t, generator=gt))
    _assert_same(ember.randint_like(e, 3, 9, generator=ge), torch.randint_like(t, 3, 9, generator=gt))
