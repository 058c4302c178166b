"""Storages (torch.storage): the flat memory under tensors.

ember's memory is the root NumPy buffer a tensor's array views (`_root`). An `UntypedStorage`
is that buffer seen as bytes (a 1-d uint8 array sharing its memory), a `TypedStorage` the same
bytes with a dtype (torch's deprecated storage class, what `Tensor.storage()` returns). The
legacy classes (`FloatStorage`, ...) build TypedStorages of their dtype, and an instance test
against one checks the dtype, as torch's do.
"""
import io
import os
import sys
import warnings

import numpy as np

from . import _dtype
from ._dtype import from_numpy, to_numpy
from ._tensor import device

__all__ = ['UntypedStorage', 'TypedStorage']


def _root(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _bytes_of(arr):
    """The memory of ndarray `arr` as a 1-d uint8 array sharing it (a copy only when the
    memory is not one contiguous block)."""
    if arr.flags.c_contiguous or arr.flags.f_contiguous:
        return arr.reshape(-1, order='A').view(np.uint8)
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint8)


_warned = []


def _warn_typed_storage(stacklevel=2):
    """torch's deprecation warning, the first time a TypedStorage is made in the process."""
    if _warned:
        return
    _warned.append(True)
    warnings.warn(
        "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will "
        "be the only storage class. This should only matter to you if you are using storages "
        "directly.  To access UntypedStorage directly, use tensor.untyped_storage() instead "
        "of tensor.storage()", UserWarning, stacklevel=stacklevel + 1)


class _Probe:
    pass


# what sys.getsizeof adds to __sizeof__ for an instance of a plain class (GC header and the
# like; it varies between CPython versions)
_GC_OVERHEAD = sys.getsizeof(_Probe()) - _Probe().__sizeof__()
del _Probe

_CONVERSIONS = {'double': 'float64', 'float': 'float32', 'half': 'float16', 'long': 'int64',
                'int': 'int32', 'short': 'int16', 'char': 'int8', 'byte': 'uint8',
                'bool': 'bool', 'bfloat16': 'bfloat16', 'complex_double': 'complex128',
                'complex_float': 'complex64'}


class _StorageMethods:
    """What both storage classes offer, over `_bytes` (the storage's memory as uint8) and
    `_array` (its elements, sharing that memory)."""

    @property
    def device(self):
        return device('cpu')

    @property
    def is_cuda(self):
        return False

    @property
    def is_hpu(self):
        return False

    @property
    def is_sparse(self):
        return False

    @property
    def filename(self):
        return getattr(self, '_filename', None)

    def data_ptr(self):
        return self._bytes.__array_interface__['data'][0]

    def nbytes(self):
        return self._bytes.nbytes

    def is_shared(self):
        return False

    def share_memory_(self):
        return self

    def is_pinned(self, device='cuda'):
        return False

    def pin_memory(self, device='cuda'):
        raise RuntimeError("Cannot access accelerator device when none is available.")

    def resizable(self):
        return self._bytes.base is None or isinstance(self._bytes.base, np.ndarray) and \
            self._bytes.base.flags.owndata

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        raise AssertionError("Torch not compiled with CUDA enabled")

    def hpu(self, device=None, non_blocking=False):
        raise RuntimeError("ember has no HPU device")

    def mps(self):
        raise RuntimeError("ember has no MPS device")

    def to(self, *, device='cpu', non_blocking=False):
        if str(device) != 'cpu':
            raise AssertionError("Torch not compiled with CUDA enabled")
        return self

    def tolist(self):
        return self._array.tolist()

    def fill_(self, value):
        self._array[...] = value
        return self

    def __len__(self):
        return self.size()

    def __iter__(self):
        return iter(self[i] for i in range(self.size()))

    def __copy__(self):
        return self.clone()

    def __deepcopy__(self, memo):
        key = id(self)
        if key not in memo:
            memo[key] = self.clone()
        return memo[key]

    def __sizeof__(self):
        # sys.getsizeof counts the bytes, as torch's does (torchinfo sums it)
        return self._SIZEOF - _GC_OVERHEAD + self.nbytes()


class StorageBase:
    """torch._C.StorageBase: the C class under UntypedStorage."""


