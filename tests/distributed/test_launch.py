"""`ember run --nproc-per-node N`: torchrun's environment for an unmodified program, and a
failing rank that ends the whole job (never a hang: the subprocess timeout is the guard)."""
import subprocess
import sys

from _procs import mpiexec, run_nodes
from _subproc import env, write

TORCHRUN_PROGRAM = '''
    import os, sys
    import torch
    import torch.distributed as dist

    ddp = int(os.environ.get("RANK", -1)) != -1
    assert ddp, "not launched as torchrun launches"
    dist.init_process_group(backend="gloo")
    rank = dist.get_rank()
    t = torch.ones(2) * (rank + 1)
    dist.all_reduce(t)
    keys = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
    line = ("rank", rank, [os.environ[k] for k in keys], t.tolist(), sys.argv[1:],
            dist.is_torchelastic_launched(), os.environ["OMP_NUM_THREADS"])
    # a file per rank: the launcher interleaves the ranks' stdout
    with open(f"rank{rank}.txt", "w") as f:
        f.write(" ".join(map(str, line)))
    if "fail" in sys.argv and rank == int(sys.argv[-1]):
        raise ValueError(f"rank {rank} fails")
    if "exit" in sys.argv and rank == 1:
        sys.exit(3)
    dist.barrier()     # the other rank waits here for the failed one
    dist.destroy_process_group()
'''


def lines(directory):
    return [(directory / f'rank{r}.txt').read_text() for r in (0, 1)]


def ember_run(*args, cwd):
    return subprocess.run([sys.executable, '-m', 'ember', 'run', *args], cwd=str(cwd),
                          env=env(), capture_output=True, text=True, timeout=60)


def test_nproc_per_node_sets_torchruns_environment(tmp_path):
    write(tmp_path, 'train.py', TORCHRUN_PROGRAM)
    p = ember_run('--nproc-per-node', '2', '--master-port', '29517', 'train.py', 'a', '-x',
                  cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert lines(tmp_path) == [
        f"rank {r} ['{r}', '2', '{r}', '2', '127.0.0.1', '29517'] [3.0, 3.0] ['a', '-x'] "
        "True 1" for r in (0, 1)]
    assert 'Setting OMP_NUM_THREADS environment variable for each process to be 1' in p.stderr


def test_failing_rank_ends_the_job(tmp_path):
    write(tmp_path, 'train.py', TORCHRUN_PROGRAM)
    # rank 1 raises while rank 0 waits for it in a barrier
    p = ember_run('--nproc_per_node=2', 'train.py', 'fail', '1', cwd=tmp_path)
    # the job ended (within ember_run's timeout: rank 0 could only leave its barrier through
    # the abort) and failed
    assert p.returncode != 0
    # the failing rank's traceback starts the output; under load MPI's launcher may cut its
    # last lines when the abort takes the processes down (MPI's own abort banner among them:
    # a CI run lost it once)
    assert 'Traceback (most recent call last)' in p.stderr and 'train.py' in p.stderr


def test_nonzero_exit_of_a_rank_ends_the_job(tmp_path):
    write(tmp_path, 'train.py', TORCHRUN_PROGRAM)
    p = ember_run('--nproc-per-node', '2', 'train.py', 'exit', cwd=tmp_path)
    assert p.returncode != 0


def test_plain_mpiexec_over_ember_run(tmp_path):
    """`mpiexec -n 2 ember run train.py`: each ember run sets torchrun's variables itself."""
    write(tmp_path, 'train.py', TORCHRUN_PROGRAM)
    p = subprocess.run([mpiexec(), '-n', '2', sys.executable, '-m', 'ember', 'run', 'train.py'],
                       cwd=str(tmp_path), env=env(OMP_NUM_THREADS='1'), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert lines(tmp_path) == [f"rank {r} ['{r}', '2', '{r}', '2', '127.0.0.1', '29500'] "
                               "[3.0, 3.0] [] False 1" for r in (0, 1)]


def test_launcher_options_are_checked(tmp_path):
    write(tmp_path, 'train.py', 'print("ran")\n')
    p = ember_run('--nproc-per-node', '2', '--nnodes', '2', '--node-rank', '2', 'train.py',
                  cwd=tmp_path)
    assert p.returncode == 2 and '--node-rank must be in [0, --nnodes)' in p.stderr
    assert 'ran' not in p.stdout
    p = ember_run('--nproc-per-node', '0', 'train.py', cwd=tmp_path)
    assert p.returncode == 2 and 'at least 1' in p.stderr
    p = ember_run('--nproc-per-node', '1', 'train.py', cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == 'ran\n'


EMBER_RUN = [sys.executable, '-m', 'ember', 'run']
TORCHRUN = [sys.executable, '-m', 'torch.distributed.run']


def _without_port(text):
    return text.rsplit("', '", 1)[0]    # each launch has a port of its own: the rest must agree


def test_two_nodes_as_torchrun(tmp_path):
    """Two `ember run --nnodes 2 --node-rank R` (as on two machines) make one job of 4 ranks,
    numbered and set up as torchrun's two nodes are."""
    got = {}
    for name, launcher in (('torch', TORCHRUN), ('ember', EMBER_RUN)):
        d = tmp_path / name
        write(d, 'train.py', TORCHRUN_PROGRAM)
        for rc, err in run_nodes(launcher, 'train.py', cwd=d):
            assert rc == 0, err[-3000:]
        got[name] = [_without_port((d / f'rank{r}.txt').read_text()) for r in range(4)]
    assert got['ember'] == got['torch']
    assert got['ember'][3].startswith("rank 3 ['3', '4', '1', '2', '127.0.0.1")


def test_a_failing_node_ends_every_node(tmp_path):
    write(tmp_path, 'train.py', TORCHRUN_PROGRAM)
    # the last rank (node 1's second process) raises while the others wait in a barrier
    outs = run_nodes(EMBER_RUN, 'train.py', 'fail', '3', cwd=tmp_path)
    assert [rc != 0 for rc, _ in outs] == [True, True]
    assert 'ValueError: rank 3 fails' in outs[1][1]
