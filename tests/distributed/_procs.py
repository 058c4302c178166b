"""Starting real 2-process jobs for the distributed tests: ember's on MPI (mpiexec or
`ember run --nproc-per-node`), torch's on its gloo backend over localhost TCP."""
import os
import pickle
import shutil
import socket
import subprocess
import sys
import sysconfig

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from _subproc import env  # noqa: E402

pytest.importorskip('mpi4py', reason='the distributed extra (pip install "ember[distributed]")')


def mpiexec():
    exe = os.path.join(sysconfig.get_path('scripts'), 'mpiexec')
    return exe if os.path.exists(exe) else shutil.which('mpiexec')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_ember(script, *args, n=2, cwd, timeout=60, **extra_env):
    """`mpiexec -n N python script args` with this checkout's ember; the CompletedProcess."""
    cmd = [mpiexec(), '-n', str(n), sys.executable, str(script), *map(str, args)]
    return subprocess.run(cmd, cwd=str(cwd), env=env(OMP_NUM_THREADS='1', **extra_env),
                          capture_output=True, text=True, timeout=timeout)


def run_torch(script, *args, n=2, cwd, timeout=90):
    """The same program on torch: n processes with torchrun's variables, gloo over TCP."""
    port = free_port()
    procs = [subprocess.Popen([sys.executable, str(script), *map(str, args)], cwd=str(cwd),
                              env=env(RANK=str(r), WORLD_SIZE=str(n), LOCAL_RANK=str(r),
                                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                                      OMP_NUM_THREADS='1'),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in range(n)]
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        outs.append((p.returncode, out, err))
    return outs


def load_ranks(directory, n=2):
    out = []
    for r in range(n):
        with open(os.path.join(str(directory), f'rank{r}.pkl'), 'rb') as f:
            out.append(pickle.load(f))
    return out


def run_both(tmp_path_factory, script):
    """Run `script` on 2 ranks under torch (gloo) and under ember (MPI); the ranks' results,
    (torch's, ember's)."""
    t = tmp_path_factory.mktemp('torch')
    e = tmp_path_factory.mktemp('ember')
    for rc, out, err in run_torch(script, 'torch', t, cwd=t):
        assert rc == 0, err[-3000:]
    p = run_ember(script, 'ember', e, cwd=e)
    assert p.returncode == 0, p.stderr[-3000:]
    return load_ranks(t), load_ranks(e)


def run_nodes(launcher, *args, nnodes=2, nproc=2, cwd, timeout=180):
    """`launcher --nnodes M --node-rank R ... args` for every R at once, as M machines would
    start it (here all on localhost); each node's (returncode, stderr)."""
    port = free_port()
    procs = [subprocess.Popen([*launcher, '--nnodes', str(nnodes), '--node-rank', str(r),
                               '--nproc-per-node', str(nproc), '--master-addr', '127.0.0.1',
                               '--master-port', str(port), *map(str, args)],
                              cwd=str(cwd), env=env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
             for r in range(nnodes)]
    outs = []
    try:
        for p in procs:
            outs.append((p.wait(timeout=timeout), p.stderr.read()))
    finally:
        for p in procs:
            p.kill()
            p.stderr.close()
    return outs
