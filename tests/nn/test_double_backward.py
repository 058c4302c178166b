"""Double backward (create_graph=True) through the layers, against torch.

Gradient-penalty training (WGAN-GP, R1) differentiates the gradient of a critic with respect
to its input: every op below must record its backward when create_graph=True. Each case is
compared with torch (the first-order gradients kept with their graph, then the gradient of
their squared norm, as a gradient penalty takes it) in float32 and float64, and checked with
gradgradcheck in float64.
"""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
TARGET = np.array([0, 2, 1, 3, 2])
TARGET_IGN = np.array([0, -100, 1, 3, 2])
TARGET_2D = np.array([[[0, 2], [1, 1]], [[2, 0], [1, 2]]])
CLASS_W = np.array([0.5, 1.5, 1.0, 2.0])
POS_W = np.array([0.3, 2.0, 1.0, 1.5])
SIGN = np.array([1.0, -1.0, 1.0, -1.0, 1.0])


def _c(lib, a, like):
    return lib.tensor(a, dtype=like.dtype)


def _i(lib, a):
    return lib.tensor(a)


# name -> (fn(lib, F, *tensors), input shapes, which inputs require grad)
CASES = {
    'conv1d': (lambda lib, F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
               [(2, 3, 7), (4, 3, 3), (4,)]),
    'conv1d_same_dil': (lambda lib, F, x, w: F.conv1d(x, w, padding='same', dilation=2),
                        [(2, 3, 7), (4, 3, 4)]),
    'conv2d': (lambda lib, F, x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
               [(2, 3, 5, 6), (4, 3, 3, 2), (4,)]),
    'conv2d_groups': (lambda lib, F, x, w, b: F.conv2d(x, w, b, groups=2, dilation=(1, 2)),
                      [(2, 4, 5, 6), (6, 2, 3, 2), (6,)]),
    'conv2d_stride_skip': (lambda lib, F, x, w: F.conv2d(x, w, stride=3),
                           [(1, 2, 7, 8), (3, 2, 2, 2)]),
    'conv2d_unbatched': (lambda lib, F, x, w: F.conv2d(x, w, padding=1),
                         [(2, 4, 4), (3, 2, 3, 3)]),
    'conv3d': (lambda lib, F, x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1),
               [(1, 2, 4, 5, 3), (3, 2, 2, 3, 2), (3,)]),
    'conv_transpose1d': (lambda lib, F, x, w, b: F.conv_transpose1d(x, w, b, stride=2,
                                                                    padding=1,
                                                                    output_padding=1),
                         [(2, 3, 4), (3, 2, 3), (2,)]),
    'conv_transpose2d': (lambda lib, F, x, w, b: F.conv_transpose2d(
        x, w, b, stride=(2, 1), padding=(1, 0), groups=2, dilation=(1, 2)),
        [(2, 4, 3, 3), (4, 3, 3, 2), (6,)]),
    'conv_transpose2d_op_dil': (lambda lib, F, x, w: F.conv_transpose2d(
        x, w, stride=1, output_padding=1, dilation=2), [(1, 2, 3, 3), (2, 3, 2, 2)]),
    'conv_transpose3d': (lambda lib, F, x, w: F.conv_transpose3d(x, w, stride=2, padding=1),
                         [(1, 2, 2, 3, 2), (2, 2, 3, 3, 2)]),
    'max_pool2d': (lambda lib, F, x: F.max_pool2d(x, 3, 2, 1), [(2, 3, 6, 6)]),
    'max_pool1d': (lambda lib, F, x: F.max_pool1d(x, 2), [(2, 3, 6)]),
    'max_pool3d': (lambda lib, F, x: F.max_pool3d(x, 2), [(1, 2, 4, 4, 4)]),
    'avg_pool2d': (lambda lib, F, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
                   [(2, 3, 6, 6)]),
    'avg_pool1d': (lambda lib, F, x: F.avg_pool1d(x, 2), [(2, 3, 6)]),
    'avg_pool3d': (lambda lib, F, x: F.avg_pool3d(x, 2), [(1, 2, 4, 4, 4)]),
    'adaptive_avg_pool2d': (lambda lib, F, x: F.adaptive_avg_pool2d(x, (3, 2)), [(2, 3, 5, 5)]),
    'adaptive_avg_pool1d': (lambda lib, F, x: F.adaptive_avg_pool1d(x, 3), [(2, 3, 5)]),
    'adaptive_avg_pool3d': (lambda lib, F, x: F.adaptive_avg_pool3d(x, 2), [(1, 2, 3, 3, 3)]),
    'adaptive_max_pool2d': (lambda lib, F, x: F.adaptive_max_pool2d(x, 3), [(2, 3, 5, 5)]),
    'adaptive_max_pool1d': (lambda lib, F, x: F.adaptive_max_pool1d(x, 3), [(2, 3, 5)]),
    'batch_norm': (lambda lib, F, x, w, b: F.batch_norm(x, None, None, w, b, True),
                   [(4, 3, 2), (3,), (3,)]),
    'layer_norm': (lambda lib, F, x, w, b: F.layer_norm(x, (3,), w, b), [(4, 3), (3,), (3,)]),
    'group_norm': (lambda lib, F, x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    'instance_norm': (lambda lib, F, x: F.instance_norm(x), [(2, 4, 3)]),
    'cross_entropy': (lambda lib, F, x: F.cross_entropy(x, _i(lib, TARGET)), [(5, 4)]),
    'cross_entropy_weight_ignore': (lambda lib, F, x: F.cross_entropy(
        x, _i(lib, TARGET_IGN), weight=_c(lib, CLASS_W, x), label_smoothing=0.1), [(5, 4)]),
    'cross_entropy_2d': (lambda lib, F, x: F.cross_entropy(x, _i(lib, TARGET_2D),
                                                           reduction='sum'), [(2, 3, 2, 2)]),
    'cross_entropy_probs': (lambda lib, F, x, y: F.cross_entropy(x, y.softmax(1)),
                            [(5, 4), (5, 4)]),
    'nll_loss': (lambda lib, F, x: F.nll_loss(x.log_softmax(1), _i(lib, TARGET),
                                              reduction='none'), [(5, 4)]),
    'nll_loss_weight': (lambda lib, F, x: F.nll_loss(x.log_softmax(1), _i(lib, TARGET),
                                                     weight=_c(lib, CLASS_W, x)), [(5, 4)]),
    'binary_cross_entropy': (lambda lib, F, x, y: F.binary_cross_entropy(x.sigmoid(),
                                                                         y.sigmoid()),
                             [(5, 4), (5, 4)]),
    'bce_with_logits': (lambda lib, F, x, y: F.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=_c(lib, POS_W, x)), [(5, 4), (5, 4)]),
    'mse_loss': (lambda lib, F, x, y: F.mse_loss(x, y), [(5, 4), (5, 4)]),
    'l1_loss': (lambda lib, F, x, y: F.l1_loss(x, y, reduction='sum'), [(5, 4), (5, 4)]),
    'smooth_l1_loss': (lambda lib, F, x, y: F.smooth_l1_loss(x, y, beta=0.5), [(5, 4), (5, 4)]),
    'huber_loss': (lambda lib, F, x, y: F.huber_loss(x, y, delta=0.7), [(5, 4), (5, 4)]),
    'kl_div': (lambda lib, F, x, y: F.kl_div(x.log_softmax(1), y.softmax(1),
                                             reduction='batchmean'), [(5, 4), (5, 4)]),
    'kl_div_log_target': (lambda lib, F, x, y: F.kl_div(x.log_softmax(1), y.log_softmax(1),
                                                        reduction='sum', log_target=True),
                          [(5, 4), (5, 4)]),
    'soft_margin_loss': (lambda lib, F, x: F.soft_margin_loss(x, _c(lib, SIGN, x)), [(5,)]),
    'multilabel_soft_margin': (lambda lib, F, x, y: F.multilabel_soft_margin_loss(
        x, y.sigmoid()), [(5, 4), (5, 4)]),
    'relu': (lambda lib, F, x: F.relu(x), [(5, 4)]),
    'leaky_relu': (lambda lib, F, x: F.leaky_relu(x, 0.2), [(5, 4)]),
    'elu': (lambda lib, F, x: F.elu(x), [(5, 4)]),
    'selu': (lambda lib, F, x: F.selu(x), [(5, 4)]),
    'celu': (lambda lib, F, x: F.celu(x, 0.7), [(5, 4)]),
    'gelu': (lambda lib, F, x: F.gelu(x), [(5, 4)]),
    'gelu_tanh': (lambda lib, F, x: F.gelu(x, approximate='tanh'), [(5, 4)]),
    'silu': (lambda lib, F, x: F.silu(x), [(5, 4)]),
    'mish': (lambda lib, F, x: F.mish(x), [(5, 4)]),
    'softplus': (lambda lib, F, x: F.softplus(x, beta=2), [(5, 4)]),
    'tanh': (lambda lib, F, x: lib.tanh(x), [(5, 4)]),
    'sigmoid': (lambda lib, F, x: lib.sigmoid(x), [(5, 4)]),
    'hardtanh': (lambda lib, F, x: F.hardtanh(x, -0.5, 0.5), [(5, 4)]),
    'hardswish': (lambda lib, F, x: F.hardswish(x), [(5, 4)]),
    'relu6': (lambda lib, F, x: F.relu6(x * 4), [(5, 4)]),
    'prelu': (lambda lib, F, x, w: F.prelu(x, w), [(5, 4), (4,)]),
    'softmax': (lambda lib, F, x: F.softmax(x, 1), [(5, 4)]),
    'log_softmax': (lambda lib, F, x: F.log_softmax(x, 1), [(5, 4)]),
    'logsigmoid': (lambda lib, F, x: F.logsigmoid(x), [(5, 4)]),
    'glu': (lambda lib, F, x: F.glu(x), [(5, 4)]),
    'softsign': (lambda lib, F, x: F.softsign(x), [(5, 4)]),
    'linear': (lambda lib, F, x, w, b: F.linear(x, w, b), [(5, 4), (3, 4), (3,)]),
    'interpolate_bilinear': (lambda lib, F, x: F.interpolate(x, scale_factor=2, mode='bilinear'),
                             [(1, 2, 3, 3)]),
}

