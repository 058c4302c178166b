"""A minimal view of a tensor's storage (Tensor.untyped_storage / Tensor.storage).

ember's storage is the root NumPy buffer a tensor's array views; these objects describe it.
"""
import sys

import numpy as np

from ._dtype import from_numpy
from ._tensor import device

__all__ = ['UntypedStorage', 'TypedStorage']


def _root(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


class UntypedStorage:
    def __init__(self, array):
        self._array = array

    @classmethod
    def _of(cls, tensor):
        return cls(_root(tensor._data))

    def data_ptr(self):
        return self._array.__array_interface__['data'][0]

    def nbytes(self):
        return self._array.nbytes

    def size(self):
        return self._array.nbytes

    __len__ = size

    def element_size(self):
        return 1

    @property
    def device(self):
        return device('cpu')

    def tolist(self):
        return list(self._array.reshape(-1).view(np.uint8))

    def __repr__(self):
        return f"[torch.storage.UntypedStorage(device=cpu) of size {self.nbytes()}]"

    # sys.getsizeof(storage) counts the bytes, as torch's does (torchinfo's "Input size (MB)"
    # sums it): torch reports 64 + nbytes for an UntypedStorage, 56 + nbytes for a TypedStorage
    _SIZEOF = 64

    def __sizeof__(self):
        return self._SIZEOF - _GC_OVERHEAD + self.nbytes()


class _Probe:
    pass


# what sys.getsizeof adds to __sizeof__ for an instance of a plain class (GC header and the
# like; it varies between CPython versions)
_GC_OVERHEAD = sys.getsizeof(_Probe()) - _Probe().__sizeof__()
del _Probe


class TypedStorage(UntypedStorage):
    _SIZEOF = 56

    @property
    def dtype(self):
        return from_numpy(self._array.dtype)

    def size(self):
        return self._array.size

    __len__ = size

    def element_size(self):
        return self._array.itemsize

    def tolist(self):
        return self._array.reshape(-1).tolist()

    def untyped(self):
        return UntypedStorage(self._array)

    def __repr__(self):
        body = '\n'.join(f" {v}" for v in self.tolist())
        return (f"{body}\n[torch.storage.TypedStorage(dtype={self.dtype!r}, device=cpu) of size "
                f"{self.size()}]")
