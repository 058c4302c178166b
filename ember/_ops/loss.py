"""Forward math for the loss family (and its nn.functional entry points).

The losses that dominate training (mse, nll/cross-entropy, the binary cross-entropies, the
smooth L1/Huber pair and the margin losses torch fuses) are single recorded ops, each with its
gradient declared beside its forward (``@derivative``, named as torch's grad_fn). The others are
composed from ember Tensor ops, exactly as torch composes them, so their graphs look like torch's.
"""
import math
import warnings

import numpy as np

from .. import _kernels
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, derivative
from ._util import _legacy, _operands, _loss_scale, _broadcast_error, _nograph, _quiet
from ._autocast import autocast
from .creation import ones_like, tensor as _tensor_ctor
from .distance import _first_order_only
from .elementwise import minimum
from .linalg import vector_norm

__all__ = ['l1_loss', 'mse_loss', 'cross_entropy', 'nll_loss', 'binary_cross_entropy',
           'binary_cross_entropy_with_logits', 'smooth_l1_loss', 'huber_loss',
           'poisson_nll_loss', 'gaussian_nll_loss', 'kl_div', 'margin_ranking_loss',
           'hinge_embedding_loss', 'multilabel_margin_loss', 'soft_margin_loss',
           'multilabel_soft_margin_loss', 'multi_margin_loss', 'triplet_margin_loss',
           'triplet_margin_with_distance_loss', 'cosine_embedding_loss', 'ctc_loss',
           'linear_cross_entropy']


# ---- reduction arguments ------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce, emit_warning=True, stacklevel=3):
    """torch.nn._reduction.legacy_get_string: the deprecated flags mapped to a reduction."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = 'mean' if (size_average and reduce) else 'sum' if reduce else 'none'
    if emit_warning:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=stacklevel)
    return ret


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return _check_reduction(reduction)


def _check_reduction(reduction):
    if reduction == 'elementwise_mean':
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return 'mean'
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    return loss


def _reduce_np(arr, reduction):
    """Reduce a NumPy loss array; 0-d results stay arrays (ember never holds NumPy scalars)."""
    if reduction == 'mean':
        return np.asarray(arr.mean(), dtype=arr.dtype)
    if reduction == 'sum':
        return np.asarray(arr.sum(), dtype=arr.dtype)
    return arr


def _warn_size(input, target, stacklevel=3):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.",
                      stacklevel=stacklevel)


def _regression_reduction(input, target, size_average, reduce, reduction, weight=None):
    """What l1/mse/smooth_l1/huber check first: torch's target-size warning, the deprecated
    reduction flags (the reduction they give is returned) and an explicit weight's shape."""
    _warn_size(input, target, stacklevel=4)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, stacklevel=4)
    if weight is not None and weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    return reduction


def _float_operands(input, target):
    """Both operands as arrays of their promoted dtype, broadcast together (torch's errors)."""
    a, b, _ = _operands(input, target)
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise _broadcast_error(a, b) from None
    return a, b


def _weighted(loss, weight, reduction):
    """The explicit-weight path of l1/mse/huber (torch divides the weighted sum by sum(weight))."""
    loss = loss * weight
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'mean':
        return loss.sum() / weight.sum()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     "'sum'.")


def _needs_grad(t):
    return isinstance(t, Tensor) and t._requires_grad


def _not_differentiable(fn, arg, t):
    """torch refuses inputs its kernels have no gradient for."""
    if _needs_grad(t) and _State.enabled:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


# ---- regression losses ------------------------------------------------------------------------

@autocast('fp32')
def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    reduction = _regression_reduction(input, target, size_average, reduce, reduction, weight)
    if weight is not None:
        return _weighted((input - target).abs(), weight, reduction)
    return _reduce((input - target).abs(), _check_reduction(reduction))


@derivative
def MseLossBackward0(grad, input, target, reduction, target_grad):
    if _nograph() and type(grad._data) is np.ndarray:
        # the formula below in NumPy, operation for operation (no graph to build)
        x, t = _float_operands(input, target)
        diff = x - t
        s = grad._data / diff.size if reduction == 'mean' else grad._data
        g = np.asarray(s * 2 * diff)
        return _wrap(g), (_wrap(-g) if target_grad else None)
    diff = input - target
    g = _loss_scale(grad, reduction, diff.numel()) * 2 * diff
    return g, (-g if target_grad else None)


@autocast('fp32')
def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    reduction = _regression_reduction(input, target, size_average, reduce, reduction, weight)
    if weight is not None:
        return _weighted((input - target).pow(2), weight, reduction)
    reduction = _check_reduction(reduction)
    x, t = _float_operands(input, target)
    diff = x - t
    out = _reduce_np(np.square(diff), reduction)
    return _record(MseLossBackward0, out, (input, target), input=input, target=target,
                   reduction=reduction, target_grad=_needs_grad(target))


