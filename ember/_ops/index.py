"""Indexing: __getitem__/__setitem__, gather/scatter, masked ops, index_select, sort/topk."""
import re

import numpy as np

from .. import _dtype, _kernels
from .._tensor import Tensor, _link_view, _wrap, _wrap_dim, _view_of, tensor_op
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, derivative
from ._util import (_bcast_errors, _fill_out, _embed_slice, _is_basic, _np_compat, _arr,
                    _write_inplace, _rebase_inplace,
                    _check_inplace, _legacy, _out, _torch_unit_strides, _writeable_view,
                    _scalar_to, _broadcast_error, _zeros_like_shape, _drop, _keep, _overlap,
                    _internal_overlap, _check_internal_overlap, _writable, _warn_expanded,
                    _OVERLAP_INTERNAL, _OVERLAP_PARTIAL)
from .reduce import _max_dim_backward, _return_type
from .shape import SliceBackward0, SelectBackward0, cat, _diag_scatter  # noqa: F401 (extra.py)

__all__ = ['gather', 'scatter', 'scatter_add', 'scatter_reduce', 'index_select', 'masked_fill',
           'masked_select', 'take_along_dim', 'take', 'nonzero', 'argwhere', 'sort', 'argsort',
           'topk', 'kthvalue', 'index_add', 'index_copy', 'index_fill', 'index_put',
           'masked_scatter', 'unique', 'unique_consecutive', 'searchsorted', 'bucketize',
           'bincount', 'histc', 'msort', 'repeat_interleave']


# ---- __getitem__ ------------------------------------------------------------------------------

def _convert_index(idx, ndim=None):
    """A torch-style index as a NumPy index, and whether it is basic (gives a view)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    elif ndim is not None and len(idx) > ndim:
        # torch counts a tuple's dims before looking at any entry (so a bad step comes second)
        n = sum(i._data.ndim if isinstance(i, Tensor) and i._data.dtype == np.bool_ else
                i is not None and i is not Ellipsis and not isinstance(i, (bool, np.bool_))
                for i in idx)
        if n > ndim:
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = []
    basic = True
    for i in idx:
        if isinstance(i, Tensor):
            d = i._data
            if d.dtype == np.bool_ or d.dtype == np.uint8 and d.ndim:
                out.append(d.astype(bool, copy=False))
                basic = False
            elif d.dtype.kind in 'iu':
                if d.ndim == 0:
                    out.append(int(d))
                else:
                    out.append(d)
                    basic = False
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
        elif isinstance(i, (list, np.ndarray, range)):
            if isinstance(i, range):  # d2l's y_hat[range(n), y]
                i = np.arange(i.start, i.stop, i.step, dtype=np.int64)
            a = np.asarray([int(x) if isinstance(x, Tensor) else x for x in i]
                           if isinstance(i, list) else i)
            if a.dtype.kind == 'f':
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            out.append(a)
            basic = False
        elif isinstance(i, (bool, np.bool_)):
            out.append(bool(i))
            basic = False
        elif isinstance(i, (int, np.integer)):
            out.append(int(i))
        elif i is None or i is Ellipsis or isinstance(i, slice):
            if isinstance(i, slice) and i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero" if i.step else
                                 "slice step cannot be zero")
            if isinstance(i, slice) and any(isinstance(v, Tensor) for v in
                                            (i.start, i.stop, i.step)):
                i = slice(*(int(v) if isinstance(v, Tensor) else v
                            for v in (i.start, i.stop, i.step)))
            out.append(i)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                "Variables are valid indices (got " + type(i).__name__ + ")")
    return tuple(out), basic


# NumPy's index errors reworded as torch's: (NumPy's message, torch's with its numbers)
_INDEX_ERRORS = (
    (re.compile(r'index (-?\d+) is out of bounds for axis (\d+) with size (\d+)'),
     'index {0} is out of bounds for dimension {1} with size {2}'),
    (re.compile(r'boolean index did not match .*dimension is (\d+) but corresponding boolean '
                r'dimension is (\d+)'),
     'The shape of the mask [{1}] at index 0 does not match the shape of the indexed tensor '
     '[{0}] at index 0'),
)


def _index_error(e, d, idx):
    msg = str(e)
    for pattern, text in _INDEX_ERRORS:
        m = pattern.search(msg)
        if m:
            return IndexError(text.format(*m.groups()))
    if 'too many indices' in msg:
        return IndexError(f"too many indices for tensor of dimension {d.ndim}")
    if 'shape mismatch' in msg:
        return IndexError("shape mismatch: indexing tensors could not be broadcast together")
    return IndexError(msg)


# basic indexing's node is the last thing the index did (see _basic_op); each puts grad back
# into zeros of the input's shape at the index (duplicates of an advanced index accumulate)
_UnsqueezeBackward0 = derivative('UnsqueezeBackward0')(_embed_slice)  # x[None]
_AliasBackward0 = derivative('AliasBackward0')(_embed_slice)  # x[...], x[:]
IndexBackward0 = derivative('IndexBackward0')(_embed_slice)  # advanced indexing


@tensor_op(method=False, dunder=('__getitem__',))
def _getitem(self, idx):
    d = self._data
    if type(idx) is int:  # the common fast path: x[i]
        if d.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                             "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        try:
            r = d[idx, ...]  # the Ellipsis keeps a 0-d result a view, not a NumPy scalar
        except IndexError as e:
            raise _index_error(e, d, idx) from None
        if not r.flags.writeable:
            r = _writeable_view(r)
        if not (self._requires_grad and _State.enabled):
            return _view_of(self, r)  # no graph: skip building _record's arguments
        return _link_view(_record(SelectBackward0, r, (self,), shape=d.shape, idx=idx), self)
    nidx, basic = _convert_index(idx, d.ndim)
    try:
        r = d[nidx + (Ellipsis,)] if basic and Ellipsis not in nidx else d[nidx]
    except IndexError as e:
        empty = None if basic else _empty_gather(d, nidx)
        if empty is None:
            raise _index_error(e, d, nidx) from None
        r, nidx = empty
    if basic and None in nidx:
        r = _torch_unit_strides(r, _none_positions(nidx, d.ndim))
    if basic and not r.flags.writeable:
        r = _writeable_view(r)
    if basic:
        op = _basic_op(idx, nidx, d.shape)
        out = _record(op, _arr(r) if not isinstance(r, np.ndarray) else r, (self,),
                      shape=d.shape, idx=nidx)
        if isinstance(r, np.ndarray) and np.shares_memory(r, d) if r.size else False:
            _link_view(out, self)
        return out
    return _record(IndexBackward0, _arr(r), (self,), shape=d.shape, idx=nidx)


def _setitem_view_op(idx, ndim, shape):
    """The last view torch's `t[idx] = v` takes of t before writing (its applySlicing: Select
    for an int, Slice for a slice that is not the whole dim, Unsqueeze for None), or None: the
    name its refusal of a no-grad view gives."""
    items = idx if isinstance(idx, tuple) else (idx,)
    used = sum(getattr(i, 'ndim', 1) if getattr(i, 'dtype', None) in (bool, np.bool_) or (
        isinstance(i, Tensor) and i.dtype is _dtype.bool) else 1
        for i in items if i is not None and i is not Ellipsis)
    name, dim = None, 0
    for i in items:
        if i is Ellipsis:
            dim += max(ndim - used, 0)
        elif i is None:
            name = 'Unsqueeze'
        elif isinstance(i, slice):
            if dim < ndim and i.indices(shape[dim]) != (0, shape[dim], 1):
                name = 'Slice'
            dim += 1
        elif isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            name = 'Select'
            dim += 1
        else:  # an index tensor or list: written through index_put_, no view
            dim += 1
    return name


def _empty_gather(d, nidx):
    """torch checks the values of index tensors only while gathering: when the result is
    empty they are never read (an index into a size-0 dim still raises). Returns the empty
    result and an in-range index giving it, or None."""
    zeroed = tuple(np.zeros_like(i) if isinstance(i, np.ndarray) and i.dtype.kind in 'iu'
                   else i for i in nidx)
    try:
        r = d[zeroed]
    except IndexError:
        return None
    return (r, zeroed) if r.size == 0 else None


def _basic_op(idx, nidx, shape):
    """The op torch's basic indexing ends with (its grad_fn): the last index component that
    does something: an int selects, None unsqueezes, a slice slices; full slices and Ellipsis
    inside a tuple do nothing (only an alias remains). A lone slice always slices."""
    if not isinstance(idx, tuple):
        i = nidx[0]
        if isinstance(i, slice):
            return SliceBackward0
        return SelectBackward0 if isinstance(i, int) else \
            _UnsqueezeBackward0 if i is None else _AliasBackward0
    op = _AliasBackward0
    dim = 0
    for i in nidx:
        if i is None:
            op = _UnsqueezeBackward0
        elif i is Ellipsis:
            dim = len(shape) - sum(1 for j in nidx if j is not None and j is not Ellipsis) + dim
        elif isinstance(i, slice):
            if i.start not in (None, 0) or i.step not in (None, 1) or (
                    i.stop is not None and dim < len(shape) and i.stop < shape[dim]):
                op = SliceBackward0
            dim += 1
        else:
            op = SelectBackward0
            dim += 1
    return op


def _none_positions(nidx, ndim):
    """Result dims created by None in a basic index."""
    consumed = sum(1 for i in nidx if i is not None and i is not Ellipsis)
    pos, out = 0, []
    for i in nidx:
        if i is None:
            out.append(pos)
            pos += 1
        elif i is Ellipsis:
            pos += ndim - consumed
        elif isinstance(i, slice):
            pos += 1
    return out


# ---- __setitem__ ------------------------------------------------------------------------------

def _strip_leading_ones(shape):
    i = 0
    while i < len(shape) and shape[i] == 1:
        i += 1
    return tuple(shape[i:])


@derivative('CopySlices')
def _index_put_backward(grad, idx):
    g_self = grad.clone()
    g_self._data[idx] = 0  # the overwritten region gets no gradient
    return g_self, grad[idx]


@derivative
def IndexPutBackward0(grad, idx):
    return grad, grad[idx]


@tensor_op(method=False, dunder=('__setitem__',))
def _setitem(self, idx, value):
    nidx, basic = _convert_index(idx, self._data.ndim)
    needs_graph = _State.enabled and (
        self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    d = self._data
    v = value._data if isinstance(value, Tensor) else value
    if isinstance(v, (int, float)):  # a Python number: torch's checked conversion
        if isinstance(v, int) and not -(1 << 63) <= v < (1 << 63):
            raise ValueError("Overflow when unpacking long long")
        v = value = _scalar_to(v, d.dtype)
    if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == 1:
        # torch drops a value's leading size-1 dims before broadcasting (x[i] = y.reshape(1, -1))
        target = np.shape(d[nidx])
        try:
            fits = np.broadcast_shapes(target, v.shape) == target
        except (ValueError, IndexError):
            fits = True  # let the assignment below raise torch's error
        if not fits:
            shape = _strip_leading_ones(v.shape)
            v = v.reshape(shape)
            if isinstance(value, Tensor):
                value = value.reshape(shape)
    vd = value._data if isinstance(value, Tensor) else None
    if basic:
        # torch copies into the indexed view: that view must not overlap itself or the value
        try:
            target = d[nidx + (Ellipsis,)] if Ellipsis not in nidx else d[nidx]
        except IndexError as e:
            raise _index_error(e, d, nidx) from None
        if _internal_overlap(target):
            raise RuntimeError(_OVERLAP_INTERNAL)
        if vd is not None and _overlap(target, vd) == 'partial':
            raise RuntimeError(_OVERLAP_PARTIAL)
    else:
        # index_put_ / masked_fill_: any overlap with the value is refused; an expanded self
        # is written with a deprecation warning
        if vd is not None and _overlap(d, vd) in ('full', 'partial'):
            raise RuntimeError(_OVERLAP_PARTIAL)
        _warn_expanded(d, 'index_put_', 'tensor[indices] = tensor')
        if len(nidx) == 1 and getattr(nidx[0], 'dtype', None) == np.bool_ and \
                (vd is None or vd.ndim == 0):  # torch's mask path warns once more
            _warn_expanded(d, 'masked_fill_', 'tensor[mask] = scalar')
    if not needs_graph:
        try:
            if basic:
                _writable(target)[...] = v
            else:
                _writable(d)[nidx] = v
        except IndexError as e:
            raise _index_error(e, d, nidx) from None
        except ValueError:
            raise RuntimeError(_setitem_shape_msg(d, nidx, v)) from None
        self._vc.value += 1
        return
    _check_inplace(self, _setitem_view_op(idx, d.ndim, d.shape) if self._no_grad_view else None)
    new = d.copy()
    try:
        new[nidx] = v
    except IndexError as e:
        raise _index_error(e, d, nidx) from None
    except ValueError:
        raise RuntimeError(_setitem_shape_msg(d, nidx, v)) from None
    val = value if isinstance(value, Tensor) else None
    res = _record(_index_put_backward, new, (self, val), idx=nidx)
    _write_inplace(self, res)


def _setitem_shape_msg(d, nidx, v):
    target = d[nidx].shape if True else ()
    vs = np.shape(v)
    return (f"shape mismatch: value tensor of shape {list(vs)} cannot be broadcast to "
            f"indexing result of shape {list(target)}")


@tensor_op
def index_put(input, indices, values, accumulate=False):
    nidx = tuple(i._data if isinstance(i, Tensor) else i for i in indices)
    new = input._data.copy()
    v = values._data
    if v.dtype != new.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_legacy(new.dtype)} for the destination and {_legacy(v.dtype)} "
                           f"for the source.")
    try:
        if accumulate:
            np.add.at(new, nidx, v)
            return _record(IndexPutBackward0, new, (input, values), idx=nidx)
        new[nidx] = v
    except IndexError as e:
        raise _index_error(e, new, nidx) from None
    return _record(_index_put_backward, new, (input, values), idx=nidx)


@tensor_op(name='index_put_')
def _index_put_(self, indices, values, accumulate=False):
    if _overlap(self._data, values._data) in ('full', 'partial'):
        raise RuntimeError(_OVERLAP_PARTIAL)
    r = index_put(self, indices, values, accumulate)
    if _internal_overlap(self._data) and not (_State.enabled and r._requires_grad):
        _warn_expanded(self._data, 'index_put_', 'tensor[indices] = tensor')
        nidx = tuple(i._data if isinstance(i, Tensor) else i for i in indices)
        w = _writable(self._data)
        if accumulate:
            np.add.at(w, nidx, values._data)
        else:
            w[nidx] = values._data
        self._vc.value += 1
        return self
    return _write_inplace(self, r)


# ---- gather / scatter -------------------------------------------------------------------------

def _first_bad(idx, lo, hi):
    """The first index (in order) outside [lo, hi), or None."""
    if not idx.size:
        return None
    bad = (idx < lo) | (idx >= hi)
    if not bad.any():
        return None
    return int(idx.reshape(-1)[np.argmax(bad.reshape(-1))])


def _check_dim_bounds(idx, n, ax):
    """gather/scatter's check: no negative index (torch does not wrap them)."""
    i = _first_bad(idx, 0, n)
    if i is not None:
        raise RuntimeError(f"index {i} is out of bounds for dimension {ax} with size {n}")


