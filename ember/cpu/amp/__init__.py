"""torch.cpu.amp: the deprecated CPU spellings of torch.amp."""
from ...amp import autocast_mode as _autocast_mode
from ...amp import grad_scaler as _grad_scaler
from ... import _dtype

__all__ = ['autocast', 'GradScaler']


class autocast(_autocast_mode._DeprecatedAutocast):
    """torch.cpu.amp.autocast(...) == torch.amp.autocast('cpu', ...)."""
    _device_type = 'cpu'
    _default_dtype = _dtype.bfloat16


class GradScaler(_grad_scaler._DeprecatedGradScaler):
    """torch.cpu.amp.GradScaler(...) == torch.amp.GradScaler('cpu', ...)."""
    _device_type = 'cpu'
