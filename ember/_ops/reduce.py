"""Reductions: sum, mean, max/min, var/std, logsumexp, cumulative ops, softmax."""
import builtins as _builtins
import functools
import math

import numpy as np

from .. import _dtype, _kernels
from .._threads import _threads, map_rows
from .._tensor import Tensor, _wrap, _wrap_dim, _view_of, tensor_op
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, _record_outputs, _RESULT, derivative
from ._util import (_arr, _dims, _out, _legacy, _quiet, _np_compat, _nograph, _keep,
                    _unreduce, _zeros_like_shape, _embed_slice, _rebase_inplace)
from .elementwise import _FLOAT_SUFFIX, maximum, minimum
from .shape import cat
from ._autocast import autocast

__all__ = ['sum', 'mean', 'nansum', 'nanmean', 'prod', 'max', 'min', 'amax', 'amin', 'aminmax',
           'argmax', 'argmin', 'std', 'var', 'std_mean', 'var_mean', 'logsumexp', 'cumsum',
           'cumprod', 'cummax', 'cummin', 'logcumsumexp', 'all', 'any', 'count_nonzero',
           'softmax', 'log_softmax', 'median', 'nanmedian', 'mode', 'norm', 'dist']


def _return_type(name, fields=('values', 'indices')):
    """torch.return_types.<name>: a named tuple printed as torch prints it (one class a name,
    however the fields are passed: `ember.return_types` hands out the same classes)."""
    return _return_type_class(name, tuple(fields))


@functools.cache
def _return_type_class(name, fields):
    attrs = {'_name': name, '_fields': fields, '__slots__': ()}
    for i, f in enumerate(fields):
        attrs[f] = property(lambda self, i=i: self[i])

    def __new__(cls, *vals):
        return tuple.__new__(cls, vals)

    def __repr__(self):
        body = ',\n'.join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"torch.return_types.{self._name}(\n{body})"
    attrs['__new__'] = __new__
    attrs['__repr__'] = __repr__
    return type(name, (tuple,), attrs)


def _sum_dtype(d, dtype):
    if dtype is not None:
        return _dtype.to_numpy(dtype)
    if d.dtype.kind in 'biu':
        return np.dtype(np.int64)
    return d.dtype


_add_reduce = np.add.reduce

# The sum of all of a contiguous float array: NumPy's pairwise sum in C, called through
# _kernels.float_op (0.3 us where np.add.reduce takes 1.4), with its top halves on the kernels'
# threads from 32K elements (src/reduce.c: NumPy's bits, split or not), as torch splits its
# reductions


def _sum_all(d, rd):
    """np.add.reduce(d, None, rd) as a 0-d array."""
    fop = _kernels.float_op
    r = None if fop is None or rd is not d.dtype else fop(_kernels.FLOAT_SUM, None, d)
    # (quiet: torch's sum overflows to inf without a warning, NumPy's reduce warns)
    return _arr(_quiet(_add_reduce, d, None, rd)) if r is None else r


def _sum_backward(grad, shape, axes, keepdim):
    if _nograph():
        r = _expanded(grad, shape, axes, keepdim)
        if r is not None:
            return r
    return _unreduce(grad, shape, axes, keepdim).expand(shape)


def _expanded(grad, shape, axes, keepdim):
    """_unreduce(grad, ...).expand(shape) in NumPy, without a graph: the same view of grad
    (stride 0 along the reduced dims, read-only where they repeat). None when grad is not
    laid out for it (the Tensor ops then do it)."""
    d = grad._data
    if type(d) is not np.ndarray or not d.flags.c_contiguous:
        return None
    n = len(shape)
    if axes is None:
        if d.ndim != n:
            d = d.reshape((1,) * n)
    elif not keepdim:
        kept = list(d.shape)
        for a in axes:
            kept.insert(a, 1)
        d = d.reshape(kept)
    if d.shape == shape:
        return _view_of(grad, d if d is not grad._data else d.view())
    if d.ndim != n:
        return None
    strides = list(d.strides)
    repeats = False
    for i, k in enumerate(d.shape):
        if k != shape[i]:
            strides[i] = 0
            repeats = repeats or shape[i] > 1
    r = np.ndarray(shape, d.dtype, buffer=d, strides=tuple(strides))
    if repeats:
        r.flags.writeable = False
    return _view_of(grad, r)


SumBackward0 = derivative('SumBackward0')(_sum_backward)
SumBackward1 = derivative('SumBackward1')(_sum_backward)  # sum.dim_IntList


@tensor_op
@_np_compat
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    d = input._data
    rd = _sum_dtype(d, dtype)
    if dim is None:
        axes = None
        # the ufunc's own reduce: np.sum adds a Python-level dispatch layer per call
        r = _sum_all(d, rd)
        if keepdim:
            r = r.reshape((1,) * d.ndim)
        op = SumBackward0
    else:  # torch's sum.dim_IntList: SumBackward1
        axes = _dims(dim, d.ndim)
        r = _arr(_quiet(_add_reduce, d, axes, rd, keepdims=keepdim))
        op = SumBackward1
    if _State.enabled and input._requires_grad:
        res = _record(op, r, (input,), shape=d.shape, axes=axes, keepdim=keepdim)
    else:
        res = _wrap(r)  # no graph: skip building _record's arguments
    return res if out is None else _out(out, res)


@derivative
def NansumBackward0(grad, self, axes, keepdim):
    return _unreduce(grad, self.shape, axes, keepdim) * ~self.isnan()


@tensor_op
@_np_compat
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    axes = None if dim is None else _dims(dim, d.ndim)
    r = _arr(np.nansum(d, axis=axes, dtype=_sum_dtype(d, dtype), keepdims=keepdim))
    return _record(NansumBackward0, r, (input,), self=input, axes=axes, keepdim=keepdim)


