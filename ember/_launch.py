"""``ember run --nproc-per-node N``: torchrun's job, done by MPI's launcher.

The parent starts ``mpiexec -n N`` over ``ember run`` itself; each child (any ``ember run``
that finds itself under an MPI launcher, so plain ``mpiexec -n N ember run script.py`` too)
gives its program torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
GROUP_RANK, MASTER_ADDR, MASTER_PORT) from MPI's. A rank whose program fails ends the whole
job through MPI's abort, so the others never wait for it in a collective.

Several machines, as torchrun: ``ember run --nnodes M --node-rank R --master-addr A
--master-port P --nproc-per-node N script.py`` on each. Node 0's parent serves a TCPStore at
A:P; every node's job joins the others' into one communicator through it (see
``distributed_c10d._join_nodes``), and the parents watch each other through it: a node whose
job fails makes every other parent end its own job.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from datetime import timedelta

from .distributed._store import DistError, TCPStore
from .distributed.distributed_c10d import _EXTRA, _WORLD, _mpi

__all__ = ['start', 'set_torchrun_env', 'end_job_on_failure']

_MARK = 'EMBER_NPROC_PER_NODE'   # set by the parent: the children were started by `ember run`


def _mpiexec():
    """The MPI launcher beside this Python (the MPICH wheel's), else the first on PATH."""
    for d in (sysconfig.get_path('scripts'), os.path.dirname(sys.executable)):
        exe = os.path.join(d, 'mpiexec')
        if os.path.isfile(exe) and os.access(exe, os.X_OK):
            return exe
    return shutil.which('mpiexec')


def start(ns, argv, parser):
    """The parent: start N processes of the program through mpiexec; their exit status."""
    n = ns.nproc_per_node
    if n < 1:
        parser.error(f'--nproc-per-node must be at least 1 (got {n})')
    if ns.module is None and ns.target is None:
        parser.error('give a script or -m module to run')
    if ns.nnodes < 1 or not 0 <= ns.node_rank < ns.nnodes:
        parser.error(f'--node-rank must be in [0, --nnodes) (got --nnodes {ns.nnodes} '
                     f'--node-rank {ns.node_rank})')
    exe = _mpiexec()
    if exe is None:
        print(f'ember run: --nproc-per-node needs MPI\'s launcher (mpiexec), not found: '
              f'{_EXTRA.split(": ", 1)[1]}', file=sys.stderr)
        return 1
    env = dict(os.environ)
    env[_MARK] = str(n)
    env['MASTER_ADDR'] = ns.master_addr
    env['MASTER_PORT'] = str(ns.master_port)
    env.setdefault('TORCHELASTIC_RUN_ID', 'none')
    if n > 1 and 'OMP_NUM_THREADS' not in env:
        # as torchrun: one thread per process unless the user says otherwise
        print('*****************************************\nSetting OMP_NUM_THREADS environment '
              'variable for each process to be 1 in default, to avoid your system being '
              'overloaded, please further tune the variable for optimal performance in your '
              'application as needed. \n*****************************************',
              file=sys.stderr)
        env['OMP_NUM_THREADS'] = '1'
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'GROUP_RANK'):
        env.pop(k, None)   # the children's come from MPI
    store = None
    if ns.nnodes > 1:
        env.update(EMBER_NNODES=str(ns.nnodes), EMBER_NODE_RANK=str(ns.node_rank))
        try:
            store = TCPStore(ns.master_addr, ns.master_port, is_master=ns.node_rank == 0,
                             timeout=timedelta(seconds=_JOIN_TIMEOUT))
        except (DistError, OSError) as e:
            print(f'ember run: node {ns.node_rank} cannot reach the rendezvous at '
                  f'{ns.master_addr}:{ns.master_port}: {e}', file=sys.stderr)
            return 1
    program = (['-m', ns.module] if ns.module is not None else ['--', ns.target]) + ns.args
    # the children import this same ember, wherever it was found
    home = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    boot = (f'import sys; sys.path.insert(0, {home!r}); from ember._cli import main; '
            'sys.exit(main(sys.argv[1:]))')
    cmd = [exe, '-n', str(n), sys.executable, '-c', boot, 'run', *program]
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait() if store is None else _watch(proc, store, ns)
    except KeyboardInterrupt:   # mpiexec passes the interrupt on to the processes
        try:
            return proc.wait(timeout=10) or 130
        except subprocess.TimeoutExpired:
            proc.kill()
            return 130


