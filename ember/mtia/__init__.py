"""torch.mtia on a torch without the MTIA backend, as ember always is: is_available() is
False and the calls that need the device fail as torch's do."""
from .. import _nodevice as _nd
from .._stubs import hook as _hook

__all__ = ['init', 'is_available', 'is_initialized', 'synchronize', 'device_count',
           'current_device', 'current_stream', 'default_stream', 'memory_stats',
           'max_memory_allocated', 'memory_allocated', 'reset_peak_memory_stats',
           'get_device_capability', 'get_device_properties', 'record_memory_history',
           'snapshot', 'empty_cache', 'set_device', 'get_rng_state', 'set_rng_state',
           'get_rng_state_all', 'set_rng_state_all', 'manual_seed', 'manual_seed_all', 'seed',
           'seed_all', 'initial_seed', 'is_bf16_supported', 'graph_pool_handle']

_NOT_COMPILED = ("Torch not compiled with MTIA enabled. Ensure you have `import "
                 "mtia.host_runtime.torch_mtia.dynamic_library` in your python src file and "
                 "include `//mtia/host_runtime/torch_mtia:torch_mtia` as your target dependency!")


def _no_backend(what):
    def fail(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {what}() without MTIA backend.")
    return fail


def _not_compiled(*args, **kwargs):
    raise AssertionError(_NOT_COMPILED)


init = get_rng_state = initial_seed = _not_compiled
synchronize = current_device = current_stream = default_stream = get_device_capability = \
    get_device_properties = _no_backend('getCurrentDevice')
snapshot = _no_backend('memorySnapshot')
empty_cache = _no_backend('emptyCache')
graph_pool_handle = _no_backend('graphPoolHandle')
set_device = _no_backend('setCurrentDevice')


is_available = is_initialized = _nd.false
device_count = max_memory_allocated = memory_allocated = _nd.zero
reset_peak_memory_stats = record_memory_history = seed = seed_all = _nd.nothing
manual_seed = manual_seed_all = _nd.check_seed
get_rng_state_all = _nd.empty_list


def memory_stats(device=None):
    return {}


def set_rng_state(new_state, device='mtia'):
    _not_compiled()


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)


def is_bf16_supported(including_emulation=True):
    return True


_hook(__name__)
