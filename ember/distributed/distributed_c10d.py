"""torch.distributed's process groups and collectives, on MPI (mpi4py).

Every backend name a CPU program uses (``gloo``, ``mpi``, ``cpu:gloo``) runs on MPI: the
processes are MPI's (started by ``ember run --nproc-per-node N``, ``mpiexec -n N`` or alone,
a world of one), a process group is an MPI communicator, and a tensor travels as its NumPy
buffer (never pickled): reductions with MPI's own operations on the array's type, everything
else as raw bytes. Every collective is started non-blocking; ``async_op=True`` hands back the
``Work`` that waits for it. Results land in the caller's tensors, in place, as torch's do.

MPI is an optional extra (``pip install "ember[distributed]"``: mpi4py and an MPI library);
without it ``is_available()`` is False and starting a process group says what to install.
"""
import importlib
import importlib.util
import os
import sys
import warnings
from datetime import timedelta

import numpy as np

from .._ops._util import _legacy
from .._tensor import Tensor
from ..futures import Future
from ._store import TCPStore

__all__ = '''
is_available is_initialized is_torchelastic_launched is_nccl_available is_gloo_available
is_mpi_available is_ucc_available is_xccl_available is_backend_available
init_process_group destroy_process_group split_group get_rank get_world_size get_backend
get_backend_config get_group_rank get_global_rank get_process_group_ranks
get_node_local_rank get_pg_count get_default_backend_for_device new_group barrier
monitored_barrier broadcast all_reduce all_reduce_coalesced reduce all_gather
all_gather_into_tensor all_gather_single all_gather_object gather gather_object scatter
scatter_object_list broadcast_object_list reduce_scatter reduce_scatter_tensor
reduce_scatter_single all_to_all all_to_all_single send recv isend irecv send_object_list
recv_object_list batch_isend_irecv all_gather_coalesced P2POp ReduceOp reduce_op Backend GroupMember group
ProcessGroup Work GradBucket BuiltinCommHookType supports_complex new_subgroups
new_subgroups_by_enumeration DebugLevel get_debug_level set_debug_level set_debug_level_from_env
'''.split()

_NOT_INIT = ('Default process group has not been initialized, please make sure to call '
             'init_process_group.')
_EXTRA = ('ember.distributed runs on MPI, which is not installed: pip install '
          '"ember[distributed]" (mpi4py and the MPICH library)')


# ---- MPI, loaded when a process group starts -------------------------------------------------

_MPI = []


def _mpi():
    """mpi4py's MPI module (importing it initialises MPI, so only a process group does)."""
    if not _MPI:
        if not is_available():
            raise RuntimeError(_EXTRA)
        try:
            # optional: mpi4py is the distributed extra; importing MPI initialises it (lazy)
            _MPI.append(importlib.import_module('mpi4py.MPI'))
        except ImportError as e:   # mpi4py without an MPI library it can load
            raise RuntimeError(f'{_EXTRA}; loading MPI failed: {e}') from e
    return _MPI[0]


_WORLD = []


def _world_comm():
    """The communicator of all the job's processes: MPI's COMM_WORLD, or under
    `ember run --nnodes M` the M nodes' jobs joined into one (each node's mpiexec started a
    job of its own)."""
    if not _WORLD:
        MPI = _mpi()
        nnodes = int(os.environ.get('EMBER_NNODES', '1'))
        _WORLD.append(MPI.COMM_WORLD if nnodes == 1 else _join_nodes(MPI, nnodes))
    return _WORLD[0]


def _join_nodes(MPI, nnodes):
    """Node 0's job opens an MPI port and hands its name to the other nodes through the
    launcher's TCPStore (MASTER_ADDR:MASTER_PORT); the joined group accepts one node's job at a
    time, in whatever order they connect, then numbers the ranks node by node as torchrun does."""
    local = MPI.COMM_WORLD
    node, nlocal = int(os.environ['EMBER_NODE_RANK']), local.Get_size()
    lead = local.Get_rank() == 0
    store = port = None
    if lead:
        store = TCPStore(os.environ['MASTER_ADDR'], int(os.environ['MASTER_PORT']),
                         timeout=timedelta(seconds=int(os.environ.get('EMBER_JOIN_TIMEOUT',
                                                                      900))))
        if node == 0:
            port = MPI.Open_port()
            store.set('ember_run/mpi_port', port)
        else:
            port = store.get('ember_run/mpi_port').decode()
    comm = local
    if node != 0:
        comm = _merge(local.Connect(port, root=0), high=True)
    while comm.Get_size() < nnodes * nlocal:
        # the joined group's rank 0 is node 0's first process: it holds the port
        comm = _merge(comm.Accept(port if comm.Get_rank() == 0 else None, root=0), high=False)
    if node == 0 and lead:
        MPI.Close_port(port)
    world = comm.Split(0, node * nlocal + local.Get_rank())
    if comm is not local:
        comm.Free()
    return world


def _merge(inter, high):
    comm = inter.Merge(high=high)
    inter.Free()
    return comm


def is_available():
    """True when the MPI extra (mpi4py) is installed."""
    try:
        return importlib.util.find_spec('mpi4py') is not None
    except (ImportError, ValueError):
        return False


def is_mpi_available():
    return is_available()


def is_gloo_available():
    # `gloo` is the CPU backend torch programs name; ember runs it on MPI
    return is_available()


def is_nccl_available():
    return False


def is_ucc_available():
    return False


def is_xccl_available():
    return False


def is_backend_available(backend):
    return str(backend).lower() in ('gloo', 'mpi') and is_available()


def is_torchelastic_launched():
    return os.getenv('TORCHELASTIC_RUN_ID') is not None


# ---- ReduceOp, Backend, groups --------------------------------------------------------------

