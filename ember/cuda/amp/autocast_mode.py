"""torch.cuda.amp.autocast_mode: the deprecated CUDA spellings of torch.amp's autocast and
custom_fwd/custom_bwd."""
import warnings

from ...amp import autocast_mode as _autocast_mode
from ... import _dtype

__all__ = ['autocast', 'custom_fwd', 'custom_bwd']


class autocast(_autocast_mode._DeprecatedAutocast):
    """torch.cuda.amp.autocast(...) == torch.amp.autocast('cuda', ...): disabled here."""
    _device_type = 'cuda'
    _default_dtype = _dtype.float16


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


