"""Sparse COO/CSR tensors against torch: construction, coalescing, repr, products, sums,
softmax, gradients (dense and sparse, float32 and float64), errors, and the optimizers that
take sparse gradients."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

DTYPES = [np.float32, np.float64]


def _tol(dt):
    return dict(rtol=1e-5, atol=1e-6) if dt == np.float32 else dict(rtol=1e-10, atol=1e-12)


def _pair(ix, v, size=None, **kw):
    """The same COO tensor on both libraries."""
    args = () if size is None else (size,)
    e = ember.sparse_coo_tensor(ember.tensor(ix), ember.tensor(v), *args, **kw)
    t = torch.sparse_coo_tensor(torch.tensor(ix), torch.tensor(v), *args, **kw)
    return e, t


def _assert_sparse_same(e, t, dt=np.float64):
    assert e.layout is ember.sparse_coo and t.layout is torch.sparse_coo
    assert tuple(e.shape) == tuple(t.shape)
    assert e.is_coalesced() == t.is_coalesced()
    assert e._nnz() == t._nnz()
    assert e.sparse_dim() == t.sparse_dim() and e.dense_dim() == t.dense_dim()
    np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())
    np.testing.assert_allclose(e._values().detach().numpy(), t._values().detach().numpy(),
                               **_tol(dt))
    assert str(e.dtype) == str(t.dtype)


def _random_coo(rng, shape, nnz, dense_dims=0, dt=np.float64):
    sd = len(shape) - dense_dims
    ix = np.stack([rng.integers(0, s, nnz) for s in shape[:sd]]) if nnz else \
        np.zeros((sd, 0), np.int64)
    v = rng.standard_normal((nnz,) + tuple(shape[sd:])).astype(dt)
    return ix.astype(np.int64), v


IX = [[0, 1, 1, 0], [2, 0, 2, 2]]
V = [3., 4., 5., 1.]


def test_construction_and_metadata():
    e, t = _pair(IX, V, (2, 3))
    _assert_sparse_same(e, t, np.float32)
    assert e.is_sparse and not e.is_sparse_csr
    assert e.layout is ember.sparse_coo and repr(e.layout) == repr(t.layout)
    assert e.numel() == t.numel() and e.dim() == t.dim()
    assert repr(type(e)) == repr(type(t))
    assert isinstance(e, ember.Tensor)
    # size inferred from the indices; dense dims from the values
    e2, t2 = _pair(IX, V)
    assert tuple(e2.shape) == tuple(t2.shape)
    e3, t3 = _pair([[0, 2]], [[1., 2., 3.], [4., 5., 6.]])
    _assert_sparse_same(e3, t3, np.float32)
    e4, t4 = _pair([[0, 1], [1, 0]], [1, 2], (2, 2))
    assert str(e4.dtype) == str(t4.dtype) == 'torch.int64'
    d = ember.sparse_coo_tensor([[0, 1], [1, 0]], [1., 2.], (2, 2), dtype=ember.float64)
    assert d.dtype == ember.float64
    assert ember.sparse_coo_tensor(IX, V, (2, 3), is_coalesced=True).is_coalesced()
    # dense tensors: torch's answers
    x = ember.zeros(2, 3)
    assert not x.is_sparse and x.layout is ember.strided
    assert x.sparse_dim() == 0 and x.dense_dim() == 2


def test_repr_matches_torch():
    cases = [(IX, V, (2, 3)), ([[0, 2]], [[1., 2., 3.], [4., 5., 6.]], None),
             ([[0, 1], [1, 0]], [1, 2], (2, 2))]
    for ix, v, size in cases:
        e, t = _pair(ix, v, size)
        assert repr(e) == repr(t)
        assert repr(e.coalesce()) == repr(t.coalesce())
        assert str(e * 2) == str(t * 2)
    e = ember.sparse_coo_tensor(ember.zeros(2, 0, dtype=ember.int64), ember.zeros(0), (2, 3))
    t = torch.sparse_coo_tensor(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), (2, 3))
    assert repr(e) == repr(t)
    e = ember.sparse_coo_tensor(IX, ember.tensor(V, dtype=ember.float64), (2, 3),
                                requires_grad=True)
    t = torch.sparse_coo_tensor(IX, torch.tensor(V, dtype=torch.float64), (2, 3),
                                requires_grad=True)
    assert repr(e) == repr(t)
    assert repr(e * 2) == repr(t * 2)
    assert repr(e.detach().to_sparse_csr().requires_grad_()) == \
        repr(t.detach().to_sparse_csr().requires_grad_())


@pytest.mark.parametrize('dt', DTYPES)
def test_coalesce_to_dense_to_sparse(dt):
    rng = np.random.default_rng(0)
    for shape, nnz, dd in [((4, 5), 12, 0), ((3, 4, 2), 7, 1), ((6,), 9, 0), ((3, 3), 0, 0)]:
        ix, v = _random_coo(rng, shape, nnz, dd, dt)
        e, t = _pair(ix, v, shape)
        _assert_sparse_same(e.coalesce(), t.coalesce(), dt)
        np.testing.assert_allclose(e.to_dense().numpy(), t.to_dense().numpy(), **_tol(dt))
        dense = t.to_dense()
        ed = ember.tensor(dense.numpy())
        _assert_sparse_same(ed.to_sparse(), dense.to_sparse(), dt)
        if len(shape) > 1:
            _assert_sparse_same(ed.to_sparse(1), dense.to_sparse(1), dt)


def test_indices_values_need_coalesced():
    e, t = _pair(IX, V, (2, 3))
    for name in ('indices', 'values'):
        with pytest.raises(RuntimeError) as te:
            getattr(t, name)()
        with pytest.raises(RuntimeError) as ee:
            getattr(e, name)()
        assert str(ee.value) == str(te.value)
    np.testing.assert_array_equal(e.coalesce().indices().numpy(), t.coalesce().indices().numpy())
    np.testing.assert_array_equal(e.coalesce().values().numpy(), t.coalesce().values().numpy())
    x, tx = ember.zeros(2, 3), torch.zeros(2, 3)
    for name in ('coalesce', 'is_coalesced', 'indices', 'values', 'crow_indices'):
        with pytest.raises(RuntimeError) as te:
            getattr(tx, name)()
        with pytest.raises(RuntimeError) as ee:
            getattr(x, name)()
        assert str(ee.value) == str(te.value)


def test_constructor_errors():
    cases = [lambda m: m.sparse_coo_tensor(m.tensor(IX), m.tensor(V), (2,)),
             lambda m: m.sparse_coo_tensor(m.tensor(IX), m.ones(2), (2, 3)),
             lambda m: m.sparse_coo_tensor(m.tensor(IX), m.tensor(V), (2, 2),
                                           check_invariants=True),
             lambda m: m.sparse_coo_tensor(-m.tensor(IX), m.tensor(V), (2, 3),
                                           check_invariants=True)]
    for make in cases:
        with pytest.raises(RuntimeError) as te:
            make(torch)
        with pytest.raises(RuntimeError) as ee:
            make(ember)
        assert str(ee.value) == str(te.value)
    with ember.sparse.check_sparse_tensor_invariants():
        assert ember.sparse.check_sparse_tensor_invariants.is_enabled()
        with pytest.raises(RuntimeError, match='size is inconsistent'):
            ember.sparse_coo_tensor(IX, V, (2, 2))
    assert not ember.sparse.check_sparse_tensor_invariants.is_enabled()


def test_elementwise_keeps_sparsity():
    e, t = _pair(IX, V, (2, 3))
    ec, tc = e.coalesce(), t.coalesce()
    for f in (lambda s: s * 2, lambda s: 2 * s, lambda s: -s, lambda s: s + s, lambda s: s / 2,
              lambda s: s - s, lambda s: s.relu(), lambda s: s.abs(), lambda s: s.sqrt(),
              lambda s: s.pow(2)):
        _assert_sparse_same(f(e), f(t), np.float32)
        _assert_sparse_same(f(ec), f(tc), np.float32)
    _assert_sparse_same(ec * ec, tc * tc, np.float32)
    _assert_sparse_same(e + ec, t + tc, np.float32)
    _assert_sparse_same(ec + ec * 3, tc + tc * 3, np.float32)
    _assert_sparse_same(e.t(), t.t(), np.float32)
    _assert_sparse_same(ec.t(), tc.t(), np.float32)
    d = np.arange(6.).reshape(2, 3).astype(np.float32)
    np.testing.assert_allclose((ember.tensor(d) + e).numpy(), (torch.tensor(d) + t).numpy())
    with pytest.raises(RuntimeError) as te:
        t + torch.tensor(d)
    with pytest.raises(RuntimeError) as ee:
        e + ember.tensor(d)
    assert str(ee.value) == str(te.value)


def test_unsupported_ops_raise_not_implemented():
    e, _ = _pair(IX, V, (2, 3))
    for f in (lambda s: s.exp(), lambda s: ember.exp(s), lambda s: s.view(6),
              lambda s: s.mean(), lambda s: ember.cat([s, s]), lambda s: s.sigmoid(),
              lambda s: s[0]):
        with pytest.raises(NotImplementedError):
            f(e)
    with pytest.raises(NotImplementedError, match='exp'):
        e.exp()
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        e.numpy()


@pytest.mark.parametrize('dt', DTYPES)
@pytest.mark.parametrize('op', ['mm', 'spmm', 'sparse.mm', 'matmul', '@', 'addmm',
                                'sparse.addmm'])
def test_sparse_dense_products_and_gradients(dt, op):
    rng = np.random.default_rng(1)
    ix, v = _random_coo(rng, (5, 4), 9, 0, dt)
    d = rng.standard_normal((4, 3)).astype(dt)
    c = rng.standard_normal((5, 3)).astype(dt)
    fns = {'mm': lambda m, s, x, c: m.mm(s, x),
           'spmm': lambda m, s, x, c: m.spmm(s, x),
           'sparse.mm': lambda m, s, x, c: m.sparse.mm(s, x),
           'matmul': lambda m, s, x, c: m.matmul(s, x),
           '@': lambda m, s, x, c: s @ x,
           'addmm': lambda m, s, x, c: m.addmm(c, s, x, beta=0.5, alpha=2.0),
           'sparse.addmm': lambda m, s, x, c: m.sparse.addmm(c, s, x, beta=0.5, alpha=2.0)}
    f = fns[op]
    res = []
    for m in (ember, torch):
        s = m.sparse_coo_tensor(m.tensor(ix), m.tensor(v), (5, 4), requires_grad=True)
        x = m.tensor(d, requires_grad=True)
        cc = m.tensor(c, requires_grad=True)
        y = f(m, s, x, cc)
        w = m.tensor(np.linspace(-1, 1, 15).reshape(5, 3).astype(dt))
        (y * w).sum().backward()
        res.append((y, s, x, cc))
    (ey, es, ex, ec), (ty, ts, tx, tc) = res
    assert ey.grad_fn.name() == ty.grad_fn.name()
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), **_tol(dt))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), **_tol(dt))
    assert es.grad.layout is {torch.strided: ember.strided,
                              torch.sparse_coo: ember.sparse_coo}[ts.grad.layout]
    if ts.grad.is_sparse:
        _assert_sparse_same(es.grad, ts.grad, dt)
    else:
        np.testing.assert_allclose(es.grad.numpy(), ts.grad.numpy(), **_tol(dt))
    if op.endswith('addmm'):
        np.testing.assert_allclose(ec.grad.numpy(), tc.grad.numpy(), **_tol(dt))


@pytest.mark.parametrize('dt', DTYPES)
def test_dense_sparse_product_and_vector(dt):
    rng = np.random.default_rng(2)
    ix, v = _random_coo(rng, (4, 5), 8, 0, dt)
    d = rng.standard_normal((3, 4)).astype(dt)
    vec = rng.standard_normal(5).astype(dt)
    out = []
    for m in (ember, torch):
        s = m.sparse_coo_tensor(m.tensor(ix), m.tensor(v), (4, 5))
        x = m.tensor(d, requires_grad=True)
        y = m.mm(x, s)
        y.sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy(), (s @ m.tensor(vec)).numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, **_tol(dt))


@pytest.mark.parametrize('dt', DTYPES)
def test_values_gradient_through_the_constructor(dt):
    rng = np.random.default_rng(3)
    ix, v = _random_coo(rng, (4, 4), 10, 0, dt)
    d = rng.standard_normal((4, 2)).astype(dt)
    out = []
    for m in (ember, torch):
        vals = m.tensor(v, requires_grad=True)
        s = m.sparse_coo_tensor(m.tensor(ix), vals, (4, 4))
        y = m.sparse.mm(s, m.tensor(d)).pow(2).sum() + s.to_dense().sum() * 0.5
        y.backward()
        out.append((s.grad_fn.name(), vals.grad.numpy()))
    assert out[0][0] == out[1][0]
    np.testing.assert_allclose(out[0][1], out[1][1], **_tol(dt))


@pytest.mark.parametrize('dt', DTYPES)
def test_sparse_gradients_of_leaves(dt):
    e, t = _pair(IX, np.array(V, dtype=dt), (2, 3))
    e.requires_grad_()
    t.requires_grad_()
    for m, s in ((ember, e), (torch, t)):
        (s * 2).to_dense().sum().backward()
        (s.to_dense() * 3).sum().backward()  # accumulates into the sparse grad
        m.sparse.sum(s).backward()
    _assert_sparse_same(e.grad, t.grad, dt)
    e.grad = t.grad = None
    for m, s in ((ember, e), (torch, t)):
        m.sparse.sum(s, dim=1).to_dense().pow(2).sum().backward()
    _assert_sparse_same(e.grad, t.grad, dt)


@pytest.mark.parametrize('dt', DTYPES)
def test_sparse_sum(dt):
    rng = np.random.default_rng(4)
    ix, v = _random_coo(rng, (3, 4, 2), 9, 1, dt)
    e, t = _pair(ix, v, (3, 4, 2))
    np.testing.assert_allclose(ember.sparse.sum(e).numpy(), torch.sparse.sum(t).numpy(),
                               **_tol(dt))
    for dim in (0, 1, 2, (0, 1), (1, 2), (0, 2)):
        er, tr = ember.sparse.sum(e, dim), torch.sparse.sum(t, dim)
        if tr.is_sparse:
            _assert_sparse_same(er, tr, dt)
        else:
            assert not er.is_sparse
            np.testing.assert_allclose(er.numpy(), tr.numpy(), **_tol(dt))


@pytest.mark.parametrize('dt', DTYPES)
@pytest.mark.parametrize('log', [False, True])
def test_sparse_softmax(dt, log):
    rng = np.random.default_rng(5)
    ix, v = _random_coo(rng, (4, 5), 11, 0, dt)
    d = rng.standard_normal(11).astype(dt)
    # (torch's gradient for dim=-1 is not softmax's: its rows do not sum to zero)
    for dim in (0, 1):
        out = []
        for m in (ember, torch):
            s = m.sparse_coo_tensor(m.tensor(ix), m.tensor(v), (4, 5)).coalesce()
            s.requires_grad_()
            f = m.sparse.log_softmax if log else m.sparse.softmax
            r = f(s, dim)
            (r.coalesce().values() * m.tensor(d[:r._nnz()])).sum().backward()
            out.append((r, s.grad))
        (er, eg), (tr, tg) = out
        _assert_sparse_same(er, tr.coalesce(), dt)
        _assert_sparse_same(eg.coalesce(), tg.coalesce(), dt)


def test_csr():
    e, t = _pair(IX, V, (2, 3))
    ec, tc = e.to_sparse_csr(), t.to_sparse_csr()
    assert ec.layout is ember.sparse_csr and ec.is_sparse_csr and not ec.is_sparse
    np.testing.assert_array_equal(ec.crow_indices().numpy(), tc.crow_indices().numpy())
    np.testing.assert_array_equal(ec.col_indices().numpy(), tc.col_indices().numpy())
    np.testing.assert_array_equal(ec.values().numpy(), tc.values().numpy())
    assert repr(ec) == repr(tc)
    d = np.arange(6.).reshape(3, 2).astype(np.float32)
    np.testing.assert_allclose((ec @ ember.tensor(d)).numpy(), (tc @ torch.tensor(d)).numpy())
    np.testing.assert_array_equal(ec.to_dense().numpy(), tc.to_dense().numpy())
    e2 = ember.sparse_csr_tensor([0, 2, 3], [0, 2, 1], [1., 2., 3.], (2, 3))
    t2 = torch.sparse_csr_tensor([0, 2, 3], [0, 2, 1], [1., 2., 3.], (2, 3))
    assert repr(e2) == repr(t2)
    x = np.array([[0., 1.], [2., 0.]], np.float32)
    assert repr(ember.tensor(x).to_sparse_csr()) == repr(torch.tensor(x).to_sparse_csr())


def test_embedding_sparse_gradient():
    for padding_idx in (None, 1):
        out = []
        for m in (ember, torch):
            m.manual_seed(0)
            emb = m.nn.Embedding(5, 2, sparse=True, padding_idx=padding_idx)
            emb(m.tensor([[1, 3], [1, 4]])).sum().backward()
            emb(m.tensor([0, 1])).sum().backward()
            out.append(emb.weight.grad)
        _assert_sparse_same(out[0], out[1], np.float32)
    x = ember.tensor([1, 2])
    w = ember.randn(4, 3, requires_grad=True)
    ember.nn.functional.embedding(x, w, sparse=True).sum().backward()
    assert w.grad.is_sparse and w.grad._nnz() == 2
    emb = ember.nn.Embedding(5, 2, sparse=True, scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match='scale_grad_by_freq not supported with sparse'):
        emb(ember.tensor([1, 1])).sum().backward()


def _train(m, opt_name, steps=4, **kw):
    m.manual_seed(0)
    emb = m.nn.Embedding(10, 3, sparse=True)
    opt = getattr(m.optim, opt_name)(emb.parameters(), **kw)
    g = m.Generator().manual_seed(1)
    for _ in range(steps):
        idx = m.randint(0, 10, (6,), generator=g)
        loss = emb(idx).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return emb.weight.detach().numpy().copy()


@pytest.mark.parametrize('opt_name,kw', [
    ('SparseAdam', dict(lr=0.1)), ('SparseAdam', dict(lr=0.05, betas=(0.8, 0.9), maximize=True)),
    ('SGD', dict(lr=0.1)), ('SGD', dict(lr=0.1, momentum=0.9)),
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True)),
    ('SGD', dict(lr=0.1, momentum=0.5, dampening=0.1, maximize=True))])
def test_optimizers_on_sparse_gradients(opt_name, kw):
    np.testing.assert_allclose(_train(ember, opt_name, **kw), _train(torch, opt_name, **kw),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('opt_name', ['Adam', 'AdamW', 'RMSprop', 'Adamax', 'NAdam', 'RAdam',
                                      'Adadelta'])
def test_dense_only_optimizers_refuse_sparse_gradients(opt_name):
    msgs = []
    for m in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            _train(m, opt_name, steps=1)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_sparse_adam_refuses_dense_gradients():
    for m in (torch, ember):
        p = m.nn.Parameter(m.ones(3))
        opt = m.optim.SparseAdam([p])
        p.sum().backward()
        with pytest.raises(RuntimeError, match='SparseAdam does not support dense gradients'):
            opt.step()
        with pytest.raises(ValueError, match='Invalid learning rate'):
            m.optim.SparseAdam([p], lr=0)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 15), st.integers(1, 4),
       st.sampled_from(DTYPES), st.integers(0, 2 ** 31 - 1))
def test_hypothesis_random_patterns(m, k, nnz, n, dt, seed):
    rng = np.random.default_rng(seed)
    ix, v = _random_coo(rng, (m, k), nnz, 0, dt)
    d = rng.standard_normal((k, n)).astype(dt)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        e, t = _pair(ix, v, (m, k))
    _assert_sparse_same(e.coalesce(), t.coalesce(), dt)
    np.testing.assert_allclose(e.to_dense().numpy(), t.to_dense().numpy(), **_tol(dt))
    out = []
    for lib, s in ((ember, e), (torch, t)):
        s = s.detach().requires_grad_()
        x = lib.tensor(d, requires_grad=True)
        y = lib.sparse.mm(s, x)
        y.pow(2).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy(), s.grad))
    np.testing.assert_allclose(out[0][0], out[1][0], **_tol(dt))
    np.testing.assert_allclose(out[0][1], out[1][1], **_tol(dt))
    _assert_sparse_same(out[0][2], out[1][2], dt)
    assert repr(e) == repr(t)


def test_sparse_namespace_errors_and_legacy_types():
    for dim in (None, 0):
        errs = []
        for m in (torch, ember):
            with pytest.raises((RuntimeError, NotImplementedError)) as info:
                m.sparse.sum(m.ones(2, 3), dim)
            errs.append(info.type)
        assert errs[0] is errs[1]
    for m in (torch, ember):
        s = m.sparse_coo_tensor([[0, 1]], [1., 2.], (3,))
        assert isinstance(s, m.sparse.FloatTensor)
        assert not isinstance(s, m.sparse.DoubleTensor)
        assert not isinstance(s, m.FloatTensor)
        assert not isinstance(m.ones(2), m.sparse.FloatTensor)
    assert repr(ember.sparse.DoubleTensor(2, 3)) == repr(torch.sparse.DoubleTensor(2, 3))


def test_sgd_weight_decay_refuses_sparse_gradients():
    msgs = []
    for m in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            _train(m, 'SGD', steps=1, lr=0.1, weight_decay=0.1)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('dt', DTYPES)
@pytest.mark.parametrize('name', ['relu', 'abs', 'square', 'pow'])
def test_zero_preserving_ops_and_their_gradients(dt, name):
    out = []
    for m in (ember, torch):
        s = m.sparse_coo_tensor([[0, 1, 1, 0], [2, 0, 2, 2]],
                                m.tensor(np.array([3., -4., 5., 1.], dt)), (2, 3),
                                requires_grad=True)
        r = getattr(s, name)(*((2,) if name == 'pow' else ()))
        (r.to_dense() * m.tensor(np.arange(6.).reshape(2, 3).astype(dt))).sum().backward()
        out.append((r.detach(), s.grad))
    (er, eg), (tr, tg) = out
    _assert_sparse_same(er, tr, dt)
    _assert_sparse_same(eg.coalesce(), tg.coalesce(), dt)
