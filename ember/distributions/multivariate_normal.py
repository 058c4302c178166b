"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)."""
import math

from .._ops.creation import eye
from .._ops.shape import broadcast_shapes
from ..linalg import cholesky, solve_triangular
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, _location, _standard_normal

__all__ = ['MultivariateNormal']


def _batch_mv(bmat, bvec):
    """Matrix-vector products over broadcast batch dimensions."""
    return (bmat @ bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """x^T (L L^T)^-1 x for lower triangular L, batch dimensions broadcast."""
    shape = broadcast_shapes(bL.shape[:-2], bx.shape[:-1])
    n = bx.size(-1)
    L = bL.expand(tuple(shape) + (n, n))
    x = bx.expand(tuple(shape) + (n,))
    return solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1).pow(2).sum(-1)


def _tril_inverse(L):
    return solve_triangular(L, eye(L.shape[-1], dtype=L.dtype), upper=False)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P^-1, through the Cholesky factor of P flipped."""
    lf = cholesky(P.flip((-2, -1)))
    l_inv = lf.flip((-2, -1)).transpose(-2, -1)
    return _tril_inverse(l_inv)


def _the_matrix(error, covariance_matrix, precision_matrix, scale_tril):
    """(name, matrix) of the one matrix given; `error` (torch's type) when not exactly one."""
    given = [(n, m) for n, m in (('covariance_matrix', covariance_matrix),
                                 ('precision_matrix', precision_matrix),
                                 ('scale_tril', scale_tril)) if m is not None]
    if len(given) != 1:
        raise error("Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                    "specified.")
    return given[0]


def _scale_tril_of(name, matrix):
    """The lower Cholesky factor of the covariance that `matrix` (called `name`) gives."""
    if name == 'scale_tril':
        return matrix
    if name == 'covariance_matrix':
        return cholesky(matrix)
    return _precision_to_scale_tril(matrix)


class _CovarianceForms:
    """scale_tril, covariance_matrix and precision_matrix, computed lazily from
    ``_unbroadcasted_scale_tril`` and expanded to the batch shape."""

    def _full(self, t):
        return t.expand(self._batch_shape + t.shape[-2:])

    @lazy_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT)

    @lazy_property
    def precision_matrix(self):
        linv = _tril_inverse(self._unbroadcasted_scale_tril)
        return self._full(linv.mT @ linv)


class MultivariateNormal(_CovarianceForms, Distribution):
    """The multivariate normal distribution; samples are torch's for the same seed (the same
    normal draws times the same Cholesky factor)."""
    arg_constraints = {'loc': constraints.real_vector,
                       'covariance_matrix': constraints.positive_definite,
                       'precision_matrix': constraints.positive_definite,
                       'scale_tril': constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        name, matrix = _the_matrix(ValueError, covariance_matrix, precision_matrix, scale_tril)
        if matrix.dim() < 2:
            what = 'scale_tril matrix' if name == 'scale_tril' else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(tuple(batch_shape) + (-1, -1)))
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        self._unbroadcasted_scale_tril = _scale_tril_of(name, matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(MultivariateNormal, batch_shape, _instance,
                                  ('loc', 'covariance_matrix', 'scale_tril',
                                   'precision_matrix'))
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    mean = mode = _location

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        eps = _standard_normal(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return (-0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m)
                - self._half_log_det())

    def entropy(self):
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h if len(self._batch_shape) == 0 else h.expand(self._batch_shape)
