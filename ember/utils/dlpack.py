"""ember.utils.dlpack (torch.utils.dlpack)."""
from .._ops.dlpack import DLDeviceType, from_dlpack, to_dlpack  # noqa: F401

__all__ = ['DLDeviceType', 'from_dlpack', 'to_dlpack']
