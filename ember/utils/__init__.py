"""ember.utils (torch.utils). ember.utils.data and the tool modules load on first use
(ember/_stubs.py); the functions torch.utils re-exports from them load with their module."""
import importlib

from ._swap import set_module, swap_tensors  # noqa: F401

# name -> the module of ember.utils that defines it, imported when the name is first used
_LAZY = {'ThroughputBenchmark': 'throughput_benchmark', 'get_cpp_backtrace': 'cpp_backtrace',
         'rename_privateuse1_backend': 'backend_registration',
         'generate_methods_for_privateuse1_backend': 'backend_registration'}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f'{__name__}.{_LAZY[name]}'), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