def _int_enum(name, names, start=0):
    """An int subclass with named members numbered from `start`, as torch's pybind enums
    print (RedOpType, DebugLevel)."""
    cls = type(name, (int,), {
        '_names': names, '__module__': __name__,
        'name': property(lambda self: self._names[int(self) - start]),
        'value': property(int),
        '__repr__': lambda self: f'<{name}.{self.name}: {int(self)}>',
        '__str__': lambda self: f'{name}.{self.name}'})
    for i, n in enumerate(names, start):
        setattr(cls, n, cls(i))
    return cls


class ReduceOp:
    """The reduction a collective applies: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``,
    ``MAX``, ``BAND``, ``BOR``, ``BXOR``."""
    RedOpType = _int_enum('RedOpType', ('SUM', 'AVG', 'PRODUCT', 'MIN', 'MAX', 'BAND', 'BOR',
                                        'BXOR', 'PREMUL_SUM', 'UNUSED'))

    def __init__(self, op=None):
        self.op = ReduceOp.RedOpType(ReduceOp.SUM if op is None else op)

    def __eq__(self, other):
        return int(_op_code(self)) == int(_op_code(other))

    def __hash__(self):
        return hash(int(self.op))

    def __repr__(self):
        return f'<torch.distributed.ReduceOp(op={self.op})>'


for _n in ReduceOp.RedOpType._names[:-1]:
    setattr(ReduceOp, _n, getattr(ReduceOp.RedOpType, _n))
del _n


class reduce_op:
    """Deprecated spelling of ReduceOp (torch.distributed.reduce_op)."""
    SUM, PRODUCT, MIN, MAX = ReduceOp.SUM, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX


def _op_code(op):
    if isinstance(op, ReduceOp):
        return op.op
    if isinstance(op, int) and 0 <= int(op) < 9:
        return ReduceOp.RedOpType(op)
    raise TypeError(f'Invalid reduce op: {op!r}')


def supports_complex(reduceOp):
    return _op_code(reduceOp) in (ReduceOp.SUM, ReduceOp.AVG)


class Backend(str):
    """A backend name: ``Backend('GLOO') == 'gloo'``."""
    UNDEFINED = 'undefined'
    GLOO = 'gloo'
    NCCL = 'nccl'
    UCC = 'ucc'
    MPI = 'mpi'
    XCCL = 'xccl'
    backend_list = ['undefined', 'gloo', 'nccl', 'ucc', 'mpi', 'xccl']
    default_device_backend_map = {'cpu': 'gloo', 'cuda': 'nccl', 'xpu': 'xccl'}
    backend_capability = {'gloo': ['cpu', 'cuda'], 'nccl': ['cuda'], 'xccl': ['xpu'],
                          'ucc': ['cpu', 'cuda'], 'mpi': ['cpu', 'cuda'],
                          'fake': ['cpu', 'cuda', 'hpu', 'xpu']}

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f'Backend constructor parameter must be string-ish, but got '
                             f'{type(name)}')
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return str.__new__(cls, value)


class _WorldMeta(type):
    """`GroupMember.WORLD` / `group.WORLD`: the default group (None before init)."""
    @property
    def WORLD(cls):
        return _World.default

    @WORLD.setter
    def WORLD(cls, pg):
        _World.default = pg


class GroupMember(metaclass=_WorldMeta):
    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):
    pass


class _World:
    default = None      # the default ProcessGroup
    groups = []         # every live group, in creation order (its index is its name)
    count = 0
    hook = None         # the excepthook ember installed (to take it away at destroy)


class ProcessGroup:
    """A set of processes that run collectives together: an MPI communicator and the global
    ranks of its members, in group-rank order. Made by init_process_group and new_group."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError('ember makes process groups with init_process_group and '
                                  'new_group (constructing torch.distributed.ProcessGroup '
                                  'directly is not supported)')

    @classmethod
    def _make(cls, comm, ranks, backend, timeout):
        pg = object.__new__(cls)
        pg._comm = comm
        pg._ranks = list(ranks)
        pg._index = {r: i for i, r in enumerate(pg._ranks)}
        pg._backend = backend
        pg._timeout = timeout
        pg.group_name = str(_World.count)
        pg.group_desc = 'default_pg' if _World.default is None else 'undefined'
        _World.count += 1
        return pg

    def rank(self):
        return self._comm.Get_rank()

    def size(self):
        return len(self._ranks)

    def name(self):
        b = self._backend
        return 'gloo' if b == 'undefined' else b.split(',')[0].split(':')[-1]

    @property
    def bound_device_id(self):
        return None

    def __repr__(self):
        return f'<torch.distributed.distributed_c10d.ProcessGroup object at {hex(id(self))}>'


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until its results are in
    the tensors; ``is_completed()`` asks without blocking."""

    def __init__(self, requests=(), finish=None, result=(), keep=()):
        self._reqs = list(requests)
        self._finish = finish
        self._result = list(result)
        self._keep = keep            # buffers MPI reads or writes until the requests complete
        self._done = False
        self._exc = None
        self._status = None
        self._future = None

    def _complete(self):
        self._done = True
        self._keep = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            try:
                finish()
            except BaseException as e:
                self._exc = e
                if self._future is not None:
                    self._future.set_exception(e)
                raise
        if self._future is not None and not self._future.done():
            self._future.set_result(list(self._result))

    def wait(self, timeout=timedelta(0)):
        if not self._done:
            MPI = _mpi()
            if self._reqs:
                self._status = MPI.Status()
                if len(self._reqs) == 1:
                    self._reqs[0].Wait(self._status)
                else:
                    MPI.Request.Waitall(self._reqs)
            self._complete()
        elif self._exc is not None:
            raise self._exc
        return True

    def is_completed(self):
        if not self._done:
            if self._reqs and not _mpi().Request.Testall(self._reqs):
                return False
            self._complete()
        return True

    def is_success(self):
        if not self.is_completed():
            raise RuntimeError('Invalid call to work.is_success() before work has completed')
        return self._exc is None

    def exception(self):
        return self._exc

    def result(self):
        self.wait()
        return list(self._result)

    def source_rank(self):
        return self._source_rank()

    def _source_rank(self):
        self.wait()
        return self._status.Get_source() if self._status is not None else -1

    def synchronize(self):
        self.wait()

    def block_current_stream(self):
        self.wait()

    def get_future(self):
        """A Future of the collective's output tensors (a list), completed with it."""
        if self._future is None:
            self._future = _WorkFuture(self)
            if self._done:
                self._future.set_result(list(self._result))
        return self._future


