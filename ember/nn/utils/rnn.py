"""Packed sequences for the recurrent layers (torch.nn.utils.rnn).

A ``PackedSequence`` keeps the time steps of a batch of variable-length sequences one after
the other: ``data`` holds, for every step ``t``, the rows of the ``batch_sizes[t]`` sequences
that are still running (sequences are sorted by decreasing length). Packing and unpacking are
single gathers (advanced indexing), so gradients flow through them.
"""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ..._tensor import Tensor, _wrap
from ..._dtype import float16, float32, float64, int16, int32, int64, int8, uint8
from ..._ops.shape import cat
from ..._ops.creation import full

__all__ = ['PackedSequence', 'invert_permutation', 'pack_padded_sequence', 'pad_packed_sequence',
           'pad_sequence', 'unpad_sequence', 'pack_sequence', 'unpack_sequence']


_PackedSequenceBase = namedtuple('PackedSequence_',
                                 ['data', 'batch_sizes', 'sorted_indices', 'unsorted_indices'])


def _cast(dtype):
    """PackedSequence.double() and friends: the data converted to one dtype."""
    def method(self):
        return self.to(dtype=dtype)
    method.__name__ = method.__qualname__ = {
        float64: 'double', float32: 'float', float16: 'half', int64: 'long', int32: 'int',
        int16: 'short', int8: 'char', uint8: 'byte'}[dtype]
    return method


PackedSequence_ = _PackedSequenceBase   # torch's name for the namedtuple PackedSequence extends


def bind(optional, fn):
    """fn(optional), or None when optional is None."""
    return None if optional is None else fn(optional)


def copy_method_params(source_method):
    """A typing aid on torch: the decorated method keeps its own body (only its declared
    signature is copied for type checkers)."""
    def return_func(func):
        return func
    return return_func


class PackedSequence(_PackedSequenceBase):
    """Holds the data and the per-step batch sizes of a packed batch of sequences."""
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self.to('cpu')

    def pin_memory(self):
        return self

    double, float, half = _cast(float64), _cast(float32), _cast(float16)
    long, int, short, char, byte = _cast(int64), _cast(int32), _cast(int16), _cast(int8), \
        _cast(uint8)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data
    inv = np.empty_like(p)
    inv[p] = np.arange(p.shape[0], dtype=p.dtype)
    return _wrap(inv)


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _batch_sizes_of(lengths):
    """batch_sizes[t] = number of sequences longer than t (lengths sorted decreasing)."""
    steps = np.arange(int(lengths[0]) if lengths.size else 0)
    return (lengths[None, :] > steps[:, None]).sum(1).astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch (B, T, * with batch_first) of sequences of `lengths`."""
    lens = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lens, kind='stable')
        lens = lens[order]
        sorted_indices = _wrap(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    batch = input.shape[0 if batch_first else 1]
    if lens.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.shape[0]} (batch_size={batch})")
    if lens.size and np.any(lens[:-1] < lens[1:]):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability.")
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    batch_sizes = _batch_sizes_of(lens)
    steps = input.shape[1 if batch_first else 0]
    if batch_sizes.shape[0] > steps:
        raise RuntimeError(f"Expected sequence length to be larger than or equal to the "
                           f"maximum length of the sequences, but got {steps} and "
                           f"{batch_sizes.shape[0]}")
    t_idx = np.repeat(np.arange(batch_sizes.shape[0]), batch_sizes)
    b_idx = np.arange(t_idx.shape[0]) - np.repeat(np.cumsum(batch_sizes) - batch_sizes,
                                                  batch_sizes)
    data = input[b_idx, t_idx] if batch_first else input[t_idx, b_idx]
    return PackedSequence(data, _wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo pack_padded_sequence: returns (padded batch, lengths as an int64 tensor)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes._data.astype(np.int64)
    max_len = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_len}")
        max_len = total_length
    batch = int(batch_sizes[0])
    n = data.shape[0]
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1).astype(np.int64)
    # row index into data for every (t, b); the extra row n holds the padding value
    offs = np.cumsum(batch_sizes) - batch_sizes
    t = np.arange(max_len)[:, None]
    b = np.arange(batch)[None, :]
    inside = t < lengths[None, :]
    rows = np.where(inside, offs[np.minimum(t, batch_sizes.shape[0] - 1)] + b, n)
    if batch_first:
        rows = rows.T
    pad = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = cat([data, pad], 0)[_wrap(np.ascontiguousarray(rows).reshape(-1))]
    padded = padded.view(rows.shape + tuple(data.shape[1:]))
    lengths_t = _wrap(lengths)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        return (padded.index_select(0 if batch_first else 1, unsorted),
                _wrap(lengths[unsorted._data]))
    return padded, lengths_t


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stack variable-length (L_i, *) tensors into one padded batch."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ('left', 'right'):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        tr = tuple(s.shape[1:])
        if tr != trailing:
            for d, (a, b) in enumerate(zip(trailing, tr)):
                if a != b:
                    raise RuntimeError(f"The size of tensor a ({a}) must match the size of "
                                       f"tensor b ({b}) at non-singleton dimension {d + 1}")
            raise RuntimeError(f"pad_sequence: sequences have different numbers of dimensions "
                               f"({len(trailing) + 1} and {len(tr) + 1})")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    max_len = int(lens.max())
    n = int(lens.sum())
    offs = np.cumsum(lens) - lens
    t = np.arange(max_len)[:, None]
    if padding_side == 'left':
        t = t - (max_len - lens)[None, :]
    inside = (t >= 0) & (t < lens[None, :])
    rows = np.where(inside, offs[None, :] + t, n)  # (T, B)
    if batch_first:
        rows = rows.T
    dtype = sequences[0].dtype
    pad = full((1,) + trailing, padding_value, dtype=dtype)
    parts = [s if s.dtype == dtype else s.to(dtype) for s in sequences]
    out = cat(parts + [pad], 0)[_wrap(np.ascontiguousarray(rows).reshape(-1))]
    return out.view(rows.shape + trailing)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of its sequences."""
    if not batch_first:
        # torch transposes the caller's tensor in place here; ember does the same
        padded_sequences.transpose_(0, 1)
    max_length = padded_sequences.shape[1]
    idx = np.arange(max_length)
    lens = _lengths_array(lengths)
    return [seq[_wrap(idx < length)] for seq, length in zip(padded_sequences, lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors (longest first unless enforce_sorted=False)."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Undo pack_sequence: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
