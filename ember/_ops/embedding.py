"""Embeddings: F.embedding, F.embedding_bag and F.one_hot.

Lookups are NumPy fancy indexing; the weight gradients are scatter-adds (``np.add.at`` for
repeated indices, ``np.add.reduceat`` over the contiguous bags of embedding_bag).
"""
import importlib

import numpy as np

from .. import _kernels
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import no_grad
from ..autograd.graph import _record, derivative

__all__ = ['embedding', 'embedding_bag', 'one_hot']

_TYPE_NAMES = {'float32': 'FloatTensor', 'float64': 'DoubleTensor', 'float16': 'HalfTensor',
               'bool': 'BoolTensor', 'uint8': 'ByteTensor', 'int8': 'CharTensor',
               'int16': 'ShortTensor', 'int32': 'IntTensor', 'int64': 'LongTensor'}


def _check_indices(t, arg, what):
    if t._data.dtype not in (np.int64, np.int32):
        name = _TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)
        raise RuntimeError(f"Expected tensor for argument #{arg} 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got torch.{name} instead "
                           f"(while checking arguments for {what})")


def _check_range(idx, n):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")


def _renorm_(weight, idx, max_norm, norm_type):
    """torch.embedding_renorm_: rescale the looked-up rows whose norm exceeds max_norm."""
    rows = np.unique(idx)
    _check_range(rows, weight.shape[0])
    w = weight._data
    sub = w[rows]
    if norm_type == float('inf'):
        norms = np.abs(sub).max(axis=1)
    elif norm_type == 2:
        norms = np.sqrt((sub * sub).sum(axis=1))
    else:
        norms = (np.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    norms = norms.astype(np.float64)
    big = norms > max_norm
    if big.any():
        scale = max_norm / (norms[big] + 1e-7)
        w[rows[big]] = sub[big] * scale.astype(w.dtype)[:, None]
        weight._vc.value += 1


def _no_grad_embedding_renorm_(weight, input, max_norm, norm_type):
    with no_grad():
        _renorm_(weight, input._data.reshape(-1), max_norm, norm_type)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of `weight` picked by the integer tensor `input` (output shape input.shape + (D,))."""
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= n:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    else:
        padding_idx = -1
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(input, 1, 'embedding')
    idx = input._data
    if max_norm is not None:
        _no_grad_embedding_renorm_(weight, input, max_norm, norm_type)
    _check_range(idx, n)
    out = weight._data[idx]
    return _record(_EmbeddingSparseBackward0 if sparse else EmbeddingBackward0, out, (weight,),
                   idx=idx, n=n, padding_idx=padding_idx,
                   scale_grad_by_freq=scale_grad_by_freq)


def _embedding_backward_np(g, idx, n, padding_idx, scale_grad_by_freq):
    """The dense gradient of embedding w.r.t. its weight, as an ndarray."""
    d = g.shape[-1]
    flat = idx.reshape(-1)
    g2 = g.reshape(-1, d)
    if scale_grad_by_freq:
        counts = np.bincount(flat, minlength=n)
        g2 = g2 / counts[flat].astype(g.dtype)[:, None]
    if padding_idx >= 0:
        keep = flat != padding_idx
        flat, g2 = flat[keep], g2[keep]
    out = np.zeros((n, d), g.dtype)
    _add_rows_at(out, flat, g2)
    return out


_ROW_KERNELS = {np.dtype(np.float32): 'ember_index_add_rows_f32',
                np.dtype(np.float64): 'ember_index_add_rows_f64'}
for _name in _ROW_KERNELS.values():
    _kernels.declare(_name, None, 'i64', 'p', 'p', 'i64', 'p')


def _add_rows_at(out, idx, rows):
    """np.add.at(out, idx, rows) for a 2-d out, a 1-d index of its rows (in range) and one
    row of values per index: compiled for float32/64 (src/index.c), in the same order."""
    name = _ROW_KERNELS.get(out.dtype)
    fn = _kernels.get(name) if name is not None and rows.dtype == out.dtype else None
    if fn is None or not out.flags.c_contiguous:
        np.add.at(out, idx, rows)
        return
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    rows = np.ascontiguousarray(rows)
    fn(idx.size, _kernels.addr(idx), _kernels.addr(rows), out.shape[1], _kernels.addr(out))


@derivative
def EmbeddingBackward0(grad, idx, n, padding_idx, scale_grad_by_freq):
    out = _embedding_backward_np(grad._data, idx, n, padding_idx, scale_grad_by_freq)
    return _record(EmbeddingDenseBackwardBackward0, out, (grad,), idx=idx,
                   padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq, n=n)


@derivative('EmbeddingBackward0')
def _EmbeddingSparseBackward0(grad, idx, n, padding_idx, scale_grad_by_freq):
    """sparse=True: the looked-up rows as an uncoalesced COO gradient, one entry per index
    (padding_idx's left out), as torch's embedding_sparse_backward."""
    g = grad._data
    d = g.shape[-1]
    flat = idx.reshape(-1).astype(np.int64)
    g2 = g.reshape(-1, d)
    if scale_grad_by_freq:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse "
                           "gradients")
    if padding_idx >= 0:
        keep = flat != padding_idx
        flat, g2 = flat[keep], g2[keep]
    # the sparse family loads on first use (its first sparse tensor is this gradient)
    coo = importlib.import_module('ember._ops.sparse')._coo
    return coo(flat.reshape(1, -1), g2, (n, d), len(flat) <= 1)


@derivative
def EmbeddingDenseBackwardBackward0(gg, idx, padding_idx, scale_grad_by_freq, n):
    """d(embedding backward)/d(grad) applied to gg: a lookup again."""
    g = gg._data[idx]
    flat = idx.reshape(-1)
    if scale_grad_by_freq:
        counts = np.bincount(flat, minlength=n)
        g = g / counts[idx].astype(g.dtype)[..., None]
    if padding_idx >= 0:
        g = np.where((idx == padding_idx)[..., None], np.zeros((), g.dtype), g)
    return _wrap(g)


# ---- embedding_bag ----------------------------------------------------------------------------

def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode='mean', sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without forming the lookups' tensor."""
    if weight._data.dtype == np.int64 and input._data.dtype.kind == 'f':
        weight, input = input, weight
    psw = per_sample_weights
    if psw is not None and tuple(input.shape) != tuple(psw.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({psw.shape}) is not None, then it must "
            f"have the same shape as the input ({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}")
        b, length = input.shape
        offs = np.arange(0, b * length, length, dtype=np.int64) if length else \
            np.zeros(b, np.int64)
        include_last_offset = False
        idx = input._data.reshape(-1)
        pw = psw._data.reshape(-1) if psw is not None else None
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        offs = offsets._data.astype(np.int64)
        idx = input._data
        pw = psw._data if psw is not None else None
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode == 'max':
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ('sum', 'mean'):
        raise ValueError("mode has to be one of sum, mean or max")
    if sparse:
        raise NotImplementedError("embedding_bag(sparse=True): sparse gradients are not "
                                  "supported by ember")
    _check_indices(input, 1, 'embedding_bag')
    if offsets is not None:
        _check_indices(offsets, 1, 'embedding_bag')
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    if psw is not None and mode != 'sum':
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    n_emb = weight.shape[0]
    if padding_idx is not None:
        if not -n_emb <= padding_idx < n_emb:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, "
                               f"-{n_emb} through {n_emb - 1}, but got {padding_idx}")
        if padding_idx < 0:
            padding_idx += n_emb
    n = idx.shape[0]
    if offs.size and offs[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got {offs[0]}\n"
                           f"[ torch.{_TYPE_NAMES[offsets._data.dtype.name]}{{}} ]")
    if include_last_offset:
        if offs.size == 0:
            raise RuntimeError("include_last_offset: number of offset should be at least 1")
        starts, ends = offs[:-1], np.minimum(offs[1:], n)
        if weight._data.dtype != np.float32 and ends.size:
            # torch's generic (non-float32) kernel runs the last bag to the input's end
            ends[-1] = n
    else:
        starts = offs
        ends = np.append(offs[1:], n)
    if np.any(ends < starts):
        raise RuntimeError("offsets must be monotonically increasing")
    _check_range(idx, n_emb)
    nbags = starts.shape[0]
    # which bag each position belongs to; positions of padding_idx drop out of every bag
    bag_of = np.repeat(np.arange(nbags), ends - starts)
    pos = np.arange(starts[0] if nbags else 0, ends[-1] if nbags else 0)
    if padding_idx is not None:
        keep = idx[pos] != padding_idx
        pos, bag_of = pos[keep], bag_of[keep]
    sel = idx[pos]
    w = weight._data
    rows = w[sel]
    if pw is not None:
        rows = rows * pw[pos].astype(w.dtype)[:, None]
    counts = np.bincount(bag_of, minlength=nbags)
    out = np.zeros((nbags, w.shape[1]), w.dtype)
    nonempty = np.flatnonzero(counts)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))[nonempty] if nbags else nonempty
    argmax = None
    if rows.shape[0]:
        if mode == 'max':
            out[nonempty] = np.maximum.reduceat(rows, first, axis=0)
            # the first position attaining each bag's maximum gets the gradient, as in torch
            at = np.where(rows == out[bag_of], np.arange(rows.shape[0])[:, None],
                          rows.shape[0])
            argmax = np.full(out.shape, -1, np.int64)
            argmax[nonempty] = np.minimum.reduceat(at, first, axis=0)
        else:
            out[nonempty] = np.add.reduceat(rows, first, axis=0)
            if mode == 'mean':
                out[nonempty] /= counts[nonempty].astype(w.dtype)[:, None]
    inputs = (weight, psw)
    pw_kept = pw[pos].astype(w.dtype) if pw is not None else None
    return _record(EmbeddingBagBackward0, out, inputs, weight=weight, mode=mode, sel=sel,
                   pos=pos, bag_of=bag_of, counts=counts, argmax=argmax,
                   scale_grad_by_freq=scale_grad_by_freq, n_emb=n_emb, pw_kept=pw_kept,
                   idx=idx, n=n, psw_shape=tuple(psw.shape) if psw is not None else None)


