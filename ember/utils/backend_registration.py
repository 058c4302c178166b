"""torch.utils.backend_registration: naming torch's PrivateUse1 device (an out-of-tree backend)
and generating its convenience methods (Tensor.is_foo, Tensor.foo(), Module.foo(), ...).
ember computes on the CPU only: the name becomes a valid device string, and moving data to it
fails as torch fails when the backend's module is not registered."""
from .. import _tensor
from .._tensor import Tensor, _register_method
from ..nn.modules.module import Module
from ..nn.utils.rnn import PackedSequence

__all__ = ['rename_privateuse1_backend', 'generate_methods_for_privateuse1_backend']

_privateuse1_backend_name = 'privateuseone'


def _get_privateuse1_backend_name():
    return _privateuse1_backend_name


def rename_privateuse1_backend(backend_name):
    """Rename the PrivateUse1 device (once per process): `torch.device(backend_name)` works."""
    global _privateuse1_backend_name
    current = _privateuse1_backend_name
    if current != 'privateuseone' and current != backend_name:
        raise RuntimeError('torch.register_privateuse1_backend() has already been set! Current '
                           f'backend: {current}')
    _privateuse1_backend_name = backend_name
    _tensor._PRIVATEUSE1[:] = ['privateuseone', backend_name]


def _check_register_once(cls, attr):
    if hasattr(cls, attr):
        raise RuntimeError(f'The custom device module of {cls} has already been registered with '
                           f'{attr}')


def _no_backend_module(name):
    return ModuleNotFoundError(f"No module named 'torch.{name}'", name=f'torch.{name}')


def _methods(name):
    """The `is_<name>` property and the `<name>(device=None, ...)` conversion method."""
    def is_backend(self):
        return self.device.type == name
    is_backend.__name__ = f'is_{name}'

    def to_backend(self, device=None, non_blocking=False, **kwargs):
        raise _no_backend_module(name)
    to_backend.__name__ = name
    return property(is_backend), to_backend


def generate_methods_for_privateuse1_backend(for_tensor=True, for_module=True,
                                             for_packed_sequence=True, for_storage=False,
                                             unsupported_dtype=None):
    """Add the PrivateUse1 device's methods to Tensor, Module, PackedSequence (and storages)."""
    name = _privateuse1_backend_name
    is_prop, to_method = _methods(name)
    if for_tensor:
        _check_register_once(Tensor, f'is_{name}')
        _register_method(f'is_{name}', is_prop, __name__)
        _check_register_once(Tensor, name)
        _register_method(name, to_method, __name__)
    if for_module:
        if not hasattr(Tensor, name):
            raise RuntimeError(f'Can not automatically generate {name}() method for '
                               f'torch.nn.Module.Because torch.Tensor doesn\'t has the method '
                               f'{name}().For this error, you can try setting for_tensor=True.')
        _check_register_once(Module, name)

        def module_to(self, device=None):
            return self._apply(lambda t: getattr(t, name)(device))
        module_to.__name__ = name
        setattr(Module, name, module_to)
    if for_packed_sequence:
        if not hasattr(Tensor, name):
            raise RuntimeError(f'Can not automatically generate is_{name}() or {name}() method '
                               'for torch.nn.utils.rnn.PackedSequence.Because torch.Tensor '
                               f'doesn\'t has the method is_{name}()or {name}().For this error, '
                               'you can try setting for_tensor=True.')
        _check_register_once(PackedSequence, f'is_{name}')
        setattr(PackedSequence, f'is_{name}', property(lambda self: getattr(self.data,
                                                                             f'is_{name}')))
        _check_register_once(PackedSequence, name)
        setattr(PackedSequence, name, to_method)
