"""torch.cuda.amp: the deprecated CUDA spellings of torch.amp. Without CUDA, GradScaler and
autocast warn and disable themselves, as torch's do on a CPU-only machine."""
import warnings

from ...amp import autocast_mode as _autocast_mode
from ...amp import grad_scaler as _grad_scaler
from ... import _dtype

__all__ = ['GradScaler', 'autocast', 'custom_fwd', 'custom_bwd']


def amp_definitely_not_available():
    return True


class GradScaler(_grad_scaler.GradScaler):
    """torch.cuda.amp.GradScaler(...) == torch.amp.GradScaler('cuda', ...)."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            super().__init__('cuda', init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval,
                             enabled=enabled)
        for w in caught:  # re-issue pointing at the caller, as torch's does
            warnings.warn(w.message, w.category, stacklevel=2)


class autocast(_autocast_mode.autocast):
    """torch.cuda.amp.autocast(...) == torch.amp.autocast('cuda', ...): disabled here."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            super().__init__('cuda', enabled=enabled,
                             dtype=_dtype.float16 if dtype is None else dtype,
                             cache_enabled=cache_enabled)
        for w in caught:
            warnings.warn(w.message, w.category, stacklevel=2)


def custom_fwd(fwd=None, *, cast_inputs=None):
    warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return _autocast_mode.custom_fwd(fwd, device_type='cuda', cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return _autocast_mode.custom_bwd(bwd, device_type='cuda')


