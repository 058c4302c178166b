"""Batch norm's compiled kernels (ember/_kernels/src/norm.c, called from ember/_ops/norm.py):
values, running statistics and every gradient as torch's on the shapes where they are taken
(C-contiguous float32/float64 with rows of 16 elements or more) and where they are not, on
the kernels and on the NumPy code (`kernel_path`), the same bits on one thread and on two
where the kernels split over image ranges, and torch's bits on the yardsticks' shapes (the
kernels round as torch's CPU kernel does)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._ops import norm

from test_norm_split import _one_thread, _run_bn, assert_same_bits, assert_torch_close

RNG = np.random.default_rng(2026)


@pytest.fixture
def kernel_calls(monkeypatch):
    """The names of the batch-norm kernels run, in call order."""
    seen = []
    real = norm._kernel_call

    def spy(name, *args):
        seen.append(name)
        return real(name, *args)
    monkeypatch.setattr(norm, '_kernel_call', spy)
    return seen


@pytest.fixture
def split_spy(monkeypatch, two_threads):
    """Two threads, the kernels split at every size; the image ranges of each split."""
    monkeypatch.setattr(norm, '_KERNEL_SPLIT_MIN', 0)
    seen = []
    run = norm.run_ranges

    def counting(fn, parts, *args, **kwargs):
        seen.append([tuple(p[:2]) for p in parts])
        return run(fn, parts, *args, **kwargs)
    monkeypatch.setattr(norm, 'run_ranges', counting)
    return seen


# small batches of the yardsticks' shapes (resnet's three stages, unet's levels), a BatchNorm1d
# over (N, C, L) and a BatchNorm3d; rows of 16 and more elements, with and without a tail of
# fewer than 32 (the kernels' lanes)
KERNEL_SHAPES = [(4, 16, 32, 32), (3, 32, 16, 16), (2, 64, 8, 8), (2, 16, 20, 20), (3, 6, 17),
                 (2, 3, 4, 5, 6)]
MODES = [(True, True, True), (False, True, True), (True, False, True), (True, True, False),
         (False, False, True)]


@pytest.mark.parametrize('shape', KERNEL_SHAPES)
@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('training,affine,track', MODES)
def test_batch_norm_kernel(shape, dt, training, affine, track, kernel_path, kernel_calls):
    x = (RNG.standard_normal(shape) * 2 + 0.5).astype(dt)
    g = RNG.standard_normal(shape).astype(dt)
    e = _run_bn(ember, x, g, dt, training, affine, track)
    if kernel_path == 'compiled':
        fwd = ['row_sums', 'row_sqdev', 'affine'] if training else ['affine']
        assert kernel_calls == fwd + ['grad_sums', 'grad_input']
    else:
        assert not kernel_calls
    assert_torch_close(e, _run_bn(torch, x, g, dt, training, affine, track), dt)


@pytest.mark.parametrize('training', [True, False])
def test_batch_norm_kernel_weight_grad_only(training, kernel_path, kernel_calls):
    """The input needs no gradient: the backward only sums."""
    x = RNG.standard_normal((3, 8, 9, 9)).astype(np.float32)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    e = _run_bn(ember, x, g, np.float32, training, True, True, x_grad=False)
    if kernel_path == 'compiled':
        assert kernel_calls[-1] == 'grad_sums' and 'grad_input' not in kernel_calls
    assert_torch_close(e, _run_bn(torch, x, g, np.float32, training, True, True, x_grad=False),
                       np.float32)


def test_batch_norm_kernel_not_taken(kernel_path, kernel_calls):
    """Short rows, a non-contiguous input, half precision, a non-contiguous gradient."""
    for shape in [(6, 5), (4, 6, 5, 3), (3, 4, 15)]:
        x = RNG.standard_normal(shape).astype(np.float32)
        assert_torch_close(_run_bn(ember, x, x, np.float32, True, True, True),
                           _run_bn(torch, x, x, np.float32, True, True, True), np.float32)
    x = RNG.standard_normal((5, 4, 8, 8)).astype(np.float32)
    g = RNG.standard_normal((4, 5, 8, 8)).astype(np.float32)
    res = []
    for lib in (ember, torch):
        m = lib.nn.BatchNorm2d(5)
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt.transpose(0, 1))
        y.backward(lib.tensor(g))
        res.append((y.detach().numpy(), xt.grad.numpy(), m.running_var.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    h = ember.nn.BatchNorm2d(4).half()(ember.tensor(x[:, :4]).half())
    assert h.dtype == ember.float16
    assert not kernel_calls
    # a contiguous input whose gradient is not: the forward runs the kernels, the backward not
    xs = RNG.standard_normal((4, 5, 8, 8)).astype(np.float32)
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(xs, requires_grad=True)
        y = lib.nn.BatchNorm2d(5)(xt)
        y.backward(lib.tensor(x).transpose(0, 1))
        res.append((y.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    if kernel_path == 'compiled':
        assert kernel_calls == ['row_sums', 'row_sqdev', 'affine']


def test_batch_norm_kernel_nonfinite(kernel_path):
    """NaN and infinity spread over their channel as in torch; other channels are untouched."""
    x = RNG.standard_normal((2, 4, 6, 6)).astype(np.float32)
    x[1, 1, 2, 3] = np.nan
    x[0, 2, 0, 0] = np.inf
    res = []
    for lib in (ember, torch):
        m = lib.nn.BatchNorm2d(4)
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt)
        y.sum().backward()
        res.append((y.detach().numpy(), xt.grad.numpy(), m.running_mean.numpy()))
    for a, b in zip(*res):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a[np.isfinite(b)], b[np.isfinite(b)], rtol=1e-4, atol=1e-4)


def test_instance_norm_kernel(kernel_path, kernel_calls):
    """instance_norm runs batch_norm on a (1, N*C, ...) view: one image, many channels."""
    x = RNG.standard_normal((3, 5, 9, 7)).astype(np.float32)
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.instance_norm(xt)
        (y * y * lib.tensor(x)).sum().backward()
        res.append((y.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4)
    assert bool(kernel_calls) == (kernel_path == 'compiled')


@pytest.mark.parametrize('shape', [(4, 16, 16, 16), (3, 8, 5, 7)])
@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('training,affine,track', MODES[:3])
def test_batch_norm_kernel_split(shape, dt, training, affine, track, kernel_path, split_spy):
    """On two threads the kernels run on the halves of the batch; the same bits as on one."""
    x = (RNG.standard_normal(shape) * 2 + 0.5).astype(dt)
    g = RNG.standard_normal(shape).astype(dt)
    two = _run_bn(ember, x, g, dt, training, affine, track)
    n = shape[0]
    if kernel_path == 'compiled':
        assert len(split_spy) == (5 if training else 3)
        assert all(r == [(0, n // 2), (n // 2, n)] for r in split_spy)
    assert_torch_close(two, _run_bn(torch, x, g, dt, training, affine, track), dt)
    split_spy.clear()
    one = _one_thread(lambda: _run_bn(ember, x, g, dt, training, affine, track))
    assert not split_spy
    assert_same_bits(one, two)


def test_batch_norm_kernel_threshold(two_threads, kernel_calls, monkeypatch):
    """At the kernels' floor a batch is split, a smaller one is not."""
    spans = []
    run = norm.run_ranges
    monkeypatch.setattr(norm, 'run_ranges', lambda fn, parts, *a, **kw: spans.append(parts) or
                        run(fn, parts, *a, **kw))
    length = norm._KERNEL_SPLIT_MIN // 64
    big = RNG.standard_normal((4, 16, length)).astype(np.float32)     # at the floor
    two = _run_bn(ember, big, big, np.float32, True, True, True)
    if not kernel_calls:
        pytest.skip(f'no compiled kernels: {ember._kernels.why_not()}')
    assert len(spans) == 5
    assert_same_bits(_one_thread(lambda: _run_bn(ember, big, big, np.float32, True, True,
                                                 True)), two)
    spans.clear()
    small = big[:, :, :length // 2].copy()
    _run_bn(ember, small, small, np.float32, True, True, True)
    assert not spans


def test_batch_norm_kernel_read_only_input(kernel_path, kernel_calls):
    """An input sharing a read-only NumPy array's memory (from_numpy) runs the kernels too."""
    x = RNG.standard_normal((3, 4, 6, 6)).astype(np.float32)
    x.setflags(write=False)
    e = ember.nn.BatchNorm2d(4)(ember.from_numpy(x))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # torch warns of non-writable arrays
        t = torch.nn.BatchNorm2d(4)(torch.from_numpy(x))
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert bool(kernel_calls) == (kernel_path == 'compiled')


@pytest.mark.parametrize('shape', [(4, 16, 32, 32), (3, 32, 16, 16), (4, 64, 8, 8)])
@pytest.mark.parametrize('training', [True, False])
def test_batch_norm_kernel_torch_bits(shape, training, kernel_calls):
    """Two steps of a BatchNorm2d on the yardsticks' float32 shapes: outputs, gradients and
    running statistics equal to torch's, bit for bit."""
    if not ember._kernels.available():
        pytest.skip(f'no compiled kernels: {ember._kernels.why_not()}')
    c = shape[1]
    x = (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    w = RNG.uniform(0.5, 1.5, c).astype(np.float32)
    b = RNG.uniform(-1, 1, c).astype(np.float32)
    res = []
    for lib in (ember, torch):
        m = lib.nn.BatchNorm2d(c)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
            m.bias.copy_(lib.tensor(b))
            m.running_var.copy_(lib.tensor(w))
        m.train(training)
        for _ in range(2):
            xt = lib.tensor(x, requires_grad=True)
            y = m(xt)
            y.backward(lib.tensor(g))
        res.append([y.detach().numpy(), xt.grad.numpy(), m.weight.grad.numpy(),
                    m.bias.grad.numpy(), m.running_mean.numpy(), m.running_var.numpy()])
    assert kernel_calls
    for k, (e, t) in enumerate(zip(*res)):
        np.testing.assert_array_equal(e, t, err_msg=str(k))
