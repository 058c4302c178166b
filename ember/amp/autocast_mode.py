"""torch.autocast as it behaves on a CPU-only machine.

The autocast state (enabled flag and fast dtype per device type, cache flag, nesting depth) is
per thread, as torch's is. On a CPU-only build `device_type='cuda'` warns and disables itself;
`device_type='cpu'` (bfloat16 by default, or float16) applies torch's CPU cast policy, which the
ops carry (ember/_ops/_autocast.py): matmul/linear/conv/bmm/addmm/... in the lower precision,
losses and a few numerically touchy ops in float32, cat/stack in the widest type. bfloat16 needs
the optional 'bfloat16' extra (ml_dtypes).
"""
import functools
import threading
import warnings

from .. import _dtype
from .._ops import _autocast as _policy
from .._tensor import device

__all__ = ['autocast', 'custom_fwd', 'custom_bwd', 'is_autocast_available']

_AUTOCAST_DEVICES = ('cpu', 'cuda', 'mps', 'xpu', 'hpu', 'xla', 'mtia', 'maia', 'ipu')
_DEFAULT_DTYPE = {'cpu': 'bfloat16', 'hpu': 'bfloat16', 'xla': 'bfloat16', 'maia': 'bfloat16'}


class _State(threading.local):
    def __init__(self):
        self.enabled = {}
        self.dtype = {}
        self.cache_enabled = True
        self.nesting = 0


_state = _State()


def _check_device_type(device_type):
    return device(device_type).type  # torch's error for an unknown device string


def is_autocast_available(device_type):
    return _check_device_type(device_type) in _AUTOCAST_DEVICES


def is_autocast_enabled(device_type=None):
    """torch.is_autocast_enabled(); with no argument it asks about CUDA, as torch's does."""
    dev = 'cuda' if device_type is None else _check_device_type(device_type)
    return _state.enabled.get(dev, False)


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:  # legacy one-argument form: the CUDA flag
        device_type, enabled = 'cuda', device_type
    _state.enabled[_check_device_type(device_type)] = bool(enabled)
    _sync_cpu_policy()


def _sync_cpu_policy():
    """Switch the ops' CPU cast policy to match this thread's 'cpu' autocast state."""
    fast = get_autocast_dtype('cpu')
    on = _state.enabled.get('cpu', False) and fast in (_dtype.bfloat16, _dtype.float16)
    _policy._set_cpu(fast if on else None)


def _require_bfloat16(fast):
    if fast is _dtype.bfloat16 and _dtype.bfloat16._np is None:
        raise ModuleNotFoundError(
            "torch.autocast('cpu') computes in torch.bfloat16, which needs ember's optional "
            "'bfloat16' extra: pip install 'ember[bfloat16]' (the ml_dtypes package). "
            "Or use torch.autocast('cpu', dtype=torch.float16).")


def get_autocast_dtype(device_type):
    dev = _check_device_type(device_type)
    if dev in _state.dtype:
        return _state.dtype[dev]
    return getattr(_dtype, _DEFAULT_DTYPE.get(dev, 'float16'))


def set_autocast_dtype(device_type, dtype):
    _state.dtype[_check_device_type(device_type)] = dtype
    _sync_cpu_policy()


def is_autocast_cache_enabled():
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled):
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache():
    return None


def autocast_increment_nesting():
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting():
    _state.nesting -= 1
    return _state.nesting


