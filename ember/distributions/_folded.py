"""What HalfNormal and HalfCauchy share: |X| for X symmetric about 0."""
import math

from .._ops.creation import as_tensor, zeros_like
from .._ops.elementwise import where
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform
from .utils import _forwarded


class _Folded(TransformedDistribution):
    """|X| for X ~ base(0, scale), the base named in the class statement
    (``class HalfNormal(_Folded, base=Normal)``): density doubled on [0, inf)."""
    arg_constraints = {'scale': constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init_subclass__(cls, base, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._base = base

    def __init__(self, scale, validate_args=None):
        super().__init__(self._base(0, scale, validate_args=False), AbsTransform(),
                         validate_args=validate_args)

    scale = _forwarded('base_dist')

    @property
    def mode(self):
        return zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_tensor(value, dtype=self.base_dist.scale.dtype)
        lp = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, lp, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