class _WorkFuture(Future):
    """The future of a collective. MPI moves a collective along only inside MPI calls, so
    waiting on this future, or on one chained from it with then(), first waits for the
    collective itself."""

    def __init__(self, work=None):
        super().__init__()
        self._work = work

    def wait(self):
        if self._work is not None and not self.done():
            self._work.wait()
        return super().wait()

    def done(self):
        if self._work is not None and not self._done:
            self._work.is_completed()
        return super().done()

    def then(self, callback):
        fut = super().then(callback)
        fut._work = self._work
        return fut


class GradBucket:
    """The gradients of one DDP bucket, as a communication hook sees them: `buffer()` is
    their flat concatenation, `gradients()` each parameter's view into it."""

    def __init__(self, index, buffer, gradients, parameters, is_last):
        self._index, self._buffer = index, buffer
        self._gradients, self._parameters, self._is_last = gradients, parameters, is_last

    def index(self):
        return self._index

    def buffer(self):
        return self._buffer

    def gradients(self):
        return list(self._gradients)

    def parameters(self):
        return list(self._parameters)

    def is_last(self):
        return self._is_last

    def set_buffer(self, buffer):
        self._buffer = buffer


# the communication hooks DDP has built in (`_register_builtin_comm_hook`)
BuiltinCommHookType = _int_enum('BuiltinCommHookType', ('ALLREDUCE', 'FP16_COMPRESS'), 1)


def _done_work(result=()):
    w = Work(result=result)
    w._done = True
    return w


# ---- the default group and group lookups ----------------------------------------------------

def is_initialized():
    return _World.default is not None


def _default():
    if _World.default is None:
        raise ValueError(_NOT_INIT)
    return _World.default


def _resolve(group):
    """The ProcessGroup a call works on (None and group.WORLD: the default one)."""
    if group is None or group is GroupMember.WORLD:
        return _default()
    if isinstance(group, ProcessGroup):
        if group not in _World.groups:
            raise ValueError('The given group has been destroyed or was not created with '
                             'init_process_group or new_group')
        return group
    raise TypeError(f'Invalid process group: {group!r}')


def _not_member(group, op_name):
    """True (after torch's warning) when this process is not in `group`."""
    if group is None or not (isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER):
        return False
    w = GroupMember.WORLD
    warnings.warn(f'Running {op_name} on global rank {-1 if w is None else w.rank()} which does '
                  'not belong to the given group.', stacklevel=3)
    return True


def get_rank(group=None):
    if isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).rank()


def get_world_size(group=None):
    if isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER:
        return -1
    return _resolve(group).size()


def get_backend(group=None):
    if isinstance(group, int) and group == GroupMember.NON_GROUP_MEMBER:
        raise ValueError('Invalid process group specified')
    b = _resolve(group)._backend
    return b if ',' in b else Backend(b)


def get_backend_config(group=None):
    b = _resolve(group)._backend
    return 'cpu:gloo' if b == 'undefined' else b if ':' in b else f'cpu:{b}'


def get_group_rank(group, global_rank):
    if group is GroupMember.WORLD:
        return global_rank
    pg = _resolve(group)
    if global_rank not in pg._index:
        raise ValueError(f'Global rank {global_rank} is not part of group {pg}')
    return pg._index[global_rank]


def get_global_rank(group, group_rank):
    if group is GroupMember.WORLD:
        return group_rank
    pg = _resolve(group)
    if not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f'Group rank {group_rank} is not part of group {pg}')
    return pg._ranks[group_rank]


def get_process_group_ranks(group):
    return list(_resolve(group)._ranks)


def get_pg_count():
    return len(_World.groups)


def get_node_local_rank(fallback_rank=None):
    if 'LOCAL_RANK' in os.environ:
        return int(os.environ['LOCAL_RANK'])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError('LOCAL_RANK is not in the environment. Consider passing fallback_rank '
                       'to allow `get_node_local_rank` to work, assuming you are not running '
                       'in a multi-device context and want the code to run locally instead.')


def get_default_backend_for_device(device):
    dev = str(getattr(device, 'type', device)).split(':')[0]
    if dev not in Backend.default_device_backend_map:
        raise ValueError(f'Default backend not registered for device : {device}')
    return Backend.default_device_backend_map[dev]