class UntypedStorage(_StorageMethods, StorageBase):
    """Bytes: `UntypedStorage(n)` (uninitialised), `UntypedStorage([1, 2])`, or a tensor's
    `untyped_storage()`, which shares the tensor's memory."""
    _SIZEOF = 64
    is_sparse_csr = False

    def __init__(self, *args, device=None):
        if device is not None and str(device) != 'cpu':
            raise AssertionError("Torch not compiled with CUDA enabled")
        if not args:
            self._bytes = np.empty(0, np.uint8)
        elif len(args) == 1 and isinstance(args[0], (int, np.integer)):
            self._bytes = np.empty(int(args[0]), np.uint8)
        elif len(args) == 1 and isinstance(args[0], np.ndarray):  # ember's own: a view
            self._bytes = args[0]
        elif len(args) == 1:
            self._bytes = np.asarray(list(args[0]), np.int64).astype(np.uint8)
        else:
            raise TypeError("UntypedStorage(): incompatible arguments")

    @classmethod
    def _of(cls, tensor):
        return cls(_bytes_of(_root(tensor._data)))

    def size(self):
        return self._bytes.nbytes

    def element_size(self):
        return 1

    def get_device(self):
        return self.device.index

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return UntypedStorage(self._bytes[idx])
        return int(self._bytes[idx])

    def __setitem__(self, idx, value):
        self._bytes[idx] = value

    @property
    def _array(self):
        """The elements: here the bytes themselves."""
        return self._bytes

    def copy_(self, source, non_blocking=None):
        src = source._bytes
        if src.nbytes != self._bytes.nbytes:
            raise RuntimeError(f"size mismatch, m1: [{self._bytes.nbytes}], m2: [{src.nbytes}]")
        self._bytes[...] = src
        return self

    def clone(self):
        return UntypedStorage(self._bytes.copy())

    def new(self):
        return UntypedStorage(0)

    def resize_(self, size):
        if not self.resizable():
            raise RuntimeError("Trying to resize storage that is not resizable")
        b = np.zeros(int(size), np.uint8)
        n = min(b.size, self._bytes.size)
        b[:n] = self._bytes[:n]
        self._bytes = b
        return self

    def untyped(self):
        return self

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return 'torch.storage.UntypedStorage'
        raise TypeError("UntypedStorage.type() takes no dtype")

    def byteswap(self, dtype):
        """Reverse the bytes of each element of `dtype`, in place."""
        n = _dtype_of(dtype).itemsize
        if n > 1:
            b = self._bytes.reshape(-1, n)
            b[...] = b[:, ::-1].copy()

    def _typed(self, dtype):
        return TypedStorage(wrap_storage=self, dtype=dtype, _internal=True)

    @classmethod
    def from_buffer(cls, buffer, byte_order=None, count=-1, offset=0, *, dtype=None):
        """A storage copying the bytes of `buffer` (any object with the buffer protocol)."""
        data = np.frombuffer(buffer, np.uint8, count=-1, offset=offset)
        if count >= 0:
            data = data[:count * (_dtype_of(dtype).itemsize if dtype is not None else 1)]
        return cls(data.copy())

    @classmethod
    def from_file(cls, filename, shared=False, nbytes=0):
        """A storage of `nbytes` bytes mapped from `filename`: with `shared`, writes reach the
        file (which is created or grown as needed); without, the storage is a private copy."""
        if shared:
            mode = 'r+b' if os.path.exists(filename) else 'w+b'
            with open(filename, mode) as f:
                f.seek(0, io.SEEK_END)
                if f.tell() < nbytes:
                    f.truncate(nbytes)
            arr = np.memmap(filename, np.uint8, mode='r+', shape=(nbytes,)) if nbytes \
                else np.empty(0, np.uint8)
            s = cls(arr)
        else:
            size = os.path.getsize(filename)
            if size < nbytes:
                raise RuntimeError(f"unable to mmap {nbytes} bytes from file <{filename}>: "
                                   "Cannot allocate memory (12)")
            with open(filename, 'rb') as f:
                s = cls(np.frombuffer(f.read(nbytes), np.uint8).copy())
        s._filename = filename
        return s

    def __repr__(self):
        return _listing(self._bytes.tolist(), f"[torch.storage.UntypedStorage(device=cpu) of "
                                              f"size {self.size()}]")

    def __reduce__(self):
        return (_rebuild_untyped, (self._bytes.tobytes(),))


def _rebuild_untyped(data):
    return UntypedStorage(np.frombuffer(data, np.uint8).copy())


def _listing(values, footer):
    return ''.join(f" {v}\n" for v in values) + footer


def _dtype_of(d):
    if isinstance(d, _dtype.dtype):
        return to_numpy(d)
    raise TypeError(f"expected a torch.dtype, got {type(d).__name__}")


for _name, _dt in _CONVERSIONS.items():
    def _conv(self, _dt=_dt):
        """This storage's elements (an untyped one's bytes) converted to the dtype."""
        typed = self if isinstance(self, TypedStorage) else self._typed(_dtype.uint8)
        return typed._to(getattr(_dtype, _dt))
    _conv.__name__ = _name
    setattr(_StorageMethods, _name, _conv)
del _name, _dt, _conv