@derivative
def SmoothL1LossBackward0(grad, input, target, reduction, beta, target_grad):
    diff = input - target
    g = (diff / beta).clamp(-1, 1) * _loss_scale(grad, reduction, diff.numel())
    return g, (-g if target_grad else None)


@autocast('fp32')
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    reduction = _check_reduction(
        _regression_reduction(input, target, size_average, reduce, reduction))
    if beta == 0.0:
        return _reduce((input - target).abs(), reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, t = _float_operands(input, target)
    z = np.abs(x - t)
    loss = np.where(z < beta, (0.5 * z * z) / beta, z - 0.5 * beta).astype(z.dtype, copy=False)
    return _record(SmoothL1LossBackward0, _reduce_np(loss, reduction), (input, target),
                   input=input, target=target, reduction=reduction, beta=beta,
                   target_grad=_needs_grad(target))


@derivative
def HuberLossBackward0(grad, input, target, reduction, delta, target_grad):
    diff = input - target
    g = diff.clamp(-delta, delta) * _loss_scale(grad, reduction, diff.numel())
    return g, (-g if target_grad else None)


@autocast('fp32')
def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    _regression_reduction(input, target, None, None, reduction, weight)
    if weight is not None:
        return _weighted(huber_loss(input, target, 'none', delta), weight, reduction)
    reduction = _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, t = _float_operands(input, target)
    z = np.abs(x - t)
    loss = np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)).astype(z.dtype,
                                                                             copy=False)
    return _record(HuberLossBackward0, _reduce_np(loss, reduction), (input, target),
                   input=input, target=target, reduction=reduction, delta=delta,
                   target_grad=_needs_grad(target))


@autocast('fp32')
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction='mean'):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + stirling.masked_fill(t <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(reduction + " is not valid")
    # clamped without recording: torch clamps under no_grad, so the gradient passes through
    var = var.clone()
    np.maximum(var._data, eps, out=var._data)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@autocast('fp32')
def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == 'mean':
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    red = 'sum' if reduction == 'batchmean' else _check_reduction(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    out = _reduce(loss, red)
    if reduction == 'batchmean' and input.ndim != 0:
        out = out / input.shape[0]
    return out


# ---- classification: nll / cross-entropy -----------------------------------------------------

def _check_target_dtype(target):
    k = target._data.dtype
    if k != np.int64 and k != np.uint8:
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{_legacy(k)}")


def _nll_prepare(input, target, weight, ignore_index):
    """Validate shapes; return (logp as (M, C) view, flat target with ignored ones at 0, flat
    weights (0 where ignored), C, the mask of targets kept or None when all are)."""
    x = input._data
    t = target._data
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim == 1:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if t.ndim == 1 and t.shape[0] != 1:
            raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: "
                               f"{list(t.shape)}")
        _check_target_dtype(target)
        C = x.shape[0]
        x2 = x.reshape(1, C)
    elif x.ndim == 2:
        if t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if x.shape[0] != t.shape[0]:
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                             f"batch_size ({t.shape[0]}).")
        _check_target_dtype(target)
        C = x.shape[1]
        x2 = x
    else:
        if t.ndim != x.ndim - 1 or t.shape[0] != x.shape[0] or t.shape[1:] != x.shape[2:]:
            if t.shape[:1] != x.shape[:1]:
                raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target "
                                 f"batch_size ({t.shape[0] if t.ndim else 1}).")
            raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: "
                               f"{list(t.shape)}")
        _check_target_dtype(target)
        C = x.shape[1]
        x2 = np.moveaxis(x, 1, -1).reshape(-1, C)
    tf = t.reshape(-1).astype(np.int64, copy=False)
    w = None if weight is None else weight._data
    if w is not None and (w.ndim != 1 or w.shape[0] != C):
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes "
                           f"or no classes but got weight tensor of shape: {list(w.shape)}")
    if tf.size and not 0 <= ignore_index < C and 0 <= tf.min() and tf.max() < C:
        # every target a class (the usual batch): none ignored, nothing to check or mask
        keep = None
        safe = tf.copy()        # (saved for the backward: not a view of the target's data)
        wf = np.ones(tf.shape, x.dtype) if w is None else w[safe].astype(x.dtype, copy=False)
    else:
        keep = tf != ignore_index
        bad = keep & ((tf < 0) | (tf >= C))
        if bad.any():
            raise IndexError(f"Target {int(tf[bad][0])} is out of bounds.")
        safe = np.where(keep, tf, 0)
        wf = keep.astype(x.dtype) if w is None else \
            np.where(keep, w[safe], 0).astype(x.dtype, copy=False)
    return x2, safe, wf, C, keep


