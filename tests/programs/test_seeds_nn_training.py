"""Seed 001: the two-layer net trained by hand (nn.Sequential + MSELoss + manual SGD)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
from _seed_helpers import require, to_np  # noqa: E402


def train(lib, steps):
    N, D_in, H, D_out = 64, 1000, 100, 10
    lib.manual_seed(0)
    x = lib.randn(N, D_in)
    y = lib.randn(N, D_out)
    model = lib.nn.Sequential(lib.nn.Linear(D_in, H), lib.nn.ReLU(), lib.nn.Linear(H, D_out))
    init = [to_np(p) for p in model.parameters()]
    loss_fn = lib.nn.MSELoss(reduction='sum')
    learning_rate = 1e-4
    losses = []
    for _ in range(steps):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    return init, losses, model


def test_manual_sgd_training_matches():
    require('nn.MSELoss', 'nn.ReLU')
    it, lt, mt = train(torch, 30)
    ie, le, me = train(ember, 30)
    for a, b in zip(ie, it):
        np.testing.assert_array_equal(a, b)  # same seed, bitwise-equal initial weights
    np.testing.assert_allclose(le, lt, rtol=2e-4)
    assert le[-1] < le[0]
    assert repr(me) == repr(mt)
    for pe, pt in zip(me.parameters(), mt.parameters()):
        np.testing.assert_allclose(to_np(pe), to_np(pt), rtol=1e-3, atol=1e-5)


def test_linear_weight_layout():
    for lib in (torch, ember):
        m = lib.nn.Linear(20, 30)
        x = lib.randn(128, 20)
        assert tuple(m.weight.shape) == (30, 20) and tuple(m.bias.shape) == (30,)
        assert tuple(m(x).shape) == (128, 30)
        assert m.weight.requires_grad and m.bias.requires_grad