def _float_only(d, name):
    if d.dtype.kind not in 'fc' and d.dtype.name != 'bfloat16':
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {_legacy(d.dtype)}")


def _mean_backward(grad, shape, axes, keepdim, n):
    g = _sum_backward(grad, shape, axes, keepdim)
    if _nograph() and g._data.dtype.kind == 'f':
        return _wrap(np.true_divide(g._data, n))  # Tensor.div's arithmetic, without its parsing
    return g / n


MeanBackward0 = derivative('MeanBackward0')(_mean_backward)
MeanBackward1 = derivative('MeanBackward1')(_mean_backward)  # mean.dim


@tensor_op
@_np_compat
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_numpy(dtype))
    _float_only(d, 'mean')
    if dim is None:
        axes = None
        r = _arr(_np_mean(d, None, False, d.size) if d.size else _empty_mean(d, None, False))
        if keepdim:
            r = r.reshape((1,) * d.ndim)
        n = d.size
        op = MeanBackward0
    else:
        op = MeanBackward1
        axes = _dims(dim, d.ndim)
        n = 1
        for a in axes:
            n *= d.shape[a]
        r = _arr(_np_mean(d, axes, keepdim, n) if n else _empty_mean(d, axes, keepdim))
    if r.dtype != d.dtype:
        r = r.astype(d.dtype)
    return _out(out, _record(op, r, (input,), shape=d.shape, axes=axes, keepdim=keepdim, n=n))


def _np_mean(d, axes, keepdim, n):
    """np.mean(d, axes, keepdims=keepdim) (n: the count): its arithmetic (its sum, float32 for
    float16, divided by the count) without its Python wrapper's checks: 6 us where np.mean
    takes 9 on a 100x100 array."""
    if axes is None and not keepdim and d.dtype in _FLOAT_SUFFIX:
        # float32/64: the division in double, rounded once, as true_divide's loop for
        # (float, intp) computes it; the ufunc's own dispatch took 4 us of an 11 us mean
        return np.array(float(_sum_all(d, d.dtype)) / n, d.dtype)
    r = np.add.reduce(d, axis=axes, keepdims=keepdim,
                      dtype=np.float32 if d.dtype == np.float16 else None)
    n = np.intp(n)  # as np.mean counts: complex values divide in complex128, then round
    if r.__class__ is np.ndarray:
        r = np.true_divide(r, n, out=r, casting='unsafe')
    else:
        r = r.dtype.type(r / n)
    return r.astype(np.float16) if d.dtype == np.float16 else r


def _empty_mean(d, axes, keepdim):
    """The mean over no elements: nan, silently as torch (np.mean warns)."""
    return _quiet(np.true_divide, np.sum(d, axis=axes, keepdims=keepdim), 0).astype(d.dtype)


@tensor_op
@_np_compat
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    _float_only(d, 'nanmean')
    mask = ~input.isnan()
    return nansum(input, dim, keepdim) / mask.sum(dim, keepdim) if dim is not None else \
        nansum(input) / mask.sum()


def _prod_backward(grad, self, dim, keepdim, result):
    if dim is None:
        g = grad
        shape = self.shape
        if not (self == 0).any():
            return g * result / self
        flat = self.reshape(-1)
        return (g * _prod_others(flat, 0)).reshape(shape)
    g = _unreduce(grad, self.shape, (dim,), keepdim)
    r = _unreduce(result, self.shape, (dim,), keepdim)
    if not (self == 0).any():
        return g * r / self
    return g * _prod_others(self, dim)


def _prod_others(x, dim):
    """Product of all other elements along dim (exact with zeros): exclusive cumprods."""
    n = x.shape[dim]
    ones = x.narrow(dim, 0, 1) * 0 + 1
    left = cat([ones, x.narrow(dim, 0, n - 1).cumprod(dim)], dim) if n > 1 else ones
    rx = x.flip(dim)
    right = cat([ones, rx.narrow(dim, 0, n - 1).cumprod(dim)], dim).flip(dim) if n > 1 \
        else ones
    return left * right


ProdBackward0 = derivative('ProdBackward0')(_prod_backward)
ProdBackward1 = derivative('ProdBackward1')(_prod_backward)  # prod.dim_int