_CASCADE_LEVELS = 8
# the compiled order: 4 us for a batch of 64 where the NumPy levels take 55
_CASCADE_KERNELS = {np.dtype(np.float32): 'ember_cascade_sum_f32',
                    np.dtype(np.float64): 'ember_cascade_sum_f64'}
for _name in _CASCADE_KERNELS.values():
    _kernels.declare(_name, None, 'i64', 'p', 'p', 'i64', 'p')


def _segment_sums(vals, ends):
    """Sequential (left-to-right, in vals' dtype) sums of vals[prev_end+1 : end+1] per end,
    and of the tail after the last end."""
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    lengths = ends + 1 - starts
    tail = vals[ends[-1] + 1:] if ends.size else vals
    tail_sum = np.cumsum(tail)[-1] if tail.size else vals.dtype.type(0)
    if not ends.size:
        return np.zeros(0, vals.dtype), tail_sum
    width = int(lengths.max())
    if ends.size * width <= 4 * vals.size + 4096:
        # pad each segment with zeros on the right (x + 0 is exact) and cumsum along rows:
        # np.cumsum adds sequentially, unlike np.sum's pairwise order
        cols = np.arange(width)
        idx = starts[:, None] + cols
        block = np.where(cols < lengths[:, None], vals[np.minimum(idx, vals.size - 1)], 0)
        sums = np.cumsum(block.astype(vals.dtype, copy=False), axis=1)[:, -1]
    else:  # very uneven segments: one cumsum each
        sums = np.array([np.cumsum(vals[a:b + 1])[-1] for a, b in zip(starts, ends)],
                        dtype=vals.dtype)
    return sums, tail_sum


def _cascade_levels(seq, heights, k, zero):
    """The last k levels of the cascade, value by value: seq enters the first of them, each
    value then flushing `heights` levels up; their final partial sums."""
    acc = [zero] * k
    for v, h in zip(seq, heights.tolist()):
        acc[0] = acc[0] + v             # NumPy scalars of vals' dtype: its rounding
        for j in range(h):
            acc[j + 1] = acc[j + 1] + acc[j]
            acc[j] = zero
    return acc