def _group_rank(pg, global_rank, group_rank, what):
    """torch's _canonicalize_group_rank: the peer's rank in `pg` from either spelling."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        r = group_rank
    else:
        if global_rank is None:
            raise ValueError('Must specify global_rank or group_rank')
        r = global_rank if pg is _World.default else get_group_rank(pg, global_rank)
    if not 0 <= r < pg.size():
        raise RuntimeError(f'{what} rank: {r}')
    return r


# ---- starting and ending -----------------------------------------------------------------------

_NO_GPU = {'nccl': 'NCCL', 'ucc': 'UCC', 'xccl': 'XCCL'}


def _backend_name(backend):
    """The backend string init_process_group was given, checked: CPU backends run on MPI."""
    if backend is None or str(backend).lower() == 'undefined':
        return 'undefined'
    name = str(backend).lower()
    for part in name.split(','):
        dev, _, b = part.rpartition(':')
        if dev == 'cpu' or not dev:
            if b in _NO_GPU:
                raise RuntimeError(f"Distributed package doesn't have {_NO_GPU[b]} built in "
                                   f"(ember runs on the CPU: use backend='gloo' or 'mpi', "
                                   'which ember runs on MPI)')
            if b not in ('gloo', 'mpi'):
                raise ValueError(f"Invalid backend: '{b}'")
    return name


def _check_launch(world_size, rank):
    """The sizes a program asked for must be those of the processes MPI started."""
    size, me = _world_comm().Get_size(), _world_comm().Get_rank()
    asked = [('world_size', world_size), ('WORLD_SIZE', os.environ.get('WORLD_SIZE'))]
    for what, value in asked:
        if value is not None and int(value) != -1 and int(value) != size:
            raise RuntimeError(
                f'{what}={int(value)} was asked for, but MPI started {size} process'
                f"{'es' if size != 1 else ''}: launch the program with `ember run "
                f'--nproc-per-node {int(value)} script.py` (or `mpiexec -n {int(value)} ...`)')
    for what, value in [('rank', rank), ('RANK', os.environ.get('RANK'))]:
        if value is not None and int(value) != -1 and int(value) != me:
            raise RuntimeError(f'{what}={int(value)} was asked for, but this process is rank '
                               f"{me} of MPI's {size}: let the launcher number the processes")


def _abort_on_error_hook(previous, comm):
    """sys.excepthook for a rank of several: report the error, then end the whole job (MPI
    abort), so the other ranks never wait forever in a collective this one will not join."""
    def hook(exc_type, exc, tb):
        try:
            previous(exc_type, exc, tb)
        finally:
            for f in (sys.stdout, sys.stderr):
                try:
                    f.flush()
                except Exception:   # noqa: BLE001 -- a closed stream must not stop the abort
                    pass
            comm.Abort(1)
    hook._ember_previous = previous
    return hook


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name='', pg_options=None, device_id=None):
    """Start the default process group: all the processes MPI started (torchrun's and
    mpiexec's environment, or a single process on its own)."""
    if _World.default is not None:
        raise ValueError('trying to initialize the default process group twice!')
    if store is not None and init_method is not None:
        raise AssertionError('Cannot specify both init_method and store.')
    if device_id is not None:       # torch on a machine without accelerators says the same
        raise ValueError('init_process_group device_id parameter must be an accelerator with '
                         'an index')
    name = _backend_name(backend)
    _check_launch(world_size, rank)
    comm = _world_comm().Dup()
    pg = ProcessGroup._make(comm, range(comm.Get_size()), name,
                            timeout or timedelta(minutes=30))
    _World.default = pg
    _World.groups.append(pg)
    if comm.Get_size() > 1 and _World.hook is None:
        _World.hook = _abort_on_error_hook(sys.excepthook, _world_comm())
        sys.excepthook = _World.hook


def destroy_process_group(group=None):
    """End `group` (None: every group, and the default one)."""
    if group is None or group is GroupMember.WORLD:
        if _World.default is None:
            raise AssertionError('Process group cannot be None')
        for pg in _World.groups:
            _free(pg)
        _World.groups = []
        _World.default = None
        _World.count = 0
        if _World.hook is not None and sys.excepthook is _World.hook:
            sys.excepthook = _World.hook._ember_previous
        _World.hook = None
        return
    pg = _resolve(group)
    _free(pg)
    _World.groups.remove(pg)


def _free(pg):
    try:
        pg._comm.Free()
    except Exception:   # noqa: BLE001 -- already freed
        pass


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None):
    """A group of the given global ranks (all of them when None). Every process of the
    default group calls it (unless use_local_synchronization, where only the members do);
    the others get GroupMember.NON_GROUP_MEMBER."""
    world = _default()
    n = world.size()
    ranks = list(range(n)) if ranks is None else sorted(int(r) for r in ranks)
    for r in ranks:
        if not 0 <= r < n:
            raise ValueError(f'Invalid rank {r}, rank should be in the interval [0, {n - 1}]')
    if len(set(ranks)) != len(ranks):
        raise ValueError('new_group: the ranks must be distinct')
    MPI = _mpi()
    me = world.rank()
    member = me in ranks
    if use_local_synchronization:
        if not member:
            return GroupMember.NON_GROUP_MEMBER
        comm = world._comm.Create_group(world._comm.Get_group().Incl(ranks))
    else:
        comm = world._comm.Split(0 if member else MPI.UNDEFINED, ranks.index(me) if member
                                 else 0)
        if not member:
            return GroupMember.NON_GROUP_MEMBER
    name = str(backend).lower() if backend is not None else world._backend
    pg = ProcessGroup._make(comm, ranks, name, timeout or world._timeout)
    if group_desc is not None:
        pg.group_desc = group_desc
    _World.groups.append(pg)
    return pg


def split_group(parent_pg=None, split_ranks=None, timeout=None, pg_options=None,
                group_desc=None, backend=None):
    """torch splits only a process group bound to an accelerator (init_process_group's
    device_id); on the CPU it refuses, and so does ember."""
    _default()
    raise RuntimeError('No device associated with the default pg, not safe to split any '
                       'process groups')


def new_subgroups_by_enumeration(ranks_per_subgroup_list, timeout=None, backend=None,
                                 pg_options=None, group_desc=None):
    """One group per list of ranks (every process creates them all, in order); returns
    (this process's group, all of them)."""
    if not ranks_per_subgroup_list:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    subgroups, mine, owner = [], None, {}
    me = get_rank()
    for ranks in ranks_per_subgroup_list:
        g = new_group(ranks=ranks, timeout=timeout, backend=backend, group_desc=group_desc)
        subgroups.append(g)
        for r in ranks:
            if r in owner:
                raise ValueError(f'Rank {r} has appeared in both subgroup {owner[r]} and '
                                 f'{ranks}')
            owner[r] = ranks
            if r == me:
                mine = g
    return mine, subgroups


