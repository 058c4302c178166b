"""Dropout: F.dropout, dropout1d/2d/3d, alpha_dropout and feature_alpha_dropout.

torch's CPU dropout is not a fused kernel: it draws ``noise = bernoulli_(1-p) / (1-p)`` and
returns ``input * noise`` (grad_fn MulBackward0), so ember does exactly that, drawing the noise
from the torch-compatible generator: the same seed gives the same mask bit for bit.
"""
import math
import warnings

import numpy as np

from .. import _random
from .._tensor import _wrap
from ..autograd.grad_mode import _State
from ._util import _write_inplace, _legacy
from ._layout import _empty_like_array, _memory_order
from .random import _draw_like

__all__ = ['dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout',
           'feature_alpha_dropout', 'feature_dropout']

_ALPHA = 1.7580993408473766  # -SELU(-inf) = scale * alpha of selu


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_impl(input, p, train, inplace, feature=False, alpha=False):
    """torch's _dropout_impl (aten/src/ATen/native/Dropout.cpp), for the CPU path."""
    if p == 0 or not train or input.numel() == 0:
        return input
    d = input._data
    if d.dtype.kind != 'f' and not _random._is_bfloat16(d.dtype):
        raise RuntimeError(f'"bernoulli_scalar_cpu_" not implemented for '
                           f"'{_legacy(d.dtype)}'")
    if p == 1:
        zero = _wrap(np.zeros((), d.dtype))
        return _mul_inplace(input, zero) if inplace else input * zero
    gen = _random.default_generator
    if feature:
        if input.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(d.shape[:2]) + (1,) * (d.ndim - 2)
        # torch's feature noise is a fresh contiguous tensor drawn in C order
        draw = (lambda fn: _in_layout_of(d, fn(shape, d.dtype)))
    else:
        # torch's noise is empty_like(input): the input's strides, drawn in memory order
        draw = (lambda fn: _draw_like(_empty_like_array(d, d.dtype), fn))
    if not alpha:
        noise = _wrap(draw(lambda shape, dt: _random.dropout_noise(gen, shape, dt, p)))
        return _mul_inplace(input, noise) if inplace else input * noise
    mask = draw(lambda shape, dt: _random.bernoulli(gen, 1.0 - p, shape, dt))
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    # the same sequence of dtype ops as torch: b = (mask - 1) * (alpha*a) + alpha*a*p
    b = (mask - np.ones((), d.dtype)) * np.asarray(_ALPHA * a, d.dtype)
    b += np.asarray(_ALPHA * a * p, d.dtype)
    noise = _wrap(mask * np.asarray(a, d.dtype))
    if inplace:
        return _mul_inplace(input, noise, _wrap(b))
    return input * noise + _wrap(b)


def _in_layout_of(d, arr):
    """arr (C order) copied into d's dim order, so that input * noise keeps input's strides
    as torch's TensorIterator does."""
    if d.flags.c_contiguous or d.ndim < 2:
        return arr
    order = _memory_order(d)
    out = np.empty(tuple(arr.shape[i] for i in order), arr.dtype).transpose(np.argsort(order))
    out[...] = arr
    return out


def _mul_inplace(input, noise, shift=None):
    """input.mul_(noise)[.add_(shift)], keeping the pre-write input for the gradient."""
    if _State.enabled and input._requires_grad:
        r = input.clone() * noise
        return _write_inplace(input, r + shift if shift is not None else r)
    input.mul_(noise)
    return input.add_(shift) if shift is not None else input


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p)."""
    _check_p(p)
    if input.is_nested:  # per component (ember/nested)
        return input._apply_each(dropout, p, training, inplace)
    return _dropout_impl(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped values go to SELU's saturation, mean/var are kept."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout with one draw per channel (dims 0 and 1)."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)


def _feature(input, p, training, inplace, batched):
    if not batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = _dropout_impl(input, p, training, inplace, feature=True)
    if not batched:
        result = result.squeeze_(0) if inplace else result.squeeze(0)
    return result


def _warn_spatial_dims(nd, k):
    """dropout{k}d's deprecation warning for an input that is neither batched nor unbatched
    (k + 2 or k + 1 dims), pointing at the caller of dropout{k}d."""
    if nd not in (k + 1, k + 2):
        warnings.warn(
            f"dropout{k}d: Received a {nd}-D input to dropout{k}d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that dropout{k}d exists to provide "
            f"channel-wise dropout on inputs with {k} spatial dimensions, a channel dimension, "
            f"and an optional batch dimension (i.e. {k + 1}D or {k + 2}D inputs).", stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    _check_p(p)
    nd = input.ndim
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _feature(input, p, training, inplace, nd == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs (3-D inputs are treated as (N, C, L))."""
    _check_p(p)
    nd = input.ndim
    _warn_spatial_dims(nd, 2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout_impl(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_p(p)
    nd = input.ndim
    _warn_spatial_dims(nd, 3)
    return _feature(input, p, training, inplace, nd == 5)


# torch.* forms (positional `train`): torch.dropout_(x, p, train), torch.feature_dropout, ...

def feature_dropout(input, p, train):
    """Zero whole channels (dim 1) of an (N, C, *) input with probability p."""
    return _dropout_impl(input, p, train, False, feature=True)


def _torch_form(name, **flags):
    def op(input, p, train):
        return _dropout_impl(input, p, train, True, **flags)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name}(input, p, train): in place."
    return op


dropout_ = _torch_form('dropout_')
alpha_dropout_ = _torch_form('alpha_dropout_', alpha=True)
feature_dropout_ = _torch_form('feature_dropout_', feature=True)
feature_alpha_dropout_ = _torch_form('feature_alpha_dropout_', feature=True, alpha=True)