_JOIN_TIMEOUT = 900     # seconds a node waits for the rendezvous, as torchrun's default
_FAILED, _DONE = 'ember_run/failed', 'ember_run/done'


def _watch(proc, store, ns):
    """Wait for this node's job while watching the other nodes' through the store: a node whose
    job fails ends every other node's, so no node waits forever in a collective."""
    while (rc := proc.poll()) is None:
        if store.check([_FAILED]):
            proc.terminate()
            print(f'ember run: node {store.get(_FAILED).decode()} failed; ending the processes '
                  f'of node {ns.node_rank}', file=sys.stderr)
            return proc.wait() or 1
        time.sleep(0.2)
    if rc:
        store.set(_FAILED, str(ns.node_rank))
    store.add(_DONE, 1)
    if ns.node_rank == 0:
        # node 0 serves the store: it stays until every node has finished (or a minute more)
        deadline = time.monotonic() + 60
        while int(store.get(_DONE)) < ns.nnodes and not store.check([_FAILED]) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
    return rc


def _from_mpi_env():
    """(rank, world size, local rank, local size) from an MPI launcher's variables, or None."""
    e = os.environ
    if 'PMI_RANK' in e and 'PMI_SIZE' in e:   # MPICH's hydra, Intel MPI
        rank, size = int(e['PMI_RANK']), int(e['PMI_SIZE'])
        local = e.get('MPI_LOCALRANKID')
        nlocal = e.get('MPI_LOCALNRANKS')
    elif 'OMPI_COMM_WORLD_RANK' in e:   # Open MPI
        rank, size = int(e['OMPI_COMM_WORLD_RANK']), int(e['OMPI_COMM_WORLD_SIZE'])
        local = e.get('OMPI_COMM_WORLD_LOCAL_RANK')
        nlocal = e.get('OMPI_COMM_WORLD_LOCAL_SIZE')
    else:
        return None
    if local is None or nlocal is None:
        nlocal = int(e.get(_MARK, size))
        local = rank % nlocal
    return rank, size, int(local), int(nlocal)


def set_torchrun_env():
    """In a process an MPI launcher started: torchrun's variables, from MPI's."""
    got = _from_mpi_env()
    if got is None or 'RANK' in os.environ and 'WORLD_SIZE' in os.environ:
        return
    rank, size, local, nlocal = got
    nnodes = int(os.environ.get('EMBER_NNODES', '1'))
    if nnodes > 1:      # this node's job is one of several: torchrun's numbering, node by node
        node = int(os.environ['EMBER_NODE_RANK'])
        rank, size = node * nlocal + local, nnodes * nlocal
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(size), LOCAL_RANK=str(local),
                      LOCAL_WORLD_SIZE=str(nlocal), GROUP_RANK=str(rank // max(nlocal, 1)),
                      ROLE_RANK=str(rank), ROLE_WORLD_SIZE=str(size))
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')


def end_job_on_failure(rc):
    """A rank of several failed: end every rank now (MPI abort) instead of leaving the others
    waiting for it."""
    got = _from_mpi_env()
    if got is None or got[1] < 2:
        return
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:   # noqa: BLE001 -- a closed stream must not stop the abort
            pass
    try:
        # the joined nodes' communicator when there is one: MPI then ends them all
        (_WORLD or [_mpi().COMM_WORLD])[0].Abort(rc if 0 < rc < 256 else 1)
    except RuntimeError:   # no MPI to abort through: the launcher sees the exit status
        pass
