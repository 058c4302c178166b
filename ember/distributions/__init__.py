"""ember.distributions: torch.distributions on ember's tensors.

Samplers make the same draws torch's do wherever torch's CPU sampler is built from a primitive
ember reproduces (normal_, uniform_/rand, exponential_, cauchy_, bernoulli, multinomial): with
the same seed those samples are torch's, bit for bit. Gamma-based samplers (Gamma, Chi2, Beta,
Dirichlet, StudentT, FisherSnedecor, InverseGamma, LKJCholesky, Wishart), Poisson, Binomial
and NegativeBinomial draw correctly distributed values that are NOT torch's (their docstrings
say so).
"""
from . import constraints, transforms, utils  # noqa: F401
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import _add_kl_info, kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

_add_kl_info()
del _add_kl_info

__all__ = ['Bernoulli', 'Beta', 'Binomial', 'Categorical', 'Cauchy', 'Chi2',
           'ContinuousBernoulli', 'Dirichlet', 'Distribution', 'Exponential',
           'ExponentialFamily', 'FisherSnedecor', 'Gamma', 'GeneralizedPareto', 'Geometric',
           'Gumbel', 'HalfCauchy', 'HalfNormal', 'Independent', 'InverseGamma', 'Kumaraswamy',
           'LKJCholesky', 'Laplace', 'LogNormal', 'LogisticNormal', 'LowRankMultivariateNormal',
           'MixtureSameFamily', 'Multinomial', 'MultivariateNormal', 'NegativeBinomial',
           'Normal', 'OneHotCategorical', 'OneHotCategoricalStraightThrough', 'Pareto',
           'RelaxedBernoulli', 'RelaxedOneHotCategorical', 'StudentT', 'Poisson', 'Uniform',
           'VonMises', 'Weibull', 'Wishart', 'TransformedDistribution', 'biject_to',
           'kl_divergence', 'register_kl', 'transform_to']
__all__.extend(transforms.__all__)
