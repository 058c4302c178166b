"""Helpers the layer modules share (torch.nn.modules.utils): argument tuples, the empty
parameter storage a layer allocates before initialising it, and
consume_prefix_in_state_dict_if_present."""
import collections.abc
import inspect
from itertools import repeat

from ..._ops.creation import empty
from ..._tensor import _check_device
from ..parameter import Parameter, UninitializedParameter
from .module import Module

__all__ = ['consume_prefix_in_state_dict_if_present']


def _ntuple(n, name='parse'):
    """A parser turning an int (or any non-iterable) into an n-tuple of it, as torch's."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, '_single')
_pair = _ntuple(2, '_pair')
_triple = _ntuple(3, '_triple')
_quadruple = _ntuple(4, '_quadruple')


def _reverse_repeat_tuple(t, n):
    """`t` reversed, each element repeated n times: a conv/pool padding as F.pad takes it."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """An adaptive pool's output size with its None entries taken from the input's size."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def _class_constants(cls, **constants):
    """The `__init_subclass__` of a layer family whose members differ only in class constants
    (the functional they call, their number of dimensions): `class Conv2d(_ConvNd, fn=F.conv2d,
    nd=2)` sets `Conv2d._fn` and `Conv2d._nd`. Other keywords go on up the MRO, as they would
    on torch's classes (a user's mixin may take them; object refuses them)."""
    rest = {}
    for name, value in constants.items():
        if hasattr(cls, '_' + name):
            setattr(cls, '_' + name, staticmethod(value) if callable(value) else value)
        else:
            rest[name] = value
    owner = next(c for c in cls.__mro__[1:]
                 if getattr(c.__dict__.get('__init_subclass__'), '__func__', None)
                 is _class_constants)
    super(owner, cls).__init_subclass__(**rest)


class _Functional(Module):
    """A layer that is one functional with its settings fixed, named in its class statement:
    `class Fold(_Functional, fn=F.fold)` takes fold's arguments after `input` (same names and
    defaults) as its constructor's, keeps them as attributes (its __constants__), passes them
    on in that order in forward, and prints them as `name=value` (`inplace` only when set)."""

    def __init_subclass__(cls, fn=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if fn is None:
            return
        settings = list(inspect.signature(fn).parameters.values())[1:]
        cls._fn = staticmethod(fn)
        cls.__constants__ = [p.name for p in settings]
        signature = inspect.Signature(
            [inspect.Parameter('self', inspect.Parameter.POSITIONAL_OR_KEYWORD)] + settings)

        def __init__(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            super(cls, self).__init__()
            for name in cls.__constants__:
                setattr(self, name, bound.arguments[name])

        __init__.__signature__ = signature
        __init__.__qualname__ = f'{cls.__qualname__}.__init__'
        cls.__init__ = __init__

    def forward(self, input):
        return self._fn(input, *[getattr(self, name) for name in self.__constants__])

    def extra_repr(self):
        return ', '.join(f'{name}={getattr(self, name)}' for name in self.__constants__
                         if name != 'inplace' or self.inplace)


def _empty(shape, device=None, dtype=None):
    """The storage of a layer's parameter before its initialisation (torch.empty with the
    layer's factory arguments; a device other than the CPU raises as on torch)."""
    _check_device(device)
    return empty(shape, dtype=dtype)


def _weight_and_bias(module, weight_shape, bias_shape, bias, device=None, dtype=None):
    """Give a layer its `weight` and, if `bias`, its `bias` (else a `bias` registered as None),
    uninitialised: the layer's reset_parameters fills them."""
    module.weight = Parameter(_empty(weight_shape, device, dtype))
    if bias:
        module.bias = Parameter(_empty(bias_shape, device, dtype))
    else:
        module.register_parameter('bias', None)


def _lazy_weight_and_bias(module, bias, device=None, dtype=None):
    """A lazy layer's `weight` and optional `bias`: placeholders of a shape still unknown."""
    module.weight = UninitializedParameter(device=device, dtype=dtype)
    if bias:
        module.bias = UninitializedParameter(device=device, dtype=dtype)


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip `prefix` from the keys of `state_dict` (and of its `_metadata`) in place, so that
    a DataParallel/DDP model's state dict loads into the plain model."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        for key in list(metadata.keys()):
            # '' is the wrapper's own entry; 'module' and 'module.x' are the model's
            if len(key) == 0:
                continue
            if key == prefix.replace('.', '') or key.startswith(prefix):
                metadata[key[len(prefix):]] = metadata.pop(key)
