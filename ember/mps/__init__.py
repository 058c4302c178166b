"""torch.mps on a machine without the Metal backend: is_available() is False and the calls
that need the device raise torch's RuntimeError."""
from .._stubs import unimplemented as _unimplemented

__all__ = ['compile_shader', 'load_metallib', 'device_count', 'get_rng_state', 'manual_seed',
           'seed', 'set_rng_state', 'synchronize', 'empty_cache',
           'set_per_process_memory_fraction', 'current_allocated_memory',
           'driver_allocated_memory', 'Event', 'recommended_max_memory', 'is_available']


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


@_unimplemented('torch.mps.compile_shader')
def compile_shader(source):
    raise NotImplementedError('torch.mps.compile_shader (Metal shaders) is not supported by '
                              'ember')


@_unimplemented('torch.mps.load_metallib')
def load_metallib(path):
    raise NotImplementedError('torch.mps.load_metallib (Metal shaders) is not supported by '
                              'ember')


class Event:
    def __init__(self, enable_timing=False):
        _no_mps('acquireEvent')
