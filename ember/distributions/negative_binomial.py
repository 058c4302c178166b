"""NegativeBinomial(total_count, probs | logits)."""
from .._ops.activation import logsigmoid
from ..autograd.grad_mode import no_grad
from . import constraints
from ._sampling import _sample_poisson
from .distribution import Distribution
from .gamma import Gamma
from .utils import _BinaryParams, lazy_property

__all__ = ['NegativeBinomial']


class NegativeBinomial(_BinaryParams, Distribution):
    """Successes (each with probability probs) before total_count failures.

    Sampled as Poisson(Gamma(total_count, exp(-logits))): both samplers are NumPy's seeded
    from ember's generator, repeatable under manual_seed but not torch's values."""
    arg_constraints = {'total_count': constraints.greater_than_eq(0),
                       'probs': constraints.half_open_interval(0.0, 1.0),
                       'logits': constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        super().__init__(self._init_binary(probs, logits, total_count),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_binary(NegativeBinomial, batch_shape, _instance)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(),
                     validate_args=False)

    def sample(self, sample_shape=()):
        with no_grad():
            return _sample_poisson(self._gamma.sample(sample_shape=sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        unnormalized = n * logsigmoid(-self.logits) + value * logsigmoid(self.logits)
        normalization = -(n + value).lgamma() + (1.0 + value).lgamma() + n.lgamma()
        normalization = normalization.masked_fill(n + value == 0.0, 0.0)
        return unnormalized - normalization