_BAD_ARGS = (
    "TypedStorage.__init__ received an invalid combination of arguments. Expected one of:\n"
    " * (*, torch.device device, torch.dtype dtype)\n"
    " * (int size, *, torch.device device, torch.dtype dtype)\n"
    " * (Sequence data, *, torch.device device, torch.dtype dtype)\n"
    " * (*, UntypedStorage wrap_storage, torch.dtype dtype)\n")


class TypedStorage(_StorageMethods):
    """Elements of one dtype over an UntypedStorage (torch's deprecated storage class):
    `TypedStorage(n, dtype=...)`, `TypedStorage(sequence, dtype=...)`,
    `TypedStorage(wrap_storage=untyped, dtype=...)` or a tensor's `storage()`."""
    _SIZEOF = 56
    is_sparse = False

    def __init__(self, *args, device=None, dtype=None, wrap_storage=None, _internal=False):
        if not _internal:
            _warn_typed_storage()
        if device is not None and str(device) != 'cpu':
            raise AssertionError("Torch not compiled with CUDA enabled")
        self.dtype = _dtype.get_default_dtype() if dtype is None else dtype
        np_dt = _dtype_of(self.dtype)
        if wrap_storage is not None:
            if args:
                raise RuntimeError(_BAD_ARGS + "No positional arguments should be given when "
                                   "using 'wrap_storage'")
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError(_BAD_ARGS + "Argument 'wrap_storage' must be UntypedStorage, "
                                f"but got {type(wrap_storage)}")
            self._untyped_storage = wrap_storage
        elif not args:
            self._untyped_storage = UntypedStorage(0)
        elif len(args) == 1 and isinstance(args[0], (int, np.integer)):
            self._untyped_storage = UntypedStorage(int(args[0]) * np_dt.itemsize)
        elif len(args) == 1:
            arr = np.asarray(list(args[0]), dtype=np_dt)
            self._untyped_storage = UntypedStorage(arr.reshape(-1).view(np.uint8))
        else:
            raise RuntimeError(_BAD_ARGS.rstrip('\n'))

    @classmethod
    def _of(cls, tensor):
        root = _root(tensor._data)
        return cls(wrap_storage=UntypedStorage(_bytes_of(root)), dtype=from_numpy(root.dtype),
                   _internal=True)

    @property
    def _bytes(self):
        return self._untyped_storage._bytes

    @property
    def _array(self):
        """The elements as an ndarray sharing the storage's memory."""
        n = _dtype_of(self.dtype).itemsize
        b = self._bytes
        return b[:b.size // n * n].view(_dtype_of(self.dtype))

    def size(self):
        return self._bytes.nbytes // _dtype_of(self.dtype).itemsize

    def element_size(self):
        return _dtype_of(self.dtype).itemsize

    def get_device(self):
        return self.device.index

    def untyped(self):
        """The UntypedStorage under this one (the same memory)."""
        return self._untyped_storage

    def _new_wrapped_storage(self, untyped_storage):
        return TypedStorage(wrap_storage=untyped_storage, dtype=self.dtype, _internal=True)

    def _index(self, idx):
        if isinstance(idx, slice):
            raise RuntimeError("slices are only supported in UntypedStorage.__getitem__")
        if not isinstance(idx, (int, np.integer)):
            raise RuntimeError(f"can't index a {type(self)} with {type(idx)}")
        n = self.size()
        if not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for storage of size {n}")
        return idx % n if n else idx

    def __getitem__(self, idx):
        return self._array[self._index(idx)].item()

    def __setitem__(self, idx, value):
        if isinstance(idx, slice):
            self._array[idx] = value
            return
        self._array[self._index(idx)] = value

    def copy_(self, source, non_blocking=None):
        src = source._array if isinstance(source, TypedStorage) else \
            source._bytes.view(self._array.dtype)
        self._array[...] = src.astype(self._array.dtype, copy=False)
        return self

    def clone(self):
        return self._new_wrapped_storage(self._untyped_storage.clone())

    def _to(self, dtype):
        if dtype == self.dtype:
            return self
        arr = self._array.astype(_dtype_of(dtype))
        return TypedStorage(wrap_storage=UntypedStorage(arr.view(np.uint8)), dtype=dtype,
                            _internal=True)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return 'torch.' + self.pickle_storage_type()
        return self

    def pickle_storage_type(self):
        return _LEGACY_NAMES[self.dtype.name]

    def resize_(self, size):
        self._untyped_storage.resize_(int(size) * self.element_size())
        return self

    def _get_legacy_storage_class(self):
        return _LEGACY_CLASSES.get(self.dtype.name)

    @classmethod
    def from_buffer(cls, *args, dtype=None, device=None, **kwargs):
        """Elements read from a bytes-like object: `from_buffer(buffer, byte_order, count,
        offset)` ('native', 'little' or 'big')."""
        dt = getattr(cls, 'dtype', None) if isinstance(getattr(cls, 'dtype', None),
                                                      _dtype.dtype) else dtype
        if dt is None:
            dt = _dtype.get_default_dtype()
        buffer = args[0]
        byte_order = args[1] if len(args) > 1 else kwargs.get('byte_order', 'native')
        count = args[2] if len(args) > 2 else kwargs.get('count', -1)
        offset = args[3] if len(args) > 3 else kwargs.get('offset', 0)
        np_dt = _dtype_of(dt)
        if byte_order == 'big' or (byte_order == 'native' and sys.byteorder == 'big'):
            np_dt = np_dt.newbyteorder('>')
        elif byte_order in ('little', 'native'):
            np_dt = np_dt.newbyteorder('<')
        else:
            raise ValueError(f"Expected byte_order to be one of 'native', 'little', 'big', "
                             f"but got {byte_order}")
        arr = np.frombuffer(buffer, np_dt, count=count, offset=offset).astype(_dtype_of(dt))
        return TypedStorage(wrap_storage=UntypedStorage(arr.view(np.uint8)), dtype=dt,
                            _internal=True)

    @classmethod
    def from_file(cls, filename, shared=False, size=0):
        dt = cls.dtype if isinstance(getattr(cls, 'dtype', None), _dtype.dtype) else \
            _dtype.get_default_dtype()
        n = _dtype_of(dt).itemsize
        return TypedStorage(wrap_storage=UntypedStorage.from_file(filename, shared, size * n),
                            dtype=dt, _internal=True)

    def __repr__(self):
        return _listing(self.tolist(), f"[torch.storage.TypedStorage(dtype={self.dtype!r}, "
                                       f"device=cpu) of size {self.size()}]")

    def __reduce__(self):
        return (_rebuild_typed, (self._bytes.tobytes(), self.dtype.name))


def _rebuild_typed(data, dtype_name):
    return TypedStorage(wrap_storage=_rebuild_untyped(data), dtype=getattr(_dtype, dtype_name),
                        _internal=True)


# ---- the legacy classes ------------------------------------------------------------------------

class _LegacyStorageMeta(type):
    """`isinstance(s, FloatStorage)`: a TypedStorage of float32; calling the class builds
    one."""

    def __instancecheck__(cls, instance):
        if type(instance) is TypedStorage:
            return instance.dtype == cls.dtype and not cls._cuda  # no storage is on CUDA
        return type.__instancecheck__(cls, instance)

    def __call__(cls, *args, **kwargs):
        _warn_typed_storage()
        if cls._cuda:
            raise AssertionError("Torch not compiled with CUDA enabled")
        return TypedStorage(*args, dtype=cls.dtype, _internal=True, **kwargs)


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageMeta):
    _cuda = False

    @classmethod
    def _new_shared(cls, size):
        return cls(size)