@tensor_op
@_np_compat
@autocast('fp32')
def prod(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    rd = _sum_dtype(d, dtype)
    if dim is None:
        r = _arr(_quiet(np.prod, d, dtype=rd))
        return _record(ProdBackward0, r, (input,), self=input, dim=None, keepdim=False,
                       result=_RESULT)
    ax = _wrap_dim(dim, d.ndim)
    r = _arr(_quiet(np.prod, d, axis=ax, dtype=rd, keepdims=keepdim))
    # a 0-d input has no dim to take the others along: its gradient is the full product's
    return _record(ProdBackward1, r, (input,), self=input, dim=ax if d.ndim else None,
                   keepdim=keepdim, result=_RESULT)


def _check_nonempty(d, name, dim=None):
    if d.size == 0:
        if dim is None:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        if d.shape[dim] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


# max/min/median/mode/kthvalue along a dim: the gradient goes to the selected index
def _max_dim_backward(grad, shape, dim, keepdim, indices):
    if len(shape) == 0:
        return grad
    g, idx = grad, indices
    if not keepdim:
        g, idx = g.unsqueeze(dim), idx.unsqueeze(dim)
    return _zeros_like_shape(grad, shape).scatter(dim, idx, g)


MaxBackward0 = derivative('MaxBackward0')(_max_dim_backward)
MinBackward0 = derivative('MinBackward0')(_max_dim_backward)


def _amax_all_backward(grad, self, result):
    # torch's evenly_distribute_backward: the maxima (the NaNs, when the max is NaN) share it
    x, r = self._data, result._data
    mask = np.isnan(x) if r.dtype.kind in 'fc' and np.isnan(r) else x == r
    share = grad / int(np.count_nonzero(mask))
    if _nograph():
        out = np.zeros(x.shape, share._data.dtype)
        out[mask] = share._data
        return _wrap(out)
    return _keep(share.expand(x.shape), mask)


MaxBackward1 = derivative('MaxBackward1')(_amax_all_backward)
MinBackward1 = derivative('MinBackward1')(_amax_all_backward)


def _minmax(input, dim, keepdim, out, which):
    npred, nparg = (np.max, np.argmax) if which == 'max' else (np.min, np.argmin)
    d = input._data
    if dim is None:
        if isinstance(keepdim, Tensor):  # torch.max(a, b) is maximum
            return (maximum if which == 'max' else minimum)(input, keepdim)
        if d.size == 0:
            raise RuntimeError(
                f"{which}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        r = _arr(npred(d))
        return _record(MaxBackward1 if which == 'max' else MinBackward1, r, (input,),
                       self=input, result=_RESULT)
    if isinstance(dim, Tensor):
        return (maximum if which == 'max' else minimum)(input, dim)
    ax = _wrap_dim(dim, d.ndim)
    _check_nonempty(d, which, ax)
    if d.ndim == 0:
        idx = np.zeros((), dtype=np.int64)
        vals = d.copy()
    else:
        idx = _arg_along(d, ax, nparg)
        vals = np.take_along_axis(d, idx, axis=ax)
        if not keepdim:
            idx = idx.squeeze(ax)
            vals = vals.squeeze(ax)
    indices = _wrap(_arr(idx.astype(np.int64, copy=False)))
    values = _record(MaxBackward0 if which == 'max' else MinBackward0, _arr(vals), (input,),
                     shape=d.shape, dim=ax, keepdim=keepdim, indices=indices)
    rt = _return_type(which)(values, indices)
    if out is not None:
        _out(out[0], values)
        _out(out[1], indices)
        return out
    return rt


@tensor_op
@_np_compat
def max(input, dim=None, keepdim=False, *, out=None):
    return _minmax(input, dim, keepdim, out, 'max')


@tensor_op
@_np_compat
def min(input, dim=None, keepdim=False, *, out=None):
    return _minmax(input, dim, keepdim, out, 'min')


def _check_empty_axes(d, name, dim, axes):
    """torch's errors for a min/max-like reduction (no identity) over an empty dim."""
    if d.size:
        return
    if dim is None or dim == () or dim == []:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")
    for a in axes:
        if d.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def _amax_backward(grad, self, axes, keepdim, result):
    r = _unreduce(result, self.shape, axes, keepdim)
    mask = self == r
    return _unreduce(grad, self.shape, axes, keepdim) * mask / mask.sum(axes, keepdim=True)


AmaxBackward0 = derivative('AmaxBackward0')(_amax_backward)
AminBackward0 = derivative('AminBackward0')(_amax_backward)


def _extreme(input, dim, keepdim, out, name, extreme, node):
    """amax / amin: NumPy's `extreme` over dims (all for `()`), recording `node`."""
    d = input._data
    axes = _dims(dim if dim != () else None, d.ndim)
    _check_empty_axes(d, name, dim, axes)
    r = _arr(extreme(d, axis=axes, keepdims=keepdim)) if d.ndim else d.copy()
    return _out(out, _record(node, r, (input,), self=input, axes=axes, keepdim=keepdim,
                             result=_RESULT))


@tensor_op
@_np_compat
def amax(input, dim=(), keepdim=False, *, out=None):
    return _extreme(input, dim, keepdim, out, 'amax', np.max, AmaxBackward0)


@tensor_op
@_np_compat
def amin(input, dim=(), keepdim=False, *, out=None):
    return _extreme(input, dim, keepdim, out, 'amin', np.min, AminBackward0)


@tensor_op
@_np_compat
def aminmax(input, *, dim=None, keepdim=False):
    d = input._data
    if d.size == 0 and (dim is None or d.shape[_wrap_dim(dim, d.ndim)] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    dim = dim if dim is not None else ()
    x = input.detach()
    lo, hi = amin(x, dim, keepdim)._data, amax(x, dim, keepdim)._data
    outputs = _record_outputs(AminmaxBackward0, (lo, hi), (input,), self=input,
                              axes=_dims(dim if dim != () else None, d.ndim), keepdim=keepdim)
    return _return_type('aminmax', ('min', 'max'))(*outputs)


@derivative
def AminmaxBackward0(grads, self, axes, keepdim):
    """aminmax's one node: each extreme's gradient spread over the positions that reach it."""
    g = None
    for grad, extreme in zip(grads, (np.min, np.max)):
        if grad is not None:
            d = self._data
            r = _wrap(_arr(extreme(d, axis=axes, keepdims=keepdim)) if d.ndim else d.copy())
            part = _amax_backward(grad, self, axes, keepdim, r)
            g = part if g is None else g + part
    return g


def _arg_extreme(input, dim, keepdim, which):
    """argmax/argmin: over everything (NaN counts as the extreme, as in torch) or along dim."""
    d = input._data
    if d.dtype.kind in 'cb':
        raise RuntimeError(f"{which}(): does not support "
                           f"{'complex' if d.dtype.kind == 'c' else 'bool'} input")
    nparg = np.argmax if which == 'argmax' else np.argmin
    if dim is not None:
        ax = _wrap_dim(dim, d.ndim)
        if d.ndim == 0:
            return _wrap(np.zeros((), np.int64))
        if d.shape[ax] == 0:
            raise IndexError(f"{which}(): Expected reduction dim {ax} to have non-zero size.")
        idx = _arg_along(d, ax, nparg)  # (max(dim)'s indices, without its values)
        return _wrap(idx if keepdim else idx.squeeze(ax))
    if d.size == 0:
        raise IndexError(f"{which}(): Expected reduction dim to be specified for "
                         f"input.numel() == 0.")
    r = nparg(d)
    if d.dtype.kind == 'f' and np.isnan(d).any():
        r = np.argmax(np.isnan(d).reshape(-1))
    r = np.asarray(r, dtype=np.int64)
    return _wrap(r.reshape((1,) * d.ndim) if keepdim else r)


def _arg_along(d, ax, nparg):
    """The int64 index of d's max (np.argmax) or min along ax, keeping the axis; the first NaN
    where a lane holds one (torch propagates NaN)."""
    idx = nparg(d, axis=ax, keepdims=True)
    if d.dtype.kind == 'f':
        nanmask = np.isnan(d)
        if nanmask.any():
            hasnan = nanmask.any(axis=ax, keepdims=True)
            idx = np.where(hasnan, np.argmax(nanmask, axis=ax, keepdims=True), idx)
    return idx.astype(np.int64, copy=False)


@tensor_op
@_np_compat
def argmax(input, dim=None, keepdim=False):
    return _arg_extreme(input, dim, keepdim, 'argmax')


@tensor_op
@_np_compat
def argmin(input, dim=None, keepdim=False):
    return _arg_extreme(input, dim, keepdim, 'argmin')


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_args(dim, unbiased, correction):
    # var(x, True) means unbiased=True in torch's old signature
    if isinstance(dim, bool):
        return None, dim, correction
    return dim, unbiased, correction


def _var_np(input, dim, unbiased, keepdim, correction, name):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    d = input._data
    _float_only(d, name)
    c = _correction(unbiased, correction)
    axes = None if dim is None else _dims(dim, d.ndim)
    n = d.size if axes is None else math.prod([d.shape[a] for a in axes])
    # sum of squared deviations over max(0, n - correction), as torch: n <= correction gives
    # inf (or nan when the deviations are all zero). (np.mean's and np.sum's arithmetic without
    # their wrappers: 10 of a 33 us std of 100x100)
    dev = d - _np_mean(d, axes, True, n) if d.size else d
    sq = np.square(np.abs(dev)) if d.dtype.kind == 'c' else np.square(dev)
    with np.errstate(divide='ignore', invalid='ignore'):
        r = _arr(np.divide(np.add.reduce(sq, axis=axes, keepdims=keepdim),
                           _builtins.max(0, n - c)))
    if keepdim and axes is None:
        r = r.reshape((1,) * d.ndim)
    if r.dtype != d.dtype:
        r = r.astype(d.dtype)
    return r, (axes, keepdim, c, n)


@derivative
def VarBackward0(grad, self, axes, keepdim, correction, n):
    g = _unreduce(grad, self.shape, axes, keepdim)
    mean = self.mean(axes, keepdim=True) if axes is not None else self.mean()
    return g * (2.0 / _builtins.max(n - correction, 0)) * (self - mean) if n - correction > 0 else \
        g * (self - mean) * float('inf')


@derivative
def StdBackward0(grad, self, axes, keepdim, correction, n, result):
    # d std = d var / (2 std); torch defines it as 0 where std is 0
    g = (grad / (2 * result)).masked_fill(result == 0, 0)
    return VarBackward0._formula(g, self, axes, keepdim, correction, n)


@tensor_op
@_np_compat
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    r, (axes, keepdim, c, n) = _var_np(input, dim, unbiased, keepdim, correction, 'var')
    return _out(out, _record(VarBackward0, r, (input,), self=input, axes=axes, keepdim=keepdim,
                             correction=c, n=n))


@tensor_op
@_np_compat
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    r, (axes, keepdim, c, n) = _var_np(input, dim, unbiased, keepdim, correction, 'std')
    r = np.sqrt(r, out=r)
    return _out(out, _record(StdBackward0, r, (input,), self=input, axes=axes, keepdim=keepdim,
                             correction=c, n=n, result=_RESULT))


def _plus_mean_grad(g, g_mean, self, axes, keepdim, n):
    """var_mean/std_mean: add the mean output's gradient to the first output's."""
    if g_mean is None:
        return g
    gm = _mean_backward(g_mean, self.shape, axes, keepdim, n)
    return gm if g is None else g + gm


@derivative
def VarMeanBackward0(grads, self, axes, keepdim, correction, n):
    g = None if grads[0] is None else \
        VarBackward0._formula(grads[0], self, axes, keepdim, correction, n)
    return _plus_mean_grad(g, grads[1], self, axes, keepdim, n)


@derivative
def StdMeanBackward0(grads, self, axes, keepdim, correction, n):
    g = None
    if grads[0] is not None:  # the std from self (no output saved: double backward works)
        result = var(self, axes, keepdim=keepdim, correction=correction).sqrt()
        g = StdBackward0._formula(grads[0], self, axes, keepdim, correction, n, result)
    return _plus_mean_grad(g, grads[1], self, axes, keepdim, n)


@_np_compat
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    r, (axes, kd, c, n) = _var_np(input, dim, unbiased, keepdim, correction, 'var')
    m = mean(input.detach(), dim, keepdim)._data
    return _record_outputs(VarMeanBackward0, (r, m), (input,), self=input, axes=axes,
                           keepdim=kd, correction=c, n=n)


@_np_compat
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    r, (axes, kd, c, n) = _var_np(input, dim, unbiased, keepdim, correction, 'std')
    r = np.sqrt(r, out=r)
    m = mean(input.detach(), dim, keepdim)._data
    return _record_outputs(StdMeanBackward0, (r, m), (input,), self=input, axes=axes,
                           keepdim=kd, correction=c, n=n)


@derivative
def LogsumexpBackward0(grad, self, axes, keepdim, result):
    g = _unreduce(grad, self.shape, axes, keepdim)
    r = _unreduce(result, self.shape, axes, keepdim)
    return g * (self - r).exp()


@tensor_op
@_np_compat
def logsumexp(input, dim, keepdim=False, *, out=None):
    d = input._data
    if d.dtype.kind in 'biu':
        d = d.astype(_dtype._default._np)
    if d.size and d.ndim and not keepdim and dim is not None and \
            not isinstance(dim, (int, np.integer)) and not len(dim):
        # torch reduces every dim for dim=() but then cannot write a non-empty result
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                           f"{[1] * d.ndim}")
    axes = _dims(dim, d.ndim)
    if d.size == 0:
        r = _arr(np.full(np.sum(d, axis=axes, keepdims=keepdim).shape, -np.inf, d.dtype))
    else:
        m = np.max(d, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide='ignore'):
            r = np.log(np.sum(np.exp(d - m), axis=axes, keepdims=True)) + m
        if not keepdim:
            r = r.squeeze(axes) if axes else r
        r = _arr(r.astype(d.dtype, copy=False))
    return _out(out, _record(LogsumexpBackward0, r, (input,), self=input, axes=axes,
                             keepdim=keepdim, result=_RESULT))


@derivative
def CumsumBackward0(grad, dim):
    return grad.flip(dim).cumsum(dim).flip(dim)


@tensor_op(inplace=_rebase_inplace)
@_np_compat
def cumsum(input, dim, *, dtype=None, out=None):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    rd = _sum_dtype(d, dtype)
    r = _arr(np.cumsum(d, axis=ax, dtype=rd)) if d.ndim else d.astype(rd)
    return _out(out, _record(CumsumBackward0, r, (input,), dim=ax))


@derivative
def CumprodBackward0(grad, self, dim, result):
    if self.ndim == 0 or self.shape[dim] == 1:  # as torch: the identity, even at NaN/inf
        return grad
    if not (self == 0).any():
        return (grad * result).flip(dim).cumsum(dim).flip(dim) / self
    # exact but O(n^2) along dim: rare path (inputs containing zeros)
    n = self.shape[dim]
    out = []
    for k in range(n):
        at_k = (np.arange(n) == k).reshape((n,) + (1,) * (self.ndim - dim - 1))
        xs = self.masked_fill(_wrap(at_k), 1)   # position k a constant 1 (no gradient there)
        prefix = xs.cumprod(dim)
        mask = _wrap((np.arange(n) >= k).reshape((n,) + (1,) * (self.ndim - dim - 1)))
        out.append((grad * prefix * mask).sum(dim, keepdim=True))
    return cat(out, dim)


@tensor_op(inplace=_rebase_inplace)
@_np_compat
def cumprod(input, dim, *, dtype=None, out=None):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    rd = _sum_dtype(d, dtype)
    r = _arr(_quiet(np.cumprod, d, axis=ax, dtype=rd)) if d.ndim else d.astype(rd)
    return _out(out, _record(CumprodBackward0, r, (input,), self=input, dim=ax, result=_RESULT))


def _cummax_backward(grad, shape, dim, idx):
    if len(shape) == 0:
        return grad
    return _zeros_like_shape(grad, shape).scatter_add(dim, _wrap(idx), grad)


CummaxBackward0 = derivative('CummaxBackward0')(_cummax_backward)
CumminBackward0 = derivative('CumminBackward0')(_cummax_backward)


def _cum_ext(input, dim, ufunc, rt):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    if d.ndim == 0:
        return rt(_record(CummaxBackward0, d.copy(), (input,), shape=d.shape, dim=0,
                          idx=np.zeros((), np.int64)), _wrap(np.zeros((), np.int64)))
    vals = ufunc.accumulate(d, axis=ax)
    # index of the last position where the running extreme was attained
    n = d.shape[ax]
    shape = [1] * d.ndim
    shape[ax] = n
    pos = np.broadcast_to(np.arange(n).reshape(shape), d.shape)
    hit = d == vals
    if d.dtype.kind == 'f':
        hit |= np.isnan(vals) & np.isnan(d)
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=ax).astype(np.int64)
    indices = _wrap(idx)
    values = _record(CummaxBackward0 if ufunc is np.maximum else CumminBackward0, _arr(vals),
                     (input,), shape=d.shape, dim=ax, idx=idx)
    return rt(values, indices)


@tensor_op
@_np_compat
def cummax(input, dim):
    return _cum_ext(input, dim, np.maximum, _return_type('cummax'))


@tensor_op
@_np_compat
def cummin(input, dim):
    return _cum_ext(input, dim, np.minimum, _return_type('cummin'))


@derivative
def LogcumsumexpBackward0(grad, self, dim, result):
    # d out_j / d x_i = exp(x_i - out_j) for j >= i
    e = (grad * (-result).exp()).flip(dim).cumsum(dim).flip(dim)
    return e * self.exp()


@tensor_op
@_np_compat
def logcumsumexp(input, dim):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    r = _arr(_quiet(np.logaddexp.accumulate, d, axis=ax)) if d.ndim else d.copy()
    return _record(LogcumsumexpBackward0, r, (input,), self=input, dim=ax, result=_RESULT)


def _truth(test, input, dim, keepdim, out):
    """all / any: NumPy's `test` over dims (bool; uint8 stays uint8, as torch's)."""
    d = input._data
    axes = None if dim is None else _dims(dim, d.ndim)
    r = _arr(test(d, axis=axes, keepdims=keepdim if axes is not None else False))
    if d.dtype == np.uint8:
        r = r.astype(np.uint8)
    return _out(out, _wrap(r))


@tensor_op
@_np_compat
def all(input, dim=None, keepdim=False, *, out=None):
    return _truth(np.all, input, dim, keepdim, out)


@tensor_op
@_np_compat
def any(input, dim=None, keepdim=False, *, out=None):
    return _truth(np.any, input, dim, keepdim, out)


@tensor_op
@_np_compat
def count_nonzero(input, dim=None):
    d = input._data
    axes = None if dim is None else _dims(dim, d.ndim)
    return _wrap(_arr(np.count_nonzero(d, axis=axes)).astype(np.int64))


@derivative
def SoftmaxBackward0(grad, result, dim):
    if _nograph() and result.ndim:  # no graph to build: fused in-place NumPy
        return _wrap(_softmax_backward_np(grad._data, result._data, dim))
    return result * (grad - (grad * result).sum(dim, keepdim=True))


@derivative
def LogSoftmaxBackward0(grad, result, dim):
    if _nograph() and result.ndim:
        return _wrap(_log_softmax_backward_np(grad._data, result._data, dim))
    return grad - result.exp() * grad.sum(dim, keepdim=True)


def _softmax_args(input, dim, dtype, name):
    """softmax/log_softmax's array (cast to dtype; integers refused as torch's kernels do) and
    their wrapped dim."""
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_numpy(dtype))
    if d.dtype.kind in 'biu':
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                  f"'{_legacy(d.dtype)}'")
    return d, _softmax_dim(dim, d.ndim)


