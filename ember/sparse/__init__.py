"""ember.sparse (torch.sparse): products, sums and softmaxes of sparse COO/CSR tensors.

The tensors themselves, their methods and gradients live in ``ember/_ops/sparse.py``.
"""
from .._tensor import Tensor
from .._ops.sparse import (sparse_mm as mm, sparse_addmm as addmm, sparse_sum as sum,
                           softmax, log_softmax, _Checks)
from .._stubs import hook as _hook

__all__ = ['addmm', 'check_sparse_tensor_invariants', 'mm', 'sum', 'softmax', 'log_softmax',
           'as_sparse_gradcheck', 'Tensor']


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
