"""DLPack interchange: ember tensors to and from other array libraries (NumPy, torch, JAX, ...)
without copying, through NumPy's DLPack support."""
import enum

import numpy as np

from .._tensor import Tensor, _wrap, tensor_op

__all__ = ['from_dlpack', 'to_dlpack']


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (torch.utils.dlpack.DLDeviceType)."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    if self.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {k: v for k, v in (('max_version', max_version), ('dl_device', dl_device),
                                ('copy', copy)) if v is not None}
    return self._data.__dlpack__(**kwargs)


def _dlpack_device(self):
    return DLDeviceType.kDLCPU, 0


tensor_op(_dlpack, name='__dlpack__')
tensor_op(_dlpack_device, name='__dlpack_device__')


class _Capsule:
    """A bare DLPack capsule dressed as an exporter, for NumPy's from_dlpack."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return DLDeviceType.kDLCPU, 0


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of `ext_tensor` (an object with __dlpack__, or a capsule
    from to_dlpack)."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if not hasattr(ext_tensor, '__dlpack__'):
        ext_tensor = _Capsule(ext_tensor)
    else:
        device = ext_tensor.__dlpack_device__()[0]
        if int(device) != DLDeviceType.kDLCPU:
            raise RuntimeError(f"ember tensors live on the CPU; this one is on DLPack device "
                               f"{device!r}")
    return _wrap(np.from_dlpack(ext_tensor))


def to_dlpack(tensor):
    """A DLPack capsule of the tensor's memory (legacy interface: prefer from_dlpack on the
    tensor itself)."""
    return tensor.__dlpack__()