@tensor_op
@_np_compat
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if input.is_nested:  # its own method (ember/nested)
        return input.softmax(dim, dtype=dtype)
    d, ax = _softmax_args(input, dim, dtype, 'softmax')
    if d.ndim == 0:
        # exp(x - x): 1, or NaN at an infinite or NaN input as torch's
        return _record(SoftmaxBackward0, _quiet(np.exp, _quiet(np.subtract, d, d)), (input,),
                       result=_RESULT, dim=0)
    return _record(SoftmaxBackward0, _softmax_np(d, ax), (input,), result=_RESULT, dim=ax)


@tensor_op
@_np_compat
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if input.is_nested:  # its own method (ember/nested)
        return input.log_softmax(dim, dtype=dtype)
    d, ax = _softmax_args(input, dim, dtype, 'log_softmax')
    if d.ndim == 0:
        return _record(LogSoftmaxBackward0, _quiet(np.subtract, d, d), (input,), result=_RESULT,
                       dim=0)
    return _record(LogSoftmaxBackward0, _quiet(_log_softmax_np, d, ax), (input,),
                   result=_RESULT, dim=ax)


def _log_softmax_np(d, ax):
    # always the row-max shift (unlike softmax): d - logsumexp(d) would cancel, error |d| eps
    if d.size == 0:
        return d.copy()
    y = _softmax_blocks_kernel('ember_log_softmax_f32', ax, d)
    if y is not None:
        return y
    s = d - np.max(d, axis=ax, keepdims=True)
    s -= np.log(_sum_keep(np.exp(s), ax))
    return s