def _cascade_sum(vals, index, n):
    """The sum torch's CPU nll_loss kernel computes, rounding for rounding.

    The kernel adds element after element into level 0 of 8 partial sums; after element b
    (b counts all n targets, ignored ones included, but ignored ones never flush) level j is
    added into level j + 1 and cleared while the j-th group of `level_power` bits of b is zero.
    The result is the left-to-right sum of the 8 partials. Reproducing that order (rather than
    NumPy's pairwise sum) makes the printed losses agree to the last bit.
    """
    dt = vals.dtype.type
    level_power = max(4, int(math.ceil(math.log2(n))) // _CASCADE_LEVELS if n > 1 else 0)
    kernel = _kernels.get(_CASCADE_KERNELS[vals.dtype]) if vals.dtype in _CASCADE_KERNELS \
        else None
    if kernel is not None:      # the same order, one element at a time (src/loss.c)
        vals = np.ascontiguousarray(vals)
        index = np.ascontiguousarray(index, dtype=np.int64)
        out = np.empty((), vals.dtype)
        kernel(vals.size, _kernels.addr(vals), _kernels.addr(index), level_power,
               _kernels.addr(out))
        return out
    # how many levels each element flushes: the trailing all-zero bit groups of its index
    low = index & -index
    tz = np.where(index == 0, 64, np.log2(np.maximum(low, 1)).astype(np.int64))
    heights = np.minimum(_CASCADE_LEVELS - 1, tz // level_power)
    partial = []
    seq = vals
    for level in range(_CASCADE_LEVELS - 1):
        if seq.size <= 32:      # a few values left (a batch of 64: from level 1): one by one
            partial.extend(_cascade_levels(seq, heights, _CASCADE_LEVELS - level, dt(0)))
            break
        ends = np.flatnonzero(heights >= 1)
        sums, tail = _segment_sums(seq, ends)
        partial.append(tail)
        seq, heights = sums, heights[ends] - 1
    else:
        partial.append(np.cumsum(seq)[-1] if seq.size else dt(0))
    out = dt(0)
    for p in partial:
        out = dt(out + p)
    return np.asarray(out)


@derivative
def NllLossBackward0(grad, shape, safe, wf, reduction, total):
    # computed in NumPy: the result is linear in grad and constant in the input. Under
    # create_graph=True it is recorded as a node whose own gradient gathers back the picked
    # entries, so the loss can be differentiated again with respect to grad.
    g = grad._data
    if reduction == 'none':
        coef = -wf * g.reshape(-1)
    else:
        coef = -wf * (g / total if reduction == 'mean' else g)
    C = shape[0] if len(shape) == 1 else shape[1]
    gi = np.zeros((safe.shape[0], C), dtype=g.dtype)
    gi[np.arange(safe.shape[0]), safe] = coef
    if len(shape) > 2:
        gi = np.moveaxis(gi.reshape((shape[0],) + tuple(shape[2:]) + (C,)), -1, 1)
    return _record(NllLossBackwardBackward0, gi.reshape(shape), (grad,), gshape=g.shape,
                   safe=safe, wf=wf, reduction=reduction, total=total)


@derivative
def NllLossBackwardBackward0(grad, gshape, safe, wf, reduction, total):
    # the adjoint of the scatter above: the weighted entries at the targets, reduced as the
    # loss was; its own gradient is NllLossBackward0 again (so any order works)
    g = grad._data
    shape = g.shape
    C = shape[0] if len(shape) == 1 else shape[1]
    g2 = g.reshape(1, C) if g.ndim == 1 else (g if g.ndim == 2 else
                                              np.moveaxis(g, 1, -1).reshape(-1, C))
    picked = -wf * g2[np.arange(safe.shape[0]), safe]
    if reduction == 'none':
        out = picked.reshape(gshape)
    else:
        out = picked.sum()
        if reduction == 'mean':
            out = out / total
        out = np.asarray(out, dtype=g.dtype).reshape(gshape)
    return _record(NllLossBackward0, out, (grad,), shape=shape, safe=safe, wf=wf,
                   reduction=reduction, total=total)


@autocast('fp32')
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    x2, safe, wf, C, keep = _nll_prepare(input, target, weight, ignore_index)
    rows = np.arange(x2.shape[0])
    picked = x2[rows, safe]
    losses = -(wf * picked)
    if reduction == 'none':
        out = losses.reshape(target._data.shape) if input.ndim != 1 else losses.reshape(())
        total = None
    else:
        valid = rows if keep is None else np.flatnonzero(keep)
        kept = losses if keep is None else losses[valid]
        s = _cascade_sum(kept, valid, losses.size)
        if weight is None:
            total = np.asarray(valid.size, dtype=x2.dtype)
        else:
            total = _cascade_sum(wf if keep is None else wf[valid], valid, losses.size)
        # all ignored: 0 / 0, nan as torch, without a warning
        out = np.asarray(_quiet(np.divide, s, total) if reduction == 'mean' else s,
                         dtype=x2.dtype)
    return _record(NllLossBackward0, out, (input,), shape=input._data.shape, safe=safe,
                   wf=wf, reduction=reduction, total=total)


@autocast('fp32')
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction='mean', label_smoothing=0.0):
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")
    class_dim = 0 if input.ndim == 1 else 1
    logp = input.log_softmax(class_dim)
    C = input.shape[class_dim]
    wshape = [1] * input.ndim
    wshape[class_dim] = C
    if target.shape == input.shape:  # class probabilities
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {_legacy(target._data.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        tgt = target
        if label_smoothing > 0.0:
            tgt = target * (1 - label_smoothing) + label_smoothing / C
        prod = logp * tgt if weight is None else logp * weight.reshape(wshape) * tgt
        if reduction == 'mean':
            n = input.numel()
            if n == 0:
                return -(prod.sum() * float('nan'))
            return -prod.sum() / (n // C)
        if reduction == 'sum':
            return -prod.sum()
        return -prod.sum(class_dim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0.0:
        return nll
    ignore = target == ignore_index
    if weight is not None:
        smooth = -(logp * weight.reshape(wshape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == 'mean':
        if weight is not None:
            keep = ~ignore._data
            denom = float(weight._data[target._data[keep]].sum())
            ret = smooth.sum() / denom
        else:
            ret = smooth.sum() / int((~ignore._data).sum())
    elif reduction == 'sum':
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / C)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction='mean', ignore_index=None, label_smoothing=0.0, options=None):
    """The logits of a linear layer fed to cross_entropy (torch's chunked path is only a memory
    optimisation of the same value, so `options` does not change the result here)."""
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batch = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions "
                           f"(in_features), got {input.shape[-1]} and "
                           f"{linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    logits_shape = (*batch, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if out_features:
        k = math.prod(out_features) * num_classes
        linear_weight = linear_weight.reshape(k, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(k)
    logits = input.matmul(linear_weight.t())
    if linear_bias is not None:
        logits = logits + linear_bias
    logits = logits.reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)


# ---- binary cross-entropies -------------------------------------------------------------------

@derivative
def BinaryCrossEntropyBackward0(grad, input, target, weight, reduction, target_grad):
    g = _loss_scale(grad, reduction, input.numel())
    if weight is not None:
        g = g * weight
    g_in = g * (input - target) / ((1 - input) * input).clamp_min(1e-12)
    g_t = g * ((-input).log1p() - input.log()) if target_grad else None
    return g_in, g_t


@autocast('fp32')
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the "
                         f"input size ({input.shape}) is deprecated. Please ensure they have "
                         "the same size.")
    _not_differentiable('binary_cross_entropy', 'weight', weight)
    x, t = input._data, target._data
    if t.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_legacy(t.dtype)} but expected {_legacy(x.dtype)}")
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide='ignore'):
        # torch clamps each log at -100 so that a confident mistake stays finite
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    w = None
    if weight is not None:
        w = np.broadcast_to(weight._data, np.broadcast_shapes(t.shape, weight._data.shape))
        loss = loss * w
    loss = loss.astype(x.dtype, copy=False)
    return _record(BinaryCrossEntropyBackward0, _reduce_np(loss, reduction), (input, target),
                   input=input, target=target, weight=weight, reduction=reduction,
                   target_grad=_needs_grad(target))


@derivative
def BinaryCrossEntropyWithLogitsBackward0(grad, input, target, weight, pos_weight, reduction):
    # (torch has no gradient for weight and pos_weight either: the op refuses them)
    g = _loss_scale(grad, reduction, input.numel())
    if weight is not None:
        g = g * weight
    sig = input.sigmoid()
    if pos_weight is not None:
        pt = pos_weight * target
        g_in = ((pt + 1 - target) * sig - pt) * g
    else:
        g_in = (sig - target) * g
    g_t = None
    if target.requires_grad:
        g_t = (-input - (pos_weight - 1) * _log_sigmoid(input) if pos_weight is not None
               else -input) * g
    return g_in, g_t


@autocast('fp32')
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction='mean', pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _not_differentiable('binary_cross_entropy_with_logits', 'weight', weight)
    _not_differentiable('binary_cross_entropy_with_logits', 'pos_weight', pos_weight)
    x, t = input._data, target._data
    if t.dtype.kind in 'biu':
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_legacy(t.dtype)}")
    if t.dtype != x.dtype:
        t = t.astype(np.result_type(x.dtype, t.dtype))
        x = x.astype(t.dtype, copy=False)
    log_sig = _np_log_sigmoid(x)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight._data - 1) * t + 1)
    loss = (1 - t) * x - log_sig
    if weight is not None:
        loss = loss * weight._data
    loss = loss.astype(x.dtype, copy=False)
    return _record(BinaryCrossEntropyWithLogitsBackward0, _reduce_np(loss, reduction),
                   (input, target), input=input, target=target, weight=weight,
                   pos_weight=pos_weight, reduction=reduction)


