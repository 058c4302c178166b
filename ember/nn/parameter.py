"""Parameter and Buffer: the tensors a Module registers as its state (torch.nn.parameter)."""
from collections import OrderedDict

from .. import _tensor_str
from .._tensor import Tensor, _VersionCounter
from .._ops.creation import empty
from .._tensor import _check_device
from .._torch_function import _disabled_torch_function_impl

__all__ = ['Parameter', 'UninitializedParameter', 'is_lazy', 'Buffer', 'UninitializedBuffer',
           'UninitializedTensorMixin']


def _empty0(dtype=None):
    return empty(0, dtype=dtype)


def _share(cls, data, requires_grad):
    """A new `cls` instance sharing data's memory and version counter, as a fresh leaf."""
    t = object.__new__(cls)
    t._data = data._data
    t._grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._vc = data._vc if data._vc is not None else _VersionCounter()
    t._base = None
    t._grad_acc = None
    t._hooks = None
    t._requires_grad = False
    if requires_grad:
        if not (t.is_floating_point() or t.is_complex()):
            raise RuntimeError('Only Tensors of floating point and complex dtype can require '
                               'gradients')
        t._requires_grad = True
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """Unpickling target of Parameter (mirrors torch._utils._rebuild_parameter)."""
    param = Parameter(data, requires_grad)
    if state:
        param.__dict__.update(state)
    return param


class _ParameterMeta(type(Tensor)):
    """Print ember's own parameter classes under torch's name, as `type(net[0].bias)` shows.

    Only the repr changes: __module__ stays ember's, so pickling by reference still works."""

    def __repr__(cls):
        if cls.__module__ == __name__:
            return f"<class 'torch.nn.parameter.{cls.__qualname__}'>"
        return super().__repr__()


class Parameter(Tensor, metaclass=_ParameterMeta):
    """A Tensor that a Module registers as a learnable parameter (requires_grad=True)."""
    __torch_function__ = _disabled_torch_function_impl  # ops on it give plain tensors

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _empty0()
        if not isinstance(data, Tensor):
            # torch calls data.detach() and fails the same way
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        return _share(cls, data, requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass  # all set up in __new__; Tensor.__init__ would start over

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return 'Parameter containing:\n' + super().__repr__()

    def __reduce_ex__(self, proto):
        state = dict(self.__dict__) if self.__dict__ else None
        return (_rebuild_parameter, (self.data, self.requires_grad, OrderedDict(), state))


_tensor_str._TENSOR_CLASSES['Parameter'] = Parameter  # prints as 'Parameter containing:'


class UninitializedTensorMixin:
    """A placeholder with no shape yet; `materialize` gives it storage (lazy modules)."""
    __torch_function__ = _disabled_torch_function_impl

    def materialize(self, shape, device=None, dtype=None):
        if dtype is None:
            dtype = self.data.dtype
        self.data = empty(shape, dtype=dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This "
                           'error usually happens in `load_state_dict` when trying to load an '
                           'uninitialized parameter into an initialized one. Call `forward` to '
                           'initialize the parameters before accessing their attributes.')

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           '`forward` to initialize the parameters before calling '
                           '`module.share_memory()`.')

    def __repr__(self):
        return f'<{self.__class__.__name__}>'

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))


def is_lazy(param):
    """True for UninitializedParameter / UninitializedBuffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is inferred on the first forward (LazyLinear etc.)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        _check_device(device)
        return _share(cls, _empty0(dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, None, self.data.dtype)
        memo[id(self)] = result
        return result


class _BufferMeta(type(Tensor)):
    # Buffer(...) returns a plain Tensor flagged `_is_buffer`; isinstance still says Buffer.
    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, '_is_buffer', False)
        return super().__instancecheck__(cls, instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute."""
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _empty0()
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is inferred on the first forward."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        _check_device(device)
        t = _share(cls, _empty0(dtype), requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass
