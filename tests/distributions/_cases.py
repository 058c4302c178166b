"""The distributions the differential tests build, on both libraries from the same arrays."""
import numpy as np

R = np.random.RandomState(0)


def _pos(*shape):
    return R.uniform(0.5, 2.5, shape)


def _real(*shape):
    return R.normal(size=shape)


def _prob(*shape):
    return R.uniform(0.1, 0.9, shape)


def _simplex(*shape):
    p = R.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _spd(n, *batch):
    a = R.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _tril(n, *batch):
    return np.linalg.cholesky(_spd(n, *batch))


# id -> (constructor expression, parameter arrays); in the expression `D` is the library's
# distributions module and each parameter name is a tensor (requiring grad where floating)
CASES = {
    'Normal': ('D.Normal(loc, scale)', dict(loc=_real(3), scale=_pos(3))),
    'Normal-batch': ('D.Normal(loc, scale)', dict(loc=_real(2, 1), scale=_pos(3))),
    'Uniform': ('D.Uniform(low, high)', dict(low=_real(3), high=_real(3) + 4)),
    'Bernoulli-probs': ('D.Bernoulli(probs=probs)', dict(probs=_prob(4))),
    'Bernoulli-logits': ('D.Bernoulli(logits=logits)', dict(logits=_real(2, 3))),
    'Categorical': ('D.Categorical(probs=probs)', dict(probs=_simplex(2, 4))),
    'Categorical-logits': ('D.Categorical(logits=logits)', dict(logits=_real(3, 5))),
    'OneHotCategorical': ('D.OneHotCategorical(probs=probs)', dict(probs=_simplex(3, 4))),
    'Multinomial': ('D.Multinomial(5, probs=probs)', dict(probs=_simplex(2, 3))),
    'Binomial': ('D.Binomial(total, probs=probs)', dict(total=np.array([3., 5., 7.]),
                                                         probs=_prob(3))),
    'Binomial-logits': ('D.Binomial(6, logits=logits)', dict(logits=_real(4))),
    'Poisson': ('D.Poisson(rate)', dict(rate=_pos(4) * 3)),
    'Geometric': ('D.Geometric(probs=probs)', dict(probs=_prob(4))),
    'NegativeBinomial': ('D.NegativeBinomial(total, probs=probs)',
                         dict(total=_pos(3) * 3, probs=_prob(3))),
    'Exponential': ('D.Exponential(rate)', dict(rate=_pos(4))),
    'Gamma': ('D.Gamma(concentration, rate)', dict(concentration=_pos(4), rate=_pos(4))),
    'Chi2': ('D.Chi2(df)', dict(df=_pos(4) * 2)),
    'Beta': ('D.Beta(a, b)', dict(a=_pos(4), b=_pos(4))),
    'Dirichlet': ('D.Dirichlet(concentration)', dict(concentration=_pos(2, 4))),
    'Laplace': ('D.Laplace(loc, scale)', dict(loc=_real(4), scale=_pos(4))),
    'Cauchy': ('D.Cauchy(loc, scale)', dict(loc=_real(4), scale=_pos(4))),
    'HalfNormal': ('D.HalfNormal(scale)', dict(scale=_pos(4))),
    'HalfCauchy': ('D.HalfCauchy(scale)', dict(scale=_pos(4))),
    'LogNormal': ('D.LogNormal(loc, scale)', dict(loc=_real(4), scale=_pos(4))),
    'Gumbel': ('D.Gumbel(loc, scale)', dict(loc=_real(4), scale=_pos(4))),
    'Pareto': ('D.Pareto(scale, alpha)', dict(scale=_pos(4), alpha=_pos(4) + 2.5)),
    'Weibull': ('D.Weibull(scale, concentration)', dict(scale=_pos(4), concentration=_pos(4))),
    'StudentT': ('D.StudentT(df, loc, scale)', dict(df=_pos(4) + 2.5, loc=_real(4),
                                                    scale=_pos(4))),
    'FisherSnedecor': ('D.FisherSnedecor(df1, df2)', dict(df1=_pos(4) + 2, df2=_pos(4) + 5)),
    'VonMises': ('D.VonMises(loc, concentration)', dict(loc=_real(4),
                                                       concentration=np.array([.5, 2., 5., 9.]))),
    'ContinuousBernoulli': ('D.ContinuousBernoulli(probs=probs)',
                            dict(probs=np.array([0.1, 0.3, 0.4995, 0.8]))),
    'ContinuousBernoulli-logits': ('D.ContinuousBernoulli(logits=logits)',
                                   dict(logits=_real(4))),
    'Kumaraswamy': ('D.Kumaraswamy(a, b)', dict(a=_pos(4), b=_pos(4))),
    'LogisticNormal': ('D.LogisticNormal(loc, scale)', dict(loc=_real(2, 3), scale=_pos(2, 3))),
    'MultivariateNormal-cov': ('D.MultivariateNormal(loc, covariance_matrix=cov)',
                               dict(loc=_real(2, 3), cov=_spd(3))),
    'MultivariateNormal-tril': ('D.MultivariateNormal(loc, scale_tril=tril)',
                                dict(loc=_real(3), tril=_tril(3, 2))),
    'MultivariateNormal-prec': ('D.MultivariateNormal(loc, precision_matrix=prec)',
                                dict(loc=_real(3), prec=_spd(3))),
    'LowRankMultivariateNormal': ('D.LowRankMultivariateNormal(loc, w, d)',
                                  dict(loc=_real(2, 3), w=_real(3, 2), d=_pos(3))),
    'Independent': ('D.Independent(D.Normal(loc, scale), 1)',
                    dict(loc=_real(2, 3), scale=_pos(2, 3))),
    'MixtureSameFamily': ('D.MixtureSameFamily(D.Categorical(probs=probs), '
                          'D.Normal(loc, scale))',
                          dict(probs=_simplex(2, 3), loc=_real(2, 3), scale=_pos(2, 3))),
    'TransformedDistribution': ('D.TransformedDistribution(D.Normal(loc, scale), '
                                '[D.ExpTransform(), D.AffineTransform(1.0, 2.0)])',
                                dict(loc=_real(3), scale=_pos(3))),
    'RelaxedBernoulli': ('D.RelaxedBernoulli(temp, probs=probs)',
                         dict(temp=np.array(0.7), probs=_prob(4))),
    'RelaxedOneHotCategorical': ('D.RelaxedOneHotCategorical(temp, probs=probs)',
                                 dict(temp=np.array(0.7), probs=_simplex(2, 4))),
    'LKJCholesky': ('D.LKJCholesky(3, concentration)', dict(concentration=_pos(2))),
    'Wishart': ('D.Wishart(df, covariance_matrix=cov)', dict(df=np.array([4.5, 6.0]),
                                                             cov=_spd(3))),
    'InverseGamma': ('D.InverseGamma(concentration, rate)',
                     dict(concentration=_pos(4) + 2.5, rate=_pos(4))),
    'GeneralizedPareto': ('D.GeneralizedPareto(loc, scale, c)',
                          dict(loc=_real(4), scale=_pos(4), c=np.array([-0.2, 0.0, 0.1, 0.3]))),
    'OneHotCategoricalStraightThrough': ('D.OneHotCategoricalStraightThrough(probs=probs)',
                                         dict(probs=_simplex(3))),
}


def build(lib, case, dtype, requires_grad=True):
    """The case's distribution on `lib` and its parameter tensors."""
    expr, arrays = CASES[case]
    dt = getattr(lib, dtype)
    params = {k: lib.tensor(v, dtype=dt, requires_grad=requires_grad) for k, v in arrays.items()}
    return eval(expr, {'D': lib.distributions, **params}), params