def _check_index_tensor(index, name):
    if not isinstance(index, Tensor) or index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


@derivative
def GatherBackward0(grad, shape, dim, index):
    return _zeros_like_shape(grad, shape).scatter_add(dim, index, grad)


@tensor_op
@_np_compat
def gather(input, dim, index, *, sparse_grad=False, out=None):
    d = input._data
    _check_index_tensor(index, 'gather')
    ax = _wrap_dim(dim, d.ndim)
    idx = index._data
    if idx.ndim != d.ndim and not (d.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    n = d.shape[ax] if d.ndim else 1
    _check_dim_bounds(idx, n, ax)
    for i in range(d.ndim):
        if i != ax and idx.shape[i] > d.shape[i]:
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index {list(idx.shape)} to be "
                f"no larger than self {list(d.shape)} apart from dimension {ax}")
    src = d[tuple(slice(0, s) if i != ax else slice(None) for i, s in enumerate(idx.shape))] \
        if d.ndim else d
    # a 0-d input gathers as a 1-element vector: the result has the index's shape
    r = np.take_along_axis(src, idx, axis=ax) if d.ndim else np.broadcast_to(d, idx.shape).copy()
    return _out(out, _record(GatherBackward0, _arr(r), (input,), shape=d.shape, dim=ax,
                             index=index))


