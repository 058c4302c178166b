"""Seed 001's loop prints `loss.item()` in full (17 significant digits): compare every line.

Within a tolerance it matches; bit for bit it does not yet (see the strict xfails: float32
reductions and GEMMs sum in a different order than torch's kernels)."""
import numpy as np
import pytest

from _harness import compare, ember, torch

PROGRAM = r"""
import torch
N, D_in, H, D_out = 64, 1000, 100, 10
torch.manual_seed(0)
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)
model = torch.nn.Sequential(torch.nn.Linear(D_in, H),
                            torch.nn.ReLU(),
                            torch.nn.Linear(H, D_out))
loss_fn = torch.nn.MSELoss(reduction='sum')
learning_rate = 1e-4
for t in range(20):
    y_pred = model(x)
    loss = loss_fn(y_pred, y)
    print(t, loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
print(loss)
print(torch.nn.MSELoss()(y_pred, y).item(), torch.nn.L1Loss()(y_pred, y).item())
print(torch.nn.SmoothL1Loss()(y_pred, y).item(), torch.nn.HuberLoss()(y_pred, y).item())
print(torch.nn.BCEWithLogitsLoss()(y_pred, (y > 0).float()).item())
print(torch.nn.BCELoss()(torch.sigmoid(y_pred), (y > 0).float()).item())
print(torch.nn.KLDivLoss(reduction='batchmean')(y_pred.log_softmax(1), y.softmax(1)).item())
print(y_pred.sum().item(), y_pred.mean().item(), y_pred.std().item(), y_pred.norm().item())
"""


def test_seed001_loop_prints_losses():
    compare(PROGRAM, rtol=2e-6, atol=0, name='seed001')


@pytest.mark.xfail(strict=True, reason=(
    "ember/_ops/reduce.py sum/mean (and so loss.py's _reduce_np for mse/l1/smooth_l1 losses): "
    "NumPy's pairwise order differs from torch's vectorised cascade sum, so a float32 sum of 7 "
    "or 1000 elements can differ in the last bit and printed loss.item() values differ"))
def test_float32_sum_bitwise():
    rs = np.random.RandomState(0)
    for n in (7, 15, 100, 1000):
        a = rs.randn(n).astype(np.float32)
        b = rs.randn(n).astype(np.float32)
        assert ember.tensor(a).sum().item() == torch.tensor(a).sum().item()
        assert (ember.nn.functional.mse_loss(ember.tensor(a), ember.tensor(b)).item()
                == torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b)).item())
