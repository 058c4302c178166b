"""A whole training loop (Linear-Tanh-Linear, CrossEntropyLoss, Adam + StepLR) against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _train(lib, X, y, W1, W2):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    with lib.no_grad():
        model[0].weight.copy_(lib.from_numpy(W1.copy()))
        model[2].weight.copy_(lib.from_numpy(W2.copy()))
        model[0].bias.zero_()
        model[2].bias.zero_()
    crit = nn.CrossEntropyLoss(label_smoothing=0.05)
    opt = lib.optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-3)
    sched = lib.optim.lr_scheduler.StepLR(opt, 10, 0.5)
    Xt, yt = lib.from_numpy(X), lib.from_numpy(y)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = crit(model(Xt), yt)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in model.parameters()]


def test_training_loop_matches_torch():
    r = np.random.default_rng(0)
    X = r.standard_normal((32, 4))
    y = r.integers(0, 3, 32)
    W1, W2 = r.standard_normal((8, 4)) * 0.5, r.standard_normal((3, 8)) * 0.5
    el, ep = _train(ember, X, y, W1, W2)
    tl, tp = _train(torch, X, y, W1, W2)
    np.testing.assert_allclose(el, tl, rtol=1e-9)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-10)