# softmax is exp(x - c) / sum(exp(x - c)) for any shift c; torch takes c = the row max, whose
# strided row-wise reduction costs more than the exp. One whole-array max bounds every row from
# above, so c = 0 (or the global max when large) cannot overflow; a row far below c could
# underflow, which the row sums reveal (then the row-max path runs). While every row sum stays
# above _SUM_FLOOR the values lost to subnormals are below 1e-18 absolute: invisible.
_EXP_SAFE = 60.0
_SUM_FLOOR = 1e-26


_kernels.declare('ember_softmax_backward_f32', None, 'i64', 'i64', 'p', 'p', 'p')


def _softmax_kernel(name, ax, *arrays):
    """The compiled row softmax kernel `name` for float32 arrays contiguous along ax, the last
    axis, of rows of at most 1024 (in cache), else None (the NumPy code)."""
    a = arrays[0]
    if (a.dtype != np.float32 or not a.size or a.shape[-1] > 1024 or not _by_rows(*arrays, ax)
            or _builtins.any(b.dtype != np.float32 for b in arrays)):
        return None
    return _kernels.get(name)


# log_softmax and its backward along any axis of a contiguous float32 array, as (outer, n,
# inner) blocks (src/softmax.c): NumPy's float32 exp and log cost 1.3-1.9 ns per element on an
# AVX2 machine, where the kernel's own exp (kernels.h) vectorises. Rows shorter than 64 along
# the last axis (a classifier's 10 classes) and fewer than 16 columns otherwise stay NumPy's
# in arrays above _LSM_SHORT_MAX elements, whose passes then run along the whole array where
# the kernel pays a max, a sum and a log per row; except with AVX2 (NumPy's exp without
# AVX-512), where the kernel was still faster at 65536 rows of 10 (4.3 against 5.3 ms). Small
# arrays always take it: a batch of 64 rows of 10 took 6 us against NumPy's six passes' 16.
_kernels.declare('ember_log_softmax_f32', None, 'i64', 'i64', 'i64', 'i64', 'p', 'p')
_kernels.declare('ember_softmax_f32', None, 'i64', 'i64', 'i64', 'i64', 'p', 'p')
_kernels.declare('ember_log_softmax_backward_f32', None, 'i64', 'i64', 'i64', 'i64', 'p', 'p',
                 'p')
