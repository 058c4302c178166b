"""ember.linalg (torch.linalg)."""
from ._ops.linalg import (vector_norm, matrix_norm, norm, solve, det, inverse as inv,  # noqa
                          matmul, cross, slogdet, _svd as svd, _qr as qr, _eigh as eigh,
                          _cholesky as cholesky, _pinv as pinv, _matrix_rank as matrix_rank)
from ._ops.reduce import _return_type as _rt

__all__ = ['vector_norm', 'matrix_norm', 'norm', 'solve', 'det', 'inv', 'matmul', 'cross',
           'slogdet', 'svd', 'qr', 'eigh', 'cholesky', 'pinv', 'matrix_rank', 'svdvals']


def svdvals(A):
    return svd(A, full_matrices=False)[1]
