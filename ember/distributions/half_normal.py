"""HalfNormal(scale): |X| for X ~ Normal(0, scale)."""
import math

from ._folded import _Folded
from .normal import Normal

__all__ = ['HalfNormal']


class HalfNormal(_Folded, base=Normal):
    """|X| for X ~ Normal(0, scale); samples are torch's for the same seed."""

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
