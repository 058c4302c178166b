"""Batch norm, ReLU and the residual add split over the image ranges of the convolution before
them (ember/_ops/_conv_split.elementwise_ranges): values, running statistics and every
gradient as torch's, and the same bits on one thread and on two (each range's per-row sums
are added over the batch in image order, as the unsplit code adds them)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._ops import _conv_split, elementwise, norm

RNG = np.random.default_rng(1515)


@pytest.fixture
def every_size(monkeypatch, two_threads):
    """Two threads and no size floor: every batched contiguous array is split."""
    monkeypatch.setattr(_conv_split, '_ELEMENTWISE_MIN', 0)
    monkeypatch.setattr(elementwise, '_ELEMENTWISE_MIN', 0)
    monkeypatch.setattr(norm, '_KERNEL_SPLIT_MIN', 0)     # batch norm's compiled kernels


@pytest.fixture
def spy(monkeypatch):
    """The image ranges each split of this module's ops ran over, in call order."""
    seen = []
    run = _conv_split.run_parallel

    def counting(fn, parts, *args, **kwargs):
        seen.append([tuple(p[:2]) for p in parts])
        return run(fn, parts, *args, **kwargs)
    monkeypatch.setattr(_conv_split, 'run_parallel', counting)
    monkeypatch.setattr(norm, 'run_ranges', counting)
    return seen


def _bn_modules(lib, c, dim, affine, track):
    cls = {2: lib.nn.BatchNorm1d, 3: lib.nn.BatchNorm1d, 4: lib.nn.BatchNorm2d,
           5: lib.nn.BatchNorm3d}[dim]
    return cls(c, affine=affine, track_running_stats=track)


def _run_bn(lib, x, g, dt, training, affine, track, x_grad=True):
    """Forward values, running stats and gradients of a BatchNorm with fixed parameters."""
    c = x.shape[1]
    m = _bn_modules(lib, c, x.ndim, affine, track).to(getattr(lib, dt.__name__))
    with lib.no_grad():
        if affine:
            m.weight.copy_(lib.tensor(np.linspace(0.5, 1.5, c)))
            m.bias.copy_(lib.tensor(np.linspace(-1.0, 1.0, c)))
        if track:
            m.running_mean.copy_(lib.tensor(np.linspace(-0.2, 0.2, c)))
            m.running_var.copy_(lib.tensor(np.linspace(0.5, 2.0, c)))
    m.train(training)
    xt = lib.tensor(x, requires_grad=x_grad)
    y = m(xt)
    if x_grad or affine:
        y.backward(lib.tensor(g))
    out = {'y': y.detach().numpy()}
    if x_grad:
        out['gx'] = xt.grad.numpy()
    if affine:
        out['gw'], out['gb'] = m.weight.grad.numpy(), m.bias.grad.numpy()
    if track:
        out['rm'], out['rv'] = m.running_mean.numpy(), m.running_var.numpy()
    return out


def assert_torch_close(e, t, dt):
    assert e.keys() == t.keys()
    tol = dict(rtol=2e-4, atol=2e-4) if dt == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for k in e:
        assert e[k].dtype == t[k].dtype, k
        np.testing.assert_allclose(e[k], t[k], err_msg=k, **tol)


