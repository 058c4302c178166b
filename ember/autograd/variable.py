"""torch.autograd.variable: the legacy Variable wrapper."""
import warnings

from .._tensor import Tensor, _wrap
from .._ops.creation import empty

__all__ = ['Variable']


class _VariableMeta(type):
    def __repr__(cls):
        return "<class 'torch.autograd.variable.Variable'>"  # as torch prints it

    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Variable(tensor, requires_grad=False): since torch 0.4 a Variable is a Tensor. The call
    returns a new tensor sharing `tensor`'s data, detached from its history (a leaf), with the
    requested requires_grad; `isinstance(t, Variable)` is True for every tensor."""

    def __new__(cls, data=None, requires_grad=False, volatile=None):
        if volatile is not None:
            warnings.warn('volatile was removed and now has no effect. Use `with torch.no_grad():`'
                          ' instead.', UserWarning, stacklevel=2)
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f'Variable data has to be a tensor, but got {type(data).__name__}')
        out = _wrap(data._data.view())  # a leaf of its own, sharing memory (as detach)
        out._vc = data._vc
        return out.requires_grad_(bool(requires_grad))

