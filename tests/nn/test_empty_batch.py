"""A batch of 0 samples flows through every layer as in torch: same output shape and dtype,
same gradient shapes (zeros), or torch's error where torch refuses (no identity)."""
import warnings

import numpy as np
import pytest
import torch

import ember

# (module factory, input shape); modules are built with the same seed in both libraries
LAYERS = [
    (lambda n: n.Conv1d(3, 4, 3), (0, 3, 5)),
    (lambda n: n.Conv2d(3, 4, 3, padding=1), (0, 3, 5, 5)),
    (lambda n: n.Conv2d(4, 4, 3, groups=2, stride=2), (0, 4, 5, 5)),
    (lambda n: n.Conv3d(3, 4, 3), (0, 3, 5, 5, 5)),
    (lambda n: n.ConvTranspose1d(3, 4, 3), (0, 3, 5)),
    (lambda n: n.ConvTranspose2d(3, 4, 3, stride=2), (0, 3, 5, 5)),
    (lambda n: n.ConvTranspose3d(3, 4, 3), (0, 3, 5, 5, 5)),
    (lambda n: n.MaxPool1d(2), (0, 3, 4)),
    (lambda n: n.MaxPool2d(2), (0, 3, 4, 4)),
    (lambda n: n.MaxPool2d(2, return_indices=True), (0, 3, 4, 4)),
    (lambda n: n.MaxPool3d(2), (0, 3, 4, 4, 4)),
    (lambda n: n.AvgPool1d(2), (0, 3, 4)),
    (lambda n: n.AvgPool2d(2), (0, 3, 4, 4)),
    (lambda n: n.AvgPool3d(2), (0, 3, 4, 4, 4)),
    (lambda n: n.AdaptiveAvgPool1d(2), (0, 3, 4)),
    (lambda n: n.AdaptiveAvgPool2d((1, 1)), (0, 3, 4, 4)),
    (lambda n: n.AdaptiveAvgPool3d(2), (0, 3, 4, 4, 4)),
    (lambda n: n.AdaptiveMaxPool1d(2), (0, 3, 4)),
    (lambda n: n.AdaptiveMaxPool2d(2), (0, 3, 4, 4)),
    (lambda n: n.AdaptiveMaxPool3d(2), (0, 3, 4, 4, 4)),
    (lambda n: n.LPPool1d(2, 2), (0, 3, 4)),
    (lambda n: n.LPPool2d(2, 2), (0, 3, 4, 4)),
    (lambda n: n.BatchNorm1d(3), (0, 3)),
    (lambda n: n.BatchNorm1d(3), (0, 3, 4)),
    (lambda n: n.BatchNorm2d(3), (0, 3, 4, 4)),
    (lambda n: n.BatchNorm2d(3).eval(), (0, 3, 4, 4)),
    (lambda n: n.BatchNorm3d(3), (0, 3, 2, 2, 2)),
    (lambda n: n.GroupNorm(2, 4), (0, 4, 3, 3)),
    (lambda n: n.InstanceNorm1d(3), (0, 3, 4)),
    (lambda n: n.InstanceNorm3d(3), (0, 3, 2, 2, 2)),
    (lambda n: n.LayerNorm(4), (0, 4)),
    (lambda n: n.LayerNorm(0), (2, 0)),
    (lambda n: n.Linear(3, 4), (0, 3)),
    (lambda n: n.Softmax(1), (0, 3)),
    (lambda n: n.Softmax(1), (3, 0)),
    (lambda n: n.LogSoftmax(1), (3, 0)),
    (lambda n: n.LogSoftmax(-1), (0, 3)),
    (lambda n: n.ReLU(), (0, 3)),
    (lambda n: n.Flatten(), (0, 3, 4)),
    (lambda n: n.Unfold(2), (0, 3, 4, 4)),
]


