"""torch.geqrf: LAPACK's QR factorization in Householder form (torch has no gradient for it);
orthogonal parametrizations build on it."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import _State
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
    if _State.enabled and input.requires_grad:
        # torch's outputs require grad but its backward raises: say so at once
        raise NotImplementedError("ember does not implement the gradient of torch.geqrf (call "
                                  "it under torch.no_grad() or on a detached tensor)")
    h, tau = np.linalg.qr(d, mode='raw')
    return _Geqrf(_wrap(_arr(np.ascontiguousarray(np.swapaxes(h, -1, -2)))),
                  _wrap(_arr(tau.astype(d.dtype, copy=False))))
