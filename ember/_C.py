"""torch._C's Python-facing pieces of the __torch_function__ protocol that programs use
(`torch._C.DisableTorchFunctionSubclass()`, `torch._C._disabled_torch_function_impl`)."""
from ._torch_function import (DisableTorchFunction, DisableTorchFunctionSubclass,  # noqa: F401
                              _disabled_torch_function_impl, _is_torch_function_enabled,
                              _is_torch_function_mode_enabled, MODES as _MODES)
from .overrides import (_push_mode as _push_on_torch_function_stack,  # noqa: F401
                        _pop_mode as _pop_torch_function_stack,
                        has_torch_function as _has_torch_function,
                        has_torch_function_unary as _has_torch_function_unary,
                        has_torch_function_variadic as _has_torch_function_variadic)


def _len_torch_function_stack():
    return len(_MODES)


def _get_function_stack_at(i):
    return _MODES[i]