def new_subgroups(group_size=None, group=None, timeout=None, backend=None, pg_options=None,
                  group_desc=None):
    """Consecutive groups of group_size ranks of `group`."""
    if group_size is None:
        raise ValueError("Default group size only takes effect when CUDA is available.If your "
                         "subgroup using a backend that does not depend on CUDA,please pass in "
                         "'group_size' correctly.")
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    n = get_world_size(group)
    if n < group_size:
        raise ValueError(f"The arg 'group_size' ({group_size}) must not exceed the world size "
                         f'({n})')
    if n % group_size:
        raise ValueError(f"The world size ({n}) must be divisible by 'group_size={group_size}'")
    ranks = get_process_group_ranks(group)
    return new_subgroups_by_enumeration([ranks[i:i + group_size]
                                         for i in range(0, n, group_size)],
                                        timeout=timeout, backend=backend, group_desc=group_desc)


# TORCH_DISTRIBUTED_DEBUG's levels (ember's collectives log nothing either way)
DebugLevel = _int_enum('DebugLevel', ('OFF', 'INFO', 'DETAIL'))
_debug = [DebugLevel.OFF]


def get_debug_level():
    return _debug[0]


def set_debug_level(level):
    _debug[0] = DebugLevel(level)


def set_debug_level_from_env():
    value = os.environ.get('TORCH_DISTRIBUTED_DEBUG', 'OFF').upper()
    if value not in DebugLevel._names:
        raise ValueError(f'The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL, '
                         f"but got '{value}'.")
    _debug[0] = getattr(DebugLevel, value)


# ---- tensors as MPI buffers -----------------------------------------------------------------

def _check_tensor(t, name):
    if not isinstance(t, Tensor):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type '
                        f'torch.Tensor\n             but got {type(t)} instead.')


def _check_list(ts, name):
    if not isinstance(ts, list):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type '
                        f'List[torch.Tensor]\n             but got {type(ts)} instead.')
    if not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type '
                        f'List[torch.Tensor]\n             but got {type(ts)} with elements of '
                        f'type {[type(t) for t in ts]}.')


def _same_dtype(*tensors):
    last = None
    for t in tensors:
        for x in (t if isinstance(t, list) else (t,)):
            if last is not None and x.dtype != last:
                raise ValueError(f'Invalid usage of tensors with different dtypesFound {last} '
                                 f'and  {x.dtype}')
            last = x.dtype


class _Out:
    """A tensor that a collective writes: MPI writes `buf` (the tensor's own array when it is
    contiguous, else a contiguous copy that `done()` writes back)."""
    __slots__ = ('t', 'buf', 'copy')

    def __init__(self, t, fill=True):
        self.t = t
        a = t._data
        self.copy = not (a.flags.c_contiguous and a.flags.writeable)
        self.buf = (np.array(a, order='C') if fill else np.empty(a.shape, a.dtype)) \
            if self.copy else a

    def done(self):
        # as torch's collectives, the version counter stays: they are not autograd ops
        if self.copy:
            self.t._data[...] = self.buf


def _contiguous(t):
    return np.ascontiguousarray(t._data)


def _bytes(a):
    """A contiguous array as MPI bytes (any dtype: bool, bfloat16, complex travel as is)."""
    return a.reshape(-1).view(np.uint8)


def _mpi_bytes(a):
    return [_bytes(a), _mpi().BYTE]


def _run(starts, finish, async_op, result=(), keep=()):
    """Wait for the started requests now, or hand back the Work that will."""
    w = Work(starts, finish, result, keep)
    if async_op:
        return w
    w.wait()
    return None


_NAMES = {0: 'SUM', 2: 'PROD', 3: 'MIN', 4: 'MAX', 5: 'BAND', 6: 'BOR', 7: 'BXOR'}
_BOOL_OPS = {0: 'LOR', 2: 'LAND', 3: 'LAND', 4: 'LOR', 5: 'LAND', 6: 'LOR', 7: 'LXOR'}


def _reduction(op, dtype, what):
    """(MPI op, the array type MPI reduces, post-step) for ReduceOp `op` on `dtype`."""
    code = int(_op_code(op))
    npd = dtype._np
    if code == ReduceOp.PREMUL_SUM:
        raise NotImplementedError('ember does not implement ReduceOp.PREMUL_SUM (an NCCL op)')
    if dtype.is_complex and code not in (0, 1):
        raise ValueError(f'{what} does not support {ReduceOp.RedOpType(code)} on complex '
                         'tensors')
    if code in (5, 6, 7) and (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f'Cannot use ReduceOp.{_NAMES[code]} with non-integral dtype')
    if code == 1 and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f'{_legacy(npd)}')
    MPI = _mpi()
    if npd == np.bool_:
        return getattr(MPI, _BOOL_OPS[code]), npd, False
    wide = np.dtype(np.float32) if npd.name == 'bfloat16' else npd   # MPI has no bfloat16
    return getattr(MPI, _NAMES[0 if code == 1 else code]), wide, code == 1


class _Reduced:
    """One tensor reduced in place: the MPI buffer and the step after MPI's reduction."""
    def __init__(self, t, op, what, fill=True):
        self.mpi_op, wide, self.avg = _reduction(op, t.dtype, what)
        self.out = _Out(t, fill)
        self.widened = wide != self.out.buf.dtype
        self.buf = self.out.buf.astype(wide) if self.widened else self.out.buf

    def done(self, n):
        if self.avg:
            np.divide(self.buf, n, out=self.buf, casting='unsafe')
        if self.widened:
            self.out.buf[...] = self.buf
        self.out.done()


# ---- collectives ------------------------------------------------------------------------------

def _one(op, tensor, group):
    """The checks of a collective on one tensor: the group, or None outside it."""
    _check_tensor(tensor, 'tensor')
    if _not_member(group, op):
        return None
    return _resolve(group)