def _run_layer(lib, make, shape):
    lib.manual_seed(0)
    layer = make(lib.nn)
    x = lib.zeros(shape, requires_grad=True)
    y = layer(x)
    y = y[0] if isinstance(y, tuple) else y
    y.sum().backward()
    grads = [x.grad] + [p.grad for p in layer.parameters()]
    return layer, y, grads


@pytest.mark.parametrize('make,shape', LAYERS)
def test_layer_empty_batch(make, shape):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        t_layer, ty, tg = _run_layer(torch, make, shape)
        e_layer, ey, eg = _run_layer(ember, make, shape)
    assert tuple(ey.shape) == tuple(ty.shape)
    assert str(ey.dtype) == str(ty.dtype)
    assert len(eg) == len(tg)
    for a, b in zip(eg, tg):
        assert (a is None) == (b is None)
        if a is not None:
            assert tuple(a.shape) == tuple(b.shape)
            np.testing.assert_array_equal(a._data, b.numpy())
    # running statistics are left alone by an empty batch
    for name, buf in t_layer.named_buffers():
        np.testing.assert_array_equal(dict(e_layer.named_buffers())[name]._data, buf.numpy())


LOSSES = [
    "F.cross_entropy(x, T.zeros(0, dtype=T.long))",
    "F.cross_entropy(x, T.zeros(0, dtype=T.long), reduction='sum')",
    "F.cross_entropy(x, T.zeros(0, dtype=T.long), reduction='none')",
    "F.nll_loss(x, T.zeros(0, dtype=T.long))",
    "F.mse_loss(x, T.zeros(0, 3))",
    "F.l1_loss(x, T.zeros(0, 3), reduction='sum')",
    "F.smooth_l1_loss(x, T.zeros(0, 3))",
    "F.binary_cross_entropy_with_logits(x, T.zeros(0, 3))",
    "F.kl_div(x, T.zeros(0, 3), reduction='batchmean')",
]

REDUCTIONS = [
    "x.sum()", "x.sum(0)", "x.sum(1)", "x.mean()", "x.mean(0)", "x.mean(1)", "x.prod()",
    "x.prod(0)", "x.max(1)[0]", "x.min(1)[0]", "x.amax(1)", "x.amin(1)", "x.std()",
    "x.std(0)", "x.var(1)", "x.logsumexp(0)", "x.logsumexp(1)", "x.norm()", "x.norm(dim=0)",
    "x.norm(p=1, dim=1)", "x.median(1)[0]", "x.cumsum(0)", "x.sort(0)[0]",
    "x.aminmax(dim=1)[0]",
    # no identity: torch's errors
    "x.max()", "x.max(0)", "x.min(0)", "x.amax(0)", "x.amin()", "x.argmax()", "x.argmax(0)",
    "x.argmin(0)", "x.aminmax()", "x.median(0)", "x.kthvalue(1, 0)", "x.mode(0)",
    "x.norm(p=float('inf'), dim=0)", "T.linalg.vector_norm(x, ord=float('inf'))",
    "T.linalg.vector_norm(x, ord=float('-inf'), dim=0)",
]


def _run_expr(lib, expr):
    x = lib.zeros(0, 3, requires_grad=True)
    try:
        y = eval(expr, {'T': lib, 'F': lib.nn.functional, 'x': x})
    except Exception as e:  # noqa: BLE001 - compared below
        return 'raised', e, None
    y.sum().backward()
    return 'ok', y, x.grad


@pytest.mark.parametrize('expr', LOSSES + REDUCTIONS)
def test_functional_empty(expr):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        tk, ty, tg = _run_expr(torch, expr)
        ek, ey, eg = _run_expr(ember, expr)
    assert tk == ek, (expr, ty, ey)
    if tk == 'raised':
        assert type(ey) is type(ty) and str(ey) == str(ty), (ty, ey)
        return
    assert tuple(ey.shape) == tuple(ty.shape) and str(ey.dtype) == str(ty.dtype)
    np.testing.assert_array_equal(ey.detach()._data, ty.detach().numpy())
    assert tuple(eg.shape) == tuple(tg.shape)
