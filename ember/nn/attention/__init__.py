"""ember.nn.attention (torch.nn.attention): choosing a scaled-dot-product-attention backend.

ember has one implementation (the math one), so `sdpa_kernel` only checks its argument; the
flash/efficient/cuDNN kernels compute the same function on torch.
"""
import contextlib
import enum

__all__ = ['SDPBackend', 'sdpa_kernel', 'WARN_FOR_UNFUSED_KERNELS']

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The attention backends torch knows (torch._C._SDPBackend)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Selects attention backends inside the block (one implementation on ember)."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    yield {}


from ..._stubs import hook as _hook  # noqa: E402
_hook(__name__)
