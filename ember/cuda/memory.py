"""torch.cuda.memory: the caching allocator's API on a CPU build (counters read 0; what needs
the allocator raises as torch's does)."""
import contextlib
import ctypes

from . import (caching_allocator_disabled, caching_allocator_enable, empty_cache,  # noqa: F401
               get_per_process_memory_fraction, host_memory_stats,
               host_memory_stats_as_nested_dict, list_gpu_processes, max_memory_allocated,
               max_memory_cached, max_memory_reserved, mem_get_info, memory_allocated,
               memory_cached, memory_reserved, memory_snapshot, memory_stats,
               memory_stats_as_nested_dict, memory_summary, reset_accumulated_memory_stats,
               reset_max_memory_allocated, reset_max_memory_cached, reset_peak_memory_stats,
               set_per_process_memory_fraction)
from ._utils import dummy, lazy_init, no_binding, refusing

__all__ = ['caching_allocator_alloc', 'caching_allocator_delete', 'caching_allocator_disabled',
           'caching_allocator_enable', 'get_per_process_memory_fraction',
           'set_per_process_memory_fraction', 'empty_cache', 'memory_stats',
           'memory_stats_as_nested_dict', 'reset_accumulated_memory_stats',
           'reset_peak_memory_stats', 'reset_max_memory_allocated', 'reset_max_memory_cached',
           'host_memory_stats', 'host_memory_stats_as_nested_dict',
           'reset_accumulated_host_memory_stats', 'reset_peak_host_memory_stats',
           'memory_allocated', 'max_memory_allocated', 'memory_reserved', 'max_memory_reserved',
           'memory_cached', 'max_memory_cached', 'memory_snapshot', 'memory_summary',
           'list_gpu_processes', 'mem_get_info', 'get_allocator_backend',
           'CUDAPluggableAllocator', 'change_current_allocator', 'MemPool', 'use_mem_pool']


def caching_allocator_alloc(size, device=None, stream=None):
    lazy_init()


# these call straight into torch._C's CUDA bindings, absent from a CPU build
caching_allocator_delete = refusing('caching_allocator_delete',
                                    '_cuda_cudaCachingAllocator_raw_delete')
reset_accumulated_host_memory_stats = refusing('reset_accumulated_host_memory_stats',
                                               '_cuda_resetAccumulatedHostMemoryStats')
reset_peak_host_memory_stats = refusing('reset_peak_host_memory_stats',
                                        '_cuda_resetPeakHostMemoryStats')
get_allocator_backend = refusing('get_allocator_backend', '_cuda_getAllocatorBackend')
change_current_allocator = refusing('change_current_allocator', '_cuda_changeCurrentAllocator')


class _CUDAAllocator:
    """A CUDA memory allocator."""

    def __init__(self, allocator):
        self._allocator = allocator

    def allocator(self):
        return self._allocator


class CUDAPluggableAllocator(_CUDAAllocator):
    """A CUDA allocator loaded from a shared library: the library and its two functions are
    looked up as torch does; making the allocator needs CUDA."""

    def __init__(self, path_to_so_file, alloc_fn_name, free_fn_name):
        lib = ctypes.CDLL(path_to_so_file)
        alloc_fn = ctypes.cast(getattr(lib, alloc_fn_name), ctypes.c_void_p).value
        free_fn = ctypes.cast(getattr(lib, free_fn_name), ctypes.c_void_p).value
        if alloc_fn is None:
            raise AssertionError(f"alloc_fn '{alloc_fn_name}' is None")
        if free_fn is None:
            raise AssertionError(f"free_fn '{free_fn_name}' is None")
        raise no_binding('_cuda_customAllocator')


change_current_allocator = refusing('change_current_allocator', '_cuda_changeCurrentAllocator')
class _MemPool:
    """torch._C._MemPool's stand-in: a dummy base class on a CPU build."""

    def __new__(cls, *args, **kwargs):
        raise dummy('MemPool')


class MemPool(_MemPool):
    """A pool of memory in CUDA's caching allocator."""

    def __init__(self, allocator=None, use_on_oom=False, no_split=False):
        pass  # unreachable: instantiating refuses first, as torch's CPU build does


@contextlib.contextmanager
def use_mem_pool(pool, device=None):
    """Route this thread's CUDA allocations to `pool` (needs CUDA)."""
    lazy_init()
    yield