_LSM_SHORT_MAX = 1 << 15


def _softmax_blocks_kernel(name, ax, *arrays):
    """The result of the (log_)softmax kernel `name` over arrays (the input; or the gradient
    and the result), spans of outer blocks on ember's threads; None where it does not apply
    (not all C-contiguous float32 arrays of one shape, too small, no kernels)."""
    a = arrays[0]
    if not a.size or _builtins.any(b.dtype != np.float32 or not b.flags.c_contiguous or
                                   b.shape != a.shape for b in arrays):
        return None
    fn = _kernels.get(name)
    if fn is None:
        return None
    n = a.shape[ax]
    outer = math.prod(a.shape[:ax])
    inner = a.size // (outer * n)
    if (n < 64 if inner == 1 else inner < 16) and a.size > _LSM_SHORT_MAX and \
            _kernels.simd_lanes() != 8:      # (short rows: each row's own sums and log)
        return None
    out = np.empty(a.shape, np.float32)
    ptrs = [_kernels.addr(b) for b in arrays] + [_kernels.addr(out)]
    map_rows(lambda lo, hi: fn(lo, hi, n, inner, *ptrs), outer, n * inner)
    return out


def _softmax_np(d, ax):
    """softmax of an ndarray along ax, in a new array of d's dtype."""
    if _kernels.simd_lanes() == 8 or _kernels.wide(1 << 30):
        # (AVX2, or the tests' forced kernels: with AVX-512 NumPy's exp runs at 0.5 ns an
        # element and its three passes were as fast as a compiled forward)
        e = _softmax_blocks_kernel('ember_softmax_f32', ax, d)
        if e is not None:
            return e
    if d.dtype.kind == 'f' and d.dtype.itemsize >= 4 and d.size:
        top = d.max()
        if np.isfinite(top):
            if _by_rows(d, ax):
                e = _softmax_rows(d, top)
                if e is not None:
                    return e
            else:
                e = np.exp(d) if top < _EXP_SAFE else np.exp(np.subtract(d, top))
                s = _sum_keep(e, ax)
                if s.min() > _SUM_FLOOR:
                    e /= s
                    return e
    return _quiet(_softmax_shifted, d, ax)  # inf/nan rows give nan as in torch, silently


def _by_rows(*arrays):
    """Whether arrays (all of one shape) are contiguous with ax, the last arguments, their
    last axis: then they are (rows, n) matrices whose rows can go to different threads."""
    *arrays, ax = arrays
    return ax == arrays[0].ndim - 1 and _builtins.all(a.flags.c_contiguous for a in arrays)


def _softmax_rows(d, top):
    """The shifted-by-top softmax of a contiguous array along its last axis, one span of rows
    per thread (each row's values are those of the whole-array form), or None when a row sum
    underflows."""
    n = d.shape[-1]
    d2 = d.reshape(-1, n)
    e = np.empty_like(d2)

    def span(lo, hi):
        eb = e[lo:hi]
        if top < _EXP_SAFE:
            np.exp(d2[lo:hi], out=eb)
        else:
            np.exp(np.subtract(d2[lo:hi], top), out=eb)
        s = _sum_keep(eb, 1)
        if s.size and s.min() <= _SUM_FLOOR:
            return False
        eb /= s
        return True
    if not _builtins.all(map_rows(span, d2.shape[0], n)):
        return None
    return e.reshape(d.shape)


def _softmax_shifted(d, ax):
    if d.size == 0:
        return d.copy()
    e = d - np.max(d, axis=ax, keepdims=True)
    np.exp(e, out=e)
    e /= _sum_keep(e, ax)
    return e


def _sum_keep(e, ax):
    """Sum over one axis, keepdims. einsum's SIMD loop is several times faster than the
    pairwise ufunc reduce along a short contiguous last axis; long rows keep pairwise sums."""
    if ax == e.ndim - 1 and e.shape[ax] <= 1024 and e.dtype.kind == 'f':
        return np.einsum('...i->...', e)[..., None]
    return np.sum(e, axis=ax, keepdims=True)


def _softmax_backward_np(grad, result, ax):
    """result * (grad - sum(grad * result)) straight in NumPy (no graph: create_graph=False)."""
    kernel = _softmax_kernel('ember_softmax_backward_f32', ax, grad, result)
    if kernel is not None:
        n = result.shape[-1]
        g2, r2 = grad.reshape(-1, n), result.reshape(-1, n)
        out = np.empty_like(r2)
        (pg, sg), (pr, sr), (po, so) = [(_kernels.addr(a), a.strides[0]) for a in (g2, r2, out)]
        map_rows(lambda lo, hi: kernel(hi - lo, n, pg + lo * sg, pr + lo * sr, po + lo * so),
                 r2.shape[0], n)
        return out.reshape(result.shape)
    if (_by_rows(grad, result, ax) and result.shape[ax] <= 1024 and grad.dtype == result.dtype
            and result.size):
        n = result.shape[-1]
        g2, r2 = grad.reshape(-1, n), result.reshape(-1, n)
        out = np.empty_like(r2)

        def span(lo, hi):     # rows apart: the same values as the whole-array form
            gs, rs, o = g2[lo:hi], r2[lo:hi], out[lo:hi]
            np.subtract(gs, np.einsum('...i,...i->...', gs, rs)[..., None], out=o)
            o *= rs
        map_rows(span, r2.shape[0], n)
        return out.reshape(result.shape)
    if ax == result.ndim - 1 and result.shape[ax] <= 1024:
        s = np.einsum('...i,...i->...', grad, result)[..., None]
    else:
        s = np.sum(grad * result, axis=ax, keepdims=True)
    out = np.subtract(grad, s)
    out *= result
    return out


def _log_softmax_backward_np(grad, result, ax):
    """grad - exp(result) * sum(grad), in NumPy (no graph)."""
    out = _softmax_blocks_kernel('ember_log_softmax_backward_f32', ax, grad, result)
    if out is not None:
        return out
    out = np.exp(result)
    out *= _sum_keep(grad, ax)
    np.subtract(grad, out, out=out)
    return out


def _softmax_dim(dim, ndim):
    if dim is None:
        # torch's legacy implicit choice (with a warning there)
        dim = 0 if ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, ndim)


