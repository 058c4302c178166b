"""torch.cuda.amp: the deprecated CUDA spellings of torch.amp. Without CUDA, GradScaler and
autocast warn and disable themselves, as torch's do on a CPU-only machine."""
from . import autocast_mode, common, grad_scaler  # noqa: F401
from .autocast_mode import autocast, custom_bwd, custom_fwd
from .common import amp_definitely_not_available  # noqa: F401
from .grad_scaler import GradScaler

__all__ = ['GradScaler', 'autocast', 'custom_fwd', 'custom_bwd']
