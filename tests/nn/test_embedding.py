"""Embedding, EmbeddingBag, F.embedding, F.embedding_bag and F.one_hot against torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402


def to_np(t):
    return np.array(t.detach().numpy())


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


EMB_KW = [{}, {'padding_idx': 2}, {'padding_idx': -1}, {'scale_grad_by_freq': True},
          {'padding_idx': 0, 'scale_grad_by_freq': True}, {'max_norm': 1.0},
          {'max_norm': 0.5, 'norm_type': 1.0}]


@pytest.mark.parametrize('kw', EMB_KW, ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_embedding_functional(kw, dtype):
    rs = np.random.RandomState(0)
    w = rs.randn(10, 4).astype(dtype)
    idx = rs.randint(0, 10, (3, 5))
    idx[0, :3] = [2, 2, 0]
    out = []
    for lib, F in ((torch, TF), (ember, EF)):
        wt = lib.tensor(w, requires_grad=True)
        y = F.embedding(lib.tensor(idx), wt, **kw)
        g = lib.tensor(np.random.RandomState(1).randn(*y.shape).astype(dtype))
        y.backward(g)
        out.append((to_np(y), to_np(wt.grad), to_np(wt), y.grad_fn.name(), wt._version))
    for a, b in zip(out[1][:3], out[0][:3]):
        np.testing.assert_allclose(a, b, **_tol(dtype))
    assert out[1][3] == out[0][3]
    assert (out[1][4] > 0) == (out[0][4] > 0)  # max_norm renormalises in place


@pytest.mark.parametrize('kw', [{}, {'padding_idx': 3}, {'scale_grad_by_freq': True}],
                         ids=str)
@pytest.mark.parametrize('index_dtype', [np.int64, np.int32])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_embedding_weight_gradient_adds_rows_in_order(dtype, index_dtype, kw, kernel_path):
    # many repeats of few rows: each row's gradient is its lookups' gradients added in order,
    # as torch adds them (the compiled row adds and np.add.at alike): the same bits
    rs = np.random.RandomState(5)
    w = rs.randn(7, 33).astype(dtype)
    idx = rs.randint(0, 7, (40, 25)).astype(index_dtype)
    g = rs.randn(40, 25, 33).astype(dtype)
    grads = []
    for lib, F in ((torch, TF), (ember, EF)):
        wt = lib.tensor(w, requires_grad=True)
        F.embedding(lib.from_numpy(idx), wt, **kw).backward(lib.from_numpy(g))
        grads.append(to_np(wt.grad))
    assert grads[1].dtype == grads[0].dtype
    if kw.get('scale_grad_by_freq'):    # (torch divides once per row, ember per lookup)
        np.testing.assert_allclose(grads[1], grads[0], **_tol(dtype))
    else:
        assert grads[1].tobytes() == grads[0].tobytes()


def test_embedding_int32_indices_and_scalar():
    w = np.random.RandomState(0).randn(5, 3).astype(np.float32)
    for idx in (np.array([1, 4, 1], np.int32), np.array(3)):
        yt = TF.embedding(torch.tensor(idx), torch.tensor(w))
        ye = EF.embedding(ember.tensor(idx), ember.tensor(w))
        assert tuple(ye.shape) == tuple(yt.shape)
        np.testing.assert_array_equal(to_np(ye), to_np(yt))


def test_embedding_double_backward():
    w = ember.tensor(np.random.RandomState(0).randn(6, 3), requires_grad=True)
    idx = ember.tensor([[1, 2], [1, 5]])
    assert ember.autograd.gradcheck(lambda v: EF.embedding(idx, v) * 1, (w,))
    assert ember.autograd.gradgradcheck(lambda v: EF.embedding(idx, v) ** 2, (w,))


@pytest.mark.parametrize('seed', [0, 3])
def test_embedding_module_init_and_repr(seed):
    for args, kw in [((10, 3), {}), ((10, 3), {'padding_idx': 1}),
                     ((7, 2), {'padding_idx': -2, 'max_norm': 2.0, 'norm_type': 1.0,
                               'scale_grad_by_freq': True}), ((20, 4), {'sparse': True})]:
        torch.manual_seed(seed)
        ember.manual_seed(seed)
        t, e = torch.nn.Embedding(*args, **kw), ember.nn.Embedding(*args, **kw)
        assert repr(e) == repr(t)
        assert e.padding_idx == t.padding_idx
        np.testing.assert_array_equal(to_np(e.weight), to_np(t.weight))
        assert list(e.state_dict()) == list(t.state_dict())


def test_embedding_module_forward_backward():
    torch.manual_seed(0)
    ember.manual_seed(0)
    t, e = torch.nn.Embedding(8, 3, padding_idx=0), ember.nn.Embedding(8, 3, padding_idx=0)
    idx = np.array([[0, 3, 3], [7, 0, 1]])
    yt, ye = t(torch.tensor(idx)), e(ember.tensor(idx))
    np.testing.assert_array_equal(to_np(ye), to_np(yt))
    (yt * yt).sum().backward()
    (ye * ye).sum().backward()
    np.testing.assert_allclose(to_np(e.weight.grad), to_np(t.weight.grad), rtol=1e-6)
    assert not to_np(e.weight.grad)[0].any()


def test_from_pretrained():
    w = np.random.RandomState(0).randn(4, 3).astype(np.float32)
    for kw in [{}, {'freeze': False}, {'padding_idx': 1}]:
        t = torch.nn.Embedding.from_pretrained(torch.tensor(w), **kw)
        e = ember.nn.Embedding.from_pretrained(ember.tensor(w), **kw)
        assert repr(e) == repr(t)
        assert e.weight.requires_grad == t.weight.requires_grad
        np.testing.assert_array_equal(to_np(e(ember.tensor([3, 1]))),
                                      to_np(t(torch.tensor([3, 1]))))
        t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), **kw)
        e = ember.nn.EmbeddingBag.from_pretrained(ember.tensor(w), **kw)
        assert repr(e) == repr(t)
        assert e.weight.requires_grad == t.weight.requires_grad


BAG_CASES = [
    dict(), dict(padding_idx=2), dict(include_last_offset=True), dict(scale_grad_by_freq=True),
    dict(max_norm=1.0), dict(psw=True), dict(psw=True, padding_idx=2), dict(two_d=True),
    dict(two_d=True, psw=True), dict(empty_bags=True),
]


def _valid(mode, case):
    """Combinations torch accepts (per-sample weights need sum; max has no frequency scaling)."""
    return not ((case.get('psw') and mode != 'sum') or
                (mode == 'max' and case.get('scale_grad_by_freq')))


@pytest.mark.parametrize('mode,case', [(m, c) for m in ('sum', 'mean', 'max') for c in BAG_CASES
                                       if _valid(m, c)], ids=str)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_embedding_bag(mode, case, dtype):
    case = dict(case)
    psw = case.pop('psw', False)
    two_d = case.pop('two_d', False)
    empty = case.pop('empty_bags', False)
    rs = np.random.RandomState(0)
    w = rs.randn(10, 4).astype(dtype)
    if two_d:
        idx = rs.randint(0, 10, (3, 4))
        offsets = None
    else:
        idx = rs.randint(0, 10, 12)
        idx[[1, 5]] = 2
        offsets = np.array([0, 0, 4, 4, 9] if empty else [0, 3, 7])
        if case.get('include_last_offset'):
            offsets = np.append(offsets, 12)
    weights = rs.rand(*idx.shape).astype(dtype) if psw else None
    out = []
    for lib, F in ((torch, TF), (ember, EF)):
        wt = lib.tensor(w, requires_grad=True)
        pt = lib.tensor(weights, requires_grad=True) if psw else None
        y = F.embedding_bag(lib.tensor(idx), wt, None if offsets is None else lib.tensor(offsets),
                            mode=mode, per_sample_weights=pt, **case)
        g = lib.tensor(np.random.RandomState(1).randn(*y.shape).astype(dtype))
        y.backward(g)
        out.append((to_np(y), to_np(wt.grad), to_np(pt.grad) if psw else None, to_np(wt),
                    y.grad_fn.name()))
    for a, b in zip(out[1][:4], out[0][:4]):
        if b is not None:
            np.testing.assert_allclose(a, b, **_tol(dtype))
    assert out[1][4] == out[0][4]


def test_embedding_bag_module():
    torch.manual_seed(1)
    ember.manual_seed(1)
    for kw in [{}, {'mode': 'max'}, {'mode': 'sum', 'padding_idx': 0, 'max_norm': 1.5},
               {'norm_type': 1.0, 'scale_grad_by_freq': True, 'include_last_offset': True}]:
        t, e = torch.nn.EmbeddingBag(6, 3, **kw), ember.nn.EmbeddingBag(6, 3, **kw)
        assert repr(e) == repr(t)
        np.testing.assert_array_equal(to_np(e.weight), to_np(t.weight))
    t, e = torch.nn.EmbeddingBag(6, 3), ember.nn.EmbeddingBag(6, 3)
    e.weight.data.copy_(ember.tensor(to_np(t.weight)))
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2]), np.array([0, 2])
    yt, ye = t(torch.tensor(idx), torch.tensor(off)), e(ember.tensor(idx), ember.tensor(off))
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-6)


@pytest.mark.parametrize('num_classes', [-1, 6])
def test_one_hot(num_classes):
    idx = np.array([[0, 3], [2, 1]])
    t = TF.one_hot(torch.tensor(idx), num_classes)
    e = EF.one_hot(ember.tensor(idx), num_classes)
    assert repr(e.dtype) == repr(t.dtype)
    np.testing.assert_array_equal(to_np(e), to_np(t))


def _raises(ft, fe):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as ee:
        fe()
    # the message names the tensor class as torch does (<class 'torch.Tensor'>)
    assert str(ee.value) == str(et.value)


def test_errors():
    wt, we = torch.zeros(5, 2), ember.zeros(5, 2)
    _raises(lambda: TF.embedding(torch.tensor([5]), wt),
            lambda: EF.embedding(ember.tensor([5]), we))
    _raises(lambda: TF.embedding(torch.tensor([1.0]), wt),
            lambda: EF.embedding(ember.tensor([1.0]), we))
    _raises(lambda: TF.embedding(torch.tensor([1]), wt, padding_idx=5),
            lambda: EF.embedding(ember.tensor([1]), we, padding_idx=5))
    _raises(lambda: torch.nn.Embedding(3, 2, padding_idx=-4),
            lambda: ember.nn.Embedding(3, 2, padding_idx=-4))
    _raises(lambda: TF.embedding_bag(torch.tensor([1, 2]), wt),
            lambda: EF.embedding_bag(ember.tensor([1, 2]), we))
    _raises(lambda: TF.embedding_bag(torch.tensor([[1, 2]]), wt, torch.tensor([0])),
            lambda: EF.embedding_bag(ember.tensor([[1, 2]]), we, ember.tensor([0])))
    _raises(lambda: TF.embedding_bag(torch.tensor([[1, 2]]), wt, mode='foo'),
            lambda: EF.embedding_bag(ember.tensor([[1, 2]]), we, mode='foo'))
    _raises(lambda: TF.embedding_bag(torch.tensor([[1, 2]]), wt, mode='mean',
                                     per_sample_weights=torch.ones(1, 2)),
            lambda: EF.embedding_bag(ember.tensor([[1, 2]]), we, mode='mean',
                                     per_sample_weights=ember.ones(1, 2)))
    _raises(lambda: TF.embedding_bag(torch.tensor([1, 2]), wt, torch.tensor([1])),
            lambda: EF.embedding_bag(ember.tensor([1, 2]), we, ember.tensor([1])))
    _raises(lambda: TF.one_hot(torch.tensor([1, 3]), 2),
            lambda: EF.one_hot(ember.tensor([1, 3]), 2))
    _raises(lambda: TF.one_hot(torch.tensor([-1]), 2), lambda: EF.one_hot(ember.tensor([-1]), 2))
    _raises(lambda: TF.one_hot(torch.tensor([1.0])), lambda: EF.one_hot(ember.tensor([1.0])))