def _np_log_sigmoid(x):
    # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): never overflows
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


@derivative('LogSigmoidBackward0')
def _log_sigmoid_backward(grad, x):
    return grad * (-x).sigmoid()


def _log_sigmoid(x):
    """log(sigmoid(x)) as a recorded op (multilabel_soft_margin_loss builds on it)."""
    return _record(_log_sigmoid_backward, _np_log_sigmoid(x._data), (x,), x=x)


# ---- margin losses ----------------------------------------------------------------------------

@autocast('fp32')
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@autocast('fp32')
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    margin_clamp = (margin - input).clamp_min(0)
    # torch's where(cond, x, zeros): masked_fill gives the same values and gradients
    out = margin_clamp.masked_fill(target == 1, 0) + input.masked_fill(target == -1, 0)
    return _reduce(out, reduction)


@derivative
def SoftMarginLossBackward0(grad, input, target, reduction):
    s = (-input * target).sigmoid() * _loss_scale(grad, reduction, (input * target).numel())
    return -target * s, (-input * s if target.requires_grad else None)


@autocast('fp32')
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    _not_differentiable('soft_margin_loss', 'target', target)
    x, t = _float_operands(input, target)
    z = -x * t
    # log(1 + exp(z)) written so that it never overflows
    loss = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))).astype(x.dtype, copy=False)
    return _record(SoftMarginLossBackward0, _reduce_np(loss, reduction), (input, target),
                   input=input, target=target, reduction=reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction='mean'):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    C = input.shape[class_dim]
    loss = loss.sum(dim=class_dim) / C
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def _per_row_scale(grad, reduction, m):
    g = grad._data
    if reduction == 'none':
        return g.reshape(-1, 1)
    return g / m if reduction == 'mean' else g


