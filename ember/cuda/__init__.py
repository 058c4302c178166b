"""torch.cuda as it answers in a CPU-only build of torch.

ember has no CUDA backend, so this module behaves exactly like torch's CPU wheel: the queries
say "no device" (is_available() False, device_count() 0, memory counters 0), the seeding calls
are silent no-ops, and whatever needs a device raises torch's
`AssertionError: Torch not compiled with CUDA enabled`.
"""
import contextlib
from collections import OrderedDict

from . import amp  # noqa: F401
from ._utils import lazy_init as _lazy_init
from .._tensor import device as _device
from .. import _storage

__all__ = ['is_available', 'is_initialized', 'device_count', 'init', 'current_device',
           'set_device', 'get_device_name', 'get_device_capability', 'get_device_properties',
           'synchronize', 'manual_seed', 'manual_seed_all', 'seed', 'seed_all', 'initial_seed',
           'get_rng_state', 'get_rng_state_all', 'set_rng_state', 'set_rng_state_all',
           'memory_allocated', 'max_memory_allocated', 'memory_reserved', 'max_memory_reserved',
           'memory_cached', 'max_memory_cached', 'memory_stats', 'memory_stats_as_nested_dict',
           'host_memory_stats', 'host_memory_stats_as_nested_dict', 'memory_summary',
           'memory_snapshot', 'empty_cache', 'reset_peak_memory_stats',
           'reset_max_memory_allocated', 'reset_max_memory_cached',
           'reset_accumulated_memory_stats', 'mem_get_info', 'set_per_process_memory_fraction',
           'get_per_process_memory_fraction', 'ipc_collect', 'is_bf16_supported',
           'is_tf32_supported', 'get_arch_list', 'get_gencode_flags', 'current_stream',
           'default_stream', 'set_stream', 'stream', 'Stream', 'Event', 'StreamContext',
           'device', 'device_of', 'list_gpu_processes', 'is_current_stream_capturing',
           'get_sync_debug_mode', 'set_sync_debug_mode', 'caching_allocator_enable',
           'caching_allocator_disabled', 'can_device_access_peer', 'default_generators',
           'has_half', 'has_magma', 'amp', 'utilization', 'memory_usage', 'temperature',
           'power_draw', 'clock_rate', 'device_memory_used', 'CudaError',
           'DeferredCudaCallError', 'check_error', 'classproperty', 'cudaStatus', 'cudart',
           'current_blas_handle', 'current_solver_handle', 'get_stream_from_external',
           'CUDAGraph', 'graph', 'graph_pool_handle', 'make_graphed_callables', 'ExternalStream',
           'MemPool', 'CUDAPluggableAllocator', 'caching_allocator_alloc',
           'caching_allocator_delete', 'change_current_allocator', 'get_allocator_backend',
           'reset_accumulated_host_memory_stats', 'reset_peak_host_memory_stats', 'use_mem_pool',
           'GreenContext', 'memory', 'random', 'streams', 'graphs', 'nvtx', 'nccl', 'profiler',
           'jiterator', 'sparse', 'tunable', 'gds', 'green_contexts']

has_half = False
has_magma = False
default_generators = ()


class CudaError(RuntimeError):
    pass


class DeferredCudaCallError(Exception):
    pass


class cudaStatus:
    SUCCESS = 0
    ERROR_NOT_READY = 34


def check_error(res):
    # torch compares with its CUDA runtime bindings' codes, absent from a CPU build
    raise AttributeError("'NoneType' object has no attribute 'cudaError'")


def cudart():
    _lazy_init()


def current_blas_handle():
    _lazy_init()


def current_solver_handle():
    _lazy_init()


def get_stream_from_external(data_ptr, device=None):
    _lazy_init()


class _ClassPropertyDescriptor:
    def __init__(self, fget):
        self.fget = fget

    def __get__(self, instance, owner=None):
        if owner is None:
            owner = type(instance)
        return self.fget.__get__(instance, owner)()


def classproperty(func):
    """A read-only property of a class (torch._utils.classproperty)."""
    if not isinstance(func, (classmethod, staticmethod)):
        func = classmethod(func)
    return _ClassPropertyDescriptor(func)


def is_available():
    return False


def is_initialized():
    return False


def device_count():
    return 0


def init():
    _lazy_init()


def current_device():
    _lazy_init()


def set_device(device):
    _lazy_init()


def get_device_name(device=None):
    _lazy_init()


def get_device_capability(device=None):
    _lazy_init()


def get_device_properties(device=None):
    _lazy_init()


def synchronize(device=None):
    _lazy_init()


def ipc_collect():
    _lazy_init()


def is_bf16_supported(including_emulation=True):
    return False


def is_tf32_supported():
    return False


def get_arch_list():
    return []


def get_gencode_flags():
    return ''


# ---- random state: torch queues CUDA seeding until CUDA initialises, which never happens ----

def manual_seed(seed):
    int(seed)  # torch converts (and so rejects non-numbers) before queueing


def manual_seed_all(seed):
    int(seed)


def seed():
    return None


def seed_all():
    return None


def initial_seed():
    _lazy_init()


def get_rng_state(device='cuda'):
    _lazy_init()


def get_rng_state_all():
    return []


def set_rng_state(new_state, device='cuda'):
    return None


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)


# ---- memory: the counters read 0, the calls that need the allocator raise ------------------

def memory_allocated(device=None):
    return 0


# with no CUDA memory ever allocated, every counter is the one above
max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated
memory_cached = max_memory_cached = memory_allocated


def memory_stats(device=None):
    return OrderedDict()


def memory_stats_as_nested_dict(device=None):
    return {}


def host_memory_stats():
    return OrderedDict()


def host_memory_stats_as_nested_dict():
    return {}


def empty_cache():
    return None


# torch's CPU wheel fails inside these because its CUDA bindings are absent; ember says why.
def memory_summary(device=None, abbreviated=False):
    _lazy_init()


def memory_snapshot(mempool_id=None):
    _lazy_init()


def reset_peak_memory_stats(device=None):
    _lazy_init()


def reset_max_memory_allocated(device=None):
    _lazy_init()


def reset_max_memory_cached(device=None):
    _lazy_init()


def reset_accumulated_memory_stats(device=None):
    _lazy_init()


def mem_get_info(device=None):
    _lazy_init()


def set_per_process_memory_fraction(fraction, device=None):
    _lazy_init()


def get_per_process_memory_fraction(device=None):
    _lazy_init()


def caching_allocator_enable(value=True):
    return None


@contextlib.contextmanager
def caching_allocator_disabled():
    yield


def can_device_access_peer(device, peer_device):
    _lazy_init()


def list_gpu_processes(device=None):
    return 'pynvml module not found, please install nvidia-ml-py'


def _no_nvml(device=None):
    raise ModuleNotFoundError(
        "nvidia-ml-py does not seem to be installed or it can't be imported.")


utilization = memory_usage = temperature = power_draw = clock_rate = device_memory_used = \
    _no_nvml


# ---- streams and events ---------------------------------------------------------------------

def current_stream(device=None):
    _lazy_init()


def default_stream(device=None):
    _lazy_init()


def set_stream(stream):
    if stream is None:
        return None
    _lazy_init()


def get_sync_debug_mode():
    _lazy_init()


def set_sync_debug_mode(debug_mode):
    _lazy_init()


def is_current_stream_capturing():
    raise RuntimeError('Tried to instantiate dummy base class _cuda_isCurrentStreamCapturing')


class Stream:
    def __new__(cls, *args, **kwargs):
        raise RuntimeError('torch.cuda.Stream requires CUDA support')


class Event:
    def __new__(cls, *args, **kwargs):
        raise RuntimeError('Tried to instantiate dummy base class Event')


class StreamContext:
    """A no-op when the stream is None, as torch's is."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            _lazy_init()

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)


class device:
    """torch.cuda.device(idx): a context manager that changes nothing for idx None or -1;
    entering it for a real index needs CUDA."""

    def __init__(self, device):
        if isinstance(device, (str, _device)):
            device = _device(device).index
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is None:  # torch compares the index it could not resolve with 0
            raise TypeError("'<' not supported between instances of 'NoneType' and 'int'")
        if self.idx != -1:
            raise RuntimeError('PyTorch was compiled without CUDA support')

    def __exit__(self, *exc):
        return False


class device_of(device):
    """Context manager selecting the device of a tensor (CPU tensors select nothing)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


# ---- the legacy typed classes ------------------------------------------------------------------

# torch.cuda.FloatStorage & co: real classes (isinstance against them is False for every CPU
# storage); building one needs CUDA
globals().update({c.__name__: c for c in _storage._CUDA_LEGACY_CLASSES.values()})


class _CudaTensorTypeMeta(type):
    """torch.cuda.FloatTensor & co: no tensor is one; calling one raises torch's TypeError."""

    def __instancecheck__(cls, instance):
        return False

    def __call__(cls, *args, **kwargs):
        raise TypeError(f"type torch{cls.__module__[len('ember'):]}.{cls.__name__} not "
                        "available. Torch not compiled with CUDA enabled.")


for _name in ('DoubleTensor', 'FloatTensor', 'HalfTensor', 'BFloat16Tensor', 'LongTensor',
              'IntTensor', 'ShortTensor', 'CharTensor', 'ByteTensor', 'BoolTensor'):
    globals()[_name] = _CudaTensorTypeMeta(_name, (), {'__module__': __name__,
                                                       '__qualname__': _name})
del _name


from . import (gds, graphs, green_contexts, jiterator, memory, nccl, nvtx,  # noqa: E402,F401
               profiler, random, sparse, streams, tunable)
from .graphs import CUDAGraph, graph, graph_pool_handle, make_graphed_callables  # noqa: E402
from .green_contexts import GreenContext  # noqa: E402
from .memory import (CUDAPluggableAllocator, MemPool, caching_allocator_alloc,  # noqa: E402
                     caching_allocator_delete, change_current_allocator, get_allocator_backend,
                     reset_accumulated_host_memory_stats, reset_peak_host_memory_stats,
                     use_mem_pool)
from .streams import ExternalStream  # noqa: E402
