"""Sampling: the same draws as torch for the same seed where torch's sampler is built from a
primitive ember reproduces; correct moments where it is not; reparameterised gradients."""
import math

import numpy as np
import pytest

import ember

from ._cases import build

torch = pytest.importorskip('torch')

# torch's sampler for these is normal_/uniform_/rand/exponential_/cauchy_/bernoulli/multinomial
# and arithmetic: bit for bit torch's
EXACT = ['Normal', 'Normal-batch', 'Uniform', 'Bernoulli-probs', 'Bernoulli-logits',
         'Categorical', 'Categorical-logits', 'OneHotCategorical', 'Multinomial', 'Exponential',
         'Cauchy', 'HalfNormal', 'HalfCauchy', 'Geometric', 'VonMises',
         'Independent', 'MixtureSameFamily', 'OneHotCategoricalStraightThrough']
# the same primitive draws, then exp/log/pow/log1p (NumPy's libm, not torch's SLEEF) or a matrix
# product (NumPy's, not torch's BLAS kernel): equal to a few ulps
# (GeneralizedPareto equals torch's on AVX-512 CPUs; on AVX2 ones torch's float64 log1p
# rounds an ulp otherwise here and there)
NEAR = ['GeneralizedPareto', 'Laplace', 'LogNormal', 'Gumbel', 'Pareto', 'Weibull', 'ContinuousBernoulli',
        'ContinuousBernoulli-logits', 'Kumaraswamy', 'LogisticNormal', 'RelaxedBernoulli',
        'RelaxedOneHotCategorical', 'TransformedDistribution', 'MultivariateNormal-cov',
        'MultivariateNormal-tril', 'MultivariateNormal-prec', 'LowRankMultivariateNormal']


def _draws(lib, case, dtype, method):
    d, _ = build(lib, case, dtype, requires_grad=False)
    lib.manual_seed(11)
    s = getattr(d, method)((3, 2))
    return s, lib.rand(3)  # the stream must continue in step


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', EXACT + NEAR)
def test_same_samples_as_torch(case, dtype):
    td, _ = build(torch, case, dtype, requires_grad=False)
    methods = ['sample'] + (['rsample'] if td.has_rsample else [])
    for m in methods:
        (ts, tr), (es, er) = _draws(torch, case, dtype, m), _draws(ember, case, dtype, m)
        assert tuple(es.shape) == tuple(ts.shape)
        assert str(es.dtype) == str(ts.dtype)
        if case in NEAR:
            np.testing.assert_allclose(es.numpy(), ts.numpy(), rtol=2e-6 if dtype == 'float32'
                                       else 1e-14, atol=1e-7 if dtype == 'float32' else 1e-15)
        else:
            np.testing.assert_array_equal(es.numpy(), ts.numpy())
        np.testing.assert_array_equal(er.numpy(), tr.numpy())


def _moments(d, n, dims):
    """Sample mean and variance over n draws (dims: the sample dims)."""
    s = d.sample((n,)).double()
    return s.mean(0).numpy(), s.var(0).numpy()


# (case, expression): samplers that are NOT torch's draws; checked in distribution instead
MOMENT_CASES = {
    'Gamma': 'D.Gamma(ember.tensor([0.3, 1.0, 4.5]), ember.tensor([1.0, 2.0, 0.5]))',
    'Chi2': 'D.Chi2(ember.tensor([1.0, 3.0, 10.0]))',
    'Beta': 'D.Beta(ember.tensor([0.5, 2.0, 5.0]), ember.tensor([0.5, 3.0, 1.5]))',
    'Dirichlet': 'D.Dirichlet(ember.tensor([0.7, 2.0, 4.0]))',
    'StudentT': 'D.StudentT(ember.tensor([5.0, 9.0]), ember.tensor([0.0, 1.0]), '
                'ember.tensor([1.0, 2.0]))',
    'FisherSnedecor': 'D.FisherSnedecor(ember.tensor([6.0, 10.0]), ember.tensor([9.0, 12.0]))',
    'InverseGamma': 'D.InverseGamma(ember.tensor([5.0, 7.0]), ember.tensor([1.0, 3.0]))',
    'Poisson': 'D.Poisson(ember.tensor([0.5, 4.0, 60.0]))',
    'Binomial': 'D.Binomial(ember.tensor([5.0, 20.0, 100.0]), ember.tensor([0.3, 0.5, 0.9]))',
    'NegativeBinomial': 'D.NegativeBinomial(ember.tensor([2.0, 5.5]), ember.tensor([0.3, 0.6]))',
    'Wishart': 'D.Wishart(ember.tensor(6.0), covariance_matrix=ember.tensor([[2.0, 0.5], '
               '[0.5, 1.0]]))',
}


