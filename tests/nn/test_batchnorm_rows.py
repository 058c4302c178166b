"""BatchNorm1d over (N, C): the rows path of _ops/norm.py, compiled (src/bn_rows.c) and NumPy.

Both paths must give the same bits (the kernels reproduce the NumPy code operation for
operation), and torch's values within float rounding: outputs, running statistics and every
gradient, in training and evaluation, with and without the affine parameters and the running
statistics.
"""
import numpy as np
import pytest
import torch

import ember
from ember import _kernels

CONFIGS = [dict(), dict(affine=False), dict(track_running_stats=False),
           dict(momentum=0.3, eps=1e-3), dict(momentum=None)]


def _step(lib, x, g, config, dtype, train=True):
    lib.manual_seed(0)
    bn = lib.nn.BatchNorm1d(x.shape[1], **config).to(dtype)
    if bn.affine:
        with lib.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    bn.train(train)
    xt = lib.from_numpy(x.copy()).requires_grad_()
    outs = []
    for _ in range(2):  # two steps: the second reads the running statistics the first wrote
        y = bn(xt)
        y.backward(lib.from_numpy(g.copy()))
        outs.append(y.detach().numpy().copy())
    outs.append(xt.grad.numpy().copy())
    if bn.affine:
        outs += [bn.weight.grad.numpy().copy(), bn.bias.grad.numpy().copy()]
    if bn.running_mean is not None:
        outs += [bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()]
    return outs


# (evaluation without running statistics normalises by the batch: the training case again)
MODES = [(config, train) for config in CONFIGS for train in (True, False)
         if train or config.get('track_running_stats', True)]


@pytest.mark.parametrize('config,train', MODES)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape', [(128, 256), (2, 5), (33, 17)])
def test_rows_paths_same_bits_and_torch(config, train, dtype, shape):
    rng = np.random.default_rng(shape[0])
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    edt = getattr(ember, dtype)
    with _kernels.disabled():
        numpy_path = _step(ember, x, g, config, edt, train)
    compiled = _step(ember, x, g, config, edt, train)
    for a, b in zip(compiled, numpy_path):
        np.testing.assert_array_equal(a, b)
    want = _step(torch, x, g, config, getattr(torch, dtype), train)
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == 'float32' else dict(rtol=1e-10, atol=1e-12)
    assert len(compiled) == len(want)
    for a, b in zip(compiled, want):
        np.testing.assert_allclose(a, b, **tol)


def test_rows_kernels_are_taken(took):
    from ember._ops import norm
    if not _kernels.available():
        pytest.skip(f'no compiled kernels: {_kernels.why_not()}')
    seen = took(norm, '_rows_kernels')
    bn = ember.nn.BatchNorm1d(8)
    bn(ember.randn(4, 8, requires_grad=True)).backward(ember.randn(4, 8))
    bn(ember.randn(4, 8).double().float()[:, ::1])
    assert seen and all(seen)
    seen.clear()
    bn(ember.randn(8, 4).t())  # a transposed (non-contiguous) batch: the NumPy code
    assert seen == [False]


def test_rows_strided_running_stats():
    # running statistics that are strided views: the kernel computes the batch, the update of
    # the statistics is NumPy's (_running_update), in place in the views
    x = np.random.default_rng(1).standard_normal((16, 6)).astype(np.float32)
    outs = []
    for lib in (ember, torch):
        bn = lib.nn.BatchNorm1d(6)
        bn.running_mean = lib.zeros(12)[::2]
        bn.running_var = lib.ones(12)[::2]
        y = bn(lib.from_numpy(x.copy()))
        outs.append((y.detach().numpy(), bn.running_mean.numpy(), bn.running_var.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not outs[0][1].flags.c_contiguous  # still the view
