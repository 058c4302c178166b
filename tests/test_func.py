"""ember.func.functional_call against torch.func.functional_call."""
import numpy as np
import pytest
import torch

import ember


def _net(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))
    return net


def _call(lib, **kw):
    net = _net(lib)
    w = lib.ones(4, 3, requires_grad=True)
    x = lib.arange(6.).reshape(2, 3)
    y = lib.func.functional_call(net, {'0.weight': w, '1.running_mean': lib.ones(4)}, (x,),
                                 **kw)
    y.sum().backward()
    return [y.detach().numpy(), w.grad.numpy(), net[0].weight.detach().numpy(),
            net[1].running_mean.numpy()]


def test_functional_call_matches_torch():
    for e, t in zip(_call(ember), _call(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


def test_functional_call_restores_and_checks():
    for lib in (ember, torch):
        net = _net(lib)
        before = net[0].weight
        lib.func.functional_call(net, ({'0.bias': lib.zeros(4)}, {'2.bias': lib.zeros(2)}),
                                 lib.ones(2, 3))
        assert net[0].weight is before and isinstance(net[0].bias, lib.nn.Parameter)
        with pytest.raises(ValueError, match='appeared in multiple dictionaries'):
            lib.func.functional_call(net, ({'0.bias': lib.zeros(4)}, {'0.bias': lib.zeros(4)}),
                                     lib.ones(2, 3))
        with pytest.raises(RuntimeError, match="Missing key"):
            lib.func.functional_call(net, {'0.bias': lib.zeros(4)}, lib.ones(2, 3),
                                     strict=True)


def test_tied_weights():
    for lib in (ember, torch):
        emb = lib.nn.Embedding(5, 3)
        head = lib.nn.Linear(3, 5, bias=False)
        head.weight = emb.weight
        net = lib.nn.Sequential(emb, head)
        out = lib.func.functional_call(net, {'0.weight': lib.zeros(5, 3)},
                                       lib.tensor([1, 2]))
        assert float(out.abs().sum()) == 0.0
        with pytest.raises(ValueError, match='which are tied'):
            lib.func.functional_call(net, {'0.weight': lib.zeros(5, 3),
                                           '1.weight': lib.ones(5, 3)}, lib.tensor([1]))
