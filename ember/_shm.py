"""Shared memory for tensors (Tensor.share_memory_, torch.multiprocessing).

A shared block is an anonymous memory file (memfd) mapped into the process: its descriptor
can be handed to another process (multiprocessing's DupFd), which maps the same pages, so both
see each other's writes. The block lives while an array over it lives; its descriptor is closed
with its mapping. `_BLOCKS` finds a block from the mapping an array's memory comes from.
"""
import mmap
import os
import weakref

import numpy as np

__all__ = []

_BLOCKS = {}    # id(mmap) -> (weakref to the mmap, fd, nbytes, address of its first byte)


def _forget(key, fd):
    _BLOCKS.pop(key, None)
    try:
        os.close(fd)
    except OSError:
        pass


def attach(fd, nbytes):
    """A uint8 array over `nbytes` of the memory file `fd` (which the block now owns)."""
    mm = mmap.mmap(fd, max(nbytes, 1))
    key = id(mm)
    out = np.frombuffer(mm, dtype=np.uint8, count=max(nbytes, 1))
    _BLOCKS[key] = (weakref.ref(mm, lambda _r, k=key, f=fd: _forget(k, f)), fd, nbytes,
                    out.__array_interface__['data'][0])
    return out[:nbytes]


def alloc(nbytes):
    """A new shared block of `nbytes` as a uint8 array."""
    fd = os.memfd_create('ember-shared', os.MFD_CLOEXEC)
    os.ftruncate(fd, max(nbytes, 1))
    return attach(fd, nbytes)


def _root(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def block_of(arr):
    """(fd, nbytes, byte offset of arr in the block) when arr's memory is a shared block, else
    None."""
    root = _root(arr)
    mv = root.base
    mm = mv.obj if isinstance(mv, memoryview) else mv
    got = _BLOCKS.get(id(mm))
    if got is None or got[0]() is not mm:
        return None
    return got[1], got[2], arr.__array_interface__['data'][0] - got[3]


def is_shared(arr):
    return isinstance(arr, np.ndarray) and block_of(arr) is not None


def share(arr):
    """arr's values in a new shared block, as an array of the same shape, strides and dtype."""
    root = _root(arr)
    if root.flags.c_contiguous or root.flags.f_contiguous:
        block = alloc(root.nbytes)
        new_root = np.ndarray(root.shape, root.dtype, buffer=block, strides=root.strides)
        new_root[...] = root
        offset = arr.__array_interface__['data'][0] - root.__array_interface__['data'][0]
        return np.ndarray(arr.shape, arr.dtype, buffer=block, offset=offset,
                          strides=arr.strides)
    block = alloc(arr.nbytes)
    out = np.ndarray(arr.shape, arr.dtype, buffer=block)
    out[...] = arr
    return out
