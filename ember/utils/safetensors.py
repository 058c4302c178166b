"""The safetensors format, read and written with json and NumPy (no dependency).

Layout: ``u64 little-endian N``, N bytes of JSON header, then the data buffer. The header maps
each name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into the buffer) and
may hold ``"__metadata__": {str: str}``. Data is little-endian, C-contiguous, back to back.
Files match what ``safetensors.torch.save_file`` writes byte for byte: tensors sorted by dtype
(widest first) then name, header padded with spaces to a multiple of 8.
"""
import json
import os
import struct
import sys

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _check_device, _wrap, device as _device

__all__ = ['save_file', 'load_file', 'save', 'load', 'SafetensorError']

# dtype name <-> safetensors code, in the order of safetensors' Dtype enum (it sorts by it)
_CODES = [('bool', 'BOOL'), ('uint8', 'U8'), ('int8', 'I8'), ('float8_e5m2', 'F8_E5M2'),
          ('float8_e4m3fn', 'F8_E4M3'), ('int16', 'I16'), ('uint16', 'U16'),
          ('float16', 'F16'), ('bfloat16', 'BF16'), ('int32', 'I32'), ('uint32', 'U32'),
          ('float32', 'F32'), ('complex64', 'C64'), ('float64', 'F64'), ('int64', 'I64'),
          ('uint64', 'U64')]
_CODE_OF = {name: code for name, code in _CODES}
_NAME_OF = {code: name for name, code in _CODES}
_RANK = {code: i for i, (_, code) in enumerate(_CODES)}
_NAME_OF.update({'F8_E4M3FNUZ': 'float8_e4m3fnuz', 'F8_E5M2FNUZ': 'float8_e5m2fnuz',
                 'F8_E8M0': 'float8_e8m0fnu', 'F4': 'float4_e2m1fn_x2'})
_MAX_HEADER = 100_000_000


class SafetensorError(ValueError):
    """A malformed safetensors file (safetensors' own SafetensorError)."""


def _err(what):
    return SafetensorError(f"Error while deserializing: {what}")


# ---- writing ----------------------------------------------------------------------------------

def _tensor_class():
    return Tensor


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _check_shared(arrays):
    """safetensors refuses tensors whose memory overlaps: they would not share after loading."""
    spans = {}
    for name, a in arrays.items():
        if a.nbytes == 0:
            continue
        root = _root(a)
        start = a.__array_interface__['data'][0]
        spans.setdefault(id(root), []).append((start, start + a.nbytes, name))
    groups = []
    for items in spans.values():
        items.sort()
        group, stop = {items[0][2]}, items[0][1]
        for start, end, name in items[1:]:
            if start < stop:
                group.add(name)
            else:
                if len(group) > 1:
                    groups.append(group)
                group = {name}
            stop = max(stop, end)
        if len(group) > 1:
            groups.append(group)
    if groups:
        raise RuntimeError(
            "\n            Some tensors share memory, this will lead to duplicate memory on disk "
            f"and potential differences when loading them again: {groups}.\n            A "
            "potential way to correctly save your model is to use `save_model`.\n            "
            "More information at https://huggingface.co/docs/safetensors/torch_shared_tensors"
            "\n            ")


def _prepare(tensors, metadata):
    """(header bytes, [(array, nbytes)]) in file order."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    Tensor = _tensor_class()
    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"argument 'tensor_dict': '{type(k).__name__}' object is not an "
                            "instance of 'str'")
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received "
                             f"{type(v)}")
        a = v._data
        if not a.flags.c_contiguous:
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. "
                "It either means you are trying to save tensors which are reference of each "
                "other in which case it's recommended to save only the full tensors, and "
                "reslice at load time, or simply call `.contiguous()` on your tensor to pack "
                "it before saving.")
        name = _dtype.from_numpy(a.dtype).name
        if name not in _CODE_OF:
            raise ValueError(f"safetensors has no dtype code for torch.{name}")
        arrays[k] = a
    _check_shared(arrays)
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"argument 'metadata': '{type(metadata).__name__}' object cannot be "
                            "converted to 'PyDict'")
        for mk, mv in metadata.items():
            for x in (mk, mv):
                if not isinstance(x, str):
                    raise TypeError(f"argument 'metadata': '{type(x).__name__}' object is not "
                                    "an instance of 'str'")
    order = sorted(arrays, key=lambda k: (-_RANK[_CODE_OF[_dtype.from_numpy(
        arrays[k].dtype).name]], k))
    header = {}
    if metadata is not None:
        header['__metadata__'] = dict(metadata)
    offset = 0
    parts = []
    for k in order:
        a = arrays[k]
        code = _CODE_OF[_dtype.from_numpy(a.dtype).name]
        header[k] = {'dtype': code, 'shape': [int(s) for s in a.shape],
                     'data_offsets': [offset, offset + a.nbytes]}
        offset += a.nbytes
        parts.append(a)
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text, parts


def _as_le_bytes(a):
    """The array's bytes, little-endian, as a buffer the file can take without a copy."""
    if sys.byteorder == 'big' and a.dtype.itemsize > 1:
        a = a.byteswap()
    return memoryview(np.ascontiguousarray(a).reshape(-1).view(np.uint8))


