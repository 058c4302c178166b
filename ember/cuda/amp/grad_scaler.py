"""torch.cuda.amp.grad_scaler: the deprecated torch.cuda.amp.GradScaler."""
from ...amp import grad_scaler as _grad_scaler
from ...amp.grad_scaler import OptState  # noqa: F401

__all__ = ['GradScaler']


class GradScaler(_grad_scaler._DeprecatedGradScaler):
    """torch.cuda.amp.GradScaler(...) == torch.amp.GradScaler('cuda', ...)."""
    _device_type = 'cuda'