def _times_row_scale(coef, grad, reduction, shape):
    """coef (M, C) times each row's upstream gradient, as the input's gradient. Under
    create_graph=True with recorded ops (the result is linear in grad), else in NumPy."""
    m = coef.shape[0]
    if not _State.enabled:
        return _wrap((coef * _per_row_scale(grad, reduction, m)).reshape(shape))
    g = grad.reshape(-1, 1) if reduction == 'none' else (grad / m if reduction == 'mean'
                                                         else grad)
    return (g * _wrap(coef)).reshape(shape)


@derivative
def MultilabelMarginLossBackward0(grad, shape, ys, active, reduction):
    M, K, C = active.shape
    a = active.astype(grad._data.dtype) / C
    gi = a.sum(axis=1)
    np.add.at(gi, (np.broadcast_to(np.arange(M)[:, None], ys.shape), ys), -a.sum(axis=2))
    return _times_row_scale(gi, grad, reduction, shape)


@autocast('fp32')
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    x, y = input._data, target._data
    if x.ndim > 2 or (x.ndim == 2 and x.shape[0] == 0 and False):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(x.shape)}")
    if y.shape != x.shape:
        raise RuntimeError(f"inconsistent target size: {list(y.shape)} for input of size: "
                           f"{list(x.shape)}")
    if y.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_legacy(y.dtype)}")
    C = x.shape[-1] if x.ndim else 1
    x2 = x.reshape(-1, C)
    y2 = y.reshape(-1, C)
    if ((y2 < -1) | (y2 >= C)).any():
        raise RuntimeError("multilabel_margin_loss: target values should be in [-1, C)")
    # the targets of a row are its entries before the first -1
    valid = np.cumprod(y2 >= 0, axis=1).astype(bool)
    ys = np.where(valid, y2, 0)
    rows = np.arange(x2.shape[0])[:, None]
    is_target = np.zeros(x2.shape, dtype=bool)
    is_target[np.broadcast_to(rows, ys.shape)[valid], ys[valid]] = True
    xt = x2[rows, ys]                                  # (M, K): score of each target
    margin = 1 - xt[:, :, None] + x2[:, None, :]       # (M, K, C)
    active = (margin > 0) & valid[:, :, None] & ~is_target[:, None, :]
    loss = (np.where(active, margin, 0).sum(axis=(1, 2)) / C).astype(x.dtype, copy=False)
    if x.ndim < 2:
        loss = loss.reshape(())
    out = _reduce_np(loss, reduction)
    return _record(MultilabelMarginLossBackward0, out, (input,), shape=x.shape, ys=ys,
                   active=active, reduction=reduction)


@derivative
def MultiMarginLossBackward0(grad, shape, y, z, active, wy, p, reduction):
    M, C = z.shape
    h = np.where(active, 1.0 if p == 1 else 2 * z, 0).astype(z.dtype, copy=False) / C
    if wy is not None:
        h = h * wy
    rows = np.arange(M)
    h[rows, y] = -h.sum(axis=1)
    return _times_row_scale(h, grad, reduction, shape)


@autocast('fp32')
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, y = input._data, target._data
    if x.ndim > 2:
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(x.shape)}")
    C = x.shape[-1] if x.ndim else 1
    x2 = x.reshape(-1, C)
    y2 = y.reshape(-1)
    if y2.shape[0] != x2.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {x2.shape[0]} but got "
                           f"{list(y.shape)}")
    if ((y2 < 0) | (y2 >= C)).any():
        raise RuntimeError("target out of range")
    rows = np.arange(x2.shape[0])
    z = margin - x2[rows, y2][:, None] + x2            # (M, C)
    active = z > 0
    active[rows, y2] = False
    h = np.where(active, z if p == 1 else z * z, 0)
    wy = None
    if weight is not None:
        wy = weight._data[y2][:, None].astype(x.dtype, copy=False)
        h = h * wy
    loss = (h.sum(axis=1) / C).astype(x.dtype, copy=False)
    if x.ndim < 2 and reduction == 'none':
        loss = loss.reshape(())
    out = _reduce_np(loss, reduction)
    return _record(MultiMarginLossBackward0, out, (input,), shape=x.shape, y=y2, z=z,
                   active=active, wy=wy, p=p, reduction=reduction)


