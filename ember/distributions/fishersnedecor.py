"""FisherSnedecor(df1, df2): the F distribution."""
import math

from .. import _dtype
from . import constraints
from .distribution import Distribution
from .gamma import Gamma

__all__ = ['FisherSnedecor']


def _chi2_over_df(df, sample_shape):
    """Draws of chi2(df) / df, which is Gamma(df / 2, df)."""
    return Gamma(df * 0.5, df, validate_args=False).rsample(sample_shape)


class FisherSnedecor(Distribution, params=('df1', 'df2')):
    """The F distribution, sampled as a ratio of gammas (see Gamma: not torch's values)."""
    arg_constraints = {'df1': constraints.positive, 'df2': constraints.positive}
    support = constraints.positive
    has_rsample = True

    @property
    def mean(self):
        df2 = self.df2.clone()
        df2[df2 <= 2] = math.nan
        return df2 / (df2 - 2)

    @property
    def mode(self):
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        mode[self.df1 <= 2] = math.nan
        return mode

    @property
    def variance(self):
        df2 = self.df2.clone()
        df2[df2 <= 4] = math.nan
        return (2 * df2.pow(2) * (self.df1 + df2 - 2)
                / (self.df1 * (df2 - 2).pow(2) * (df2 - 4)))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x1 = _chi2_over_df(self.df1, sample_shape).view(shape)
        x2 = _chi2_over_df(self.df2, sample_shape).view(shape)
        tiny = _dtype.finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3
