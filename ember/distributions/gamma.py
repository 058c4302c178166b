"""Gamma(concentration, rate)."""
from .. import _dtype
from .._ops.creation import as_tensor
from .._ops.special import igamma
from . import constraints
from ._sampling import _standard_gamma
from .exp_family import ExponentialFamily

__all__ = ['Gamma']


class Gamma(ExponentialFamily, params=('concentration', 'rate')):
    """The gamma distribution (shape `concentration`, inverse scale `rate`).

    rsample draws standard gammas with NumPy's sampler seeded from ember's generator
    (repeatable under manual_seed, not torch's values) and differentiates them by implicit
    reparameterisation: dx/dalpha = -(dF/dalpha)/p(x), F the incomplete gamma function."""
    arg_constraints = {'concentration': constraints.positive, 'rate': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=_dtype.finfo(value.dtype).tiny)  # outside the graph
        return value

    def log_prob(self, value):
        value = as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration.xlogy(self.rate) + (self.concentration - 1).xlogy(value)
                - self.rate * value - self.concentration.lgamma())

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()

    @property
    def _natural_params(self):
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return igamma(self.concentration, self.rate * value)
