"""HalfNormal(scale): |X| for X ~ Normal(0, scale)."""
import math

from ._folded import _Folded
from .normal import Normal

__all__ = ['HalfNormal']


class HalfNormal(_Folded):
    """|X| for X ~ Normal(0, scale); samples are torch's for the same seed."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Normal(0, scale, validate_args=False), validate_args)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