def barrier(group=None, async_op=False, device_ids=None):
    if _not_member(group, 'barrier'):
        return None
    pg = _resolve(group)
    return _run([pg._comm.Ibarrier()], None, async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    if _not_member(group, 'monitored_barrier'):
        return None
    barrier(group)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    pg = _one('broadcast', tensor, group)
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, 'ProcessGroupGloo::broadcast: invalid root')
    out = _Out(tensor)
    return _run([pg._comm.Ibcast(_mpi_bytes(out.buf), root=root)], out.done, async_op,
                [tensor], out)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    pg = _one('all_reduce', tensor, group)
    if pg is None:
        return None
    r = _Reduced(tensor, op, 'all_reduce')
    n = pg.size()
    req = pg._comm.Iallreduce(_mpi().IN_PLACE, r.buf, op=r.mpi_op)
    return _run([req], lambda: r.done(n), async_op, [tensor], r)


def all_reduce_coalesced(tensors, op=ReduceOp.SUM, group=None, async_op=False):
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    _check_list(tensors, 'tensor')
    _same_dtype(tensors)
    if _not_member(group, 'all_reduce_coalesced'):
        return None
    works = [all_reduce(t, op, group, async_op=True) for t in tensors]
    return _run([q for w in works for q in w._reqs], lambda: [w._complete() for w in works],
                async_op, tensors, works)


def all_gather_coalesced(output_tensor_lists, input_tensor_list, group=None, async_op=False):
    """Deprecated on torch: output_tensor_lists[r][i] gets rank r's input_tensor_list[i]."""
    warnings.warn("`torch.distributed.all_gather_coalesced` will be deprecated. If you must use "
                  "it, please revisit our documentation later at "
                  "https://pytorch.org/docs/main/distributed.html#collective-functions",
                  FutureWarning, stacklevel=2)
    if _not_member(group, 'all_gather_coalesced'):
        return None
    _check_list(input_tensor_list, 'input_tensor_list')
    _same_dtype(input_tensor_list)
    if not isinstance(output_tensor_lists, list):
        raise TypeError("Invalid function argument: output_tensor_lists should be a list")
    for out in output_tensor_lists:
        _check_list(out, 'output_tensor_lists')
        _same_dtype(out)
    works = [all_gather([out[i] for out in output_tensor_lists], t, group, async_op=True)
             for i, t in enumerate(input_tensor_list)]
    w = _run([q for w in works for q in w._reqs], lambda: [w._complete() for w in works],
             True, output_tensor_lists, works)
    if async_op:
        return w.get_future()
    w.wait()
    return None


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    pg = _one('reduce', tensor, group)
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, 'ProcessGroupGloo::reduce: invalid root')
    r = _Reduced(tensor, op, 'reduce')
    MPI, n = _mpi(), pg.size()
    if pg.rank() == root:
        req = pg._comm.Ireduce(MPI.IN_PLACE, r.buf, op=r.mpi_op, root=root)
        return _run([req], lambda: r.done(n), async_op, [tensor], r)
    req = pg._comm.Ireduce(r.buf, None, op=r.mpi_op, root=root)
    return _run([req], None, async_op, [tensor], r)


def _two(op, out, inp, out_name, in_name, group, checks=(_check_tensor, _check_tensor)):
    """The checks of a collective from one tensor (or list) into another: the group, or None
    when this process is not in it."""
    checks[0](out, out_name)
    checks[1](inp, in_name)
    _same_dtype(out, inp)
    if _not_member(group, op):
        return None
    return _resolve(group)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    pg = _two('all_gather', tensor_list, tensor, 'tensor_list', 'tensor', group,
              (_check_list, _check_tensor))
    if pg is None:
        return None
    n = pg.size()
    if len(tensor_list) != n:
        raise RuntimeError(f'ProcessGroupGloo::allgather: invalid output tensor list at index '
                           f'0 (expected length {n}, got {len(tensor_list)})')
    for i, t in enumerate(tensor_list):
        if t.shape != tensor.shape:
            raise RuntimeError(f'ProcessGroupGloo::allgather: invalid tensor size at index {i} '
                               f'(expected {_shape_str(tensor.shape)}, got '
                               f'{_shape_str(t.shape)})')
    src = _contiguous(tensor)
    buf = np.empty((n,) + src.shape, src.dtype)
    req = pg._comm.Iallgather(_mpi_bytes(src), _mpi_bytes(buf))
    return _run([req], _copy_into(tensor_list, buf), async_op, tensor_list, (src, buf))


def _shape_str(shape):
    return '(' + ', '.join(str(s) for s in shape) + ')'


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """The inputs of every rank, concatenated (or stacked) into output_tensor."""
    pg = _two('all_gather_into_tensor', output_tensor, input_tensor, 'output_tensor',
              'input_tensor', group)
    if pg is None:
        return None
    n = pg.size()
    if output_tensor.numel() != n * input_tensor.numel():
        raise ValueError(f'output tensor size must be equal to world_size times input tensor '
                         f'size: got {output_tensor.numel()} and {input_tensor.numel()} with '
                         f'world size {n}')
    src = _contiguous(input_tensor)
    out = _Out(output_tensor, fill=False)
    req = pg._comm.Iallgather(_mpi_bytes(src), _mpi_bytes(out.buf))
    return _run([req], out.done, async_op, [output_tensor], (src, out))


all_gather_single = all_gather_into_tensor


def _rooted(op, tensor, tensors, name, group, root, group_root):
    """The checks of gather and scatter: (group, root's group rank, the list), or None when
    this process is not in the group."""
    _check_tensor(tensor, 'tensor')
    if tensors is not None:
        _check_list(tensors, name)
    _same_dtype(tensor, tensors or [])
    if _not_member(group, op):
        return None
    pg = _resolve(group)
    r = _group_rank(pg, 0 if root is None and group_root is None else root, group_root,
                    f'ProcessGroupGloo::{op}: invalid root')
    return pg, r, tensors or []


