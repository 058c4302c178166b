"""Memory layouts as torch chooses them: ``empty_like``'s preserve_format strides and the
order in which TensorIterator walks a tensor's elements."""
import numpy as np

__all__ = []


def _dense_order(shape, strides):
    """Dims from outermost to innermost as torch's infer_dense_strides orders them
    (TensorIterator's insertion sort: by stride, ties by size, stride-0 dims ambiguous)."""
    perm = list(range(len(shape)))[::-1]            # innermost first
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            a, b = perm[d0], perm[d1]
            s0, s1 = strides[a], strides[b]
            if s0 == 0 or s1 == 0:
                continue                            # ambiguous: look further out
            if s0 > s1 or (s0 == s1 and shape[a] > shape[b]):
                perm[d0], perm[d1] = b, a
                d1 = d0
            elif s0 < s1:
                break
    return perm[::-1]


def _strided_empty(shape, order, dt):
    """An uninitialised array of `shape` laid out densely with dims `order` outer to inner."""
    inv = np.argsort(order)
    return np.empty(tuple(shape[i] for i in order), dt).transpose(inv)


def _empty_like_array(d, dt, memory_format=None):
    """``torch.empty_like(d, memory_format=...)`` as an ndarray of dtype dt: preserve_format
    keeps a dense input's strides, and lays any other input out densely in its stride order."""
    name = getattr(memory_format, 'name', 'preserve_format')
    shape = d.shape
    if name == 'contiguous_format' or d.ndim < 2:
        return np.empty(shape, dt)
    if name in ('channels_last', 'channels_last_3d'):
        rank = 4 if name == 'channels_last' else 5
        if d.ndim != rank:
            raise RuntimeError(f"required rank {rank} tensor to use {name} format")
        return _strided_empty(shape, (0,) + tuple(range(2, rank)) + (1,), dt)
    if d.flags.c_contiguous:
        return np.empty(shape, dt)
    item = d.itemsize
    strides = [s // item for s in d.strides]
    if any(s < 0 for s in strides):
        return np.empty(shape, dt)
    out = _strided_empty(shape, _dense_order(shape, strides), dt)
    if _non_overlapping_dense(shape, strides) and \
            tuple(s // out.itemsize for s in out.strides) != tuple(strides):
        # dense but with odd strides on size-1 dims: torch copies them verbatim
        out = np.lib.stride_tricks.as_strided(out, shape, [s * out.itemsize for s in strides])
    return out


def _memory_order(d):
    """ndarray d's dims from outermost to innermost in memory (a stable sort by stride), the
    order in which torch's TensorIterator walks a tensor it writes."""
    return sorted(range(d.ndim), key=lambda i: -abs(d.strides[i]))


def _non_overlapping_dense(shape, strides):
    expected = 1
    for i in sorted(range(len(shape)), key=lambda i: strides[i]):
        if shape[i] < 2:
            continue
        if strides[i] != expected:
            return False
        expected *= shape[i]
    return True
