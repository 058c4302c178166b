"""DistributedDataParallel on 2 real processes (ddp_cases.py): the same final weights as
torch's DDP on gloo, as one process training on the whole batch, under no_sync and with
parameters some ranks leave unused; DistributedSampler's shares as torch's."""
import os

import numpy as np
import pytest

from _procs import HERE, run_both

CASES = os.path.join(HERE, 'ddp_cases.py')
MODELS = ('mlp', 'cnn', 'gpt')


@pytest.fixture(scope='module')
def both(tmp_path_factory):
    return run_both(tmp_path_factory, CASES)


def close(a, b, what, rtol=1e-5, atol=1e-6):
    """float32 training: equal up to rounding."""
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), what
        for k in a:
            close(a[k], b[k], f'{what}.{k}', rtol, atol)
    elif a is None or b is None:
        assert a is None and b is None, what
    else:
        np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol,
                                   atol=atol, err_msg=what)


@pytest.mark.parametrize('kind', MODELS)
def test_ddp_trains_as_torch_ddp(both, kind):
    torch_ranks, ember_ranks = both
    for r in range(2):
        weights, keys, sampler = ember_ranks[r][kind]
        t_weights, t_keys, t_sampler = torch_ranks[r][kind]
        close(weights, t_weights, f'rank {r} {kind}')
        assert keys == t_keys and keys[0].startswith('module.')
        assert sampler == t_sampler        # DistributedSampler's share, from the group


@pytest.mark.parametrize('kind', MODELS)
def test_two_halves_equal_one_whole_batch(both, kind):
    _, ember_ranks = both
    ref = ember_ranks[0][kind + '_reference']
    for r in range(2):
        weights = {k[len('module.'):]: v for k, v in ember_ranks[r][kind][0].items()}
        if kind == 'cnn' and r == 1:
            # rank 1's running statistics last saw its own half; its weights are rank 0's
            weights = {k: v for k, v in weights.items() if not k.startswith('bn.running')}
            ref = {k: v for k, v in ref.items() if k in weights}
        close(weights, ref, f'rank {r} {kind}')
    # the replicas' parameters were made equal at wrap time (rank 1 started from other ones)
    w0, w1 = ember_ranks[0]['mlp'][0], ember_ranks[1]['mlp'][0]
    assert all(w0[k] == w1[k] for k in w0)


def test_no_sync_accumulates_locally_then_averages(both):
    torch_ranks, ember_ranks = both
    for r in range(2):
        local, grads = ember_ranks[r]['no_sync']
        t_local, t_grads = torch_ranks[r]['no_sync']
        close(local, t_local, f'rank {r} local')
        for i, (g, tg) in enumerate(zip(grads, t_grads)):
            close(g, tg, f'rank {r} grad {i}')
    assert ember_ranks[0]['no_sync'][1] == ember_ranks[1]['no_sync'][1]
    assert ember_ranks[0]['no_sync'][0] != ember_ranks[1]['no_sync'][0]


def test_find_unused_parameters(both):
    torch_ranks, ember_ranks = both
    for r in range(2):
        for step, (g, tg) in enumerate(zip(ember_ranks[r]['unused'], torch_ranks[r]['unused'])):
            close(g, tg, f'rank {r} step {step}')
            assert g['never.weight'] is None and g['b.weight'] is not None
    assert ember_ranks[0]['unused_error'] == torch_ranks[0]['unused_error'] == (
        'Expected to have finished reduction in the prior iteration before starting a new one')


def test_communication_hooks(both):
    """torch's default hooks, a built-in hook type and a program's own hook train as torch's
    DDP with the same hooks (fp16 compression rounds the same way); Work.get_future."""
    torch_ranks, ember_ranks = both
    for r in range(2):
        got, want = ember_ranks[r]['comm_hooks'], torch_ranks[r]['comm_hooks']
        assert len(got) == len(want) == 5
        for i, ((g, g_again), (t, t_again)) in enumerate(zip(got[:4], want[:4])):
            close(g, t, f'rank {r} hook {i}')
            assert g_again == t_again == ('register_comm_hook or register_builtin_comm_hook '
                                          'can only be called once.')
        assert got[4] == want[4] == ([3.0, 3.0], True, 7)
