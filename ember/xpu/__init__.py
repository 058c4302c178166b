"""torch.xpu on a torch built without Intel GPU support, as ember always is: is_available() is
False, the memory queries answer zero, and the calls that need a device fail as torch's do."""
from .. import _nodevice as _nd
from .._stubs import hook as _hook

__all__ = ['is_available', 'is_initialized', 'init', 'device_count', 'current_device',
           'synchronize', 'get_device_name', 'get_device_capability', 'get_device_properties',
           'get_arch_list', 'get_gencode_flags', 'is_bf16_supported', 'is_tf32_supported',
           'manual_seed', 'manual_seed_all', 'seed', 'seed_all', 'initial_seed',
           'get_rng_state', 'get_rng_state_all', 'set_rng_state', 'set_rng_state_all',
           'empty_cache', 'memory_allocated', 'max_memory_allocated', 'memory_reserved',
           'max_memory_reserved', 'memory_stats', 'memory_stats_as_nested_dict',
           'memory_snapshot', 'mem_get_info', 'current_stream', 'set_device',
           'get_per_process_memory_fraction', 'default_generators']

default_generators = ()


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with XPU enabled")


init = current_device = synchronize = get_device_name = get_device_capability = \
    get_device_properties = initial_seed = get_rng_state = mem_get_info = current_stream = \
    get_per_process_memory_fraction = set_device = _not_compiled


is_available = is_initialized = is_bf16_supported = is_tf32_supported = _nd.false
device_count = memory_allocated = max_memory_allocated = memory_reserved = \
    max_memory_reserved = _nd.zero
empty_cache = seed = seed_all = _nd.nothing
manual_seed = manual_seed_all = _nd.check_seed
get_rng_state_all = memory_snapshot = get_arch_list = _nd.empty_list


def set_rng_state(new_state, device='xpu'):
    _not_compiled()


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)


def get_gencode_flags():
    return ''


def memory_stats(device=None):
    return dict()


def memory_stats_as_nested_dict(device=None):
    return {}


_hook(__name__)
