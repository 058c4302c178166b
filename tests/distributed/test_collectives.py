"""Every collective on 2 real processes: ember's (MPI) against torch's gloo backend, case by
case (values, dtypes, shapes, errors), from the same program (collective_cases.py)."""
import os
import subprocess
import sys
import textwrap

import pytest

from _procs import HERE, run_both
from _subproc import env

CASES = os.path.join(HERE, 'collective_cases.py')

# Where torch's gloo answer is not torch's own contract, ember is held to the contract:
# - gloo reduces a strided view as if it were contiguous memory from its first element
#   (torch 2.13: `all_reduce(base[:, 1])` changes base[0, 1:4]); ember reduces the view's
#   elements, checked against NumPy below;
# - gloo refuses the stacked (world_size, *shape) output that all_gather_into_tensor's
#   documentation allows (NCCL takes it); ember takes it, checked below.
CONTRACT_NOT_GLOO = {'all_reduce_scalar_and_view', 'all_gather_into_tensor_cat_and_stack'}


@pytest.fixture(scope='module')
def both(tmp_path_factory):
    return run_both(tmp_path_factory, CASES)


def test_every_collective_as_torch_gloo(both):
    torch_ranks, ember_ranks = both
    assert len(torch_ranks[0]) > 100
    for r, (want, got) in enumerate(zip(torch_ranks, ember_ranks)):
        assert set(want) == set(got)
        for name in want:
            if name in CONTRACT_NOT_GLOO:
                continue
            assert got[name] == want[name], (r, name)


def test_strided_view_and_stacked_gather(both):
    _, ember_ranks = both
    for r, got in enumerate(ember_ranks):
        s, base = got['all_reduce_scalar_and_view'][1]
        assert s[3] == 3.5   # MAX of 2.5 and 3.5
        # base = arange(12).reshape(3, 4) + 10 * rank + 1; only column 1 is summed
        for i in range(3):
            for j in range(4):
                mine = 4 * i + j + 10 * r + 1
                want = (4 * i + j + 1) + (4 * i + j + 11) if j == 1 else mine
                assert base[3][i][j] == want
        cat, stack = got['all_gather_into_tensor_cat_and_stack'][1]
        rows = [[[k + 3 * i + 10 * q + 1 for k in range(3)] for i in range(2)] for q in range(2)]
        assert cat[3] == rows[0] + rows[1]
        assert stack[3] == rows


def test_singleton_world_without_launcher(tmp_path):
    """A plain `python script.py` is a world of one (MPI singleton init)."""
    prog = tmp_path / 'one.py'
    prog.write_text(textwrap.dedent('''
        import ember as torch
        import ember.distributed as dist
        dist.init_process_group(backend='gloo', init_method='env://')
        t = torch.arange(4.)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        w = dist.broadcast(t, src=0, async_op=True)
        w.wait()
        print(dist.get_rank(), dist.get_world_size(), t.tolist(), w.is_completed())
        dist.destroy_process_group()
        print(dist.is_initialized())
    '''))
    p = subprocess.run([sys.executable, str(prog)], env=env(), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split('\n')[:2] == ['0 1 [0.0, 1.0, 2.0, 3.0] True', 'False']


def test_world_size_mismatch_is_refused(tmp_path):
    prog = tmp_path / 'two.py'
    prog.write_text('import ember.distributed as d\nd.init_process_group("gloo", '
                    'world_size=2, rank=0)\n')
    p = subprocess.run([sys.executable, str(prog)], env=env(), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1
    assert 'world_size=2 was asked for, but MPI started 1 process' in p.stderr
    assert '--nproc-per-node 2' in p.stderr
