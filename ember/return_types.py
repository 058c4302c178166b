"""torch.return_types: the named tuples ember's ops return (values/indices, Q/R, ...), one
class a name, shared with the ops that make them."""
from ._ops.reduce import _return_type

_FIELDS = {
    'aminmax': ('min', 'max'), 'frexp': ('mantissa', 'exponent'), 'geqrf': ('a', 'tau'),
    'histogram': ('hist', 'bin_edges'), 'histogramdd': ('hist', 'bin_edges'),
    'linalg_cholesky_ex': ('L', 'info'), 'linalg_eig': ('eigenvalues', 'eigenvectors'),
    'linalg_eigh': ('eigenvalues', 'eigenvectors'), 'linalg_inv_ex': ('inverse', 'info'),
    'linalg_ldl_factor': ('LD', 'pivots'), 'linalg_ldl_factor_ex': ('LD', 'pivots', 'info'),
    'linalg_lstsq': ('solution', 'residuals', 'rank', 'singular_values'),
    'linalg_lu': ('P', 'L', 'U'), 'linalg_lu_factor': ('LU', 'pivots'),
    'linalg_lu_factor_ex': ('LU', 'pivots', 'info'), 'linalg_qr': ('Q', 'R'),
    'linalg_slogdet': ('sign', 'logabsdet'), 'linalg_solve_ex': ('result', 'info'),
    'linalg_svd': ('U', 'S', 'Vh'), 'lu_unpack': ('P', 'L', 'U'), 'qr': ('Q', 'R'),
    'slogdet': ('sign', 'logabsdet'), 'svd': ('U', 'S', 'V'),
    'triangular_solve': ('solution', 'cloned_coefficient')}
for _name in ('cummax', 'cummin', 'kthvalue', 'max', 'median', 'min', 'mode', 'nanmedian',
              'sort', 'topk'):
    _FIELDS[_name] = ('values', 'indices')
# torch has an _out twin of each (returned by the out= forms) but for histogramdd
_NO_OUT = ('histogramdd',)

all_return_types = []
for _name, _fields in sorted(_FIELDS.items()):
    for _n in (_name,) if _name in _NO_OUT else (_name, _name + '_out'):
        _cls = _return_type(_n, _fields)
        globals()[_n] = _cls
        all_return_types.append(_cls)


def pytree_register_structseq(cls):
    """torch registers each return type with its pytree; ember's pytrees (torch.func) take
    named tuples as they are, so there is nothing to register."""
    return None


__all__ = ['pytree_register_structseq', 'all_return_types'] + sorted(
    n for n in globals() if n in _FIELDS or n[:-4] in _FIELDS)
