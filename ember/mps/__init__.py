"""torch.mps on a machine without the Metal backend: is_available() is False and the calls
that need the device raise torch's RuntimeError."""
import os

from .._tensor import Tensor  # noqa: F401 (torch.mps re-exports torch.Tensor)

__all__ = ['compile_shader', 'load_metallib', 'device_count', 'get_rng_state', 'manual_seed',
           'seed', 'set_rng_state', 'synchronize', 'empty_cache',
           'set_per_process_memory_fraction', 'current_allocated_memory',
           'driver_allocated_memory', 'Event', 'recommended_max_memory', 'is_available',
           'event', 'profiler']


def _no_mps(what):
    raise RuntimeError(f'Cannot execute {what}() without MPS backend.')


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    int(seed)  # torch seeds lazily; with no backend nothing happens


def seed():
    _no_mps('getDefaultGenerator')


def get_rng_state(device='mps'):
    _no_mps('getDefaultGenerator')


def set_rng_state(new_state, device='mps'):
    _no_mps('getDefaultGenerator')


def synchronize():
    _no_mps('deviceSynchronize')


def empty_cache():
    _no_mps('emptyCache')


def set_per_process_memory_fraction(fraction):
    _no_mps('setMemoryFraction')


def current_allocated_memory():
    _no_mps('getCurrentAllocatedMemory')


def driver_allocated_memory():
    _no_mps('getDriverAllocatedMemory')


def recommended_max_memory():
    _no_mps('getRecommendedMaxMemory')


def compile_shader(source):
    """Compile Metal shader source into a library of kernels (needs MPS)."""
    raise RuntimeError('MPS is not available')


def load_metallib(source):
    """Load a precompiled Metal library from bytes or a path (needs MPS)."""
    if not isinstance(source, (bytes, bytearray, str, os.PathLike)):
        raise TypeError(f'expected bytes or path, got {type(source).__name__}')
    raise RuntimeError('MPS is not available')


from . import event, profiler  # noqa: E402,F401
from .event import Event  # noqa: E402