def _median_all_backward(grad, shape, idx):
    flat = _embed_slice(grad.reshape(1), (int(np.prod(shape)),), (np.array([idx]),))
    return flat.reshape(shape)


MedianBackward0 = derivative('MedianBackward0')(_median_all_backward)
NanmedianBackward0 = derivative('NanmedianBackward0')(_median_all_backward)
MedianBackward1 = derivative('MedianBackward1')(_max_dim_backward)
NanmedianBackward1 = derivative('NanmedianBackward1')(_max_dim_backward)
ModeBackward0 = derivative('ModeBackward0')(_max_dim_backward)


@tensor_op
@_np_compat
def median(input, dim=None, keepdim=False):
    d = input._data
    if dim is None:
        if d.size == 0:
            return _wrap(np.array(np.nan, dtype=d.dtype))
        flat = d.reshape(-1)
        k = (flat.size - 1) // 2
        if d.dtype.kind == 'f' and np.isnan(flat).any():
            idx = int(np.argmax(np.isnan(flat)))
        else:
            idx = int(np.argsort(flat, kind='stable')[k])
        return _record(MedianBackward0, _arr(flat[idx].copy()), (input,), shape=d.shape, idx=idx)
    return _median_dim(input, dim, keepdim, _return_type('median'), nan_first=True)


@tensor_op
@_np_compat
def nanmedian(input, dim=None, keepdim=False):
    d = input._data
    if dim is None:
        flat = d.reshape(-1)
        good = flat[~np.isnan(flat)] if d.dtype.kind == 'f' else flat
        if good.size == 0:
            return _wrap(np.array(np.nan, dtype=d.dtype))
        order = np.argsort(np.where(np.isnan(flat), np.inf, flat), kind='stable')
        idx = int(order[(good.size - 1) // 2])
        return _record(NanmedianBackward0, _arr(flat[idx].copy()), (input,), shape=d.shape,
                       idx=idx)
    return _median_dim(input, dim, keepdim, _return_type('nanmedian'), nan_first=False)


def _median_dim(input, dim, keepdim, rt, nan_first):
    op = MedianBackward1 if nan_first else NanmedianBackward1
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    if d.ndim and d.shape[ax] == 0:
        raise IndexError(f"{'median' if nan_first else 'nanmedian'}(): Expected reduction dim "
                         f"{ax} to have non-zero size.")
    if d.ndim == 0:
        return rt(_record(op, d.copy(), (input,), shape=d.shape, dim=0, keepdim=keepdim,
                          indices=_wrap(np.zeros((), np.int64))),
                  _wrap(np.zeros((), np.int64)))
    key = d
    if d.dtype.kind == 'f':
        key = np.where(np.isnan(d), np.inf, d)
    order = np.argsort(key, axis=ax, kind='stable')
    n = d.shape[ax]
    if nan_first or d.dtype.kind != 'f':
        k = np.full(tuple(s for i, s in enumerate(d.shape) if i != ax), (n - 1) // 2)
    else:
        cnt = np.sum(~np.isnan(d), axis=ax)
        k = np.where(cnt > 0, (cnt - 1) // 2, 0)
    idx = np.take_along_axis(order, np.expand_dims(k, ax), axis=ax)
    if nan_first and d.dtype.kind == 'f':
        nanmask = np.isnan(d)
        hasnan = nanmask.any(axis=ax, keepdims=True)
        idx = np.where(hasnan, np.argmax(nanmask, axis=ax, keepdims=True), idx)
    vals = np.take_along_axis(d, idx, axis=ax)
    if not keepdim:
        idx, vals = idx.squeeze(ax), vals.squeeze(ax)
    indices = _wrap(_arr(idx.astype(np.int64)))
    values = _record(op, _arr(vals), (input,), shape=d.shape, dim=ax, keepdim=keepdim,
                     indices=indices)
    return rt(values, indices)


@tensor_op
@_np_compat
def mode(input, dim=-1, keepdim=False):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    if d.ndim and d.shape[ax] == 0:
        raise IndexError(f"mode(): Expected reduction dim {ax} to have non-zero size.")
    moved = np.moveaxis(d, ax, -1)
    flat = moved.reshape(-1, moved.shape[-1]) if d.ndim else d.reshape(1, 1)
    vals = np.empty(flat.shape[0], dtype=d.dtype)
    idxs = np.empty(flat.shape[0], dtype=np.int64)
    for i, row in enumerate(flat):  # one small unique() per row: mode is rarely hot
        u, c = np.unique(row, return_counts=True)
        v = u[np.argmax(c)]
        vals[i] = v
        idxs[i] = np.nonzero(row == v)[0][-1]
    shape = moved.shape[:-1]
    vals, idxs = vals.reshape(shape), idxs.reshape(shape)
    if keepdim and d.ndim:
        vals, idxs = np.expand_dims(vals, ax), np.expand_dims(idxs, ax)
    indices = _wrap(idxs)
    values = _record(ModeBackward0, _arr(vals), (input,), shape=d.shape, dim=ax,
                     keepdim=keepdim, indices=indices)
    return _return_type('mode')(values, indices)


@tensor_op
def norm(input, p='fro', dim=None, keepdim=False, dtype=None):
    from .linalg import vector_norm, matrix_norm  # cycle: linalg's norms build on reductions
    if isinstance(p, str):
        if p == 'fro' and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == 'nuc':
            return matrix_norm(input, 'nuc', dim if dim is not None else (-2, -1), keepdim)
        raise RuntimeError(f"norm: unsupported p {p!r}")
    return vector_norm(input, p if p is not None else 2, dim, keepdim, dtype=dtype)


@tensor_op
def dist(input, other, p=2):
    from .linalg import vector_norm  # cycle: linalg's norms build on reductions
    return vector_norm(input - other, p)