@derivative
def EmbeddingBagBackward0(grad, weight, mode, sel, pos, bag_of, counts, argmax,
                          scale_grad_by_freq, n_emb, pw_kept, idx, n, psw_shape=None):
    """Gradients of embedding_bag w.r.t. weight and per_sample_weights (NumPy; no graph)."""
    g = grad._data
    d = g.shape[1]
    gw = np.zeros((n_emb, d), g.dtype)
    gpsw = None
    if mode == 'max':
        if argmax is not None:
            valid = argmax >= 0
            cols = np.broadcast_to(np.arange(d), g.shape)[valid]
            np.add.at(gw, (sel[argmax[valid]], cols), g[valid])
    else:
        contrib = g[bag_of]
        if mode == 'mean':
            contrib = contrib / counts[bag_of].astype(g.dtype)[:, None]
        if pw_kept is not None:
            # padding positions keep a zero gradient for their per-sample weight
            gp = np.zeros(n, g.dtype)
            gp[pos] = (contrib * weight._data[sel]).sum(axis=1)
            gpsw = _wrap(gp.reshape(psw_shape))
            contrib = contrib * pw_kept[:, None]
        if scale_grad_by_freq:
            contrib = contrib / _bag_freq_divisor(idx, n_emb)[sel].astype(g.dtype)[:, None]
        np.add.at(gw, sel, contrib)
    return _wrap(gw), gpsw


def _bag_freq_divisor(idx, n_emb):
    """The count each row's gradient is divided by under scale_grad_by_freq.

    torch's CPU embedding_bag divides the k-th distinct index (in sorted order) by the count of
    ``sorted_indices[k]`` rather than by its own count; ember reproduces that.
    """
    freq = np.bincount(idx, minlength=n_emb)
    s = np.sort(idx)
    uniq = np.unique(s)
    div = np.ones(n_emb, np.int64)
    div[uniq] = freq[s[:uniq.shape[0]]]
    return div


# ---- one_hot ----------------------------------------------------------------------------------

def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dimension of size num_classes."""
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    elif num_classes < -1:
        raise RuntimeError("num_classes should be positive")
    if d.size:
        if d.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if d.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (d[..., None] == np.arange(num_classes)).astype(np.int64)
    return _wrap(out)