@autocast('fp32')
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    d1, d2, dt = input1.ndim, input2.ndim, target.ndim
    if dt == 1 and (d1 != 2 or d2 != 2) or dt == 0 and (d1 != 1 or d2 != 1) or dt > 1:
        raise RuntimeError(f"{d1}D target tensor expects {dt + 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}."
                           if dt <= 1 else "0D or 1D target tensor expected, multi-target not "
                           "supported")
    dim = 1 if d1 == 2 else 0
    eps = 1e-12
    prod_sum = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod_sum / (mag1 * mag2).sqrt()
    out = (1 - cos).masked_fill(target != 1, 0) + \
        (cos - margin).clamp_min(0).masked_fill(target != -1, 0)
    return _reduce(out, reduction)


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return vector_norm(x1 - x2 + eps, p, -1, keepdim)


def _triplet(anchor, positive, negative, dist, margin, swap, reduction):
    """max(margin + d(a, p) - d(a, n), 0), with d(p, n) standing in for d(a, n) when smaller
    and swap is set."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pd, nd = anchor.ndim, positive.ndim, negative.ndim
    if not (a == pd == nd):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a}D, positive {pd}D, and negative {nd}D inputs")
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = minimum(dist_neg, dist(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


@autocast('fp32')
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction='mean'):
    reduction = _reduction(size_average, reduce, reduction)
    return _triplet(anchor, positive, negative, lambda x, y: _pairwise_distance(x, y, p, eps),
                    margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction='mean'):
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    dist = distance_function if distance_function is not None else _pairwise_distance
    return _triplet(anchor, positive, negative, dist, margin, swap, reduction)


# ---- CTC --------------------------------------------------------------------------------------

def _lse(*terms):
    """Elementwise log-sum-exp of a few arrays, -inf safe."""
    m = terms[0]
    for t in terms[1:]:
        m = np.maximum(m, t)
    safe = np.where(np.isfinite(m), m, 0)
    s = 0
    for t in terms:
        s = s + np.exp(t - safe)
    with np.errstate(divide='ignore'):
        return np.log(s) + safe


@autocast('fp32')
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
             zero_infinity=False):
    reduction = _check_reduction(reduction)
    lp = log_probs._data
    unbatched = lp.ndim == 2
    tg = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    il = np.asarray(input_lengths._data if isinstance(input_lengths, Tensor) else input_lengths,
                    dtype=np.int64).reshape(-1)
    tl = np.asarray(target_lengths._data if isinstance(target_lengths, Tensor)
                    else target_lengths, dtype=np.int64).reshape(-1)
    if unbatched:
        lp = lp[:, None, :]
        tg = tg.reshape(1, -1) if tg.ndim == 1 else tg
    T, N, C = lp.shape
    if il.shape[0] != N or tl.shape[0] != N:
        raise RuntimeError(f"input_lengths must be of size batch_size, but got {il.shape[0]}"
                           if il.shape[0] != N else
                           f"target_lengths must be of size batch_size, but got {tl.shape[0]}")
    if (il > T).any():
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(il.max())} (while checking arguments for ctc_loss_cpu)")
    L = int(tl.max()) if N else 0
    labels = np.zeros((N, max(L, 1)), dtype=np.int64)
    if tg.ndim == 2:
        if tg.shape[1] < L:
            raise RuntimeError(f"Expected tensor to have size at least {L} at dimension 1, but "
                               f"got size {tg.shape[1]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss_cpu)")
        if L:
            labels[:, :L] = tg[:, :L]
    else:  # concatenated targets
        offsets = np.concatenate([[0], np.cumsum(tl)[:-1]])
        for n in range(N):  # one slice per sequence, not per element
            labels[n, :tl[n]] = tg[offsets[n]:offsets[n] + tl[n]]
    S = 2 * max(L, 1) + 1
    ext = np.full((N, S), blank, dtype=np.int64)       # l': blanks around every label
    ext[:, 1::2] = labels
    pos = np.arange(S)
    valid_s = pos[None, :] < (2 * tl + 1)[:, None]
    # a skip from s-2 is allowed between two different non-blank labels
    skip = np.zeros((N, S), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    nrange = np.arange(N)[:, None]
    neg_inf = np.array(-np.inf, dtype=lp.dtype)
    lpe = lp[:, nrange, ext]                           # (T, N, S): lp of each l' symbol
    alpha = np.full((T, N, S), -np.inf, dtype=lp.dtype)
    if T:
        alpha[0, :, 0] = lpe[0, :, 0]
        alpha[0, :, 1] = np.where(tl > 0, lpe[0, :, 1], -np.inf)
        alpha[0] = np.where(valid_s & (il > 0)[:, None], alpha[0], -np.inf)
    for t in range(1, T):
        a = alpha[t - 1]
        s1 = np.concatenate([np.full((N, 1), neg_inf), a[:, :-1]], axis=1)
        s2 = np.concatenate([np.full((N, 2), neg_inf), a[:, :-2]], axis=1)
        s2 = np.where(skip, s2, -np.inf)
        new = _lse(a, s1, s2) + lpe[t]
        alpha[t] = np.where(valid_s & (t < il)[:, None], new, a)
    last = np.maximum(il - 1, 0)
    a_end = alpha[last, np.arange(N)]                  # (N, S)
    e1 = a_end[np.arange(N), 2 * tl]
    e2 = np.where(tl > 0, a_end[np.arange(N), np.maximum(2 * tl - 1, 0)], -np.inf)
    nll = -_lse(e1, e2)
    nll = np.where(il > 0, nll, np.where(tl == 0, 0.0, np.inf)).astype(lp.dtype)
    res = _record(CtcLossBackward0, nll, (log_probs,), log_probs=log_probs, lp=lp, lpe=lpe,
                  ext=ext, skip=skip,
                  valid_s=valid_s, alpha=alpha, nll=nll, il=il, tl=tl,
                  zero_infinity=zero_infinity, unbatched=unbatched)
    if zero_infinity:
        res = res.masked_fill(res == float('inf'), 0)
    if reduction == 'mean':
        tlt = _tensor_ctor(np.maximum(tl, 1).astype(lp.dtype))
        return (res / tlt).mean()
    if reduction == 'sum':
        return res.sum()
    return res.squeeze(0) if unbatched else res


@derivative
def CtcLossBackward0(grad, log_probs, lp, lpe, ext, skip, valid_s, alpha, nll, il, tl,
                     zero_infinity, unbatched):
    """d nll / d log_probs with torch's formula (which assumes normalised log_probs)."""
    g = _ctc_grad(grad, lp, lpe, ext, skip, valid_s, alpha, nll, il, tl, zero_infinity,
                  unbatched)
    if not _State.enabled:
        return g
    # torch differentiates ctc_loss once only: a second pass raises, as there
    return _first_order_only((g,), _ctc_backward_backward, grad, log_probs)[0]