ARRAYS = {name: [RNG.standard_normal(s) for s in shapes]
          for name, (_, shapes) in CASES.items()}


def _np(t):
    # torch's sign() backward hands out a ZeroTensor, which refuses a plain .numpy()
    return t.numpy(force=True) if isinstance(t, torch.Tensor) else t.numpy()


def _second_order(lib, name, dtype):
    fn, _ = CASES[name]
    ts = [lib.tensor(a, dtype=dtype, requires_grad=True) for a in ARRAYS[name]]
    out = fn(lib, lib.nn.functional, *ts)
    # the upstream gradient requires grad too: the penalty depends on it as well
    v = lib.tensor(np.linspace(-1.0, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=dtype,
                   requires_grad=True)
    grads = lib.autograd.grad((out * v).sum(), ts, create_graph=True, allow_unused=True)
    penalty = sum(((g - 0.3) ** 2).sum() for g in grads if g is not None)
    seconds = lib.autograd.grad(penalty, ts + [v], allow_unused=True)
    first = [None if g is None else g.detach().numpy() for g in grads]
    second = [np.zeros(tuple(t.shape)) if g is None else _np(g) for g, t in zip(seconds,
                                                                                 ts + [v])]
    return first, second


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('name', sorted(CASES))
def test_second_order_matches_torch(name, dtype):
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == 'float32' else dict(rtol=1e-9, atol=1e-10)
    e1, e2 = _second_order(ember, name, getattr(ember, dtype))
    t1, t2 = _second_order(torch, name, getattr(torch, dtype))
    for a, b in zip(e1, t1):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, **tol)
    for a, b in zip(e2, t2):
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize('name', sorted(CASES))
def test_gradgradcheck(name):
    fn, _ = CASES[name]
    ts = tuple(ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in ARRAYS[name])
    assert ember.autograd.gradgradcheck(lambda *a: fn(ember, ember.nn.functional, *a), ts)