def _scatter_np(d, ax, idx, src, reduce=None):
    """Write/accumulate src into a copy of d along ax at idx (the index may be smaller)."""
    _check_dim_bounds(idx, d.shape[ax] if d.ndim else 1, ax)
    if d.ndim == 0:  # a 0-d tensor scatters as a 1-element vector
        return _scatter_np(d.reshape(1), 0, idx.reshape(-1), np.reshape(src, -1)
                           if np.ndim(src) else src, reduce).reshape(())
    out = d.copy()
    grids = np.indices(idx.shape, sparse=True)
    full = list(grids)
    full[ax] = idx
    full = tuple(full)
    if np.ndim(src) == 0:
        vals = np.broadcast_to(np.asarray(src, dtype=d.dtype), idx.shape)
    else:
        vals = src[tuple(slice(0, s) for s in idx.shape)]
    if reduce is None:
        out[full] = vals
    elif reduce in ('add', 'sum'):
        np.add.at(out, full, vals)
    elif reduce in ('multiply', 'prod'):
        np.multiply.at(out, full, vals)
    elif reduce == 'amax':
        np.maximum.at(out, full, vals)
    elif reduce == 'amin':
        np.minimum.at(out, full, vals)
    else:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    return out


@derivative
def ScatterBackward0(grad, dim, index):
    return grad.scatter(dim, index, 0), grad.gather(dim, index)


@derivative
def ScatterBackward1(grad, dim, index):  # scatter.value: a number, not a source tensor
    return grad.scatter(dim, index, 0)


@derivative
def ScatterAddBackward0(grad, dim, index):
    return grad, grad.gather(dim, index)


@tensor_op
@_np_compat
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    d = input._data
    _check_index_tensor(index, 'scatter')
    ax = _wrap_dim(dim, d.ndim)
    s = src._data if isinstance(src, Tensor) else _scalar_to(src, d.dtype)
    r = _scatter_np(d, ax, index._data, s, reduce)
    if isinstance(src, Tensor):
        return _record(ScatterBackward0, r, (input, src), dim=ax, index=index)
    return _record(ScatterBackward1, r, (input,), dim=ax, index=index)


@tensor_op
@_np_compat
def scatter_add(input, dim, index, src):
    d = input._data
    _check_index_tensor(index, 'scatter_add')
    ax = _wrap_dim(dim, d.ndim)
    r = _scatter_np(d, ax, index._data, src._data, 'add')
    return _record(ScatterAddBackward0, r, (input, src), dim=ax, index=index)


@tensor_op
@_np_compat
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    idx = index._data
    base = d.copy()
    _check_dim_bounds(idx, d.shape[ax] if d.ndim else 1, ax)
    if not include_self:
        fill = {'sum': 0, 'prod': 1, 'mean': 0, 'amax': -np.inf, 'amin': np.inf}[reduce]
        grids = list(np.indices(idx.shape, sparse=True))
        grids[ax] = idx
        base[tuple(grids)] = fill
    if reduce == 'mean':
        r = _scatter_np(base, ax, idx, src._data, 'sum')
        cnt = _scatter_np(np.full(d.shape, 1 if include_self else 0, d.dtype), ax, idx,
                          np.ones(idx.shape, d.dtype), 'sum')
        r = r / np.maximum(cnt, 1)
        if d.dtype.kind in 'iu':
            r = np.floor_divide(r, 1)
        r = r.astype(d.dtype)
    else:
        r = _scatter_np(base, ax, idx, src._data, reduce)
        if not include_self:
            untouched = _scatter_np(np.ones(d.shape, bool), ax, idx, np.zeros(idx.shape, bool))
            r = np.where(untouched, d, r)
    return _wrap(r)


@tensor_op(name='scatter_')
def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    _check_internal_overlap(self._data)
    if not _State.enabled or not (self._requires_grad or
                                  (isinstance(src, Tensor) and src._requires_grad)):
        ax = _wrap_dim(dim, self._data.ndim)
        s = src._data if isinstance(src, Tensor) else _scalar_to(src, self._data.dtype)
        np.copyto(self._data, _scatter_np(self._data, ax, index._data, s, reduce))
        self._vc.value += 1
        return self
    return _write_inplace(self, scatter(self, dim, index, src, reduce=reduce))


@tensor_op(name='scatter_add_')
def _scatter_add_(self, dim, index, src):
    return _write_inplace(self, scatter_add(self, dim, index, src))


@tensor_op(name='scatter_reduce_')
def _scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return _write_inplace(self, scatter_reduce(self, dim, index, src, reduce,
                                               include_self=include_self))


@derivative
def IndexSelectBackward0(grad, shape, dim, index):
    return _zeros_like_shape(grad, shape).index_add(dim, _wrap(index), grad)


