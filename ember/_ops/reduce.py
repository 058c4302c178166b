"""Reductions: sum, mean, max/min, var/std, logsumexp, cumulative ops, softmax."""
import builtins as _builtins

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap, _wrap_dim
from ..autograd.graph import _record, _RESULT
from ._util import _arr, _dims, _out, _legacy, _rename, _quiet, _np_compat

__all__ = ['sum', 'mean', 'nansum', 'nanmean', 'prod', 'max', 'min', 'amax', 'amin', 'aminmax',
           'argmax', 'argmin', 'std', 'var', 'std_mean', 'var_mean', 'logsumexp', 'cumsum',
           'cumprod', 'cummax', 'cummin', 'logcumsumexp', 'all', 'any', 'count_nonzero',
           'softmax', 'log_softmax', 'median', 'nanmedian', 'mode', 'norm', 'dist']


class _ReturnType(tuple):
    """torch.return_types.*: a named tuple printed as torch prints it."""
    _fields = ('values', 'indices')
    _name = 'max'

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return (f"torch.return_types.{self._name}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")


def _return_type(name, fields=('values', 'indices')):
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


_MaxRT = _return_type('max')
_MinRT = _return_type('min')
_MedianRT = _return_type('median')
_NanMedianRT = _return_type('nanmedian')
_ModeRT = _return_type('mode')
_CummaxRT = _return_type('cummax')
_CumminRT = _return_type('cummin')
_AminmaxRT = _return_type('aminmax', ('min', 'max'))
_KthRT = _return_type('kthvalue')
_SortRT = _return_type('sort')
_TopkRT = _return_type('topk')


def _sum_dtype(d, dtype):
    if dtype is not None:
        return _dtype.to_numpy(dtype)
    if d.dtype.kind in 'biu':
        return np.dtype(np.int64)
    return d.dtype


_add_reduce = np.add.reduce


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    d = input._data
    rd = _sum_dtype(d, dtype)
    if dim is None:
        axes = None
        # the ufunc's own reduce: np.sum adds a Python-level dispatch layer per call
        r = _arr(_add_reduce(d, None, rd))
        if keepdim:
            r = r.reshape((1,) * d.ndim)
        op = 'sum'
    else:  # torch's sum.dim_IntList: SumBackward1
        axes = _dims(dim, d.ndim)
        r = _arr(_add_reduce(d, axes, rd, keepdims=keepdim))
        op = 'sum_dim'
    res = _record(op, r, (input,), (d.shape, axes, keepdim))
    return res if out is None else _out(out, res)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    axes = None if dim is None else _dims(dim, d.ndim)
    r = _arr(np.nansum(d, axis=axes, dtype=_sum_dtype(d, dtype), keepdims=keepdim))
    return _record('nansum', r, (input,), (input, axes, keepdim))


def _float_only(d, name):
    if d.dtype.kind not in 'fc' and d.dtype.name != 'bfloat16':
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {_legacy(d.dtype)}")


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_numpy(dtype))
    _float_only(d, 'mean')
    if dim is None:
        axes = None
        r = _arr(np.mean(d) if d.size else _empty_mean(d, None, False))
        if keepdim:
            r = r.reshape((1,) * d.ndim)
        n = d.size
        op = 'mean'
    else:
        op = 'mean_dim'
        axes = _dims(dim, d.ndim)
        n = 1
        for a in axes:
            n *= d.shape[a]
        r = _arr(np.mean(d, axis=axes, keepdims=keepdim) if n else _empty_mean(d, axes, keepdim))
    if r.dtype != d.dtype:
        r = r.astype(d.dtype)
    return _out(out, _record(op, r, (input,), (d.shape, axes, keepdim, n)))


