"""nn.SyncBatchNorm in one process (no process group): torch's CPU build normalises like
BatchNorm; convert_sync_batchnorm swaps the layers, sharing parameters and buffers."""
import numpy as np
import pytest
import torch

import ember


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.BatchNorm2d(3), lib.nn.ReLU(),
                             lib.nn.Flatten(), lib.nn.Linear(3 * 4 * 4, 4),
                             lib.nn.BatchNorm1d(4, affine=False))


def test_convert_and_train_match_torch():
    x = np.random.default_rng(0).normal(size=(5, 2, 6, 6))  # float64: no rounding drift
    res = []
    for lib in (torch, ember):
        net = _net(lib).double()
        if lib is ember:
            net.load_state_dict({k: ember.tensor(v.numpy()) for k, v in ref_state.items()})
        else:
            ref_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        bn_weight = net[1].weight
        sync = lib.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        assert sync[1].weight is bn_weight and type(sync[1]).__name__ == 'SyncBatchNorm'
        opt = lib.optim.SGD(sync.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            out = sync(lib.tensor(x))
            (out ** 2).mean().backward()
            opt.step()
        sync.eval()
        res.append((repr(sync), [v.detach().numpy() for v in sync.state_dict().values()],
                    sync(lib.tensor(x)).detach().numpy()))
    assert res[0][0] == res[1][0]
    for a, b in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res[1][2], res[0][2], rtol=1e-10, atol=1e-12)


def test_checks_match_torch():
    msgs = []
    for lib in (torch, ember):
        m = lib.nn.SyncBatchNorm(3, momentum=None, process_group=None)
        assert m.process_group is None and list(m.state_dict()) == [
            'weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
        for bad in (lib.ones(3), lib.ones(2, 0, 4)):
            with pytest.raises(ValueError) as e:
                lib.nn.SyncBatchNorm(0 if bad.dim() == 3 else 3)(bad)
            msgs.append(str(e.value))
    assert msgs[:2] == msgs[2:]
