"""Weight normalization's ops: torch.norm_except_dim and torch._weight_norm (w = g v/||v||)."""
import numpy as np

from .._tensor import _wrap, _wrap_dim
from ..autograd.graph import _record, derivative
from ._util import _arr, _nograph
from .linalg import vector_norm

__all__ = ['norm_except_dim', '_weight_norm']


def norm_except_dim(v, pow=2, dim=0):
    """The p-norm of v over every dim but `dim` (kept as size 1); over all of v if dim == -1."""
    if not isinstance(pow, int):
        raise TypeError(f"norm_except_dim(): argument 'pow' (position 2) must be int, not "
                        f"{type(pow).__name__}")
    if dim == -1:
        return vector_norm(v, pow)
    n = v.dim()
    if dim == 0:
        out = vector_norm(v.contiguous().view(v.size(0), -1), pow, 1)
        return out.view((v.size(0),) + (1,) * (n - 1))
    if dim == n - 1:
        out = vector_norm(v.contiguous().view(-1, v.size(n - 1)), pow, 0)
        return out.view((1,) * (n - 1) + (v.size(n - 1),))
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _other_dims(ndim, dim):
    return tuple(d for d in range(ndim) if d != dim)


@derivative
def WeightNormInterfaceBackward0(grad, v, g, dim):
    axes = _other_dims(v.ndim, dim)
    keep = tuple(1 if d in axes else s for d, s in enumerate(v.shape))
    if _nograph():
        vd, gd, gr = v._data, g._data.reshape(keep), grad._data
        norms = np.sqrt(np.sum(vd * vd, axis=axes, keepdims=True))
        dot = np.sum(gr * vd, axis=axes, keepdims=True)
        grad_v = (gd / norms) * (gr - vd * (dot / (norms * norms)))
        grad_g = (dot / norms).reshape(g.shape)
        return _wrap(_arr(grad_v)), _wrap(_arr(grad_g))
    # with Tensor ops (the norms recomputed from v) so that double backward works
    norms = vector_norm(v, 2, axes, True)
    dot = (grad * v).sum(axes, keepdim=True)
    grad_v = (g.reshape(keep) / norms) * (grad - v * (dot / (norms * norms)))
    return grad_v, (dot / norms).reshape(g.shape)


def _weight_norm(v, g, dim=0):
    """w = v * g / norm_except_dim(v, 2, dim): torch's fused kernel (one node,
    WeightNormInterfaceBackward0) when dim is the first or last dim, else composed."""
    if dim == 0 or dim == v.dim() - 1:
        dim = _wrap_dim(dim, max(v.dim(), 1))
        vd = v._data
        axes = _other_dims(vd.ndim, dim)
        keep = tuple(1 if d in axes else s for d, s in enumerate(vd.shape))
        norms = np.sqrt(np.sum(vd * vd, axis=axes, keepdims=True))
        w = vd * (g._data.reshape(keep) / norms)
        return _record(WeightNormInterfaceBackward0, _arr(w.astype(vd.dtype, copy=False)),
                       (v, g), v=v, g=g, dim=dim)
    return v * (g / norm_except_dim(v, 2, dim))
