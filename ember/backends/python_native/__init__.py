"""torch.backends.python_native: switches for torch's DSL kernel overrides (Triton, CuTe DSL).
Neither DSL runs on a CPU build, nor registers an operation; the switches are kept as torch
keeps them."""
import contextlib
import functools
import sys

from .._flags import PropModule, flags_frozen

__all__ = ['DSLController', 'PythonNativeModule']

_DSLS = ('cutedsl', 'triton')
# what is disabled: DSL names, operation symbols, dispatch keys
_disabled = {'dsl': set(), 'op': set(), 'key': set()}


def _get_dsl_module(dsl_name):
    if dsl_name not in _DSLS:
        raise ValueError(f'Unknown DSL: {dsl_name}. Available DSLs: {_DSLS}')
    return dsl_name


class DSLController:
    """Controller for one DSL."""

    def __init__(self, dsl_name):
        self._dsl_name = dsl_name

    @property
    def name(self):
        return self._dsl_name

    @property
    def available(self):
        return False

    @property
    def version(self):
        return None

    @property
    def enabled(self):
        return self._dsl_name not in _disabled['dsl']

    @enabled.setter
    def enabled(self, value):
        if flags_frozen():
            raise RuntimeError(f"not allowed to set {self._dsl_name} DSL flags after "
                               "disable_global_flags; please use flags() context manager "
                               "instead")
        if value:
            self.enable()
        else:
            self.disable()

    def disable(self):
        _disabled['dsl'].add(_get_dsl_module(self._dsl_name))

    def enable(self):
        _disabled['dsl'].discard(self._dsl_name)

    @contextlib.contextmanager
    def disabled(self):
        original = self.enabled
        try:
            self.disable()
            yield
        finally:
            if original:
                self.enable()

    def __repr__(self):
        status = 'available' if self.available else 'unavailable'
        enabled = 'enabled' if self.enabled else 'disabled'
        return f'DSLController({self._dsl_name}, {status}, {enabled})'


class PythonNativeModule(PropModule):
    """The module: DSL controllers as attributes (`python_native.triton`), operation and
    dispatch-key switches."""

    def __init__(self, original_module):
        super().__init__(original_module, original_module.__name__)

    @property
    def available_dsls(self):
        return []

    @property
    def all_dsls(self):
        return list(_DSLS)

    def get_dsl_operations(self, dsl_name):
        return []  # no DSL registers an operation without its runtime

    def disable_operations(self, *op_symbols):
        _disabled['op'].update(op_symbols)

    def enable_operations(self, *op_symbols):
        _disabled['op'].difference_update(op_symbols)

    def disable_dispatch_keys(self, *dispatch_keys):
        _disabled['key'].update(dispatch_keys)

    def enable_dispatch_keys(self, *dispatch_keys):
        _disabled['key'].difference_update(dispatch_keys)

    @contextlib.contextmanager
    def operations_disabled(self, *op_symbols):
        before = {op for op in op_symbols if op in _disabled['op']}
        self.disable_operations(*op_symbols)
        try:
            yield
        finally:
            again = [op for op in op_symbols if op not in before]
            if again:
                self.enable_operations(*again)

    def is_operation_disabled(self, op_symbol):
        return op_symbol in _disabled['op']

    def is_dsl_disabled(self, dsl_name):
        return dsl_name in _disabled['dsl']

    @functools.lru_cache(maxsize=16)  # noqa: B019
    def _get_dsl_controller(self, name):
        return DSLController(name)

    def __getattr__(self, name):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(f"module '{self.__name__}' has no attribute '{name}'")
        if name in _DSLS:
            return self._get_dsl_controller(name)
        if name == '_get_dsl_module':
            return _get_dsl_module
        try:
            return self.m.__getattribute__(name)
        except AttributeError:
            raise AttributeError(
                f"module '{self.__name__}' has no attribute '{name}'") from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(_DSLS) | {
            'available_dsls', 'all_dsls', 'get_dsl_operations', 'disable_operations',
            'enable_operations', 'disable_dispatch_keys', 'enable_dispatch_keys',
            'operations_disabled', 'is_operation_disabled', 'is_dsl_disabled'})


sys.modules[__name__] = PythonNativeModule(sys.modules[__name__])
