"""torch.geqrf: LAPACK's QR factorization in Householder form (no gradient, as in torch);
orthogonal parametrizations build on it."""
import numpy as np

from .._tensor import _wrap
from ._util import _arr
from .reduce import _return_type

__all__ = ['geqrf']

_Geqrf = _return_type('geqrf', ('a', 'tau'))


def geqrf(input):
    """LAPACK's geqrf (the reflectors below R's diagonal, and their scales), as torch returns
    it: NumPy's raw QR is exactly that, transposed."""
    d = input._data
    if d.ndim < 2:
        raise RuntimeError("torch.geqrf: The input tensor A must have at least 2 dimensions.")
    h, tau = np.linalg.qr(d, mode='raw')
    return _Geqrf(_wrap(_arr(np.ascontiguousarray(np.swapaxes(h, -1, -2)))),
                  _wrap(_arr(tau.astype(d.dtype, copy=False))))
