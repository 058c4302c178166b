"""The remaining computational torch.* / Tensor entry points: numerical gradients, histogramdd,
index_reduce, the unsafe splits, nonzero_static, strided scatter, orgqr/ormqr, segment_reduce,
hash_tensor and the legacy Tensor methods (resize, set_, map2_, module_load)."""
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap, _wrap_dim, tensor_op
from ..autograd.function import Function
from ..autograd.grad_mode import _State, no_grad, enable_grad
from ..autograd.graph import _record, _RESULT, derivative, grad as _autograd_grad
from ._util import _with_out, _arr, _zeros_like_shape, _check_inplace, _write_inplace, _warn_once
from .creation import linspace
from .decomp import _householder_product, _matrix_exp, _svdvals
from .geqrf import geqrf
from .sparse import sspaddmm
from .embedding import _renorm_
from .linalg import vector_norm
from .distance import _pairwise_norm_backward
from .reduce import _return_type
from .shape import SplitBackward0, SplitWithSizesBackward0, _split
from .shape import cat

__all__ = ['saddmm', 'gradient', 'histogramdd', 'index_reduce', 'unsafe_split', 'unsafe_chunk',
           'unsafe_split_with_sizes', 'nonzero_static', 'as_strided_', 'as_strided_scatter',
           'slice_inverse', 'empty_permuted', 'frobenius_norm', 'nuclear_norm', 'orgqr', 'ormqr',
           'segment_reduce', 'embedding_renorm_', 'conj_physical_', 'hash_tensor']


# ---- torch.gradient ----------------------------------------------------------------------------