@tensor_op
@_np_compat
def index_select(input, dim, index, *, out=None):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    idx = index._data
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype.kind not in 'iu':
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    n = d.shape[ax] if d.ndim else 1
    if d.ndim == 0 and idx.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                           f"{idx.size} value(s)")
    if d.ndim > 1 and d.size == 0 and idx.size and n == 0:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    bad = _first_bad(idx, 0, n)
    if bad is not None:
        # torch's dim-1 kernel and its empty-self check have their own message
        if d.ndim > 1 and (ax == 1 or d.size == 0):
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
        raise IndexError("index out of range in self")
    r = np.take(d, idx.reshape(-1), axis=ax) if d.ndim else d.copy()
    return _out(out, _record(IndexSelectBackward0, r, (input,), shape=d.shape, dim=ax,
                             index=idx.reshape(-1)))


def _check_flat_bounds(idx, n):
    """take/put's check: negative indices wrap once, as torch's do."""
    i = _first_bad(idx, -n, n)
    if i is not None:
        raise IndexError(f"out of range: tried to access index {i} on a tensor of {n} "
                         f"elements.")


@derivative
def TakeBackward0(grad, shape, index):
    flat = _embed_slice(grad.reshape(-1), (int(np.prod(shape)),), (index.reshape(-1),))
    return flat.reshape(shape)


@tensor_op
def take(input, index):
    d = input._data.reshape(-1)
    idx = index._data
    n = d.size
    _check_flat_bounds(idx, n)
    r = d[idx]
    return _record(TakeBackward0, _arr(r), (input,), shape=input._data.shape, index=idx)


@tensor_op
@_np_compat
def take_along_dim(input, indices, dim=None):
    if dim is None:  # torch gathers from the flattened input (no wrapping of negatives)
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = input._data
    idx = indices._data
    if idx.ndim != d.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {d.ndim} dimensions for input, and "
                           f"{idx.ndim} dimensions for indices")
    if d.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    ax = _wrap_dim(dim, d.ndim)
    # every dim but `dim` broadcasts
    try:
        shape = list(np.broadcast_shapes(d.shape[:ax] + (1,) + d.shape[ax + 1:],
                                         idx.shape[:ax] + (1,) + idx.shape[ax + 1:]))
    except ValueError:
        raise _broadcast_error(d, idx) from None
    shape_in = list(shape)
    shape_in[ax] = d.shape[ax]
    shape_idx = list(shape)
    shape_idx[ax] = idx.shape[ax]
    src = input.expand(tuple(shape_in)) if tuple(shape_in) != d.shape else input
    idx_b = np.broadcast_to(idx, tuple(shape_idx))
    if d.shape[ax]:  # torch wraps every index modulo the dim's size here (not only negatives)
        idx_b = idx_b % d.shape[ax]
    return gather(src, ax, _wrap(np.ascontiguousarray(idx_b).astype(np.int64)))


def _masked_fill_backward(grad, mask):
    return _drop(grad, mask), _keep(grad, mask).sum()


MaskedFillBackward0 = derivative('MaskedFillBackward0')(_masked_fill_backward)
MaskedFillBackward1 = derivative('MaskedFillBackward1')(_masked_fill_backward)  # value tensor


@tensor_op
def masked_fill(input, mask, value):
    d = input._data
    m = mask._data
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_legacy(m.dtype).lower() if m.dtype != np.uint8 else 'unsigned char'}")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        v = value._data
        if d.dtype.kind in 'iuf' and v.dtype.kind in 'iuf':
            _scalar_to(v.item(), d.dtype)  # torch checks a tensor value's range too
    else:
        v = _scalar_to(value, d.dtype)
    try:
        r = np.where(m, np.asarray(v, dtype=d.dtype) if not isinstance(v, np.ndarray)
                     else v.astype(d.dtype), d)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({d.shape[-1]}) must match the size of tensor b "
            f"({m.shape[-1]}) at non-singleton dimension {max(d.ndim, m.ndim) - 1}") from None
    if r.shape != d.shape:
        raise RuntimeError(
            f"masked_fill_: expected mask shape {list(m.shape)} to be broadcastable to "
            f"{list(d.shape)}")
    if isinstance(value, Tensor):
        return _record(MaskedFillBackward1, _arr(r), (input, value), mask=m)
    return _record(MaskedFillBackward0, _arr(r), (input, None), mask=m)


@tensor_op(name='masked_fill_')
def _masked_fill_(self, mask, value):
    if not _State.enabled or not (self._requires_grad or
                                  (isinstance(value, Tensor) and value._requires_grad)):
        r = masked_fill(self, mask, value)
        d = self._data
        if _internal_overlap(d):  # torch writes the masked elements only (and warns)
            _warn_expanded(d, 'masked_fill_', 'tensor[mask] = scalar')
            np.copyto(_writable(d), r._data, where=np.broadcast_to(mask._data, d.shape))
        else:
            np.copyto(d, r._data)
        self._vc.value += 1
        return self
    return _write_inplace(self, masked_fill(self, mask, value))


@derivative
def MaskedSelectBackward0(grad, shape, mask):
    return _zeros_like_shape(grad, shape).masked_scatter(_wrap(mask), grad)


@tensor_op
@_bcast_errors
def masked_select(input, mask):
    d, m = input._data, mask._data
    if m.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(d.shape, m.shape)
    db = np.broadcast_to(d, shape)
    mb = np.broadcast_to(m, shape)
    r = db[mb]
    if shape != d.shape:
        input = input.expand(shape)
    return _record(MaskedSelectBackward0, _arr(r), (input,), shape=shape, mask=mb)


@derivative
def MaskedScatterBackward0(grad, mask, src_shape):
    n = int(np.prod(src_shape))
    sel = grad.masked_select(_wrap(mask))
    pad = n - sel.shape[0]
    if pad:
        sel = cat([sel, _zeros_like_shape(grad, (pad,))])
    return grad.masked_fill(_wrap(mask), 0), sel.reshape(src_shape)