def _deprecated(old, new):
    warnings.warn(f'torch.{old}() is deprecated. Please use torch.{new} instead.',
                  DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled():
    _deprecated('is_autocast_cpu_enabled', "is_autocast_enabled('cpu')")
    return is_autocast_enabled('cpu')


def set_autocast_cpu_enabled(enabled):
    _deprecated('set_autocast_cpu_enabled', "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled('cpu', enabled)


def get_autocast_cpu_dtype():
    _deprecated('get_autocast_cpu_dtype', "get_autocast_dtype('cpu')")
    return get_autocast_dtype('cpu')


def set_autocast_cpu_dtype(dtype):
    _deprecated('set_autocast_cpu_dtype', "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype('cpu', dtype)


def get_autocast_gpu_dtype():
    _deprecated('get_autocast_gpu_dtype', "get_autocast_dtype('cuda')")
    return get_autocast_dtype('cuda')


def set_autocast_gpu_dtype(dtype):
    _deprecated('set_autocast_gpu_dtype', "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype('cuda', dtype)


def _legacy_device_functions(dev):
    """torch's deprecated is/set_autocast_<dev>_enabled and get/set_autocast_<dev>_dtype."""
    def getter(what, fn):
        def get():
            _deprecated(f'{what.format(dev)}', f"{fn.__name__}('{dev}')")
            return fn(dev)
        get.__name__ = get.__qualname__ = what.format(dev)
        return get

    def setter(what, arg, fn):
        def set_(value):
            warnings.warn(f"torch.{what.format(dev)}({arg}) is deprecated. Please use "
                          f"torch.{fn.__name__}('{dev}', {arg}) instead.", DeprecationWarning,
                          stacklevel=2)
            fn(dev, value)
        set_.__name__ = set_.__qualname__ = what.format(dev)
        return set_
    return (getter('is_autocast_{}_enabled', is_autocast_enabled),
            setter('set_autocast_{}_enabled', 'enabled', set_autocast_enabled),
            getter('get_autocast_{}_dtype', get_autocast_dtype),
            setter('set_autocast_{}_dtype', 'dtype', set_autocast_dtype))


(is_autocast_ipu_enabled, set_autocast_ipu_enabled, get_autocast_ipu_dtype,
 set_autocast_ipu_dtype) = _legacy_device_functions('ipu')
(is_autocast_xla_enabled, set_autocast_xla_enabled, get_autocast_xla_dtype,
 set_autocast_xla_dtype) = _legacy_device_functions('xla')


class autocast:
    """Context manager / decorator: mixed precision regions (see the module docstring)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        if not is_autocast_available(device_type):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        if enabled:
            if device_type == 'cuda':
                warnings.warn('CUDA is not available or torch_xla is imported. Disabling autocast.',
                              stacklevel=2)
                enabled = False
            elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                name = device_type.upper()
                warnings.warn(f'In {name} autocast, but the target dtype is not supported. '
                              f'Disabling autocast.\n{name} Autocast only supports dtypes of '
                              'torch.bfloat16, torch.float16 currently.', stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        if self._enabled and self.device == 'cpu':
            _require_bfloat16(self.fast_dtype)
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        decorate_autocast.__script_unsupported = (
            '@autocast() decorator is not supported in script mode')
        return decorate_autocast


def _deprecated_init(self, base_init, name, **kwargs):
    """__init__ of torch.cpu.amp.X / torch.cuda.amp.X, the deprecated spellings of
    torch.amp.X(device, ...): torch's FutureWarning, then `base_init`, whose warnings are
    issued again pointing at the user's call, as torch's are."""
    d = self._device_type
    warnings.warn(f"`torch.{d}.amp.{name}(args...)` is deprecated. Please use "
                  f"`torch.amp.{name}('{d}', args...)` instead.", FutureWarning, stacklevel=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        base_init(self, d, **kwargs)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)


class _DeprecatedAutocast(autocast):
    """torch.cpu.amp.autocast and torch.cuda.amp.autocast, each with its device's dtype."""
    _device_type = None
    _default_dtype = None

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        _deprecated_init(self, autocast.__init__, 'autocast', enabled=enabled,
                         dtype=self._default_dtype if dtype is None else dtype,
                         cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom autograd Function's forward under autocast. With autocast never
    active on ember's devices, it runs forward as is (cast_inputs applies only inside an
    enabled region)."""
    if not isinstance(device_type, str):
        raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    if not isinstance(device_type, str):
        raise ValueError(f'Expected `device_type` of type `str`, got: `{type(device_type)}`')
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        return bwd(*args, **kwargs)
    return decorate_bwd