def test_first_order_path_builds_no_graph():
    # without create_graph the NumPy fast path runs: the gradients carry no history
    x = ember.randn(2, 3, 5, 5, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, requires_grad=True)
    gx, gw = ember.autograd.grad(ember.nn.functional.conv2d(x, w).sum(), (x, w))
    assert gx.grad_fn is None and gw.grad_fn is None
    gx, gw = ember.autograd.grad(ember.nn.functional.conv2d(x, w).sum(), (x, w),
                                 create_graph=True)
    assert gx.requires_grad and gw.requires_grad


def test_nll_loss_triple_backward():
    # NllLossBackward0 and its backward are each other's adjoints: any order works
    for lib in (ember, torch):
        x = lib.tensor(ARRAYS['cross_entropy'][0], requires_grad=True)
        g = lib.tensor(2.0, requires_grad=True)
        (gx,) = lib.autograd.grad(lib.nn.functional.nll_loss(x, lib.tensor(TARGET)), x, g,
                                  create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx).sum(), g, create_graph=True)
        (ggg,) = lib.autograd.grad(gg, g)
        if lib is ember:
            res = (gx.detach().numpy(), gg.detach().numpy(), ggg.numpy())
        else:
            for a, b in zip(res, (gx.detach().numpy(), gg.detach().numpy(), ggg.numpy())):
                np.testing.assert_allclose(a, b, rtol=1e-6)