_LEGACY_NAMES = {'float64': 'DoubleStorage', 'float32': 'FloatStorage',
                 'float16': 'HalfStorage', 'int64': 'LongStorage', 'int32': 'IntStorage',
                 'int16': 'ShortStorage', 'int8': 'CharStorage', 'uint8': 'ByteStorage',
                 'bool': 'BoolStorage', 'bfloat16': 'BFloat16Storage',
                 'complex128': 'ComplexDoubleStorage', 'complex64': 'ComplexFloatStorage'}
_LEGACY_CLASSES = {}
_CUDA_LEGACY_CLASSES = {}


class _LegacyDtype:
    """A legacy class's dtype, read when asked (bfloat16 exists only with ml_dtypes)."""

    def __init__(self, name):
        self.name = name

    def __get__(self, obj, cls):
        return getattr(_dtype, self.name)


for _dt_name, _cls_name in _LEGACY_NAMES.items():
    for _table, _module, _cuda in ((_LEGACY_CLASSES, 'ember', False),
                                   (_CUDA_LEGACY_CLASSES, 'ember.cuda', True)):
        _cls = _LegacyStorageMeta(_cls_name, (_LegacyStorage,), {
            '__module__': _module, '__qualname__': _cls_name, '_cuda': _cuda})
        type.__setattr__(_cls, 'dtype', _LegacyDtype(_dt_name))
        _table[_dt_name] = _cls
del _dt_name, _cls_name, _table, _module, _cuda, _cls

for _c in (UntypedStorage, TypedStorage):
    _c.__module__ = 'ember.storage'
del _c

globals().update({c.__name__: c for c in _LEGACY_CLASSES.values()})
Storage = _LEGACY_CLASSES['float32']  # torch.Storage: the default dtype's legacy class
__all__ += [c.__name__ for c in _LEGACY_CLASSES.values()] + ['Storage', 'StorageBase']
