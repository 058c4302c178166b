"""HalfCauchy(scale): |X| for X ~ Cauchy(0, scale)."""
import math

from .._ops.creation import full
from ._folded import _Folded
from .cauchy import Cauchy

__all__ = ['HalfCauchy']


class HalfCauchy(_Folded, base=Cauchy):
    """|X| for X ~ Cauchy(0, scale); samples are torch's for the same seed."""

    @property
    def mean(self):
        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance
