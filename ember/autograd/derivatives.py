"""THE table of gradient formulas, in the vocabulary of PyTorch's derivatives.yaml.

``DERIVATIVES[op] = (grad_fn class name, formula)``. A formula is called as
``formula(grad, *saved)`` where ``saved`` is what the op's forward recorded (see each op in
``ember/_ops``), and returns one gradient per input the op recorded (None where an input gets
none). Formulas are written with ember Tensor ops, so they can themselves be differentiated
(``create_graph=True``). They may return gradients of a broadcast shape: the engine sums them
down to each input's shape.
"""
import math

import numpy as np

# TRANSITIONAL: this table empties as each op family declares its formulas beside its forward
from .._ops._util import (_nograph, _zeros, _zeros_like_shape, _drop, _keep, _unreduce,
                          _times, _act_c, _loss_scale)
from .._tensor import _wrap as _w

DERIVATIVES = {}


def _def(op, grad_fn_name, formula):
    DERIVATIVES[op] = (grad_fn_name, formula)


def _defs(grad_fn_name, *ops):
    """Decorator form, for formulas longer than a lambda."""
    def deco(f):
        for op in ops:
            DERIVATIVES[op] = (grad_fn_name, f)
        return f
    return deco


# ---- dtype conversion -------------------------------------------------------------------------
_def('_to_copy', 'ToCopyBackward0', lambda grad, src_dtype: grad.to(src_dtype))
_def('clone', 'CloneBackward0', lambda grad: grad)
_def('alias', 'AliasBackward0', lambda grad: grad)

# ---- shape and view ops -----------------------------------------------------------------------
_def('view', 'ViewBackward0', lambda grad, shape: grad.reshape(shape))
_def('reshape_copy', 'UnsafeViewBackward0', lambda grad, shape: grad.reshape(shape))
_def('squeeze', 'SqueezeBackward1', lambda grad, shape: grad.reshape(shape))
_def('squeeze_all', 'SqueezeBackward0', lambda grad, shape: grad.reshape(shape))
_def('unsqueeze', 'UnsqueezeBackward0', lambda grad, shape: grad.reshape(shape))
_def('transpose', 'TransposeBackward0', lambda grad, a, b: grad.transpose(a, b))
_def('t', 'TBackward0', lambda grad: grad.t())
_def('permute', 'PermuteBackward0',
     lambda grad, dims: grad.permute(tuple(int(i) for i in np.argsort(dims))))
_def('expand', 'ExpandBackward0', lambda grad, shape: grad)  # the engine sums to `shape`
_def('flip', 'FlipBackward0', lambda grad, axes: grad.flip(axes))
_def('roll', 'RollBackward0',
     lambda grad, shifts, dims: grad.roll(shifts, dims) if dims is not None else
     grad.reshape(-1).roll(shifts).reshape(grad.shape))
_def('tril', 'TrilBackward0', lambda grad, k: grad.tril(k))
_def('triu', 'TriuBackward0', lambda grad, k: grad.triu(k))


def _embed(grad, shape, idx):
    from .._ops._util import _embed_slice
    return _embed_slice(grad, shape, idx)


_def('slice', 'SliceBackward0', _embed)
_def('select', 'SelectBackward0', _embed)
_def('split', 'SplitBackward0', _embed)
_def('unbind', 'UnbindBackward0', _embed)
_def('getitem_basic', 'SliceBackward0', _embed)
_def('getitem_select', 'SelectBackward0', _embed)
_def('getitem_adv', 'IndexBackward0', _embed)


@_defs('CatBackward0', 'cat')
def _cat_backward(grad, dim, sizes):
    return grad.split(list(sizes), dim)


@_defs('RepeatBackward0', 'repeat')
def _repeat_backward(grad, shape, src_shape, sizes):
    # grad has shape sizes[i] * src_shape[i]; fold each repeated axis and sum it away
    folded = []
    for r, s in zip(sizes, src_shape):
        folded += [r, s]
    g = grad.reshape(tuple(folded)).sum(tuple(range(0, 2 * len(sizes), 2)))
    return g.reshape(shape)


@_defs('DiagBackward0', 'diag')
def _diag_backward(grad, shape, k):
    if len(shape) == 1:
        return grad.diagonal(k)
    from .._ops.index import _diag_scatter
    return _diag_scatter(grad, shape, k, 0, 1)


@_defs('DiagonalBackward0', 'diagonal')
def _diagonal_backward(grad, shape, offset, a, b):
    from .._ops.index import _diag_scatter
    return _diag_scatter(grad, shape, offset, a, b)


_def('diag_embed', 'DiagEmbedBackward0',
     lambda grad, offset, a, b: grad.diagonal(offset, a, b))

# ---- indexing ---------------------------------------------------------------------------------
_def('diag_scatter', 'DiagonalBackwardBackward0',
     lambda grad, offset, a, b: grad.diagonal(offset, a, b))


@_defs('CopySlices', 'index_put')
def _index_put_backward(grad, idx):
    g_self = grad.clone()
    g_self._data[idx] = 0  # the overwritten region gets no gradient
    return g_self, grad[idx]


_def('index_put_acc', 'IndexPutBackward0', lambda grad, idx: (grad, grad[idx]))


@_defs('GatherBackward0', 'gather')
def _gather_backward(grad, shape, dim, index):
    return _zeros_like_shape(grad, shape).scatter_add(dim, index, grad)


_def('scatter', 'ScatterBackward0',
     lambda grad, dim, index: (grad.scatter(dim, index, 0), grad.gather(dim, index)))
_def('scatter_add', 'ScatterAddBackward0',
     lambda grad, dim, index: (grad, grad.gather(dim, index)))


@_defs('IndexSelectBackward0', 'index_select')
def _index_select_backward(grad, shape, dim, index):
    return _zeros_like_shape(grad, shape).index_add(dim, _w(index), grad)


@_defs('TakeBackward0', 'take')
def _take_backward(grad, shape, index):
    from .._ops._util import _embed_slice
    flat = _embed_slice(grad.reshape(-1), (int(np.prod(shape)),), (index.reshape(-1),))
    return flat.reshape(shape)


@_defs('MaskedFillBackward0', 'masked_fill')
def _masked_fill_backward(grad, mask):
    return _drop(grad, mask), _keep(grad, mask).sum()


@_defs('MaskedSelectBackward0', 'masked_select')
def _masked_select_backward(grad, shape, mask):
    return _zeros_like_shape(grad, shape).masked_scatter(_w(mask), grad)


_def('masked_scatter', 'MaskedScatterBackward0',
     lambda grad, mask, src_shape: (grad.masked_fill(_w(mask), 0), _masked_src_grad(
         grad, mask, src_shape)))


def _masked_src_grad(grad, mask, src_shape):
    n = int(np.prod(src_shape))
    sel = grad.masked_select(_w(mask))
    pad = n - sel.shape[0]
    if pad:
        from .._ops.shape import cat
        sel = cat([sel, _zeros_like_shape(grad, (pad,))])
    return sel.reshape(src_shape)


_def('index_add', 'IndexAddBackward0',
     lambda grad, dim, index, alpha: (grad, grad.index_select(dim, _w(index)) *
                                      alpha if alpha != 1 else
                                      grad.index_select(dim, _w(index))))
_def('index_copy', 'IndexCopyBackward0',
     lambda grad, dim, index: (grad.index_fill(dim, _w(index), 0),
                               grad.index_select(dim, _w(index))))
_def('index_fill', 'IndexFillBackward0',
     lambda grad, dim, index: grad.index_fill(dim, _w(index), 0))


@_defs('SortBackward0', 'sort')
def _sort_backward(grad, shape, dim, indices):
    if len(shape) == 0:
        return grad
    return _zeros_like_shape(grad, shape).scatter(dim, indices, grad)


# ---- reductions -------------------------------------------------------------------------------
@_defs('SumBackward0', 'sum')
def _sum_backward(grad, shape, axes, keepdim):
    return _unreduce(grad, shape, axes, keepdim).expand(shape)


_def('nansum', 'NansumBackward0',
     lambda grad, self, axes, keepdim: _unreduce(grad, self.shape, axes, keepdim) *
     ~self.isnan())
_def('mean', 'MeanBackward0',
     lambda grad, shape, axes, keepdim, n: _unreduce(grad, shape, axes, keepdim).expand(shape)
     / n)


@_defs('MaxBackward0', 'max_dim')
def _max_dim_backward(grad, shape, dim, keepdim, indices):
    if len(shape) == 0:
        return grad
    g, idx = grad, indices
    if not keepdim:
        g, idx = g.unsqueeze(dim), idx.unsqueeze(dim)
    return _zeros_like_shape(grad, shape).scatter(dim, idx, g)


@_defs('MaxBackward1', 'amax_all')
def _amax_all_backward(grad, self, result):
    # torch's evenly_distribute_backward: the maxima (the NaNs, when the max is NaN) share it
    x, r = self._data, result._data
    mask = np.isnan(x) if r.dtype.kind in 'fc' and np.isnan(r) else x == r
    share = grad / int(np.count_nonzero(mask))
    if _nograph():
        out = np.zeros(x.shape, share._data.dtype)
        out[mask] = share._data
        return _w(out)
    return _keep(share.expand(x.shape), mask)


@_defs('AmaxBackward0', 'amax')
def _amax_backward(grad, self, axes, keepdim, result):
    r = _unreduce(result, self.shape, axes, keepdim)
    mask = self == r
    return _unreduce(grad, self.shape, axes, keepdim) * mask / mask.sum(axes, keepdim=True)


@_defs('MedianBackward0', 'median_all')
def _median_all_backward(grad, shape, idx):
    from .._ops._util import _embed_slice
    flat = _embed_slice(grad.reshape(1), (int(np.prod(shape)),), (np.array([idx]),))
    return flat.reshape(shape)


@_defs('ProdBackward0', 'prod')
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
    from .._ops.shape import cat
    n = x.shape[dim]
    ones = x.narrow(dim, 0, 1) * 0 + 1
    left = cat([ones, x.narrow(dim, 0, n - 1).cumprod(dim)], dim) if n > 1 else ones
    rx = x.flip(dim)
    right = cat([ones, rx.narrow(dim, 0, n - 1).cumprod(dim)], dim).flip(dim) if n > 1 \
        else ones
    return left * right


@_defs('VarBackward0', 'var')
def _var_backward(grad, self, axes, keepdim, correction, n):
    g = _unreduce(grad, self.shape, axes, keepdim)
    mean = self.mean(axes, keepdim=True) if axes is not None else self.mean()
    return g * (2.0 / max(n - correction, 0)) * (self - mean) if n - correction > 0 else \
        g * (self - mean) * float('inf')


@_defs('StdBackward0', 'std')
def _std_backward(grad, self, axes, keepdim, correction, n, result):
    # d std = d var / (2 std); torch defines it as 0 where std is 0
    g = (grad / (2 * result)).masked_fill(result == 0, 0)
    return _var_backward(g, self, axes, keepdim, correction, n)


@_defs('LogsumexpBackward0', 'logsumexp')
def _logsumexp_backward(grad, self, axes, keepdim, result):
    g = _unreduce(grad, self.shape, axes, keepdim)
    r = _unreduce(result, self.shape, axes, keepdim)
    return g * (self - r).exp()


DERIVATIVES['min_dim'] = ('MinBackward0', _max_dim_backward)
DERIVATIVES['amin_all'] = ('MinBackward1', _amax_all_backward)
DERIVATIVES['amin'] = ('AminBackward0', _amax_backward)
_def('cumsum', 'CumsumBackward0', lambda grad, dim: grad.flip(dim).cumsum(dim).flip(dim))


@_defs('CumprodBackward0', 'cumprod')
def _cumprod_backward(grad, self, dim, result):
    if self.ndim == 0:
        return grad
    if not (self == 0).any():
        return (grad * result).flip(dim).cumsum(dim).flip(dim) / self
    # exact but O(n^2) along dim: rare path (inputs containing zeros)
    n = self.shape[dim]
    out = []
    for k in range(n):
        xs = self.clone()
        xs._data[(slice(None),) * dim + (k,)] = 1
        prefix = xs.cumprod(dim)
        mask = _w((np.arange(n) >= k).reshape((n,) + (1,) * (self.ndim - dim - 1)))
        out.append((grad * prefix * mask).sum(dim, keepdim=True))
    from .._ops.shape import cat
    return cat(out, dim)


@_defs('CummaxBackward0', 'cummax')
def _cummax_backward(grad, shape, dim, idx):
    if len(shape) == 0:
        return grad
    return _zeros_like_shape(grad, shape).scatter_add(dim, _w(idx), grad)


DERIVATIVES['cummin'] = ('CumminBackward0', _cummax_backward)


@_defs('LogcumsumexpBackward0', 'logcumsumexp')
def _logcumsumexp_backward(grad, self, dim, result):
    # d out_j / d x_i = exp(x_i - out_j) for j >= i
    w = (grad.log() - result) if False else None
    e = (grad * (-result).exp()).flip(dim).cumsum(dim).flip(dim)
    return e * self.exp()


def _softmax_bw(grad, result, dim):
    from .grad_mode import _State
    if not _State.enabled and result.ndim:  # no graph to build: fused in-place NumPy
        from .._ops.reduce import _softmax_backward_np
        from .._tensor import _wrap
        return _wrap(_softmax_backward_np(grad._data, result._data, dim))
    return result * (grad - (grad * result).sum(dim, keepdim=True))


def _log_softmax_bw(grad, result, dim):
    from .grad_mode import _State
    if not _State.enabled and result.ndim:
        from .._ops.reduce import _log_softmax_backward_np
        from .._tensor import _wrap
        return _wrap(_log_softmax_backward_np(grad._data, result._data, dim))
    return grad - result.exp() * grad.sum(dim, keepdim=True)


_def('softmax', 'SoftmaxBackward0', _softmax_bw)
_def('log_softmax', 'LogSoftmaxBackward0', _log_softmax_bw)

# ---- creation-side in-place ops ---------------------------------------------------------------
_def('fill', 'FillBackward0', _zeros)
_def('fill_tensor', 'FillBackward1', lambda grad: (_zeros(grad), grad.sum()))
_def('copy_', 'CopyBackwards', lambda grad, src_dtype: (_zeros(grad), grad.to(src_dtype)))


# ---- activations, embedding, distance, padding and resampling (nn.functional) ----------------
# Formulas below take a NumPy fast path when the backward pass itself is not being recorded
# (create_graph=False turns grad mode off inside the engine) and use Tensor ops otherwise, so
# double backward works.


# ---- variants of core ops under torch's own grad_fn names (ember/_ops: reduce, shape, index,
# elementwise, linalg). Same formulas as above, registered under the op keys the forwards use.
def _same_as(op, grad_fn_name, of):
    DERIVATIVES[op] = (grad_fn_name, DERIVATIVES[of][1])


_same_as('sum_dim', 'SumBackward1', 'sum')
_same_as('mean_dim', 'MeanBackward1', 'mean')
_same_as('prod_dim', 'ProdBackward1', 'prod')
_same_as('median_dim', 'MedianBackward1', 'max_dim')
_same_as('nanmedian_dim', 'NanmedianBackward1', 'max_dim')
_same_as('nanmedian_all', 'NanmedianBackward0', 'median_all')
_same_as('mode', 'ModeBackward0', 'max_dim')
_same_as('kthvalue', 'KthvalueBackward0', 'max_dim')
_same_as('topk', 'TopkBackward0', 'sort')
_same_as('sort_stable', 'SortBackward1', 'sort')
_same_as('squeeze_dims', 'SqueezeBackward2', 'squeeze')
_same_as('split_with_sizes', 'SplitWithSizesBackward0', 'split')
_same_as('getitem_unsqueeze', 'UnsqueezeBackward0', 'getitem_basic')
_same_as('getitem_alias', 'AliasBackward0', 'getitem_basic')
_same_as('masked_fill_tensor', 'MaskedFillBackward1', 'masked_fill')
_def('scatter_value', 'ScatterBackward1', lambda grad, dim, index: grad.scatter(dim, index, 0))
