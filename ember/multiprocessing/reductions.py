"""How tensors cross process boundaries (torch.multiprocessing.reductions): through shared
memory, never copied."""
import multiprocessing
from multiprocessing.reduction import ForkingPickler

import numpy as np

from .. import _dtype, _shm
from .._tensor import Tensor, _wrap
from ..nn.parameter import Parameter, Buffer

__all__ = ['init_reductions', 'reduce_tensor', 'rebuild_tensor', 'StorageWeakRef',
           'SharedCache', 'rebuild_event', 'reduce_event']


def rebuild_tensor(cls, dupfd, nbytes, offset, shape, strides, dtype_name, requires_grad):
    """The receiving side: a tensor over the sender's shared block."""
    block = _shm.attach(dupfd.detach(), nbytes)
    npd = _dtype.to_numpy(_dtype._lookup(dtype_name))
    arr = np.ndarray(shape, npd, buffer=block, offset=offset, strides=strides)
    t = _wrap(arr)
    if cls is Parameter:
        return Parameter(t, requires_grad)
    if cls is Buffer:
        return Buffer(t)
    if requires_grad:
        t.requires_grad_()
    return t


def reduce_tensor(tensor):
    """The sending side: the tensor moves into shared memory (as torch's does) and travels as
    the block's descriptor, offset, shape and strides."""
    if tensor.requires_grad and not tensor.is_leaf:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
            "does not support crossing process boundaries.  If you just want to transfer the "
            "data, call detach() on the tensor before serializing (e.g., putting it on the "
            "queue).")
    if type(tensor._data) is not np.ndarray:    # sparse and quantized tensors: pickled whole
        return tensor.__reduce_ex__(2)
    tensor.share_memory_()
    fd, nbytes, offset = _shm.block_of(tensor._data)
    arr = tensor._data
    return (rebuild_tensor, (type(tensor), multiprocessing.reduction.DupFd(fd), nbytes, offset,
                             arr.shape, arr.strides, tensor.dtype.name,
                             tensor.requires_grad))


class StorageWeakRef:
    """A weak reference to a storage (torch's cache of shared storages uses it)."""

    def __init__(self, storage):
        self._ref = storage

    def expired(self):
        return False


class SharedCache(dict):
    """torch's cache of storages shared with other processes; ember maps each block anew."""

    def free_dead_references(self):
        pass


def rebuild_event(device, handle, size, offset):
    raise RuntimeError("ember has no accelerator events to share")


def reduce_event(event):
    raise RuntimeError("ember has no accelerator events to share")


def init_reductions():
    """Register the tensor reducers with multiprocessing's pickler."""
    for cls in (Tensor, Parameter, Buffer):
        ForkingPickler.register(cls, reduce_tensor)