@tensor_op(inplace=_rebase_inplace)
def masked_scatter(input, mask, source):
    d, m = input._data, mask._data
    mb = np.broadcast_to(m, d.shape)
    n = int(mb.sum())
    r = d.copy()
    r[mb] = source._data.reshape(-1)[:n]
    return _record(MaskedScatterBackward0, r, (input, source), mask=mb,
                   src_shape=source._data.shape)


@tensor_op
def nonzero(input, *, out=None, as_tuple=False):
    d = input._data
    if as_tuple:
        if d.ndim == 0:
            return (_wrap(np.zeros(int(bool(d)), np.int64)),)
        return tuple(_wrap(a.astype(np.int64)) for a in np.nonzero(d))
    if d.ndim == 0:
        return _out(out, _wrap(np.zeros((int(bool(d)), 0), np.int64)))
    return _out(out, _wrap(np.argwhere(d).astype(np.int64)))


@tensor_op
def argwhere(input):
    return nonzero(input)


# ---- sorting ----------------------------------------------------------------------------------

def _sort_key(d, descending):
    """An array whose ascending stable order is torch's stable order of d (NaN the largest
    value, equal values by index), or None for a descending float d holding NaN."""
    if not descending:
        return d  # NumPy's sorts put NaN last, as torch does
    if d.dtype.kind in 'biu':
        return ~d  # exact where negation overflows or has no negatives
    if d.dtype.kind == 'f' and np.isnan(d).any():
        return None  # NaN first, then +inf: no one key array orders both
    return -d


def _sort_order(d, ax, descending):
    key = _sort_key(d, descending)
    if key is None:
        nan = np.isnan(d)
        return np.lexsort((np.where(nan, 0, -d), ~nan), axis=ax)
    return np.argsort(key, axis=ax, kind='stable')


def _sort_np(d, ax, descending):
    if d.ndim == 0:
        return d.copy(), np.zeros((), np.int64)
    order = _sort_order(d, ax, descending)
    return np.take_along_axis(d, order, ax), order.astype(np.int64, copy=False)


_TOPK_KERNELS = {np.dtype(np.float32): 'ember_topk_rows_f32',
                 np.dtype(np.float64): 'ember_topk_rows_f64'}
for _name in _TOPK_KERNELS.values():
    _kernels.declare(_name, None, 'i64', 'i64', 'i64', 'i64', 'p', 'p', 'p')
_TOPK_KERNEL_MAX_K = 64  # an entry into the k kept moves up to k of them


def _topk_kernel(d, k, ax, largest):
    """topk of a float32/64 array along ax by the compiled row kernel (src/sort.c), or None."""
    name = _TOPK_KERNELS.get(d.dtype)
    fn = _kernels.get(name) if name is not None and d.ndim and 0 < k <= _TOPK_KERNEL_MAX_K \
        else None
    if fn is None:
        return None
    last = d.ndim - 1
    # (transposes, not np.moveaxis: its checks took 5 us a call, on a 1 us kernel)
    x = d if ax == last else d.transpose(*range(ax), *range(ax + 1, d.ndim), ax)
    x = np.ascontiguousarray(x)
    vals = np.empty(x.shape[:-1] + (k,), d.dtype)
    idx = np.empty(vals.shape, np.int64)
    fn(x.size // x.shape[-1], x.shape[-1], k, int(bool(largest)), _kernels.addr(x),
       _kernels.addr(vals), _kernels.addr(idx))
    if ax == last:
        return vals, idx
    back = (*range(ax), last, *range(ax, last))
    return vals.transpose(back), idx.transpose(back)


def _topk_np(d, k, ax, largest):
    """The first k of _sort_np(d, ax, largest). A small k against the dimension selects by
    partition, then sorts only the k found; a tie at the k-th value, where the sort would
    choose among equal values by index, takes the whole sort."""
    n = d.shape[ax] if d.ndim else 1
    key = _sort_key(d, largest) if d.ndim and 0 < k and 8 * k <= n else None
    if key is not None:
        part = np.argpartition(key, k - 1, axis=ax)
        sl = (slice(None),) * ax + (slice(0, k),)
        cand = np.sort(part[sl], axis=ax)  # by index: the stable sort below orders ties so
        ckey = np.take_along_axis(key, cand, ax)
        kth = np.take_along_axis(key, part[(slice(None),) * ax + (slice(k - 1, k),)], ax)
        # (a NaN k-th value counts no ties: NaN == NaN is False, so it takes the sort too)
        if not (kth != kth).any() and \
                ((key == kth).sum(axis=ax) == (ckey == kth).sum(axis=ax)).all():
            idx = np.take_along_axis(cand, np.argsort(ckey, axis=ax, kind='stable'), ax)
            return np.take_along_axis(d, idx, ax), idx.astype(np.int64, copy=False)
    vals, idx = _sort_np(d, ax, largest)
    sl = (slice(None),) * ax + (slice(0, k),)
    return vals[sl], idx[sl]


def _sort_backward(grad, shape, dim, indices):
    if len(shape) == 0:
        return grad
    return _zeros_like_shape(grad, shape).scatter(dim, indices, grad)


SortBackward0 = derivative('SortBackward0')(_sort_backward)
SortBackward1 = derivative('SortBackward1')(_sort_backward)  # sort.stable (stable= given)
TopkBackward0 = derivative('TopkBackward0')(_sort_backward)
KthvalueBackward0 = derivative('KthvalueBackward0')(_max_dim_backward)