def _gradient_spacing(input, spacing, dims):
    """torch's spacing forms: a number, a list of numbers, or a list of coordinate tensors."""
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but "
                               f"got a spacing argument of length {len(spacing)} and a dim "
                               f"argument of length {len(dims)}.")
        return list(spacing)
    if isinstance(spacing, Tensor):
        return [spacing] * len(dims)
    return [spacing] * len(dims)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences in the interior, one-sided (first or second order) at the edges."""
    nd = input.ndim
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, int):
        dims = [_wrap_dim(dim, nd)]
    else:
        dims = [_wrap_dim(d, nd) for d in dim]
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    x = input if input.is_floating_point() or input.is_complex() else input.to(
        _dtype.get_default_dtype())
    out = []
    for d, h in zip(dims, _gradient_spacing(input, spacing, dims)):
        n = x.shape[d]

        def sl(a, b):
            return x.narrow(d, a, b - a)
        if isinstance(h, Tensor):
            out.append(_gradient_coords(x, d, h, edge_order, sl, n))
            continue
        interior = (sl(2, n) - sl(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (sl(1, 2) - sl(0, 1)) / h
            last = (sl(n - 1, n) - sl(n - 2, n - 1)) / h
        else:
            first = (sl(0, 1) * -1.5 + sl(1, 2) * 2.0 - sl(2, 3) * 0.5) / h
            last = (sl(n - 3, n - 2) * 0.5 - sl(n - 2, n - 1) * 2.0 + sl(n - 1, n) * 1.5) / h
        out.append(cat([first, interior, last], d))
    return tuple(out)


def _gradient_coords(x, d, coords, edge_order, sl, n):
    """Second-order accurate differences on non-uniform coordinates (numpy's formulas)."""
    if coords.ndim != 1 or coords.shape[0] != n:
        raise RuntimeError(f"torch.gradient expected each tensor to be on the same device, and "
                           f"each coordinate tensor to have {n} elements along dimension {d}")
    shape = [1] * x.ndim
    shape[d] = -1
    c = coords.to(x.dtype)
    dx = (c[1:] - c[:-1])
    a = dx[:-1].reshape(shape)     # h_{i-1}
    b = dx[1:].reshape(shape)      # h_i
    interior = (a * a * sl(2, n) - b * b * sl(0, n - 2) + (b * b - a * a) * sl(1, n - 1)) / (
        a * b * (a + b))
    if edge_order == 1:
        first = (sl(1, 2) - sl(0, 1)) / dx[0]
        last = (sl(n - 1, n) - sl(n - 2, n - 1)) / dx[-1]
    else:
        h1, h2 = dx[0], dx[1]
        first = (sl(0, 1) * (-(2 * h1 + h2) / (h1 * (h1 + h2))) + sl(1, 2) * ((h1 + h2) / (h1 * h2))
                 - sl(2, 3) * (h1 / (h2 * (h1 + h2))))
        h1, h2 = dx[-2], dx[-1]
        last = (sl(n - 3, n - 2) * (h2 / (h1 * (h1 + h2)))
                - sl(n - 2, n - 1) * ((h2 + h1) / (h1 * h2))
                + sl(n - 1, n) * ((2 * h2 + h1) / (h2 * (h1 + h2))))
    return cat([first, interior, last], d)


# ---- histogramdd -------------------------------------------------------------------------------

_HistogramddRT = _return_type('histogramdd', ('hist', 'bin_edges'))


@_with_out
def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):
    """torch's histogramdd: the last dim of `input` holds the coordinates; equal-width bins are
    linspace edges and a point's bin is (x - lo) * nbins / (hi - lo), truncated, the top edge
    falling into the last bin."""
    d = input._data
    if d.dtype.kind != 'f':
        raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the "
                           f"same dtype, but got input {input.dtype} and bins "
                           f"{_dtype.get_default_dtype()}")
    k = d.shape[-1]
    pts = d.reshape(-1, k)
    if isinstance(bins, int):
        bins = [bins] * k
    bins = list(bins)
    if len(bins) != k:
        raise RuntimeError(f"torch.histogramdd: expected {k} sequences of bin edges for each "
                           f"dimension of the input tensor, but got {len(bins)}")
    edges = []
    for i, b in enumerate(bins):
        if isinstance(b, Tensor):
            edges.append(b)
            continue
        if range is not None:
            lo, hi = float(range[2 * i]), float(range[2 * i + 1])
        elif pts.shape[0]:
            lo, hi = float(pts[:, i].min()), float(pts[:, i].max())
        else:
            lo, hi = 0.0, 0.0
        if lo == hi:  # torch widens a degenerate range by one unit each side
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(linspace(lo, hi, int(b) + 1, dtype=input.dtype))
    counts = np.zeros(tuple(e.shape[0] - 1 for e in edges), dtype=d.dtype)
    keep = np.ones(pts.shape[0], bool)
    pos = []
    for i, e in enumerate(edges):
        ed = e._data
        x = pts[:, i]
        lo, hi = ed[0], ed[-1]
        nb = ed.shape[0] - 1
        keep &= (x >= lo) & (x <= hi)
        if isinstance(bins[i], Tensor):
            p = np.searchsorted(ed, x, side='right') - 1
        else:
            with np.errstate(all='ignore'):
                p = ((x - lo) * nb / (hi - lo)).astype(np.int64)
            # the linspace edges may round: move a point into the bin its edges say
            p = np.clip(p, 0, nb - 1)
            p -= (x < ed[p]) & (p > 0)
            p += (x >= ed[np.minimum(p + 1, nb)]) & (p < nb - 1)
        pos.append(np.clip(p, 0, nb - 1))
    w = weight._data.reshape(-1) if weight is not None else np.ones(pts.shape[0], d.dtype)
    np.add.at(counts, tuple(p[keep] for p in pos), w[keep].astype(d.dtype))
    if density:
        total = counts.sum()
        for i, e in enumerate(edges):
            widths = np.diff(e._data)
            shape = [1] * k
            shape[i] = -1
            counts = counts / widths.reshape(shape)
        counts = (counts / total).astype(d.dtype)
    return _HistogramddRT(_wrap(_arr(counts)), tuple(edges))


# ---- index_reduce ------------------------------------------------------------------------------

def _index_reduce_np(d, ax, idx, src, reduce, include_self):
    out = np.moveaxis(d.copy(), ax, 0)
    s = np.moveaxis(src, ax, 0) if src.ndim else src.reshape(1)
    if out.ndim == 0:
        out = out.reshape(1)
    touched = np.unique(idx)
    if reduce == 'prod':
        if not include_self:
            out[touched] = 1
        np.multiply.at(out, idx, s)
    elif reduce == 'mean':
        if not include_self:
            out[touched] = 0
        np.add.at(out, idx, s)
        cnt = np.full(out.shape[0], 1 if include_self else 0, np.int64)
        np.add.at(cnt, idx, 1)
        cnt = np.maximum(cnt, 1).reshape((-1,) + (1,) * (out.ndim - 1))
        out = out // cnt if d.dtype.kind in 'iub' else out / cnt.astype(d.dtype)
    elif reduce in ('amax', 'amin'):
        if not include_self:
            info = np.finfo(d.dtype) if d.dtype.kind == 'f' else np.iinfo(d.dtype)
            out[touched] = (-np.inf if d.dtype.kind == 'f' else info.min) if reduce == 'amax' \
                else (np.inf if d.dtype.kind == 'f' else info.max)
        (np.maximum if reduce == 'amax' else np.minimum).at(out, idx, s)
    else:
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    out = out.astype(d.dtype, copy=False)
    return np.moveaxis(out, 0, ax) if d.ndim else out.reshape(())


@derivative
def IndexReduceBackward0(grad, self, dim, index, source, reduce, include_self, result):
    # torch's index_reduce_backward, term for term
    idx = _wrap(index)
    if reduce == 'prod':
        masked_self = self.masked_fill(self == 0, 1)
        masked_self_result = masked_self.index_reduce(dim, idx, source, reduce,
                                                      include_self=include_self)
        grad_self = grad * masked_self_result / masked_self
        src_zero = source == 0
        src_num_zeros = _zeros_like_shape(grad, self.shape).index_add(
            dim, idx, src_zero.to(self.dtype)).index_select(dim, idx)
        src_single_zero = src_zero & (src_num_zeros == 1)
        masked_src = source.masked_fill(src_single_zero, 1)
        masked_src_result = self.index_reduce(dim, idx, masked_src, reduce,
                                              include_self=include_self)
        grad_src1 = (grad * masked_src_result).index_select(dim, idx).masked_fill(
            ~src_single_zero, 0)
        grad_src = ((grad * result).index_select(dim, idx) / source.masked_fill(src_zero, 1))
        grad_src = grad_src.masked_fill(src_zero, 0) + grad_src1
    elif reduce == 'mean':
        ones = _wrap(np.ones(self.shape, grad._data.dtype))
        base = ones if include_self else _zeros_like_shape(grad, self.shape)
        n = base.index_add(dim, idx, _wrap(np.ones(source.shape, grad._data.dtype)))
        n = n.masked_fill(n == 0, 1)
        grad_self = grad / n
        grad_src = (grad / n).index_select(dim, idx)
    else:
        self_is_result = (self == result).to(self.dtype)
        source_is_result = (source == result.index_select(dim, idx)).to(self.dtype)
        n = self_is_result.index_add(dim, idx, source_is_result)
        grad_distributed = grad / n
        grad_self = grad_distributed.masked_fill(self != result, 0)
        grad_src = grad_distributed.index_select(dim, idx).masked_fill(
            source != result.index_select(dim, idx), 0)
    if not include_self:
        grad_self = grad_self.index_fill(dim, idx, 0)
    return grad_self, grad_src


@tensor_op(name='index_reduce_')
def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    _check_inplace(self)
    if not _State.enabled or not (self._requires_grad or source._requires_grad):
        np.copyto(self._data, index_reduce(self, dim, index, source, reduce,
                                           include_self=include_self)._data)
        self._vc.value += 1
        return self
    return _write_inplace(self, index_reduce(self, dim, index, source, reduce,
                                             include_self=include_self))


def _index_vector(index):
    """index_reduce's index: a vector of integers (torch's messages)."""
    idx = index._data
    if idx.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    if idx.dtype.kind not in 'iu':
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{_dtype.from_numpy(idx.dtype)}")
    return idx


@tensor_op
def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    d = input._data
    idx = _index_vector(index)
    ax = _wrap_dim(dim, d.ndim)
    if source.dtype != input.dtype:
        raise RuntimeError("index_reduce_(): self (" + str(input.dtype).replace('torch.', '')
                           + ") and source (" + str(source.dtype).replace('torch.', '')
                           + ") must have the same scalar type")
    n = d.shape[ax] if d.ndim else 1
    sdim = source.shape[ax] if source.ndim else 1
    if idx.size != sdim:
        raise RuntimeError(f"index_reduce_(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({sdim}), for dim: {ax}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError("index out of range in self")
    idx = np.where(idx < 0, idx + n, idx).astype(np.int64).reshape(-1)
    r = _index_reduce_np(d, ax, idx, source._data, reduce, include_self)
    res = _record(IndexReduceBackward0, r, (input, source), self=input, dim=ax, index=idx,
                  source=source, reduce=reduce, include_self=include_self,
                  result=_wrap(r))
    if out is not None:
        out.copy_(res)
        return out
    return res


# ---- unsafe splits: torch's split without the view checks (the gradients are split's) ---------

UnsafeSplitBackward0 = derivative('UnsafeSplitBackward0')(SplitBackward0._formula)
UnsafeSplitWithSizesBackward0 = derivative('UnsafeSplitWithSizesBackward0')(
    SplitWithSizesBackward0._formula)


@tensor_op
def unsafe_split(tensor, split_size, dim=0):
    if not isinstance(split_size, (int, np.integer)):
        raise TypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size).__name__}")
    return _split(tensor, split_size, dim, UnsafeSplitBackward0,
                  UnsafeSplitWithSizesBackward0, view=False)


@tensor_op
def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return _split(input, list(split_sizes), dim, UnsafeSplitBackward0,
                  UnsafeSplitWithSizesBackward0, view=False)


@tensor_op
def unsafe_chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    n = input.shape[_wrap_dim(dim, input.ndim)]
    size = -(-n // chunks) if n else 0
    if size == 0:
        return unsafe_split_with_sizes(input, [0] * chunks, dim)
    return unsafe_split(input, size, dim)


# ---- nonzero_static, strided writes ------------------------------------------------------------

@tensor_op
def nonzero_static(input, *, size, fill_value=-1):
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got "
                           f"size: {size}")
    d = input._data
    nz = np.argwhere(d)[:size]
    out = np.full((size, d.ndim), fill_value, np.int64)
    out[:nz.shape[0]] = nz
    return _wrap(out)


def _flat_root(d):
    root = d
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root.reshape(-1) if root.flags.c_contiguous else root.ravel()


@tensor_op(name='as_strided_')
def as_strided_(self, size, stride, storage_offset=None):
    """self becomes the strided view of its own storage (no gradient, as ember's as_strided)."""
    d = self._data
    off = self.storage_offset() if storage_offset is None else storage_offset
    r = np.lib.stride_tricks.as_strided(_flat_root(d)[off:], shape=tuple(size),
                                        strides=tuple(s * d.itemsize for s in stride))
    self._data = r
    self._vc.value += 1
    return self


def _strided_positions(shape_numel, size, stride, off):
    """The flat positions an as_strided view (size, stride, offset) reads, in its order."""
    pos = np.full(tuple(size), off, np.int64)
    for ax, (n, st) in enumerate(zip(size, stride)):
        sh = [1] * len(size)
        sh[ax] = n
        pos = pos + (np.arange(n, dtype=np.int64) * st).reshape(sh)
    if pos.size and (pos.max() >= shape_numel or pos.min() < 0):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {off}, and itemsize ... requiring a storage size of "
                           f"{int(pos.max()) + 1} are out of bounds for storage of size "
                           f"{shape_numel}")
    return pos


@derivative
def AsStridedScatterBackward0(grad, pos):
    g = grad.reshape(-1)
    flat = _wrap(pos.reshape(-1))
    grad_self = g.index_fill(0, flat, 0).reshape(grad.shape)
    grad_src = g.index_select(0, flat).reshape(pos.shape)
    return grad_self, grad_src


@tensor_op
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of input (its strides kept, as torch's clone) with src written where
    as_strided(size, stride, offset) of that copy reads."""
    d = input._data
    r = np.empty_like(d)   # order 'K': a dense input's strides are kept
    r[...] = d
    base = np.lib.stride_tricks.as_strided(r, (r.size,), (r.itemsize,)) if r.size else r
    pos = _strided_positions(d.size, size, stride, 0 if storage_offset is None
                             else storage_offset)
    if tuple(src.shape) != tuple(size):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(size)}")
    base[pos.reshape(-1)] = src._data.reshape(-1)
    # where each storage position sits in the input's logical order
    order = np.empty(d.size, np.int64)
    if r.size:
        order[_storage_index(r).reshape(-1)] = np.arange(d.size)
    return _record(AsStridedScatterBackward0, r, (input, src), pos=order[pos])


def _storage_index(r):
    """The storage position of each element of the dense array r."""
    strides = [s // r.itemsize for s in r.strides]
    idx = np.zeros(r.shape, np.int64)
    for ax, (n, st) in enumerate(zip(r.shape, strides)):
        sh = [1] * r.ndim
        sh[ax] = n
        idx = idx + (np.arange(n, dtype=np.int64) * st).reshape(sh)
    return idx


@tensor_op
def slice_inverse(input, src, dim=0, start=None, end=None, step=1):
    """The inverse of slicing `src` into `input`: a view of src with its own geometry."""
    return src.view_as(src)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    size = tuple(size)
    perm = tuple(physical_layout)
    if sorted(perm) != list(range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(perm)}")
    np_dt = (dtype or _dtype.get_default_dtype())._np
    phys = np.empty(tuple(size[p] for p in perm), np_dt)
    r = _wrap(np.transpose(phys, np.argsort(perm)))
    if requires_grad:
        r.requires_grad_(True)
    return r


@tensor_op
def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad=False, pin_memory=False):
    np_dt = (dtype or self.dtype)._np
    size, stride = tuple(size), tuple(stride)
    need = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    buf = np.empty(need, np_dt)
    r = _wrap(np.lib.stride_tricks.as_strided(buf, size, tuple(s * buf.itemsize for s in stride)))
    if requires_grad:
        r.requires_grad_(True)
    return r


# ---- deprecated norms, orgqr / ormqr -----------------------------------------------------------

@_with_out
def frobenius_norm(input, dim, keepdim=False, *, out=None):
    _warn_once('frobenius_norm', "at::frobenius_norm is deprecated and it is just left for JIT "
               "compatibility. It will be removed in a future PyTorch release. Please use "
               "`linalg.vector_norm(A, 2., dim, keepdim)` instead")
    dim = [dim] if isinstance(dim, int) else list(dim)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions "
                           "instead.")
    axes = tuple(_wrap_dim(a, max(input.ndim, 1)) for a in dim)
    with no_grad():
        r = vector_norm(input, 2, dim, keepdim)
    return _record(_pairwise_norm_backward, r._data, (input,), diff=input, p=2.0, axes=axes,
                   keepdim=keepdim, result=_RESULT)


@_with_out
def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    _warn_once('nuclear_norm', "at::nuclear_norm is deprecated and it is just left for JIT "
               "compatibility. It will be removed in a future PyTorch release. Please use "
               "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead")
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    if dim is None:
        if input.ndim < 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        dim = (-2, -1)
    # torch's composite: the singular values' sum (its grad_fn is SumBackward1)
    a, b = (_wrap_dim(x, input.ndim) for x in dim)
    if a == b:
        raise RuntimeError("linalg.matrix_norm: dims must be different. Got (" + f"{a}, {b})")
    r = _svdvals(input.movedim((a, b), (-2, -1))).sum(-1, keepdim=keepdim)
    if keepdim:
        r = r.unsqueeze(-1).movedim((-2, -1), (a, b))
    return r


def _recomputed_vjp(compute, inputs, grad):
    """The gradients of compute(*inputs), a composite of differentiable ember ops, for `grad`:
    the formula of a node that torch computes in one kernel. Under create_graph the composite
    runs again on the inputs themselves, so the gradients differentiate further."""
    create = _State.enabled
    xs = inputs if create else [x.detach().requires_grad_(True) for x in inputs]
    with enable_grad():
        out = compute(*xs)
        return _autograd_grad(out, xs, grad, allow_unused=True, create_graph=create)


@derivative
def LinalgHouseholderProductBackward0(grad, input, tau):
    return _recomputed_vjp(_householder_product, (input, tau), grad)


@tensor_op
def orgqr(input, tau):
    with no_grad():
        r = _householder_product(input, tau)
    return _record(LinalgHouseholderProductBackward0, r._data, (input, tau), input=input,
                   tau=tau)


def _ormqr(input, tau, other, left, transpose):
    mn = input.shape[-2]
    k = tau.shape[-1]
    A = input[..., :, :k]
    if k < mn:
        A = cat([A, _wrap(np.zeros(A.shape[:-1] + (mn - k,), A._data.dtype))], -1)
    Q = _householder_product(A, tau)
    if transpose:
        Q = Q.mH
    return Q @ other if left else other @ Q


@derivative
def OrmqrBackward0(grad, input, tau, other, left, transpose):
    return _recomputed_vjp(lambda a, t, o: _ormqr(a, t, o, left, transpose),
                           (input, tau, other), grad)


@tensor_op
def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """Q @ other (or other @ Q, with Q^H when transpose) for Q = H_1 ... H_k of geqrf's
    reflectors: the full square Q from householder_product of the reflectors padded to
    square with zero scales."""
    if input.ndim < 2 or other.ndim < 2:
        raise RuntimeError("torch.ormqr: input must have at least 2 dimensions.")
    ax = -2 if left else -1
    mn = other.shape[ax]
    if input.shape[-2] != mn:
        raise RuntimeError(f"torch.ormqr: other.shape[{ax}] must be equal to input.shape[-2]")
    if tau.shape[-1] != min(mn, input.shape[-1]):
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{ax}], "
                           "input.shape[-1])")
    with no_grad():
        r = _ormqr(input, tau, other, left, transpose)
    r = _record(OrmqrBackward0, r._data, (input, tau, other), input=input, tau=tau, other=other,
                left=left, transpose=transpose)
    if out is not None:
        out.copy_(r)
        return out
    return r


_register_matrix_exp = tensor_op(name='matrix_exp')(_matrix_exp)
_register_geqrf = tensor_op(name='geqrf')(geqrf)


# ---- segment_reduce ----------------------------------------------------------------------------

def _segment_bounds(data, lengths, offsets, axis):
    if lengths is not None:
        lens = lengths._data
        offs = np.concatenate([np.zeros(lens.shape[:-1] + (1,), np.int64),
                               np.cumsum(lens, -1)], -1)
    elif offsets is not None:
        offs = offsets._data.astype(np.int64)
    else:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined")
    return offs


@derivative
def SegmentReduceBackward0(grad, x, reduce, offs, axis, result, initial):
    g = grad._data
    d = x._data
    r = result._data
    gd = np.zeros(d.shape, g.dtype)
    dm = np.moveaxis(d, axis, -1)
    gm = np.moveaxis(gd, axis, -1)
    om = np.moveaxis(g, axis, -1)
    rm = np.moveaxis(r, axis, -1)
    lead = offs.shape[:-1]
    for li in np.ndindex(*lead) if lead else [()]:
        o = offs[li]
        for s in range(o.shape[-1] - 1):
            a, b = int(o[s]), int(o[s + 1])
            if a == b:
                continue
            seg = _seg(dm, li, axis, a, b)
            gs = _seg1(om, li, axis, s)
            rs = _seg1(rm, li, axis, s)
            if reduce == 'sum':
                val = np.broadcast_to(gs[..., None], seg.shape)
            elif reduce == 'mean':
                val = np.broadcast_to(gs[..., None] / (b - a), seg.shape)
            elif reduce in ('max', 'min'):
                hit = (seg == rs[..., None]) | (np.isnan(seg) & np.isnan(rs[..., None]))
                cnt = hit.sum(-1, keepdims=True)
                val = np.where(hit, gs[..., None] / np.maximum(cnt, 1), 0)
            else:  # prod: torch divides the product by each element, zeros handled apart
                zero = seg == 0
                nz = zero.sum(-1, keepdims=True)
                safe = np.where(zero, 1, seg)
                prod_others = np.where(
                    nz == 0, rs[..., None] / safe,
                    np.where((nz == 1) & zero, np.prod(safe, -1, keepdims=True), 0))
                val = gs[..., None] * prod_others
            _setseg(gm, li, axis, a, b, val)
    return _wrap(gd)


def _seg(m, li, axis, a, b):
    return m[li][..., a:b] if li else m[..., a:b]


def _seg1(m, li, axis, s):
    return m[li][..., s] if li else m[..., s]


def _setseg(m, li, axis, a, b, val):
    if li:
        m[li][..., a:b] = val
    else:
        m[..., a:b] = val


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """Reduce `data` over consecutive segments along `axis` (given by lengths or offsets)."""
    if reduce not in ('sum', 'mean', 'max', 'min', 'prod'):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    d = data._data
    axis = _wrap_dim(axis, d.ndim)
    offs = _segment_bounds(data, lengths, offsets, axis)
    if lengths is not None and offs.ndim - 1 != axis:
        raise RuntimeError("Expected lengths dim to be equal to axis + 1")
    if not unsafe:
        if offs.size and (offs[..., -1] != d.shape[axis]).any():
            raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to "
                               "sum to data.size(lengths.dim()-1) when !unsafe.")
        if lengths is not None and (lengths._data < 0).any():
            raise RuntimeError("segment_reduce(): lengths contains negative value!")
    nseg = offs.shape[-1] - 1
    out_shape = list(d.shape)
    out_shape[axis] = nseg
    empty = {'sum': 0, 'prod': 1, 'mean': np.nan, 'max': -np.inf, 'min': np.inf}[reduce]
    init = empty if initial is None else initial
    res = np.zeros(out_shape, d.dtype)
    dm = np.moveaxis(d, axis, -1)
    rm = np.moveaxis(res, axis, -1)
    fn = {'sum': np.sum, 'mean': np.sum, 'prod': np.prod, 'max': np.max, 'min': np.min}[reduce]
    lead = offs.shape[:-1]
    for li in np.ndindex(*lead) if lead else [()]:
        o = offs[li]
        for s in range(nseg):
            a, b = int(o[s]), int(o[s + 1])
            seg = _seg(dm, li, axis, a, b)
            if a == b:
                val = np.full(seg.shape[:-1], init, d.dtype)
            else:
                val = fn(seg, -1)
                if initial is not None:
                    val = {'sum': val + initial, 'mean': val + initial, 'prod': val * initial,
                           'max': np.maximum(val, initial),
                           'min': np.minimum(val, initial)}[reduce]
                if reduce == 'mean':
                    val = val / (b - a)
            if li:
                rm[li][..., s] = val
            else:
                rm[..., s] = val
    return _record(SegmentReduceBackward0, res, (data,), x=data, reduce=reduce, offs=offs,
                   axis=axis, result=_wrap(res), initial=initial)


# ---- small in-place / legacy entry points ------------------------------------------------------

def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale in place the rows of `input` that `indices` picks and whose norm exceeds
    max_norm (nn.Embedding's max_norm)."""
    _check_inplace(input)
    _renorm_(input, indices._data.reshape(-1), max_norm, norm_type)
    return input


@tensor_op(name='conj_physical_')
def conj_physical_(input):
    if input.is_complex():
        _check_inplace(input)
        np.conjugate(input._data, out=input._data)
        input._vc.value += 1
    return input


@tensor_op
def hash_tensor(input, dim=None, *, keepdim=False, mode=0):
    """The xor of the elements' 64-bit patterns (floats widened to float64, integers and bools
    to int64), reduced over `dim` (all dims by default)."""
    if mode != 0:
        raise RuntimeError(f"hash_tensor: Unsupported mode {mode}")
    d = input._data
    if dim is None:
        if d.size == 0:
            raise RuntimeError("hash_tensor: Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        axes = tuple(range(d.ndim))
    else:
        axes = tuple(sorted({_wrap_dim(a, max(d.ndim, 1)) for a in
                             ([dim] if isinstance(dim, int) else dim)}))
        for a in axes:
            if d.ndim and d.shape[a] == 0:
                raise IndexError(f"hash_tensor: Expected reduction dim {a} to have non-zero "
                                 "size.")
    wide = d.astype(np.float64) if d.dtype.kind == 'f' else d.astype(np.int64)
    bits = np.array(wide, order='C').view(np.uint64)
    if d.ndim == 0:
        return _wrap(bits.copy())
    r = np.bitwise_xor.reduce(bits, axis=axes, keepdims=keepdim)
    return _wrap(_arr(np.asarray(r, np.uint64)))


class Resize(Function):
    """The deprecated out-of-place resize of autograd (torch.autograd._functions.Resize)."""

    @staticmethod
    def forward(ctx, tensor, sizes):
        numel = int(np.prod(sizes, dtype=np.int64))
        if tensor.numel() != numel:
            raise RuntimeError(
                f"requested resize to {'x'.join(map(str, sizes))} ({numel} elements in total), "
                f"but the given tensor has a size of {'x'.join(map(str, tensor.size()))} "
                f"({tensor.numel()} elements). autograd's resize can only change the shape of "
                "a given tensor, while preserving the number of elements. ")
        ctx.input_sizes = tensor.size()
        return tensor.contiguous().clone().view(*sizes)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.contiguous().view(ctx.input_sizes), None


@tensor_op
def resize(self, *sizes):
    warnings.warn("non-inplace resize is deprecated", stacklevel=2)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return Resize.apply(self, sizes)


@tensor_op
def resize_as(self, tensor):
    warnings.warn("non-inplace resize_as is deprecated", stacklevel=2)
    return Resize.apply(self, tensor.size())


@tensor_op(name='set_')
def set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Point self at source's memory (a tensor, or a storage with offset, size and stride)."""
    if source is None:
        self._data = np.empty((0,), self._data.dtype)
    elif isinstance(source, Tensor):
        if source.dtype != self.dtype:
            raise RuntimeError(f"Could not set tensor of type {source.dtype} to a tensor of type "
                               f"{self.dtype}")
        self._data = source._data
    else:
        buf = source._ember_array() if hasattr(source, '_ember_array') else None
        if buf is None:
            raise NotImplementedError("ember does not implement torch.Tensor.set_ with a "
                                      f"{type(source).__name__}")
        flat = buf.reshape(-1).view(self._data.dtype)
        size = (flat.size - storage_offset,) if size is None else tuple(size)
        if stride is None:
            stride = tuple(int(np.prod(size[i + 1:], dtype=np.int64)) for i in range(len(size)))
        self._data = np.lib.stride_tricks.as_strided(
            flat[storage_offset:], tuple(size), tuple(s * flat.itemsize for s in stride))
    self._vc.value += 1
    return self


@tensor_op
def is_set_to(self, tensor):
    a, b = self._data, tensor._data
    return (a.__array_interface__['data'][0] == b.__array_interface__['data'][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


@tensor_op(name='map2_')
def map2_(self, x, y, callable):
    """self[i] = callable(self[i], x[i], y[i]) elementwise, x and y broadcast to self."""
    if self._requires_grad or x._requires_grad or y._requires_grad:
        raise RuntimeError("map2_ is only implemented on CPU tensors that do not require grad")
    d = self._data
    xb = np.broadcast_to(x._data, d.shape)
    yb = np.broadcast_to(y._data, d.shape)
    for i in np.ndindex(*d.shape):
        d[i] = callable(d[i].item(), xb[i].item(), yb[i].item())
    self._vc.value += 1
    return self


@tensor_op
def const_data_ptr(self):
    return self.data_ptr()


@tensor_op
def module_load(self, other, assign=False):
    if assign:
        return other.detach()
    return self.copy_(other).detach()


@tensor_op
def reinforce(self, reward):
    raise RuntimeError(
        "reinforce() was removed.\nUse torch.distributions instead.\n"
        "See https://pytorch.org/docs/main/distributions.html\n\nInstead of:\n\n"
        "probs = policy_network(state)\naction = probs.multinomial()\n"
        "next_state, reward = env.step(action)\naction.reinforce(reward)\naction.backward()\n\n"
        "Use:\n\nprobs = policy_network(state)\n"
        "# NOTE: categorical is equivalent to what used to be called multinomial\n"
        "m = torch.distributions.Categorical(probs)\naction = m.sample()\n"
        "next_state, reward = env.step(action)\nloss = -m.log_prob(action) * reward\n"
        "loss.backward()")


def saddmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * mat1 @ mat2 for sparse input and mat1: torch.sspaddmm's kernel."""
    return sspaddmm(input, mat1, mat2, beta=beta, alpha=alpha, out=out)


@tensor_op
def record_stream(self, stream):
    """A CPU tensor has no stream to record: torch refuses a torch.Stream with its dispatch
    error and any other argument as an unknown parameter type."""
    if type(stream).__name__ == 'Stream' and type(stream).__module__ == 'ember':
        raise NotImplementedError("Could not run 'aten::record_stream' with arguments from the "
                                  "'CPU' backend.")
    raise RuntimeError("unknown parameter type")
