"""ember.nn.attention (torch.nn.attention): choosing a scaled-dot-product-attention backend.

ember has one implementation (the math one), so `sdpa_kernel` only checks its argument; the
flash/efficient/cuDNN kernels compute the same function on torch.
"""
import contextlib
import enum
import importlib

__all__ = ['SDPBackend', 'sdpa_kernel', 'WARN_FOR_UNFUSED_KERNELS',
           'register_flash_attention_impl', 'activate_flash_attention_impl',
           'list_flash_attention_impls', 'current_flash_attention_impl',
           'restore_flash_attention_impl']

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


class SDPAParams:
    """The arguments of one scaled_dot_product_attention call, as the backend checks see them
    (torch.backends.cuda.SDPAParams)."""

    def __init__(self, *args):
        if len(args) != 7:
            raise TypeError('__init__(): incompatible constructor arguments. The following '
                            'argument types are supported:\n    1. torch._C._SDPAParams(arg0: '
                            'torch.Tensor, arg1: torch.Tensor, arg2: torch.Tensor, arg3: '
                            'torch.Tensor | None, arg4: float, arg5: bool, arg6: bool)')
        (self.query, self.key, self.value, self.attn_mask, self.dropout, self.is_causal,
         self.enable_gqa) = args


def can_use_flash_attention(params, debug=False):
    """False: the flash kernel needs CUDA (ember computes attention with the math kernel)."""
    return False


def can_use_efficient_attention(params, debug=False):
    """False: the memory-efficient kernel needs CUDA."""
    return False


# ---- the registry of flash-attention implementations (FA3, FA4 from their packages) ----------

def _importer(package):
    def register():
        # the kernels come from the implementation's package; ember has no CUDA to run them,
        # so an installed package activates nothing (no handle, as a registration without one)
        importlib.import_module(package)
    return register


_FLASH_IMPLS = {'FA3': _importer('flash_attn_interface'), 'FA4': _importer('flash_attn')}
_flash_active = [None]  # (impl, handle) once an implementation returned a handle


def register_flash_attention_impl(impl, *, register_fn):
    """Register the callable that activates flash-attention implementation `impl`."""
    _FLASH_IMPLS[impl] = register_fn


def activate_flash_attention_impl(impl):
    """Activate a registered implementation (restoring the default first)."""
    restore_flash_attention_impl(_raise_warn=False)
    register_fn = _FLASH_IMPLS.get(impl)
    if register_fn is None:
        raise ValueError(f"Unknown flash attention impl '{impl}'. Available implementations: "
                         f"{list_flash_attention_impls()}")
    handle = register_fn()
    if handle is not None:
        _flash_active[0] = (impl, handle)


def list_flash_attention_impls():
    return sorted(_FLASH_IMPLS)


def current_flash_attention_impl():
    """The activated implementation's name, or None for the default."""
    return None if _flash_active[0] is None else _flash_active[0][0]


def restore_flash_attention_impl(_raise_warn=True):
    """Restore the default FA2 implementation."""
    handle = None if _flash_active[0] is None else _flash_active[0][1]
    if handle is not None:
        handle.remove()
    elif _raise_warn:
        import logging      # lazy: ~4 ms of `import ember`
        logging.getLogger('torch.nn.attention._registry').warning(
            'Trying to restore default FA2 impl when no custom impl was activated')
    _flash_active[0] = None


from ..._stubs import hook as _hook  # noqa: E402
_hook(__name__)