def save(tensors, metadata=None):
    """The safetensors bytes of a dict of tensors."""
    head, parts = _prepare(tensors, metadata)
    return head + b''.join(_as_le_bytes(a).tobytes() for a in parts)


def save_file(tensors, filename, metadata=None):
    """Write a dict of tensors to `filename` in safetensors format."""
    head, parts = _prepare(tensors, metadata)
    with open(filename, 'wb') as f:
        f.write(head)
        for a in parts:
            if a.nbytes:
                f.write(_as_le_bytes(a))


# ---- reading ----------------------------------------------------------------------------------

def _parse_header(head, n, total):
    """[(name, dtype, shape, begin, end)] in buffer order, every field validated."""
    try:
        header = json.loads(head.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as e:
        raise _err(f"invalid JSON in header: {e}") from None
    if not isinstance(header, dict):
        raise _err("invalid JSON in header: expected an object")
    meta = header.pop('__metadata__', None)
    if meta is not None and not (isinstance(meta, dict)
                                 and all(isinstance(v, str) for v in meta.values())):
        raise _err("invalid JSON in header: __metadata__ must map strings to strings")
    entries = []
    for pos, (name, info) in enumerate(header.items()):
        if not isinstance(info, dict) or set(info) != {'dtype', 'shape', 'data_offsets'}:
            raise _err(f"invalid JSON in header: bad entry for tensor {name!r}")
        code, shape, offsets = info['dtype'], info['shape'], info['data_offsets']
        if code not in _NAME_OF:
            raise _err(f"invalid JSON in header: unknown dtype {code!r}")
        ints = (isinstance(shape, list) and isinstance(offsets, list) and len(offsets) == 2
                and all(type(x) is int and x >= 0 for x in shape + offsets))
        if not ints:
            raise _err(f"invalid JSON in header: bad shape or offsets for tensor {name!r}")
        entries.append((offsets[0], pos, name, code, shape, offsets[1]))
    entries.sort()
    expected = 0
    out = []
    for begin, _, name, code, shape, end in entries:
        if begin != expected or end < begin:
            raise _err("invalid offset for tensor " + repr(name))
        dt = _dtype._BY_NAME.get(_NAME_OF[code])
        if dt is None:
            raise NotImplementedError(f"ember has no dtype torch.{_NAME_OF[code]} (safetensors "
                                      f"{code}) for tensor {name!r}")
        numel = 1
        for s in shape:
            numel *= s
        if numel * dt.itemsize != end - begin:
            raise _err(f"tensor {name!r} has an invalid size for its shape and dtype")
        expected = end
        out.append((name, dt, tuple(shape), begin, end))
    if expected + 8 + n != total:
        raise _err("the header does not cover the whole data buffer (metadata incomplete "
                   "buffer)")
    return out


def _read_header(read, total):
    if total < 8:
        raise _err("header too small")
    (n,) = struct.unpack('<Q', read(8))
    if n > _MAX_HEADER:
        raise _err("header too large")
    if 8 + n > total:
        raise _err("invalid header length")
    return n, _parse_header(read(n), n, total)


def _finish(arr, dt, shape):
    if dt._np is None:
        raise NotImplementedError(f"{dt!r} needs the optional 'ml_dtypes' package")
    arr = arr.view(dt._np)
    if sys.byteorder == 'big' and dt.itemsize > 1:
        arr = arr.byteswap()
    return _wrap(arr.reshape(shape))


def load(data):
    """The dict of tensors held by safetensors bytes."""
    data = bytes(data)
    pos = [0]

    def read(k):
        chunk = data[pos[0]:pos[0] + k]
        pos[0] += k
        return chunk
    n, entries = _read_header(read, len(data))
    base = 8 + n
    result = {}
    for name, dt, shape, begin, end in entries:
        raw = np.frombuffer(data, np.uint8, end - begin, base + begin).copy()
        result[name] = _finish(raw, dt, shape)
    return result


def load_file(filename, device='cpu'):
    """The dict of tensors in a safetensors file; each tensor owns its memory."""
    _check_device(_device(device) if not isinstance(device, int) else _device('cuda', device))
    with open(filename, 'rb') as f:
        total = os.fstat(f.fileno()).st_size

        def read(k):
            chunk = f.read(k)
            if len(chunk) != k:
                raise _err("file is truncated")
            return chunk
        n, entries = _read_header(read, total)
        result = {}
        for name, dt, shape, begin, end in entries:
            raw = np.empty(end - begin, np.uint8)
            f.seek(8 + n + begin)
            if raw.nbytes and f.readinto(memoryview(raw)) != raw.nbytes:
                raise _err("file is truncated")
            result[name] = _finish(raw, dt, shape)
    return result