@tensor_op
@_np_compat
def sort(input, dim=-1, descending=False, stable=None, *, out=None):
    if isinstance(dim, bool):  # sort(x, stable=..) keyword confusion guard
        dim = -1
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    vals, idx = _sort_np(d, ax, descending)
    indices = _wrap(idx)
    # torch's sort.stable overload (any stable= given) is SortBackward1
    values = _record(SortBackward0 if stable is None else SortBackward1, _arr(vals), (input,),
                     shape=d.shape, dim=ax, indices=indices)
    rt = _return_type('sort')(values, indices)
    return rt if out is None else _fill_out(out, rt, 'sort')


@tensor_op
@_np_compat
def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable)[1]


@tensor_op
def msort(input):
    return sort(input, 0)[0]


@tensor_op
@_np_compat
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax] if d.ndim else 1
    if k > n or k < 0:
        raise RuntimeError("selected index k out of range")
    r = _topk_kernel(d, k, ax, largest)
    vals, idx = r if r is not None else _topk_np(d, k, ax, largest)
    indices = _wrap(np.ascontiguousarray(idx))
    values = _record(TopkBackward0, np.ascontiguousarray(vals), (input,), shape=d.shape,
                     dim=ax, indices=indices)
    rt = _return_type('topk')(values, indices)
    return rt if out is None else _fill_out(out, rt, 'topk')


def _gt_or_nan(x, y):
    return x > y or (x != x and y == y)


