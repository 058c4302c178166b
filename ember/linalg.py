"""ember.linalg (torch.linalg)."""
from ._ops.linalg import (vector_norm, matrix_norm, norm, solve, det, inverse as inv,  # noqa
                          matmul, cross, slogdet, _matrix_rank as matrix_rank)
from ._ops.decomp import (_svd as svd, _svdvals as svdvals, _qr as qr, _eigh as eigh,  # noqa
                          _eigvalsh as eigvalsh, _cholesky as cholesky, _pinv as pinv)

__all__ = ['vector_norm', 'matrix_norm', 'norm', 'solve', 'det', 'inv', 'matmul', 'cross',
           'slogdet', 'svd', 'qr', 'eigh', 'eigvalsh', 'cholesky', 'pinv', 'matrix_rank',
           'svdvals']