def assert_same_bits(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _one_thread(fn):
    before = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        return fn()
    finally:
        ember.set_num_threads(before)


BN_SHAPES = [
    (4, 3),             # BatchNorm1d on (N, C)
    (3, 5, 7),          # (N, C, L), odd batch: ranges of 1 and 2 images
    (4, 6, 5, 9),
    (2, 4, 3, 5, 6),    # BatchNorm3d
]


@pytest.mark.parametrize('shape', BN_SHAPES)
@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('training,affine,track', [(True, True, True), (False, True, True),
                                                   (True, False, True), (True, True, False),
                                                   (False, False, True)])
def test_batch_norm_split(shape, dt, training, affine, track, every_size, spy):
    x = (RNG.standard_normal(shape) * 2 + 0.5).astype(dt)
    g = RNG.standard_normal(shape).astype(dt)
    two = _run_bn(ember, x, g, dt, training, affine, track)
    n = shape[0]
    assert spy and all(r == [(0, n // 2), (n // 2, n)] for r in spy)
    assert_torch_close(two, _run_bn(torch, x, g, dt, training, affine, track), dt)
    spy.clear()
    one = _one_thread(lambda: _run_bn(ember, x, g, dt, training, affine, track))
    assert not spy
    assert_same_bits(one, two)


@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_batch_norm_split_weight_grad_only(dt, every_size, spy):
    """The input needs no gradient: only the per-channel sums run split."""
    x = RNG.standard_normal((4, 5, 6, 6)).astype(dt)
    g = RNG.standard_normal(x.shape).astype(dt)
    two = _run_bn(ember, x, g, dt, True, True, True, x_grad=False)
    assert spy
    assert_torch_close(two, _run_bn(torch, x, g, dt, True, True, True, x_grad=False), dt)
    assert_same_bits(_one_thread(lambda: _run_bn(ember, x, g, dt, True, True, True,
                                                 x_grad=False)), two)


def test_batch_norm_not_split(every_size, spy):
    """Non-contiguous input, a half-precision one and a single image stay on one thread."""
    x = RNG.standard_normal((5, 4, 6, 3)).astype(np.float32)
    g = RNG.standard_normal((4, 5, 6, 3)).astype(np.float32)
    for lib in (ember, torch):
        m = lib.nn.BatchNorm2d(5)
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt.transpose(0, 1))
        y.backward(lib.tensor(g))
        if lib is ember:
            assert not spy
            ey, egx = y.detach().numpy(), xt.grad.numpy()
        else:
            np.testing.assert_allclose(ey, y.detach().numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(egx, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    one = RNG.standard_normal((1, 4, 6, 6)).astype(np.float32)
    assert_torch_close(_run_bn(ember, one, one, np.float32, True, True, True),
                       _run_bn(torch, one, one, np.float32, True, True, True), np.float32)
    h = ember.nn.BatchNorm2d(4).half()(ember.tensor(x[:, :4]).half())
    assert not spy
    assert h.dtype == ember.float16


def test_batch_norm_threshold(two_threads, spy):
    """At the real threshold a large batch is split, a small one is not."""
    floor = max(norm._KERNEL_SPLIT_MIN, _conv_split._ELEMENTWISE_MIN)   # kernels', NumPy's
    side = int(np.ceil(np.sqrt(floor / 64)))
    x = RNG.standard_normal((4, 16, side, side)).astype(np.float32)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    two = _run_bn(ember, x, g, np.float32, True, True, True)
    assert spy
    assert_torch_close(two, _run_bn(torch, x, g, np.float32, True, True, True), np.float32)
    assert_same_bits(_one_thread(lambda: _run_bn(ember, x, g, np.float32, True, True, True)),
                     two)
    spy.clear()
    small = x[:, :, :8, :8].copy()
    _run_bn(ember, small, small, np.float32, True, True, True)
    assert not spy


def test_batch_norm_double_backward_split(every_size):
    """create_graph=True goes through the differentiable formula, unchanged."""
    x = RNG.standard_normal((4, 3, 5, 5))
    res = []
    for lib in (ember, torch):
        m = lib.nn.BatchNorm2d(3).double()
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt)
        (gx,) = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.pow(2).sum(), xt)
        res.append((gx.detach().numpy(), ggx.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# ---- ReLU and the residual add ---------------------------------------------------------------

def _relu_add(lib, a, b, g):
    at = lib.tensor(a, requires_grad=True)
    bt = lib.tensor(b, requires_grad=True)
    s = at + bt
    y = lib.nn.functional.relu(s)
    z = lib.relu(at)
    (y * lib.tensor(g) + z).sum().backward()
    return {'s': s.detach().numpy(), 'y': y.detach().numpy(), 'z': z.detach().numpy(),
            'ga': at.grad.numpy(), 'gb': bt.grad.numpy()}


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('shape', [(4, 3, 5, 5), (3, 7, 11)])
def test_relu_and_add_split(dt, shape, every_size, spy):
    a = RNG.standard_normal(shape).astype(dt)
    b = RNG.standard_normal(shape).astype(dt)
    a.flat[:6] = [0.0, -0.0, np.nan, -np.inf, np.inf, -1.0]
    b.flat[:6] = [-0.0, -0.0, 1.0, np.inf, 1.0, 1.0]     # -inf + inf: a NaN, no warning
    g = RNG.standard_normal(shape).astype(dt)
    g.flat[6:9] = [np.nan, np.inf, -np.inf]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        two = _relu_add(ember, a, b, g)
    n = shape[0]
    # at least the add, the two relus and their backwards
    assert len(spy) >= 5 and all(r == [(0, n // 2), (n // 2, n)] for r in spy)
    t = _relu_add(torch, a, b, g)
    for k in two:
        np.testing.assert_array_equal(two[k], t[k], err_msg=k)
        np.testing.assert_array_equal(np.signbit(two[k]), np.signbit(t[k]), err_msg=k)
    assert_same_bits(_one_thread(lambda: _relu_add(ember, a, b, g)), two)


def test_relu_and_add_not_split(every_size, spy):
    """Broadcast operands, non-contiguous ones and grad mode in the backward stay unsplit."""
    a = RNG.standard_normal((4, 6, 5))
    b = RNG.standard_normal((6, 5))
    e = ember.tensor(a) + ember.tensor(b)
    np.testing.assert_array_equal(e.numpy(), a + b)
    r = ember.relu(ember.tensor(a).transpose(0, 2))
    np.testing.assert_array_equal(r.numpy(), np.maximum(0, a.transpose(2, 1, 0)))
    assert not spy
    x = ember.tensor(a, requires_grad=True)
    (gx,) = ember.autograd.grad(ember.relu(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), (a > 0).astype(a.dtype))


def test_residual_block_two_threads(two_threads):
    """conv -> batch norm -> ReLU -> conv -> batch norm, plus the input, then ReLU (resnet's
    block) at a size where every op splits at the real thresholds: as torch, in float32."""
    x = RNG.standard_normal((8, 16, 32, 32)).astype(np.float32)
    w1 = (RNG.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)
    w2 = (RNG.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)
    res = []
    for lib in (ember, torch):
        F = lib.nn.functional
        bn1, bn2 = lib.nn.BatchNorm2d(16), lib.nn.BatchNorm2d(16)
        xt = lib.tensor(x, requires_grad=True)
        ws = [lib.tensor(w, requires_grad=True) for w in (w1, w2)]
        h = F.relu(bn1(F.conv2d(xt, ws[0], padding=1)))
        y = F.relu(bn2(F.conv2d(h, ws[1], padding=1)) + xt)
        (y * y).mean().backward()
        res.append([y.detach().numpy(), xt.grad.numpy(), ws[0].grad.numpy(),
                    ws[1].grad.numpy(), bn1.weight.grad.numpy(), bn2.bias.grad.numpy(),
                    bn1.running_var.numpy()])
    for k, (a, b) in enumerate(zip(*res)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4, err_msg=str(k))
