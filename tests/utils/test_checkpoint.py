"""ember.utils.checkpoint against torch: the same values, gradients and random stream."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _run(lib, reentrant, sequential):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Dropout(0.3),
                            lib.nn.Linear(8, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
    x = lib.randn(5, 4, requires_grad=True)
    from importlib import import_module
    cp = import_module(lib.__name__ + '.utils.checkpoint')
    if sequential:
        y = cp.checkpoint_sequential(net, 2, x, use_reentrant=reentrant)
    else:
        y = cp.checkpoint(net, x, use_reentrant=reentrant)
    y.pow(2).sum().backward()
    after = lib.rand(3)  # the generator stream continues where torch's does
    return [y.detach().numpy(), x.grad.numpy(), net[0].weight.grad.numpy(), after.numpy()]


@pytest.mark.parametrize('reentrant', [True, False])
@pytest.mark.parametrize('sequential', [True, False])
def test_checkpoint_matches_torch(reentrant, sequential):
    for e, t in zip(_run(ember, reentrant, sequential), _run(torch, reentrant, sequential)):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


def test_reentrant_without_grad_inputs_and_warnings():
    from ember.utils.checkpoint import checkpoint
    lin = ember.nn.Linear(2, 2)
    with pytest.warns(UserWarning, match='None of the inputs have requires_grad=True'):
        y = checkpoint(lin, ember.ones(1, 2), use_reentrant=True)
    assert not y.requires_grad  # as torch: parameters alone carry no gradient here
    with pytest.warns(UserWarning, match='use_reentrant parameter should be passed'):
        checkpoint(lin, ember.ones(1, 2, requires_grad=True))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert checkpoint(lin, ember.ones(1, 2), use_reentrant=False).requires_grad
    with pytest.raises(ValueError, match='Unexpected keyword arguments: foo'):
        checkpoint(lin, ember.ones(1, 2), use_reentrant=True, foo=1)
