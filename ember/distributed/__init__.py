"""torch.distributed on MPI: process groups, collectives and point-to-point messages between
the processes `ember run --nproc-per-node N` (or mpiexec) starts; see distributed_c10d.py.

MPI is the optional extra `pip install "ember[distributed]"`: without it is_available() is
False and init_process_group says what to install.
"""
from . import distributed_c10d  # noqa: F401  (torch's submodule)
from .distributed_c10d import *  # noqa: F401,F403
from .distributed_c10d import __all__ as _c10d_all, _NOT_INIT  # noqa: F401

__all__ = list(_c10d_all) + ['DistError', 'DistBackendError', 'DistNetworkError',
                             'DistStoreError', 'Store', 'TCPStore', 'FileStore', 'HashStore',
                             'PrefixStore']


class DistError(RuntimeError):
    pass


class DistBackendError(DistError):
    pass


class DistNetworkError(DistError):
    pass


class DistStoreError(DistError):
    pass


def _missing(what):
    raise NotImplementedError(f'torch.distributed.{what} is not supported by ember yet '
                              "(ember's processes meet through MPI, not a key-value store)")


def _unsupported(name, base=object):
    """A torch.distributed class ember lacks: making one raises NotImplementedError naming it."""
    def __init__(self, *args, **kwargs):
        _missing(name)
    return type(name, (base,), {'__init__': __init__, '__module__': __name__,
                                '__doc__': f'torch.distributed.{name} (not supported yet).'})


Store = _unsupported('Store')
TCPStore = _unsupported('TCPStore', Store)
FileStore = _unsupported('FileStore', Store)
HashStore = _unsupported('HashStore', Store)
PrefixStore = _unsupported('PrefixStore', Store)
