"""torch.distributed: importable, answering that no process group exists.

ember does not implement process groups yet (collectives, init_process_group, ...): those
raise NotImplementedError naming the feature. The queries a single-process program makes
(is_available, is_initialized, get_rank/get_world_size before init) answer as torch's do.
"""
import enum
import os

__all__ = ['is_available', 'is_initialized', 'is_torchelastic_launched', 'is_nccl_available',
           'is_gloo_available', 'is_mpi_available', 'is_ucc_available', 'is_xccl_available',
           'init_process_group', 'destroy_process_group', 'get_rank', 'get_world_size',
           'get_backend', 'barrier', 'all_reduce', 'all_gather', 'all_gather_object',
           'all_gather_into_tensor', 'reduce', 'reduce_scatter', 'reduce_scatter_tensor',
           'broadcast', 'broadcast_object_list', 'gather', 'scatter', 'send', 'recv', 'isend',
           'irecv', 'new_group', 'ReduceOp', 'Backend', 'GroupMember', 'group',
           'get_local_rank', 'monitored_barrier', 'all_to_all', 'all_to_all_single',
           'gather_object', 'scatter_object_list', 'get_global_rank', 'get_process_group_ranks',
           'is_backend_available', 'P2POp', 'batch_isend_irecv', 'ProcessGroup', 'Store',
           'TCPStore', 'FileStore', 'HashStore', 'PrefixStore', 'Work', 'DistError',
           'DistBackendError', 'DistNetworkError', 'DistStoreError']

_NOT_INIT = ('Default process group has not been initialized, please make sure to call '
             'init_process_group.')


def _missing(what):
    raise NotImplementedError(f'torch.distributed.{what} is not supported by ember yet '
                              '(process groups and collectives: issue 16)')


def is_available():
    return True


def is_initialized():
    return False


def is_torchelastic_launched():
    return os.getenv('TORCHELASTIC_RUN_ID') is not None


def is_nccl_available():
    return False


def is_gloo_available():
    return False


def is_mpi_available():
    return False


def is_ucc_available():
    return False


def is_xccl_available():
    return False


def is_backend_available(backend):
    return False


class DistError(RuntimeError):
    pass


class DistBackendError(DistError):
    pass


class DistNetworkError(DistError):
    pass


class DistStoreError(DistError):
    pass


class ReduceOp:
    class RedOpType(enum.IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8
        UNUSED = 9

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


class Backend(str):
    UNDEFINED = 'undefined'
    GLOO = 'gloo'
    NCCL = 'nccl'
    UCC = 'ucc'
    MPI = 'mpi'
    XCCL = 'xccl'

    def __new__(cls, name):
        return str.__new__(cls, name.lower())


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = -100


class group:
    WORLD = None


def _no_group(*args, **kwargs):
    raise ValueError(_NOT_INIT)


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name='', pg_options=None, device_id=None):
    _missing('init_process_group')


def destroy_process_group(group=None):
    raise AssertionError('Process group cannot be None')


def new_group(ranks=None, *args, **kwargs):
    _no_group()


get_rank = get_world_size = get_backend = barrier = monitored_barrier = _no_group
all_reduce = all_gather = all_gather_object = all_gather_into_tensor = reduce = _no_group
reduce_scatter = reduce_scatter_tensor = broadcast = broadcast_object_list = _no_group
gather = scatter = send = recv = isend = irecv = all_to_all = all_to_all_single = _no_group
gather_object = scatter_object_list = get_global_rank = get_process_group_ranks = _no_group
batch_isend_irecv = _no_group


def get_local_rank(group=None):
    _no_group()


class P2POp:
    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag


def _unsupported(name, base=object):
    """A torch.distributed class ember lacks: making one raises NotImplementedError naming it."""
    def __init__(self, *args, **kwargs):
        _missing(name)
    return type(name, (base,), {'__init__': __init__, '__module__': __name__,
                                '__doc__': f'torch.distributed.{name} (not supported yet).'})


ProcessGroup = _unsupported('ProcessGroup')
Work = _unsupported('Work')
Store = _unsupported('Store')
TCPStore = _unsupported('TCPStore', Store)
FileStore = _unsupported('FileStore', Store)
HashStore = _unsupported('HashStore', Store)
PrefixStore = _unsupported('PrefixStore', Store)