def _empty_mean(d, axes, keepdim):
    """The mean over no elements: nan, silently as torch (np.mean warns)."""
    return _quiet(np.true_divide, np.sum(d, axis=axes, keepdims=keepdim), 0).astype(d.dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    _float_only(d, 'nanmean')
    mask = ~input.isnan()
    return nansum(input, dim, keepdim) / mask.sum(dim, keepdim) if dim is not None else \
        nansum(input) / mask.sum()


def prod(input, dim=None, keepdim=False, *, dtype=None):
    d = input._data
    rd = _sum_dtype(d, dtype)
    if dim is None:
        r = _arr(_quiet(np.prod, d, dtype=rd))
        return _record('prod', r, (input,), (input, None, False, _RESULT))
    ax = _wrap_dim(dim, d.ndim)
    r = _arr(_quiet(np.prod, d, axis=ax, dtype=rd, keepdims=keepdim))
    return _record('prod_dim', r, (input,), (input, ax, keepdim, _RESULT))


def _check_nonempty(d, name, dim=None):
    if d.size == 0:
        if dim is None:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        if d.shape[dim] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _minmax(input, dim, keepdim, out, which):
    npred, nparg = (np.max, np.argmax) if which == 'max' else (np.min, np.argmin)
    d = input._data
    if dim is None:
        if isinstance(keepdim, Tensor):  # torch.max(a, b) is maximum
            from .elementwise import maximum, minimum
            return (maximum if which == 'max' else minimum)(input, keepdim)
        if d.size == 0:
            raise RuntimeError(
                f"{which}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        r = _arr(npred(d))
        return _record('amax_all' if which == 'max' else 'amin_all', r, (input,),
                       (input, _RESULT))
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum
        return (maximum if which == 'max' else minimum)(input, dim)
    ax = _wrap_dim(dim, d.ndim)
    _check_nonempty(d, which, ax)
    if d.ndim == 0:
        idx = np.zeros((), dtype=np.int64)
        vals = d.copy()
    else:
        idx = nparg(d, axis=ax, keepdims=True)
        if d.dtype.kind == 'f':
            # torch propagates NaN: the index of the first NaN wins
            nanmask = np.isnan(d)
            if nanmask.any():
                hasnan = nanmask.any(axis=ax, keepdims=True)
                idx = np.where(hasnan, np.argmax(nanmask, axis=ax, keepdims=True), idx)
        vals = np.take_along_axis(d, idx, axis=ax)
        if not keepdim:
            idx = idx.squeeze(ax)
            vals = vals.squeeze(ax)
    indices = _wrap(_arr(idx.astype(np.int64, copy=False)))
    values = _record('max_dim' if which == 'max' else 'min_dim', _arr(vals), (input,),
                     (d.shape, ax, keepdim, indices))
    rt = (_MaxRT if which == 'max' else _MinRT)(values, indices)
    if out is not None:
        _out(out[0], values)
        _out(out[1], indices)
        return out
    return rt


def max(input, dim=None, keepdim=False, *, out=None):
    return _minmax(input, dim, keepdim, out, 'max')


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


def amax(input, dim=(), keepdim=False, *, out=None):
    d = input._data
    axes = _dims(dim if dim != () else None, d.ndim)
    _check_empty_axes(d, 'amax', dim, axes)
    r = _arr(np.max(d, axis=axes, keepdims=keepdim)) if d.ndim else d.copy()
    return _out(out, _record('amax', r, (input,), (input, axes, keepdim, _RESULT)))


def amin(input, dim=(), keepdim=False, *, out=None):
    d = input._data
    axes = _dims(dim if dim != () else None, d.ndim)
    _check_empty_axes(d, 'amin', dim, axes)
    r = _arr(np.min(d, axis=axes, keepdims=keepdim)) if d.ndim else d.copy()
    return _out(out, _record('amin', r, (input,), (input, axes, keepdim, _RESULT)))


def aminmax(input, *, dim=None, keepdim=False):
    d = input._data
    if d.size == 0 and (dim is None or d.shape[_wrap_dim(dim, d.ndim)] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    return _AminmaxRT(_rename(amin(input, dim if dim is not None else (), keepdim),
                              'AminmaxBackward0'),
                      _rename(amax(input, dim if dim is not None else (), keepdim),
                              'AminmaxBackward0'))


def _arg_extreme(input, dim, keepdim, which):
    """argmax/argmin: over everything (NaN counts as the extreme, as in torch) or along dim."""
    d = input._data
    if dim is not None:
        if d.ndim and d.shape[_wrap_dim(dim, d.ndim)] == 0:
            raise IndexError(f"{which}(): Expected reduction dim {_wrap_dim(dim, d.ndim)} to "
                             f"have non-zero size.")
        return (max if which == 'argmax' else min)(input, dim, keepdim)[1]
    if d.size == 0:
        raise IndexError(f"{which}(): Expected reduction dim to be specified for "
                         f"input.numel() == 0.")
    r = (np.argmax if which == 'argmax' else np.argmin)(d)
    if d.dtype.kind == 'f' and np.isnan(d).any():
        r = np.argmax(np.isnan(d).reshape(-1))
    r = np.asarray(r, dtype=np.int64)
    return _wrap(r.reshape((1,) * d.ndim) if keepdim else r)


def argmax(input, dim=None, keepdim=False):
    return _arg_extreme(input, dim, keepdim, 'argmax')


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
    n = d.size if axes is None else int(np.prod([d.shape[a] for a in axes]))
    # sum of squared deviations over max(0, n - correction), as torch: n <= correction gives
    # inf (or nan when the deviations are all zero)
    dev = d - np.mean(d, axis=axes, keepdims=True) if d.size else d
    sq = np.square(np.abs(dev)) if d.dtype.kind == 'c' else np.square(dev)
    with np.errstate(divide='ignore', invalid='ignore'):
        r = _arr(np.divide(np.sum(sq, axis=axes, keepdims=keepdim), _builtins.max(0, n - c)))
    if keepdim and axes is None:
        r = r.reshape((1,) * d.ndim)
    if r.dtype != d.dtype:
        r = r.astype(d.dtype)
    return r, (axes, keepdim, c, n)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    r, info = _var_np(input, dim, unbiased, keepdim, correction, 'var')
    return _out(out, _record('var', r, (input,), (input,) + info))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    r, info = _var_np(input, dim, unbiased, keepdim, correction, 'std')
    r = np.sqrt(r, out=r)
    return _out(out, _record('std', r, (input,), (input,) + info + (_RESULT,)))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    return (_rename(var(input, dim, unbiased, keepdim, correction=correction),
                    'VarMeanBackward0'), _rename(mean(input, dim, keepdim), 'VarMeanBackward0'))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    dim, unbiased, correction = _var_args(dim, unbiased, correction)
    return (_rename(std(input, dim, unbiased, keepdim, correction=correction),
                    'StdMeanBackward0'), _rename(mean(input, dim, keepdim), 'StdMeanBackward0'))


def logsumexp(input, dim, keepdim=False, *, out=None):
    d = input._data
    if d.dtype.kind in 'biu':
        d = d.astype(_dtype._default._np)
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
    return _out(out, _record('logsumexp', r, (input,), (input, axes, keepdim, _RESULT)))


def cumsum(input, dim, *, dtype=None, out=None):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    rd = _sum_dtype(d, dtype)
    r = _arr(np.cumsum(d, axis=ax, dtype=rd)) if d.ndim else d.astype(rd)
    return _out(out, _record('cumsum', r, (input,), (ax,)))


def cumprod(input, dim, *, dtype=None, out=None):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    rd = _sum_dtype(d, dtype)
    r = _arr(_quiet(np.cumprod, d, axis=ax, dtype=rd)) if d.ndim else d.astype(rd)
    return _out(out, _record('cumprod', r, (input,), (input, ax, _RESULT)))


def _cum_ext(input, dim, ufunc, rt):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    if d.ndim == 0:
        return rt(_record('cummax', d.copy(), (input,), (d.shape, 0, np.zeros((), np.int64))),
                  _wrap(np.zeros((), np.int64)))
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
    values = _record('cummax' if ufunc is np.maximum else 'cummin', _arr(vals), (input,),
                     (d.shape, ax, idx))
    return rt(values, indices)


def cummax(input, dim):
    return _cum_ext(input, dim, np.maximum, _CummaxRT)


def cummin(input, dim):
    return _cum_ext(input, dim, np.minimum, _CumminRT)


def logcumsumexp(input, dim):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    r = _arr(_quiet(np.logaddexp.accumulate, d, axis=ax)) if d.ndim else d.copy()
    return _record('logcumsumexp', r, (input,), (input, ax, _RESULT))


def all(input, dim=None, keepdim=False, *, out=None):
    d = input._data
    axes = None if dim is None else _dims(dim, d.ndim)
    r = _arr(np.all(d, axis=axes, keepdims=keepdim if axes is not None else False))
    if d.dtype == np.uint8:
        r = r.astype(np.uint8)
    return _out(out, _wrap(r))


def any(input, dim=None, keepdim=False, *, out=None):
    d = input._data
    axes = None if dim is None else _dims(dim, d.ndim)
    r = _arr(np.any(d, axis=axes, keepdims=keepdim if axes is not None else False))
    if d.dtype == np.uint8:
        r = r.astype(np.uint8)
    return _out(out, _wrap(r))


def count_nonzero(input, dim=None):
    d = input._data
    axes = None if dim is None else _dims(dim, d.ndim)
    return _wrap(_arr(np.count_nonzero(d, axis=axes)).astype(np.int64))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_numpy(dtype))
    if d.dtype.kind in 'biu':
        raise NotImplementedError(f'"softmax_lastdim_kernel_impl" not implemented for '
                           f"'{_legacy(d.dtype)}'")
    ax = _softmax_dim(dim, d.ndim)
    if d.ndim == 0:
        return _record('softmax', np.ones_like(d), (input,), (_RESULT, 0))
    return _record('softmax', _softmax_np(d, ax), (input,), (_RESULT, ax))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    d = input._data
    if dtype is not None:
        d = d.astype(_dtype.to_numpy(dtype))
    if d.dtype.kind in 'biu':
        raise NotImplementedError(f'"log_softmax_lastdim_kernel_impl" not implemented for '
                           f"'{_legacy(d.dtype)}'")
    ax = _softmax_dim(dim, d.ndim)
    if d.ndim == 0:
        return _record('log_softmax', np.zeros_like(d), (input,), (_RESULT, 0))
    return _record('log_softmax', _quiet(_log_softmax_np, d, ax), (input,), (_RESULT, ax))


def _log_softmax_np(d, ax):
    # always the row-max shift (unlike softmax): d - logsumexp(d) would cancel, error |d| eps
    if d.size == 0:
        return d.copy()
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


def _softmax_np(d, ax):
    """softmax of an ndarray along ax, in a new array of d's dtype."""
    if d.dtype.kind == 'f' and d.dtype.itemsize >= 4 and d.size:
        top = d.max()
        if np.isfinite(top):
            e = np.exp(d) if top < _EXP_SAFE else np.exp(np.subtract(d, top))
            s = _sum_keep(e, ax)
            if s.min() > _SUM_FLOOR:
                e /= s
                return e
    return _quiet(_softmax_shifted, d, ax)  # inf/nan rows give nan as in torch, silently


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
    if ax == result.ndim - 1 and result.shape[ax] <= 1024:
        s = np.einsum('...i,...i->...', grad, result)[..., None]
    else:
        s = np.sum(grad * result, axis=ax, keepdims=True)
    out = np.subtract(grad, s)
    out *= result
    return out


def _log_softmax_backward_np(grad, result, ax):
    """grad - exp(result) * sum(grad), in NumPy (no graph)."""
    out = np.exp(result)
    out *= _sum_keep(grad, ax)
    np.subtract(grad, out, out=out)
    return out


def _softmax_dim(dim, ndim):
    if dim is None:
        # torch's legacy implicit choice (with a warning there)
        dim = 0 if ndim in (0, 1, 3) else 1
    return _wrap_dim(dim, ndim)


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
        return _record('median_all', _arr(flat[idx].copy()), (input,), (d.shape, idx))
    return _median_dim(input, dim, keepdim, _MedianRT, nan_first=True)


def nanmedian(input, dim=None, keepdim=False):
    d = input._data
    if dim is None:
        flat = d.reshape(-1)
        good = flat[~np.isnan(flat)] if d.dtype.kind == 'f' else flat
        if good.size == 0:
            return _wrap(np.array(np.nan, dtype=d.dtype))
        order = np.argsort(np.where(np.isnan(flat), np.inf, flat), kind='stable')
        idx = int(order[(good.size - 1) // 2])
        return _record('nanmedian_all', _arr(flat[idx].copy()), (input,), (d.shape, idx))
    return _median_dim(input, dim, keepdim, _NanMedianRT, nan_first=False)


def _median_dim(input, dim, keepdim, rt, nan_first):
    op = 'median_dim' if nan_first else 'nanmedian_dim'
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    if d.ndim and d.shape[ax] == 0:
        raise IndexError(f"{op.split('_')[0]}(): Expected reduction dim {ax} to have non-zero "
                         f"size.")
    if d.ndim == 0:
        return rt(_record(op, d.copy(), (input,), (d.shape, 0, keepdim,
                                                           _wrap(np.zeros((), np.int64)))),
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
    values = _record(op, _arr(vals), (input,), (d.shape, ax, keepdim, indices))
    return rt(values, indices)


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
    values = _record('mode', _arr(vals), (input,), (d.shape, ax, keepdim, indices))
    return _ModeRT(values, indices)


def norm(input, p='fro', dim=None, keepdim=False, dtype=None):
    from .linalg import vector_norm, matrix_norm
    if isinstance(p, str):
        if p == 'fro' and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == 'nuc':
            return matrix_norm(input, 'nuc', dim if dim is not None else (-2, -1), keepdim)
        raise RuntimeError(f"norm: unsupported p {p!r}")
    return vector_norm(input, p if p is not None else 2, dim, keepdim, dtype=dtype)


def dist(input, other, p=2):
    from .linalg import vector_norm
    return vector_norm(input - other, p)


# torch's native reductions take NumPy's axis=/keepdims= too; torch.norm (Python) does not
for _name in ['sum', 'nansum', 'mean', 'nanmean', 'prod', 'max', 'min', 'amax', 'amin', 'aminmax',
              'argmax', 'argmin', 'std', 'var', 'std_mean', 'var_mean', 'logsumexp', 'cumsum',
              'cumprod', 'cummax', 'cummin', 'logcumsumexp', 'all', 'any', 'count_nonzero',
              'softmax', 'log_softmax', 'median', 'nanmedian', 'mode']:
    globals()[_name] = _np_compat(globals()[_name])

_METHODS = {
    'sum': sum, 'nansum': nansum, 'mean': mean, 'nanmean': nanmean, 'prod': prod, 'max': max,
    'min': min, 'amax': amax, 'amin': amin, 'aminmax': aminmax, 'argmax': argmax,
    'argmin': argmin, 'std': std, 'var': var, 'logsumexp': logsumexp, 'cumsum': cumsum,
    'cumprod': cumprod, 'cummax': cummax, 'cummin': cummin, 'logcumsumexp': logcumsumexp,
    'all': all, 'any': any, 'count_nonzero': count_nonzero, 'softmax': softmax,
    'log_softmax': log_softmax, 'median': median, 'nanmedian': nanmedian, 'mode': mode,
    'norm': norm, 'dist': dist,
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)


def _cumsum_(self, dim, *, dtype=None):
    from ._util import _write_inplace
    return _write_inplace(self, cumsum(self, dim, dtype=dtype))


Tensor.cumsum_ = _cumsum_
