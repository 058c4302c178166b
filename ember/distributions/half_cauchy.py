"""HalfCauchy(scale): |X| for X ~ Cauchy(0, scale)."""
import math

from .._ops.creation import full
from ._folded import _Folded
from .cauchy import Cauchy

__all__ = ['HalfCauchy']


class HalfCauchy(_Folded):
    """|X| for X ~ Cauchy(0, scale); samples are torch's for the same seed."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Cauchy(0, scale, validate_args=False), validate_args)

    @property
    def mean(self):
        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance
