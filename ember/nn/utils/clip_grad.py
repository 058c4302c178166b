"""Gradient clipping (torch.nn.utils.clip_grad): in place on each parameter's .grad."""
import types
import warnings

import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ['clip_grad_norm_', 'clip_grad_norm', 'clip_grad_value_', 'get_total_norm',
           'clip_grads_with_norm_']


def _np_norm(a, p):
    a = np.abs(a)
    if p == 2.0:
        return np.sqrt(np.sum(a * a))
    if p == np.inf:
        return a.max() if a.size else np.zeros((), a.dtype)
    if p == -np.inf:
        return a.min()
    if p == 0.0:
        return np.asarray(np.count_nonzero(a), dtype=a.dtype)
    if p == 1.0:
        return np.sum(a)
    return np.sum(a ** p) ** (1.0 / p)


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (as if they were one concatenated vector)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _wrap(np.array(0.0, dtype=np.float32))
    norms = [np.asarray(_np_norm(t._data, norm_type), dtype=t._data.dtype) for t in tensors]
    stacked = np.stack(norms).astype(np.result_type(*norms), copy=False)
    total = np.asarray(_np_norm(stacked, norm_type), dtype=stacked.dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return _wrap(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by min(max_norm / (total_norm + 1e-6), 1)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.minimum(max_norm / (tn + 1e-6), 1.0).astype(tn.dtype, copy=False)
    for g in grads:
        d = g._data
        with np.errstate(invalid='ignore'):  # inf * 0 -> nan, silently, as in torch
            np.multiply(d, coef, out=d, casting='unsafe')
        g._vc.value += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Clip the gradients' total norm to max_norm, in place; returns the total norm."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)  # a generator must not be exhausted twice
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into [-clip_value, clip_value], in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        g = p.grad
        if g is not None:
            np.clip(g._data, -clip_value, clip_value, out=g._data)
            g._vc.value += 1