def _copy_into(tensors, buf):
    """The step that writes the rows of `buf` into `tensors` once MPI has filled it."""
    def finish():
        for t, part in zip(tensors, buf):
            t._data[...] = part
    return finish


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    got = _rooted('gather', tensor, gather_list, 'gather_list', group, dst, group_dst)
    if got is None:
        return None
    pg, root, gather_list = got
    n = pg.size()
    src = _contiguous(tensor)
    if pg.rank() != root:
        if gather_list:
            raise ValueError('Argument ``gather_list`` must NOT be specified on non-destination '
                             'ranks.')
        return _run([pg._comm.Igather(_mpi_bytes(src), None, root=root)], None, async_op,
                    keep=src)
    if len(gather_list) != n:
        raise ValueError('Argument ``gather_list`` must be specified on destination rank.'
                         if not gather_list else
                         f'ProcessGroupGloo::gather: Incorrect output list size '
                         f'{len(gather_list)}. Output list size should be {n}, same as size of '
                         f'the process group.')
    buf = np.empty((n,) + src.shape, src.dtype)
    req = pg._comm.Igather(_mpi_bytes(src), _mpi_bytes(buf), root=root)
    return _run([req], _copy_into(gather_list, buf), async_op, gather_list, (src, buf))


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    got = _rooted('scatter', tensor, scatter_list, 'scatter_list', group, src, group_src)
    if got is None:
        return None
    pg, root, scatter_list = got
    out = _Out(tensor, fill=False)
    if pg.rank() != root:
        if scatter_list:
            raise ValueError('Argument ``scatter_list`` must NOT be specified on '
                             'non-source ranks.')
        req = pg._comm.Iscatter(None, _mpi_bytes(out.buf), root=root)
        return _run([req], out.done, async_op, [tensor], out)
    if len(scatter_list) != pg.size():
        raise ValueError('Argument ``scatter_list`` must be specified on source rank.'
                         if not scatter_list else
                         f'ProcessGroupGloo::scatter: Incorrect input list size '
                         f'{len(scatter_list)}. Input list size should be {pg.size()}, same as '
                         f'size of the process group.')
    for t in scatter_list:
        if t.shape != tensor.shape:
            raise RuntimeError('ProcessGroupGloo::scatter: invalid tensor size in input list')
    buf = np.stack([np.asarray(t._data) for t in scatter_list])
    req = pg._comm.Iscatter(_mpi_bytes(buf), _mpi_bytes(out.buf), root=root)
    return _run([req], out.done, async_op, [tensor], (buf, out))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` (world_size blocks) over the group; block i lands in rank i's output."""
    pg = _two('reduce_scatter_tensor', output, input, 'output', 'input', group)
    if pg is None:
        return None
    n = pg.size()
    if input.numel() != n * output.numel():
        raise ValueError(f'input tensor must be the same size as output size times world '
                         f'size: got {input.numel()} and {output.numel()} with world size {n}')
    r = _Reduced(output, op, 'reduce_scatter_tensor', fill=False)
    src = _contiguous(input).astype(r.buf.dtype, copy=False)
    req = pg._comm.Ireduce_scatter_block(src, r.buf, op=r.mpi_op)
    return _run([req], lambda: r.done(n), async_op, [output], (src, r))


reduce_scatter_single = reduce_scatter_tensor


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    pg = _two('reduce_scatter', output, input_list, 'output', 'input_list', group,
              (_check_tensor, _check_list))
    if pg is None:
        return None
    if len(input_list) != pg.size():
        raise ValueError(f'reduce_scatter: input list size {len(input_list)} does not match '
                         f'world size {pg.size()}')
    for t in input_list:
        if t.shape != output.shape:
            raise ValueError('reduce_scatter: every input must have the output\'s shape')
    r = _Reduced(output, op, 'reduce_scatter', fill=False)
    src = np.stack([np.asarray(t._data) for t in input_list]).astype(r.buf.dtype, copy=False)
    n = pg.size()
    req = pg._comm.Ireduce_scatter_block(src, r.buf, op=r.mpi_op)
    return _run([req], lambda: r.done(n), async_op, [output], (src, r))


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    """Rank i's block j (along dim 0) goes to rank j's block i."""
    pg = _two('all_to_all_single', output, input, 'output', 'input', group)
    if pg is None:
        return None
    n = pg.size()
    src = _contiguous(input)
    out = _Out(output, fill=False)

    def counts(t, splits, what):
        rows = t.shape[0] if t.dim() else 1
        row = t.numel() // rows * t.element_size() if rows else 0
        if not splits:
            if rows % n:
                raise RuntimeError('Tensor\'s dim 0 does not divide equally across group '
                                   'size')
            splits = [rows // n] * n
        splits = [int(s) for s in splits]
        if len(splits) != n or sum(splits) != rows:
            raise RuntimeError(f'Split sizes doesn\'t match total dim 0 size ({what})')
        c = [s * row for s in splits]
        return c, list(np.cumsum([0] + c[:-1]))
    sc, sd = counts(input, input_split_sizes, 'input')
    rc, rd = counts(output, output_split_sizes, 'output')
    MPI = _mpi()
    req = pg._comm.Ialltoallv([_bytes(src), sc, sd, MPI.BYTE],
                              [_bytes(out.buf), rc, rd, MPI.BYTE])
    return _run([req], out.done, async_op, [output], (src, out))


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Rank i's input_tensor_list[j] lands in rank j's output_tensor_list[i]."""
    pg = _two('all_to_all', output_tensor_list, input_tensor_list, 'output_tensor_list',
              'input_tensor_list', group, (_check_list, _check_list))
    if pg is None:
        return None
    n = pg.size()
    if len(output_tensor_list) != n or len(input_tensor_list) != n:
        raise RuntimeError(f'all_to_all: the tensor lists must have world size ({n}) entries')
    srcs = [_contiguous(t) for t in input_tensor_list]
    send = np.concatenate([_bytes(s) for s in srcs]) if srcs else np.empty(0, np.uint8)
    sc = [s.nbytes for s in srcs]
    rc = [t._data.nbytes for t in output_tensor_list]
    recv = np.empty(sum(rc), np.uint8)
    MPI = _mpi()

    def finish():
        off = 0
        for t, c in zip(output_tensor_list, rc):
            t._data[...] = recv[off:off + c].view(t._data.dtype).reshape(t._data.shape)
            off += c
    req = pg._comm.Ialltoallv([send, sc, list(np.cumsum([0] + sc[:-1])), MPI.BYTE],
                              [recv, rc, list(np.cumsum([0] + rc[:-1])), MPI.BYTE])
    return _run([req], finish, async_op, output_tensor_list, (send, recv))


# ---- point to point ---------------------------------------------------------------------------

def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    pg = _one('isend', tensor, group)
    if pg is None:
        return None
    peer = _group_rank(pg, dst, group_dst, 'Invalid destination')
    src = _contiguous(tensor)
    return Work([pg._comm.Isend(_mpi_bytes(src), dest=peer, tag=tag)], keep=src)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    pg = _one('irecv', tensor, group)
    if pg is None:
        return None
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else \
        _group_rank(pg, src, group_src, 'Invalid source')
    out = _Out(tensor, fill=False)
    return Work([pg._comm.Irecv(_mpi_bytes(out.buf), source=peer, tag=tag)], out.done,
                [tensor], out)


def _check_not_self(pg, peer, what):
    if pg.rank() == peer:
        raise ValueError(f'Invalid {what} rank: {what} rank should not be the same as the rank '
                         'of the current process.')


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    pg = _one('send', tensor, group)
    if pg is None:
        return None
    _check_not_self(pg, _group_rank(pg, dst, group_dst, 'Invalid destination'),
                    'destination')
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor`; returns the sender's global rank (-1 outside the group)."""
    pg = _one('recv', tensor, group)
    if pg is None:
        return -1
    if src is not None or group_src is not None:
        _check_not_self(pg, _group_rank(pg, src, group_src, 'Invalid source'), 'source')
    w = irecv(tensor, src, group, tag, group_src)
    w.wait()
    return pg._ranks[w._source_rank()]


