"""torch.distributed on MPI: process groups, collectives and point-to-point messages between
the processes `ember run --nproc-per-node N` (or mpiexec) starts; see distributed_c10d.py.

MPI is the optional extra `pip install "ember[distributed]"`: without it is_available() is
False and init_process_group says what to install.
"""
from . import distributed_c10d  # noqa: F401  (torch's submodule)
from .distributed_c10d import *  # noqa: F401,F403
from .distributed_c10d import __all__ as _c10d_all, _NOT_INIT  # noqa: F401
from . import constants, device_mesh, remote_device  # noqa: F401  (torch's submodules)
from .device_mesh import DeviceMesh, init_device_mesh
from .rendezvous import register_rendezvous_handler, rendezvous
from . import _options
from ._options import *  # noqa: F401,F403
from ._store import (DistError, DistBackendError, DistNetworkError, DistStoreError,
                     QueueEmptyError, Store, TCPStore, FileStore, HashStore, PrefixStore)

__all__ = list(_c10d_all) + list(_options.__all__) + ['DistError', 'DistBackendError', 'DistNetworkError',
                             'DistStoreError', 'QueueEmptyError', 'Store', 'TCPStore',
                             'FileStore', 'HashStore', 'PrefixStore', 'DeviceMesh',
                             'init_device_mesh', 'register_rendezvous_handler', 'rendezvous']

