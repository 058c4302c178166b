"""ember.types (torch.types): the aliases torch's annotations use."""
import os
from typing import IO, Union

from ._tensor import Size, Tensor, device as _device

__all__ = ['Number', 'Device', 'FileLike', 'Size', 'Tensor', 'Storage', 'SymInt', 'SymFloat',
           'SymBool']

Number = Union[int, float, bool]
Device = Union[_device, str, int, None]
FileLike = Union[str, os.PathLike, IO[bytes]]


def _protocol(self, *args):
    raise NotImplementedError


class Storage:
    """The protocol torch's storage classes implement (for annotations)."""
    __deepcopy__ = _new_shared = _write_file = element_size = is_shared = share_memory_ = \
        nbytes = _protocol


def _via_node(call, convert=None):
    """A method of a symbolic number that asks its node."""
    def method(self, *args):
        got = getattr(self.node, call)(*args)
        return got if convert is None else convert(got)
    method.__name__ = call
    return method


class _SymNode:
    """torch.SymInt/SymFloat/SymBool: a number whose value a symbolic node holds. ember traces
    nothing, so they only appear when a program builds one over a node of its own."""

    def __init__(self, node):
        self.node = node

    __repr__ = _via_node('_graph_repr')
    __str__ = _via_node('str')
    __bool__ = _via_node('bool_', bool)
    __hash__ = _via_node('__hash__')


class SymInt(_SymNode):
    """torch.SymInt: an int-like value held by a symbolic node."""
    __int__ = __index__ = _via_node('int_')


class SymFloat(_SymNode):
    """torch.SymFloat: a float-like value held by a symbolic node."""

    def __float__(self):
        return self.node.guard_float('', 0)


class SymBool(_SymNode):
    """torch.SymBool: a bool-like value held by a symbolic node."""
SymInt.__module__ = SymFloat.__module__ = SymBool.__module__ = 'ember'  # torch.SymInt


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
