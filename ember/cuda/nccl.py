"""torch.cuda.nccl: NCCL collectives over CUDA tensors; a CPU build has no NCCL."""
import collections.abc
import warnings

from .._tensor import Tensor
from ._utils import no_binding

__all__ = ['all_reduce', 'reduce', 'broadcast', 'all_gather', 'reduce_scatter']

SUM = 0  # ncclRedOp_t


def is_available(tensors):
    warnings.warn('PyTorch is not compiled with NCCL support', stacklevel=2)
    return False


def version():
    raise no_binding('_nccl_version')


def unique_id():
    raise no_binding('_nccl_unique_id')


def init_rank(num_ranks, uid, rank):
    raise no_binding('_nccl_init_rank')


def _check_sequence_type(inputs):
    if not isinstance(inputs, collections.abc.Container) or isinstance(inputs, Tensor):
        raise TypeError('Inputs should be a collection of tensors')


def all_reduce(inputs, outputs=None, op=SUM, streams=None, comms=None):
    _check_sequence_type(inputs)
    _check_sequence_type(inputs if outputs is None else outputs)
    raise no_binding('_nccl_all_reduce')


def reduce(inputs, output=None, root=0, op=SUM, streams=None, comms=None, *, outputs=None):
    _check_sequence_type(inputs)
    if outputs is not None and output is not None:
        raise ValueError(
            "'output' and 'outputs' can not be both specified. 'outputs' is deprecated in favor "
            "of 'output', taking in a single output tensor. The signature of reduce is: "
            "reduce(inputs, output=None, root=0, op=SUM, streams=None, comms=None).")
    if outputs is not None:
        warnings.warn('`nccl.reduce` with an output tensor list is deprecated. Please specify a '
                      "single output tensor with argument 'output' instead.", FutureWarning,
                      stacklevel=2)
    elif not isinstance(output, Tensor) and isinstance(output, collections.abc.Sequence):
        warnings.warn('nccl.reduce with an output tensor list is deprecated. Please specify a '
                      'single output tensor.', FutureWarning, stacklevel=2)
    raise no_binding('_nccl_reduce')


def broadcast(inputs, root=0, streams=None, comms=None):
    _check_sequence_type(inputs)
    raise no_binding('_nccl_broadcast')


def all_gather(inputs, outputs, streams=None, comms=None):
    _check_sequence_type(inputs)
    _check_sequence_type(outputs)
    raise no_binding('_nccl_all_gather')


def reduce_scatter(inputs, outputs, op=SUM, streams=None, comms=None):
    _check_sequence_type(inputs)
    _check_sequence_type(outputs)
    raise no_binding('_nccl_reduce_scatter')
