"""kl_divergence against torch for every pair torch registers: values (inf where torch gives
inf) and gradients, float32 and float64; dispatch, register_kl and errors."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')

R = np.random.RandomState(1)
N = 4


def _arrays():
    """Parameters of batch shape (4,) for each distribution, two draws (for p and q)."""
    pos = lambda lo=0.5, hi=2.5: R.uniform(lo, hi, N)  # noqa: E731
    return {
        'Bernoulli': ('D.Bernoulli(probs=a)', dict(a=R.uniform(0.1, 0.9, N))),
        'Beta': ('D.Beta(a, b)', dict(a=pos(), b=pos())),
        'Binomial': ('D.Binomial(n, probs=a)', dict(n=np.full(N, 6.0),
                                                     a=R.uniform(0.1, 0.9, N))),
        'Categorical': ('D.Categorical(probs=a)', dict(a=R.dirichlet(np.ones(3), N))),
        'ContinuousBernoulli': ('D.ContinuousBernoulli(probs=a)',
                                dict(a=R.uniform(0.1, 0.9, N))),
        'Dirichlet': ('D.Dirichlet(a)', dict(a=R.uniform(0.5, 3, (N, 3)))),
        'Exponential': ('D.Exponential(a)', dict(a=pos())),
        'Gamma': ('D.Gamma(a, b)', dict(a=pos(), b=pos())),
        'Gumbel': ('D.Gumbel(a, b)', dict(a=R.normal(size=N), b=pos())),
        'Geometric': ('D.Geometric(probs=a)', dict(a=R.uniform(0.1, 0.9, N))),
        'HalfNormal': ('D.HalfNormal(a)', dict(a=pos())),
        'Laplace': ('D.Laplace(a, b)', dict(a=R.normal(size=N), b=pos())),
        'Normal': ('D.Normal(a, b)', dict(a=R.normal(size=N), b=pos())),
        'OneHotCategorical': ('D.OneHotCategorical(probs=a)',
                              dict(a=R.dirichlet(np.ones(3), N))),
        'Pareto': ('D.Pareto(a, b)', dict(a=pos(0.5, 1.5), b=pos(1.5, 4.0))),
        'Poisson': ('D.Poisson(a)', dict(a=pos())),
        'Uniform': ('D.Uniform(a, b)', dict(a=R.uniform(-0.5, 0.3, N), b=R.uniform(0.6, 1.5, N))),
        'Cauchy': ('D.Cauchy(a, b)', dict(a=R.normal(size=N), b=pos())),
        'Independent': ('D.Independent(D.Normal(a, b), 1)',
                        dict(a=R.normal(size=(N, 2)), b=pos(0.5, 2.5).repeat(2).reshape(N, 2))),
        'TransformedDistribution': ('D.TransformedDistribution(D.Normal(a, b), '
                                    '[D.ExpTransform()])', dict(a=R.normal(size=N), b=pos())),
        'MultivariateNormal': ('D.MultivariateNormal(a, scale_tril=b)',
                               dict(a=R.normal(size=(N, 3)),
                                    b=np.tril(R.normal(size=(N, 3, 3)), -1)
                                    + np.eye(3) * R.uniform(0.5, 2, (N, 3, 1)))),
        'LowRankMultivariateNormal': ('D.LowRankMultivariateNormal(a, w, d)',
                                      dict(a=R.normal(size=(N, 3)), w=R.normal(size=(N, 3, 2)),
                                           d=R.uniform(0.5, 2, (N, 3)))),
    }


P, Q = _arrays(), _arrays()


def _build(lib, spec, dtype):
    expr, arrays = spec
    dt = getattr(lib, dtype)
    params = {k: lib.tensor(v, dtype=dt, requires_grad=True) for k, v in arrays.items()}
    return eval(expr, {'D': lib.distributions, **params}), params


PAIRS = sorted({(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY
                if p.__name__ in P and q.__name__ in Q})


def test_every_torch_pair_is_registered():
    theirs = {(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY}
    ours = {(p.__name__, q.__name__) for p, q in ember.distributions.kl._KL_REGISTRY}
    assert ours == theirs
    # and all but the exponential-family fallback are exercised below
    assert len(theirs) - len(PAIRS) == 1


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('pair', PAIRS, ids=['-'.join(p) for p in PAIRS])
def test_kl_against_torch(pair, dtype):
    tp, tpp = _build(torch, P[pair[0]], dtype)
    tq, tqp = _build(torch, Q[pair[1]], dtype)
    ep, epp = _build(ember, P[pair[0]], dtype)
    eq, eqp = _build(ember, Q[pair[1]], dtype)
    try:
        t = torch.distributions.kl_divergence(tp, tq)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ember.distributions.kl_divergence(ep, eq)
        return
    e = ember.distributions.kl_divergence(ep, eq)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    tol = dict(rtol=2e-4, atol=1e-5) if dtype == 'float32' else dict(rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **tol)
    finite = np.isfinite(t.detach().numpy())
    if not finite.any() or not t.requires_grad:
        return
    mask = torch.tensor(finite)
    tl = t[mask].sum()
    el = e[ember.tensor(finite)].sum()
    tparams = [*tpp.values(), *tqp.values()]
    eparams = [*epp.values(), *eqp.values()]
    tg = torch.autograd.grad(tl, tparams, allow_unused=True)
    eg = ember.autograd.grad(el, eparams, allow_unused=True)
    for a, b in zip(tg, eg):
        if a is None:
            assert b is None or not np.any(b.numpy())
        else:
            np.testing.assert_allclose(b.numpy(), a.numpy(), **tol)


def test_exponential_family_fallback():
    """Two Wisharts meet only through the Bregman divergence of ExponentialFamily."""
    vals = []
    for lib in (torch, ember):
        c1 = lib.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=lib.float64)
        c2 = lib.tensor([[1.0, -0.2], [-0.2, 1.5]], dtype=lib.float64)
        p = lib.distributions.Wishart(lib.tensor(4.0, dtype=lib.float64), covariance_matrix=c1)
        q = lib.distributions.Wishart(lib.tensor(5.0, dtype=lib.float64), covariance_matrix=c2)
        vals.append(lib.distributions.kl_divergence(p, q).item())
    np.testing.assert_allclose(vals[1], vals[0], rtol=1e-9)


def test_errors_and_register():
    for lib in (torch, ember):
        D = lib.distributions
        with pytest.raises(NotImplementedError, match='No KL\\(p \\|\\| q\\) is implemented for '
                           'p type Cauchy and q type Normal'):
            D.kl_divergence(D.Cauchy(0.0, 1.0), D.Normal(0.0, 1.0))
        with pytest.raises(NotImplementedError, match='cross KL-divergence between different '
                           'exponential families'):
            D.kl_divergence(D.Poisson(lib.tensor(1.0)), D.Dirichlet(lib.tensor([1.0, 2.0])))

    class MyNormal(ember.distributions.Normal):
        pass

    @ember.distributions.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    try:
        assert ember.distributions.kl_divergence(MyNormal(0.0, 1.0), MyNormal(1.0, 1.0)) == 42
        # a plain Normal still takes the Normal pair
        assert ember.distributions.kl_divergence(ember.distributions.Normal(0.0, 1.0),
                                                 MyNormal(0.0, 1.0)) == 0
    finally:
        del ember.distributions.kl._KL_REGISTRY[MyNormal, MyNormal]
        ember.distributions.kl._KL_MEMOIZE.clear()
    assert 'KL divergence is currently implemented' in ember.distributions.kl_divergence.__doc__
