"""torch.accelerator on a machine without one: nothing is available, and every call that
needs a device raises torch's RuntimeError."""
import warnings
__all__ = ['current_accelerator', 'current_device_idx', 'current_device_index',
           'get_device_capability', 'current_stream', 'device_count', 'device_index',
           'empty_cache', 'empty_host_cache', 'get_memory_info', 'is_available',
           'max_memory_allocated', 'max_memory_reserved', 'memory_allocated', 'memory_reserved',
           'memory_stats', 'reset_accumulated_memory_stats', 'reset_peak_memory_stats',
           'set_device_idx', 'set_device_index', 'set_stream', 'synchronize', 'Graph', 'graphs',
           'memory']

_NONE = 'Cannot access accelerator device when none is available.'


def _none(*args, **kwargs):
    raise RuntimeError(_NONE)


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0


def current_device_index():
    _none()


def current_device_idx():
    warnings.warn('Use `current_device_index` instead.', FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_index(device):
    _none()


def set_device_idx(device):
    warnings.warn('Use `set_device_index` instead.', FutureWarning, stacklevel=2)
    return set_device_index(device)


def synchronize(device=None):
    _none()


def current_stream(device=None):
    _none()


def set_stream(stream):
    _none()


def get_device_capability(device=None):
    _none()


def empty_cache():
    _none()


def empty_host_cache():
    _none()


def get_memory_info(device_index=None):
    _none()


def memory_allocated(device_index=None):
    _none()


def max_memory_allocated(device_index=None):
    _none()


def memory_reserved(device_index=None):
    _none()


def max_memory_reserved(device_index=None):
    _none()


def memory_stats(device_index=None):
    _none()


def reset_accumulated_memory_stats(device_index=None):
    _none()


def reset_peak_memory_stats(device_index=None):
    _none()


class device_index:
    """Context manager: entering with None does nothing; with an index it needs a device."""

    def __init__(self, device):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            _none()

    def __exit__(self, *exc):
        return False


from . import graphs, memory  # noqa: E402,F401
from .graphs import Graph  # noqa: E402
