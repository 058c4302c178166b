"""F.normalize, cosine_similarity, pairwise_distance, pdist, cdist and their layers vs torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402


def to_np(t):
    return np.array(t.detach().numpy())


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-11)


def check(ft, fe, *arrs, dtype=np.float32, name=True):
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    es = [ember.tensor(a, requires_grad=True) for a in arrs]
    yt, ye = ft(*ts), fe(*es)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert repr(ye.dtype) == repr(yt.dtype)
    np.testing.assert_allclose(to_np(ye), to_np(yt), **_tol(dtype))
    if name:
        assert ye.grad_fn.name() == yt.grad_fn.name()
    g = np.random.RandomState(1).randn(*yt.shape).astype(dtype)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    for a, b in zip(es, ts):
        np.testing.assert_allclose(to_np(a.grad), to_np(b.grad), **_tol(dtype))


def _x(*shape, dtype=np.float32, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(dtype)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_normalize(dtype):
    for kw in [{}, {'p': 1.0, 'dim': 0}, {'p': 3, 'dim': -1}, {'dim': 2, 'eps': 0.5}]:
        check(lambda t: TF.normalize(t, **kw), lambda t: EF.normalize(t, **kw),
              _x(3, 4, 2, dtype=dtype), dtype=dtype)
    z = np.zeros((2, 3), dtype)
    check(lambda t: TF.normalize(t), lambda t: EF.normalize(t), z, dtype=dtype)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_cosine_similarity(dtype):
    # grad_fn: torch's sum over a dim is SumBackward1; ember's core reports SumBackward0
    for s1, s2, dim in [((3, 4), (3, 4), 1), ((2, 3, 4), (1, 3, 4), -1), ((5, 3), (3,), -1)]:
        check(lambda a, b: TF.cosine_similarity(a, b, dim),
              lambda a, b: EF.cosine_similarity(a, b, dim), _x(*s1, dtype=dtype),
              _x(*s2, dtype=dtype, seed=1), dtype=dtype, name=False)
    t, e = torch.nn.CosineSimilarity(0, 1e-6), ember.nn.CosineSimilarity(0, 1e-6)
    assert repr(e) == repr(t)
    check(t, e, _x(4, 2), _x(4, 2, seed=2), name=False)
    # a zero vector: the clamp of the norm keeps the gradient finite, as in torch
    check(lambda a, b: TF.cosine_similarity(a, b), lambda a, b: EF.cosine_similarity(a, b),
          np.zeros((2, 3), dtype), _x(2, 3, dtype=dtype), dtype=dtype, name=False)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_pairwise_distance(dtype):
    for p in (2.0, 1.0, 3.0, float('inf')):
        for keepdim in (False, True):
            check(lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim),
                  lambda a, b: EF.pairwise_distance(a, b, p, keepdim=keepdim),
                  _x(4, 5, dtype=dtype), _x(4, 5, dtype=dtype, seed=1), dtype=dtype)
    check(lambda a, b: TF.pairwise_distance(a, b), lambda a, b: EF.pairwise_distance(a, b),
          _x(5, dtype=dtype), _x(3, 5, dtype=dtype, seed=1), dtype=dtype)
    t, e = torch.nn.PairwiseDistance(1.0, 1e-3, True), ember.nn.PairwiseDistance(1.0, 1e-3, True)
    assert repr(e) == repr(t)
    check(t, e, _x(3, 4), _x(3, 4, seed=3))


@pytest.mark.parametrize('p', [0.0, 0.5, 1.0, 2.0, 3.0, float('inf')])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_pdist(p, dtype):
    check(lambda t: TF.pdist(t, p), lambda t: EF.pdist(t, p), _x(6, 3, dtype=dtype), dtype=dtype)


@pytest.mark.parametrize('p', [0.0, 0.5, 1.0, 2.0, 3.0, float('inf')])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_cdist(p, dtype):
    check(lambda a, b: torch.cdist(a, b, p), lambda a, b: EF.cdist(a, b, p),
          _x(5, 3, dtype=dtype), _x(4, 3, dtype=dtype, seed=1), dtype=dtype)
    check(lambda a, b: torch.cdist(a, b, p), lambda a, b: EF.cdist(a, b, p),
          _x(2, 1, 5, 3, dtype=dtype), _x(3, 4, 3, dtype=dtype, seed=1), dtype=dtype)


@pytest.mark.parametrize('mode', ['use_mm_for_euclid_dist_if_necessary', 'use_mm_for_euclid_dist',
                                  'donot_use_mm_for_euclid_dist'])
def test_cdist_compute_modes(mode):
    for n in (5, 30):
        check(lambda a, b: torch.cdist(a, b, compute_mode=mode),
              lambda a, b: EF.cdist(a, b, compute_mode=mode),
              _x(2, n, 4), _x(2, n + 3, 4, seed=1))


def test_gradcheck():
    a = ember.tensor(_x(4, 3, dtype=np.float64), requires_grad=True)
    b = ember.tensor(_x(5, 3, dtype=np.float64, seed=1), requires_grad=True)
    for p in (1.0, 2.0, 3.0):
        assert ember.autograd.gradcheck(lambda u, v: EF.cdist(u, v, p), (a, b))
        assert ember.autograd.gradcheck(lambda u: EF.pdist(u, p), (a,))
    assert ember.autograd.gradcheck(lambda u, v: EF.cosine_similarity(u, v, 0), (a, a * 2))
    assert ember.autograd.gradgradcheck(lambda u: EF.normalize(u), (a,))


def _raises(ft, fe):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as ee:
        fe()
    assert str(ee.value) == str(et.value)


def test_errors():
    _raises(lambda: torch.cdist(torch.zeros(3), torch.zeros(2, 3)),
            lambda: EF.cdist(ember.zeros(3), ember.zeros(2, 3)))
    _raises(lambda: torch.cdist(torch.zeros(2, 3), torch.zeros(2, 4)),
            lambda: EF.cdist(ember.zeros(2, 3), ember.zeros(2, 4)))
    _raises(lambda: torch.cdist(torch.zeros(2, 3), torch.zeros(2, 3), -1),
            lambda: EF.cdist(ember.zeros(2, 3), ember.zeros(2, 3), -1))
    _raises(lambda: TF.pdist(torch.zeros(2, 3, 4)), lambda: EF.pdist(ember.zeros(2, 3, 4)))
    _raises(lambda: TF.pdist(torch.zeros(2, 3), -1), lambda: EF.pdist(ember.zeros(2, 3), -1))


@pytest.mark.parametrize('which', ['pdist', 'cdist', 'cdist_p1.5'])
def test_double_backward_is_refused_at_the_second_pass_as_torch(which):
    # torch differentiates pdist/cdist once; a second derivative through them raises (it must
    # not come out without their part). create_graph=True itself is fine.
    x0 = np.random.default_rng(0).standard_normal((4, 3))
    msgs = []
    for L in (torch, ember):
        f = {'pdist': lambda x: L.nn.functional.pdist(x),
             'cdist': lambda x: L.cdist(x, x[:2] * 2),
             'cdist_p1.5': lambda x: L.cdist(x, x[:2] * 2, p=1.5)}[which]
        x = L.tensor(x0, requires_grad=True)
        g, = L.autograd.grad(f(x).pow(2).sum() + (x ** 3).sum(), x, create_graph=True)
        assert g.requires_grad
        with pytest.raises(NotImplementedError) as e:
            L.autograd.grad(g.sum(), x)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
