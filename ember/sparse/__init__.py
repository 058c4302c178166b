"""ember.sparse (torch.sparse): products, sums and softmaxes of sparse COO/CSR tensors.

The tensors themselves, their methods and gradients live in ``ember/_ops/sparse.py``.
"""
import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .._ops.sparse import (sparse_mm as mm, sparse_addmm as addmm, sparse_sum as sum,
                           softmax, log_softmax, spdiags, sampled_addmm, sparse_coo_tensor,
                           _Checks, _coo)
from .._stubs import hook as _hook

__all__ = ['addmm', 'check_sparse_tensor_invariants', 'mm', 'sum', 'softmax', 'log_softmax',
           'as_sparse_gradcheck', 'spdiags', 'sampled_addmm', 'Tensor', 'FloatTensor',
           'DoubleTensor', 'HalfTensor', 'BFloat16Tensor', 'LongTensor', 'IntTensor',
           'ShortTensor', 'CharTensor', 'ByteTensor']


class _LegacySparseMeta(type):
    """torch.sparse.FloatTensor & co: isinstance tests layout and dtype; calling one builds a
    COO tensor (indices, values[, size]) or an empty one of a size."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.is_sparse and obj.dtype is cls._dtype()

    def __call__(cls, *args, device=None):
        dt = cls._dtype()
        if args and isinstance(args[0], Tensor):
            indices, values = args[0], args[1]
            if values.dtype is not dt:
                raise TypeError(f"expected {dt!r} (got {values.dtype!r})")
            return sparse_coo_tensor(indices, values, *args[2:3], device=device)
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) \
            else tuple(int(a) for a in args)
        size = size or (0,)
        return _coo(np.zeros((len(size), 0), np.int64), np.zeros(0, dt._np), size, True)


def _legacy(name, dtype_name):
    return _LegacySparseMeta(name, (), {'_dtype': staticmethod(
        lambda: getattr(_dtype, dtype_name)), '__module__': 'torch.sparse'})


_LEGACY_TYPES = {'FloatTensor': 'float32', 'DoubleTensor': 'float64', 'HalfTensor': 'float16',
                 'BFloat16Tensor': 'bfloat16', 'LongTensor': 'int64', 'IntTensor': 'int32',
                 'ShortTensor': 'int16', 'CharTensor': 'int8', 'ByteTensor': 'uint8'}
globals().update({name: _legacy(name, dt) for name, dt in _LEGACY_TYPES.items()})


class check_sparse_tensor_invariants:
    """Turns the sparse constructors' invariant checks on or off: a context manager, a
    decorator, or globally with enable()/disable()."""

    @staticmethod
    def is_enabled():
        return _Checks.enabled

    @staticmethod
    def enable():
        _Checks.enabled = _Checks.explicit = True

    @staticmethod
    def disable():
        _Checks.enabled = False
        _Checks.explicit = True

    def __init__(self, enable=True):
        self.state = enable
        self.saved_state = None

    def __enter__(self):
        if self.saved_state is not None:
            raise RuntimeError("This context manager instance is already activated. Use a "
                               "different context manager instance for context nesting.")
        self.saved_state = _Checks.enabled
        _Checks.enabled = self.state
        _Checks.explicit = True

    def __exit__(self, type, value, traceback):
        _Checks.enabled = self.saved_state
        self.saved_state = None

    def __call__(self, mth):
        def test_mth(*args, **kwargs):
            with type(self)(self.state):
                return mth(*args, **kwargs)
        return test_mth


def as_sparse_gradcheck(gradcheck):
    """torch.sparse.as_sparse_gradcheck: ember's gradcheck takes dense inputs only."""
    def gradcheck_with_sparse_support(func, inputs, **kwargs):
        raise NotImplementedError("ember does not implement gradcheck on sparse inputs")
    return gradcheck_with_sparse_support


_hook(__name__)
