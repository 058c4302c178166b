"""Fractional max pooling against torch: the same seed draws the same windows, so values,
indices and gradients agree exactly; the layers' reprs, buffers and checks."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck


_CASES = [
    (2, (2, 3, 9, 11), 2, (5, 6), None), (2, (3, 10, 10), 3, None, (0.5, 0.5)),
    (2, (1, 2, 7, 8), (2, 3), (4, 4), None), (2, (2, 3, 8, 8), 2, (7, 7), None),
    (2, (2, 3, 8, 8), 2, (1, 1), None), (3, (2, 2, 6, 7, 8), 2, (3, 4, 5), None),
    (3, (2, 6, 7, 8), (1, 2, 3), None, (0.5, 0.6, 0.7)),
]


@pytest.mark.parametrize('nd,shape,kernel,size,ratio', _CASES)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_functional_matches_torch(nd, shape, kernel, size, ratio, dtype):
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    x.reshape(-1)[:2] = np.nan  # torch keeps the last nan of a window
    res = []
    for lib in (torch, ember):
        fn = getattr(lib.nn.functional, f'fractional_max_pool{nd}d')
        lib.manual_seed(3)
        xt = lib.tensor(x, requires_grad=True)
        y, idx = fn(xt, kernel, output_size=size, output_ratio=ratio, return_indices=True)
        w = lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape)
        (y.nan_to_num() * w).sum().backward()
        res.append((y.detach().numpy(), idx.numpy(), xt.grad.numpy(), type(y.grad_fn).__name__,
                    lib.rand(2).numpy()))
    (ty, ti, tg, tn, tr), (ey, ei, eg, en, er) = res
    np.testing.assert_array_equal(ey, ty)
    np.testing.assert_array_equal(ei, ti)
    np.testing.assert_array_equal(eg, tg)
    assert en == tn
    np.testing.assert_array_equal(er, tr)  # the generator moved as far as torch's


def test_layers_and_fixed_samples():
    x = np.random.default_rng(1).normal(size=(2, 3, 9, 9)).astype(np.float32)
    samples = np.random.default_rng(2).uniform(size=(2, 3, 2)).astype(np.float32)
    outs = []
    for lib in (torch, ember):
        m = lib.nn.FractionalMaxPool2d(3, output_size=4, return_indices=True,
                                       _random_samples=lib.tensor(samples))
        y, idx = m(lib.tensor(x))
        m3 = lib.nn.FractionalMaxPool3d(2, output_ratio=0.5)
        outs.append((repr(m), list(m.state_dict()), repr(m3), m3.output_ratio, y.numpy(),
                     idx.numpy(), tuple(m3(lib.ones(1, 1, 4, 6, 8)).shape)))
    for a, b in zip(*outs):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


@pytest.mark.parametrize('call', [
    lambda L: L.nn.FractionalMaxPool2d(2),
    lambda L: L.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5),
    lambda L: L.nn.FractionalMaxPool3d(2, output_ratio=1.5),
    lambda L: L.nn.functional.fractional_max_pool2d(L.ones(1, 1, 4, 4), 3, output_size=(3, 3)),
    lambda L: L.nn.functional.fractional_max_pool3d(L.ones(1, 1, 4, 4, 4), 3,
                                                    output_size=(1, 3, 1)),
])
def test_errors_match_torch(call):
    msgs = []
    for lib in (torch, ember):
        with pytest.raises((ValueError, RuntimeError)) as e:
            call(lib)
        msgs.append((type(e.value), str(e.value)))
    assert msgs[0] == msgs[1]


def test_gradcheck():
    x = ember.tensor(np.random.default_rng(4).normal(size=(1, 2, 6, 6)), requires_grad=True)
    samples = ember.tensor([[[0.3, 0.7], [0.1, 0.9]]], dtype=ember.float64)
    assert gradcheck(lambda v: ember.nn.functional.fractional_max_pool2d(
        v, 2, output_size=3, _random_samples=samples), (x,))