@pytest.mark.parametrize('case', sorted(MOMENT_CASES))
def test_moments_where_torch_sampler_is_not_reproduced(case):
    """Mean within 6 standard errors (sqrt(var / n)); variance within 6 standard errors of a
    sample variance (sqrt(2 / (n - 1)) var, a normal approximation, with a generous factor for
    the heavier-tailed ones)."""
    ember.manual_seed(0)
    d = eval(MOMENT_CASES[case], {'D': ember.distributions, 'ember': ember})
    n = 40000
    s = d.sample((n,)).double().numpy()
    mean, var = d.mean.double().numpy(), d.variance.double().numpy()
    assert np.all(np.isfinite(s))
    assert bool(d.support.check(ember.tensor(s[:200]).to(d.mean.dtype)).all())
    np.testing.assert_array_less(np.abs(s.mean(0) - mean), 6 * np.sqrt(var / n) + 1e-12)
    np.testing.assert_array_less(np.abs(s.var(0) - var), 6 * 3 * np.sqrt(2 / (n - 1)) * var)
    # repeatable under manual_seed
    ember.manual_seed(0)
    np.testing.assert_array_equal(d.sample((n,)).double().numpy(), s)


def test_gamma_samples_match_torch_in_distribution():
    """A two-sample Kolmogorov-Smirnov statistic between ember's and torch's Gamma draws
    stays below the 0.1% critical value."""
    n = 20000
    torch.manual_seed(0)
    ts = torch.distributions.Gamma(torch.tensor(0.4), torch.tensor(1.5)).sample((n,)).numpy()
    ember.manual_seed(0)
    es = ember.distributions.Gamma(ember.tensor(0.4), ember.tensor(1.5)).sample((n,)).numpy()
    grid = np.sort(np.concatenate([ts, es]))
    d = np.max(np.abs(np.searchsorted(np.sort(ts), grid, 'right') / n
                      - np.searchsorted(np.sort(es), grid, 'right') / n))
    assert d < 1.95 * math.sqrt(2 / n)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_standard_gamma_gradient_matches_torch(dtype):
    """The implicit reparameterisation gradient dx/dalpha at the same (alpha, x) as torch's
    _standard_gamma_grad (itself an approximation: agreement to 5e-3 relative)."""
    from ember.distributions._sampling import _standard_gamma_grad
    alpha = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 150.0, 3000.0])
    x = np.array([[1e-6, 0.01, 0.2], [0.05, 0.3, 1.5], [0.1, 1.0, 4.0], [0.5, 2.5, 7.0],
                  [5.0, 10.0, 18.0], [130.0, 150.0, 175.0], [2900.0, 3000.0, 3120.0]])
    dt = getattr(torch, dtype)
    for a, xs in zip(alpha, x):
        want = torch._standard_gamma_grad(torch.full((3,), a, dtype=dt),
                                          torch.tensor(xs, dtype=dt)).double().numpy()
        got = _standard_gamma_grad(np.full(3, a), xs)
        np.testing.assert_allclose(got, want, rtol=5e-3, err_msg=f'alpha={a}')


def test_gamma_rsample_gradient_is_reparameterised():
    """d E[x] / d alpha = 1 / rate: the mean of the per-sample gradients estimates it."""
    ember.manual_seed(1)
    a = ember.tensor([0.5, 2.0, 7.0], dtype=ember.float64, requires_grad=True)
    rate = ember.tensor([1.0, 2.0, 0.5], dtype=ember.float64, requires_grad=True)
    n = 20000
    x = ember.distributions.Gamma(a, rate).rsample((n,))
    x.mean(0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 1 / rate.detach().numpy(), rtol=0.05)
    # d E[x] / d rate = -alpha / rate^2
    np.testing.assert_allclose(rate.grad.numpy(),
                               -a.detach().numpy() / rate.detach().numpy() ** 2, rtol=0.05)


def test_dirichlet_and_beta_rsample_gradients():
    """d E[x_i] / d alpha_j of a Dirichlet, estimated from rsample, is the exact derivative of
    alpha_i / sum(alpha)."""
    ember.manual_seed(2)
    a = ember.tensor([1.5, 2.0, 4.0], dtype=ember.float64, requires_grad=True)
    x = ember.distributions.Dirichlet(a).rsample((40000,))
    x.mean(0)[0].backward()
    al = a.detach().numpy()
    s = al.sum()
    exact = np.array([1 / s - al[0] / s ** 2, -al[0] / s ** 2, -al[0] / s ** 2])
    np.testing.assert_allclose(a.grad.numpy(), exact, rtol=0.1, atol=2e-3)
    b1 = ember.tensor(2.0, dtype=ember.float64, requires_grad=True)
    b0 = ember.tensor(3.0, dtype=ember.float64, requires_grad=True)
    ember.distributions.Beta(b1, b0).rsample((40000,)).mean().backward()
    np.testing.assert_allclose([b1.grad.item(), b0.grad.item()], [3 / 25, -2 / 25], rtol=0.1)


@pytest.mark.parametrize('case', ['Normal', 'LogNormal', 'MultivariateNormal-tril', 'Laplace',
                                  'Gumbel', 'RelaxedOneHotCategorical', 'LowRankMultivariateNormal'])
def test_rsample_gradients_as_torch(case):
    """Through the same draws the reparameterised gradients are torch's."""
    grads = []
    for lib in (torch, ember):
        d, p = build(lib, case, 'float64')
        lib.manual_seed(5)
        s = d.rsample((4,))
        (s * s).sum().backward()
        grads.append({k: v.grad.numpy() for k, v in p.items() if v.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for k in grads[0]:
        np.testing.assert_allclose(grads[1][k], grads[0][k], rtol=1e-10, atol=1e-12)