class P2POp:
    """One send or receive of batch_isend_irecv: P2POp(dist.isend, tensor, peer)."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError('Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.'
                             'isend`` or ``torch.distributed.irecv``.')
        _check_tensor(tensor, 'tensor')
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag
        self.group_peer = group_peer


def batch_isend_irecv(p2p_op_list):
    """Start every send and receive of the list; their Works, in order."""
    if not isinstance(p2p_op_list, list) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError('Invalid ``p2p_op_list``. Each op is expected to to be of type '
                         '``torch.distributed.P2POp``.')
    out = []
    for p in p2p_op_list:
        if p.op is isend:
            out.append(isend(p.tensor, p.peer, p.group, p.tag, p.group_peer))
        else:
            out.append(irecv(p.tensor, p.peer, p.group, p.tag, p.group_peer))
    return out


# ---- Python objects (these are pickled, as torch's are) --------------------------------------

def all_gather_object(object_list, obj, group=None):
    if _not_member(group, 'all_gather_object'):
        return
    pg = _resolve(group)
    got = pg._comm.allgather(obj)
    for i, o in enumerate(got):
        object_list[i] = o


def _object_root(op, group, root, group_root):
    """(group, the root's group rank) for a rooted object collective; None outside it."""
    if _not_member(group, op):
        return None
    pg = _resolve(group)
    return pg, _group_rank(pg, 0 if root is None and group_root is None else root, group_root,
                           'Invalid root')


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    got = _object_root('gather_object', group, dst, group_dst)
    if got is None:
        return
    pg, root = got
    if pg.rank() == root and object_gather_list is None:
        raise ValueError('Argument ``object_gather_list`` must be specified on destination rank.')
    if pg.rank() != root and object_gather_list is not None:
        raise ValueError('Argument ``object_gather_list`` must NOT be specified on '
                         'non-destination ranks.')
    got = pg._comm.gather(obj, root=root)
    if pg.rank() == root:
        for i, o in enumerate(got):
            object_gather_list[i] = o


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    got = _object_root('broadcast_object_list', group, src, group_src)
    if got is None:
        return
    pg, root = got
    got = pg._comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    if pg.rank() != root:
        object_list[:] = got[:len(object_list)] + object_list[len(got):]


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError('Expected argument scatter_object_output_list to be a list of size at '
                         'least 1.')
    got = _object_root('scatter_object_list', group, src, group_src)
    if got is None:
        return
    pg, root = got
    scatter_object_output_list[0] = pg._comm.scatter(
        list(scatter_object_input_list) if pg.rank() == root else None, root=root)


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None,
                     use_batch=False):
    if _not_member(group, 'send_object_list'):
        return
    pg = _resolve(group)
    peer = _group_rank(pg, dst, group_dst, 'Invalid destination')
    _check_not_self(pg, peer, 'destination')
    pg._comm.send(list(object_list), dest=peer, tag=0)


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None,
                     use_batch=False):
    """Receive into object_list; returns the sender's global rank."""
    if _not_member(group, 'recv_object_list'):
        return -1
    pg = _resolve(group)
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else \
        _group_rank(pg, src, group_src, 'Invalid source')
    status = MPI.Status()
    got = pg._comm.recv(source=peer, tag=0, status=status)
    object_list[:len(got)] = got[:len(object_list)]
    return pg._ranks[status.Get_source()]
