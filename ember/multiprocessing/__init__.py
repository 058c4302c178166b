"""torch.multiprocessing: Python's multiprocessing with tensors shared between processes.

Importing it registers reducers with multiprocessing's ForkingPickler (reductions.py): a tensor
put on a Queue, sent through a Pipe or passed to a spawned process moves its memory into a
shared block (Tensor.share_memory_) and travels as the block's file descriptor, so the
receiver's tensor is a view of the same memory, as torch's is. spawn/start_processes run a
function in N processes and report their failures (spawn.py).
"""
import multiprocessing
import sys

from .reductions import init_reductions
from multiprocessing import *  # noqa: F401,F403

__all__ = ['set_sharing_strategy', 'get_sharing_strategy', 'get_all_sharing_strategies']
__all__ += multiprocessing.__all__

from .spawn import (ENV_VAR_PARALLEL_START, ProcessContext, ProcessExitedException,  # noqa
                    ProcessRaisedException, spawn, SpawnContext, start_processes)

init_reductions()

# ember shares memory through descriptors either way; the name is kept for programs that set it
if sys.platform in ('darwin', 'win32'):
    _sharing_strategy = 'file_system'
    _all_sharing_strategies = {'file_system'}
else:
    _sharing_strategy = 'file_descriptor'
    _all_sharing_strategies = {'file_descriptor', 'file_system'}


def set_sharing_strategy(new_strategy):
    """Set the strategy for sharing CPU tensors (one of get_all_sharing_strategies())."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of "
                             f"{_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    """The current strategy for sharing CPU tensors."""
    return _sharing_strategy


def get_all_sharing_strategies():
    """The sharing strategies this system supports."""
    return _all_sharing_strategies
