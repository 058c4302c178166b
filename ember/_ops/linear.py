"""Forward math for linear layers: F.linear and F.bilinear.

Both are compositions of core ops chosen to give torch's grad_fn at the output:
a 2-D input with bias is one addmm (AddmmBackward0), a 1-D or contiguous N-D input is
flattened to 2-D, addmm'd and viewed back (ViewBackward0), anything else is matmul + add.
"""
import numpy as np

from .._tensor import Tensor, _wrap
from .._torch_function import _disabled_torch_function_impl
from .. import _threads
from ..autograd.grad_mode import _State
from .linalg import addmm
from ._autocast import autocast

__all__ = ['linear', 'bilinear']


@autocast('lower')
def linear(input, weight, bias=None):
    """y = input @ weight.T + bias."""
    if input.is_nested:  # per component (ember/nested)
        return input._linear(weight, bias)
    if bias is not None and not (_State.enabled and (
            input._requires_grad or weight._requires_grad or bias._requires_grad)):
        y = _plain_linear(input, weight, bias)
        if y is not None:
            return y
    wt = weight.t()
    ndim = input.dim()
    if bias is None:
        return input.matmul(wt)
    if ndim == 2:
        return addmm(bias, input, wt)
    if ndim == 1 or (ndim >= 3 and input.is_contiguous()):
        out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
        return addmm(bias, input.reshape(-1, input.shape[-1]), wt).view(out_shape)
    return input.matmul(wt) + bias


_PLAIN = (np.dtype(np.float32), np.dtype(np.float64))


def _function_of(cls):
    f = getattr(cls, '__torch_function__', None)
    return getattr(f, '__func__', f)


# classes whose __torch_function__ is Tensor's own or Parameter's (disabled): nothing to
# dispatch to (Tensor's is set after this module is imported: looked up at first use)
_NOT_OVERRIDDEN = {Tensor: True}


def _overridden(t):
    """Whether t's class overrides __torch_function__ (then the general path runs)."""
    cls = t.__class__
    known = _NOT_OVERRIDDEN.get(cls)
    if known is None:
        known = _NOT_OVERRIDDEN[cls] = _function_of(cls) in (
            _function_of(Tensor), _disabled_torch_function_impl)
    return not known


def _plain_linear(input, weight, bias):
    """Without a graph, a plain 2-D float input (an MLP's forward under no_grad): the product
    and the bias straight on the arrays, not through weight.t() and addmm's checks (half the
    small MLP's forward); None (the general path) for anything else."""
    x, w, b = input._data, weight._data, bias._data
    if (_overridden(input) or _overridden(weight) or _overridden(bias) or
            x.__class__ is not np.ndarray or
            w.__class__ is not np.ndarray or b.__class__ is not np.ndarray or
            x.ndim != 2 or w.ndim != 2 or b.ndim != 1 or x.dtype not in _PLAIN or
            w.dtype != x.dtype or b.dtype != x.dtype or x.shape[1] != w.shape[1] or
            b.shape[0] != w.shape[0]):
        return None
    r = _threads.matmul(x, w.T)
    r += b
    return _wrap(r)


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]."""
    if input1.dim() != input2.dim():
        raise RuntimeError(f'bilinear(): input dimensions do not match: got {input1.dim()} and '
                           f'{input2.dim()}')
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f'bilinear(): input batch dimensions do not match: got '
                           f'{tuple(input1.shape)} and {tuple(input2.shape)}')
    out, n1, n2 = weight.shape
    if input1.shape[-1] != n1:
        raise RuntimeError(f'bilinear(): input1 size does not match weight size: got '
                           f'{input1.shape[-1]} but expected {n1}')
    if input2.shape[-1] != n2:
        raise RuntimeError(f'bilinear(): input2 size does not match weight size: got '
                           f'{input2.shape[-1]} but expected {n2}')
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, n1)
    x2 = input2.reshape(-1, n2)
    # (N, i) @ (i, o*j) -> (N, o, j), then contract j against input2.
    w = weight.permute(1, 0, 2).reshape(n1, out * n2)
    y = (x1.matmul(w).view(-1, out, n2) * x2.unsqueeze(1)).sum(-1).view(lead + (out,))
    if bias is not None:
        y = y + bias
    return y
