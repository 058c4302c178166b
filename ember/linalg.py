"""ember.linalg (torch.linalg)."""
from ._ops.linalg import (vector_norm, matrix_norm, norm, solve, det, inverse as inv,  # noqa
                          matmul, cross, slogdet, _matrix_rank as matrix_rank)
from ._ops.decomp import (_svd as svd, _svdvals as svdvals, _qr as qr, _eigh as eigh,  # noqa
                          _eigvalsh as eigvalsh, _cholesky as cholesky, _pinv as pinv,
                          _cholesky_ex as cholesky_ex, _inv_ex as inv_ex, _solve_ex as solve_ex,
                          _solve_triangular as solve_triangular, _multi_dot as multi_dot,
                          _vecdot as vecdot, _vander as vander, _linalg_diagonal as diagonal,
                          _matrix_power as matrix_power, _cond as cond, _tensorinv as tensorinv,
                          _tensorsolve as tensorsolve, _lstsq as lstsq,
                          _matrix_exp as matrix_exp, _householder_product as householder_product,
                          _eig as eig, _eigvals as eigvals, _lu as lu, _lu_factor as lu_factor,
                          _lu_solve as lu_solve, _lu_factor_ex as lu_factor_ex)

from ._ops.ldl import ldl_factor, ldl_factor_ex, ldl_solve  # noqa: E402
__all__ = ['vector_norm', 'matrix_norm', 'norm', 'solve', 'det', 'inv', 'matmul', 'cross',
           'slogdet', 'svd', 'qr', 'eigh', 'eigvalsh', 'cholesky', 'pinv', 'matrix_rank',
           'svdvals', 'cholesky_ex', 'inv_ex', 'solve_ex', 'solve_triangular', 'multi_dot',
           'vecdot', 'vander', 'diagonal', 'matrix_power', 'cond', 'tensorinv', 'tensorsolve',
           'lstsq', 'matrix_exp', 'householder_product', 'eig', 'eigvals', 'lu', 'lu_factor', 'lu_solve',
           'lu_factor_ex', 'ldl_factor', 'ldl_factor_ex', 'ldl_solve']