@derivative('CtcLossBackwardBackward0')
def _ctc_backward_backward(grad):
    raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


def _ctc_grad(grad, lp, lpe, ext, skip, valid_s, alpha, nll, il, tl, zero_infinity, unbatched):
    T, N, C = lp.shape
    S = ext.shape[1]
    beta = np.full((T, N, S), -np.inf, dtype=lp.dtype)
    ar = np.arange(N)
    end_a = 2 * tl
    end_b = np.maximum(2 * tl - 1, 0)
    # skips into s come from s+2 when l'(s+2) may follow l'(s) directly
    skip_next = np.zeros((N, S), dtype=bool)
    skip_next[:, :-2] = skip[:, 2:]
    b = np.full((N, S), -np.inf, dtype=lp.dtype)
    for t in range(T - 1, -1, -1):
        s1 = np.concatenate([b[:, 1:], np.full((N, 1), -np.inf, dtype=lp.dtype)], axis=1)
        s2 = np.concatenate([b[:, 2:], np.full((N, 2), -np.inf, dtype=lp.dtype)], axis=1)
        s2 = np.where(skip_next, s2, -np.inf)
        new = np.where(valid_s, _lse(b, s1, s2) + lpe[t], -np.inf)
        start = np.full((N, S), -np.inf, dtype=lp.dtype)
        start[ar, end_a] = lpe[t, ar, end_a]
        start[ar, end_b] = np.where(tl > 0, lpe[t, ar, end_b], start[ar, end_b])
        is_last = (t == il - 1)[:, None]
        b = np.where(is_last, start, np.where((t < il - 1)[:, None], new, -np.inf))
        beta[t] = b
    ab = alpha + beta                                  # (T, N, S)
    m = ab.max(axis=2, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    onehot = np.zeros((N, S, C), dtype=lp.dtype)
    onehot[ar[:, None], np.arange(S)[None, :], ext] = 1
    acc = np.einsum('tns,nsc->tnc', np.exp(ab - m), onehot)
    with np.errstate(divide='ignore', over='ignore', invalid='ignore'):
        lcab = np.log(acc) + m
        g = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
    g = np.where((np.arange(T)[:, None] < il[None, :])[:, :, None], g, 0)
    if zero_infinity:
        g = np.where(np.isinf(nll)[None, :, None], 0, g)
    gr = grad._data.reshape(1, N, 1) if grad._data.ndim else grad._data
    g = (g * gr).astype(lp.dtype, copy=False)
    return _wrap(g[:, 0, :] if unbatched else g)