def _quickselect_index(a, k):
    """The index torch's CPU kthvalue reports for a row `a` (a list): its quickselect
    (median-of-three pivot, NaN above everything), whose partitioning decides which of
    several equal values is the k-th."""
    idx = list(range(len(a)))

    def swap(i, j):
        a[i], a[j] = a[j], a[i]
        idx[i], idx[j] = idx[j], idx[i]

    lo, hi = 0, len(a) - 1
    while hi > lo:
        if hi == lo + 1:
            if _gt_or_nan(a[lo], a[hi]):
                swap(lo, hi)
            break
        swap(lo + (hi - lo) // 2, lo + 1)
        if _gt_or_nan(a[lo + 1], a[hi]):
            swap(lo + 1, hi)
        if _gt_or_nan(a[lo], a[hi]):
            swap(lo, hi)
        if _gt_or_nan(a[lo + 1], a[lo]):
            swap(lo + 1, lo)
        i, j, piv = lo + 1, hi, a[lo]
        while True:
            i += 1
            while _gt_or_nan(piv, a[i]):
                i += 1
            j -= 1
            while _gt_or_nan(a[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return idx[k]


def _kth_ties(d, svals, sidx, ax, k):
    """Sorted indices `sidx` with the k-th entry replaced, in rows where the k-th smallest
    value is tied, by the index torch's quickselect reports (rows without a tie agree
    already; only tied rows pay for the Python loop)."""
    n = d.shape[ax]
    if n < 2:
        return sidx
    s = np.moveaxis(svals, ax, -1).reshape(-1, n)
    kv = s[:, k - 1]
    tie = np.zeros(kv.shape, bool)
    for j in (k - 2, k):
        if 0 <= j < n:
            tie |= (s[:, j] == kv) | (np.isnan(s[:, j]) & np.isnan(kv))
    if not tie.any():
        return sidx
    rows = np.moveaxis(d, ax, -1).reshape(-1, n)
    moved = np.moveaxis(sidx, ax, -1)
    out = moved.reshape(-1, n).copy()
    for r in np.flatnonzero(tie):
        out[r, k - 1] = _quickselect_index(rows[r].tolist(), k - 1)
    return np.moveaxis(out.reshape(moved.shape), -1, ax)


@tensor_op
@_np_compat
def kthvalue(input, k, dim=-1, keepdim=False):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax] if d.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {ax} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {ax}")
    if d.ndim == 0:  # a 0-d tensor is its own first value
        vals, idx = d.copy(), np.zeros((), np.int64)
    else:
        vals, idx = _sort_np(d, ax, False)
        idx = _kth_ties(d, vals, idx, ax, k)
        sl = (slice(None),) * ax + (slice(k - 1, k),)
        vals, idx = vals[sl], idx[sl]
        if not keepdim:
            vals, idx = vals.squeeze(ax), idx.squeeze(ax)
    # np.array, not np.ascontiguousarray: that one turns a 0-d result into shape (1,)
    indices = _wrap(np.array(idx, order='C'))
    values = _record(KthvalueBackward0, np.array(vals, order='C'), (input,), shape=d.shape,
                     dim=ax, keepdim=keepdim, indices=indices)
    return _return_type('kthvalue')(values, indices)


@tensor_op
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    d = input._data
    if dim is None:
        u, inv, cnt = np.unique(d.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(d.shape)
    else:
        u, inv, cnt = np.unique(d, return_inverse=True, return_counts=True,
                                axis=_wrap_dim(dim, d.ndim))
    res = [_wrap(u)]
    if return_inverse:
        res.append(_wrap(inv.astype(np.int64)))
    if return_counts:
        res.append(_wrap(cnt.astype(np.int64)))
    return res[0] if len(res) == 1 else tuple(res)


@tensor_op
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    d = input._data.reshape(-1) if dim is None else input._data
    if d.size == 0:
        keep = np.zeros(0, bool)
    else:
        keep = np.concatenate([[True], d[1:] != d[:-1]])
    u = d[keep]
    res = [_wrap(u)]
    if return_inverse:
        res.append(_wrap((np.cumsum(keep) - 1).reshape(input._data.shape).astype(np.int64)))
    if return_counts:
        pos = np.flatnonzero(keep)
        res.append(_wrap(np.diff(np.append(pos, d.size)).astype(np.int64)))
    return res[0] if len(res) == 1 else tuple(res)


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 sorter=None):
    s = sorted_sequence._data
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    side = side or ('right' if right else 'left')
    if s.ndim == 1:
        r = np.searchsorted(s, v, side=side)
    else:
        r = np.stack([np.searchsorted(a, b, side=side)
                      for a, b in zip(s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1]))]
                     ).reshape(v.shape)
    return _wrap(_arr(r).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    return searchsorted(boundaries, input, out_int32=out_int32,
                        side='left' if not right else 'right')


@tensor_op
def bincount(input, weights=None, minlength=0):
    d = input._data
    if d.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if d.size and d.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = weights._data if weights is not None else None
    r = np.bincount(d, w, minlength)
    if w is None:
        r = r.astype(np.int64)
    elif w.dtype == np.float32:
        r = r.astype(np.float32)
    return _wrap(r)


@tensor_op
def histc(input, bins=100, min=0, max=0):
    d = input._data
    lo, hi = float(min), float(max)
    if lo == hi and d.size:
        lo, hi = float(d.min()), float(d.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    r, _ = np.histogram(d, bins=bins, range=(lo, hi))
    return _wrap(r.astype(d.dtype))


@derivative
def IndexAddBackward0(grad, dim, index, alpha):
    g_src = grad.index_select(dim, _wrap(index))
    return grad, (g_src * alpha if alpha != 1 else g_src)


@derivative
def IndexCopyBackward0(grad, dim, index):
    return grad.index_fill(dim, _wrap(index), 0), grad.index_select(dim, _wrap(index))


@derivative
def IndexFillBackward0(grad, dim, index):
    return grad.index_fill(dim, _wrap(index), 0)


@tensor_op(inplace=_rebase_inplace)
@_np_compat
def index_add(input, dim, index, source, *, alpha=1):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    idx = index._data
    n = d.shape[ax] if d.ndim else 1
    if _first_bad(idx, 0, n) is not None:
        # torch's kernels differ: an outer/inner dim checks like scatter, a middle one (and
        # a vector) like index_select
        if d.ndim == 2 or d.ndim > 2 and ax in (0, d.ndim - 1):
            _check_dim_bounds(idx, n, ax)
        raise IndexError("index out of range in self")
    r = d.copy()
    src = source._data * alpha if alpha != 1 else source._data
    if d.ndim == 0:  # a 0-d tensor takes a 0-d source at its one index
        if src.ndim:
            raise RuntimeError("source tensor shape must match self tensor shape, excluding "
                               f"the specified dimension. Got self.shape = [] source.shape = "
                               f"{list(src.shape)}")
        if idx.size != 1:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        r += src
    else:
        np.add.at(np.moveaxis(r, ax, 0), idx, np.moveaxis(src, ax, 0))
    return _record(IndexAddBackward0, r, (input, source), dim=ax, index=index._data, alpha=alpha)


@tensor_op(inplace=_rebase_inplace)
@_np_compat
def index_copy(input, dim, index, source):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax] if d.ndim else 1
    bad = _first_bad(index._data, 0, n)
    if bad is not None:
        raise IndexError(f"index_copy_(): index {bad} is out of bounds for dimension {ax} with "
                         f"size {n}")
    r = d.copy()
    np.moveaxis(r, ax, 0)[index._data] = np.moveaxis(source._data, ax, 0)
    return _record(IndexCopyBackward0, r, (input, source), dim=ax, index=index._data)


@tensor_op
@_np_compat
def index_fill(input, dim, index, value):
    d = input._data
    ax = _wrap_dim(dim, d.ndim)
    n = d.shape[ax] if d.ndim else 1
    bad = _first_bad(index._data, -n, n)  # index_fill wraps negative indices once
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {ax} with size {n}")
    r = d.copy()
    v = _scalar_to(value, d.dtype)
    np.moveaxis(r, ax, 0)[index._data] = v
    return _record(IndexFillBackward0, r, (input,), dim=ax, index=index._data)


@tensor_op
@_np_compat
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # repeat_interleave(repeats_tensor)
        reps = input._data
        return _wrap(np.repeat(np.arange(reps.size), reps).astype(np.int64))
    d = input._data
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    if dim is None:
        flat = input.reshape(-1)
        idx = np.repeat(np.arange(flat._data.size), reps)
        return index_select(flat, 0, _wrap(idx.astype(np.int64)))
    ax = _wrap_dim(dim, d.ndim)
    idx = np.repeat(np.arange(d.shape[ax]), reps)
    return index_select(input, ax, _wrap(idx.astype(np.int64)))


@tensor_op(name='index_fill_')
def _index_fill_(self, dim, index, value):
    r = index_fill(self, dim, index, value)
    d = self._data
    if _internal_overlap(d) and not (_State.enabled and r._requires_grad):
        # torch writes the indexed elements only (and warns)
        _warn_expanded(d, 'index_fill_', 'tensor[mask] = scalar')
        hit = np.zeros(d.shape, bool)
        np.moveaxis(hit, _wrap_dim(dim, d.ndim), 0)[index._data] = True
        np.copyto(_writable(d), r._data, where=hit)
        self._vc.value += 1
        return self
    return _write_inplace(self, r)
