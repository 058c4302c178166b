"""Seed 004 (自定义层): CenteredLayer and MyLinear."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
from _seed_helpers import assert_close, copy_weights, require, to_np  # noqa: E402


def centered(lib):
    class CenteredLayer(lib.nn.Module):
        def __init__(self):
            super().__init__()

        def forward(self, X):
            return X - X.mean()
    return CenteredLayer()


def my_linear(lib, in_units, units):
    nn, F = lib.nn, lib.nn.functional

    class MyLinear(nn.Module):
        def __init__(self, in_units, units):
            super().__init__()
            self.weight = nn.Parameter(lib.randn(in_units, units))
            self.bias = nn.Parameter(lib.randn(units,))

        def forward(self, X):
            linear = lib.matmul(X, self.weight.data) + self.bias.data
            return F.relu(linear)
    return MyLinear(in_units, units)


def test_centered_layer():
    for data in ([1, 2, 3, 4, 5], [[1.5, -2.0], [0.25, 8.0]]):
        yt = centered(torch)(torch.FloatTensor(data))
        ye = centered(ember)(ember.FloatTensor(data))
        assert repr(ye) == repr(yt)
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(8, 128), centered(lib))
        Y = net(lib.rand(4, 8))
        outs.append((net, Y, Y.mean()))
    assert repr(outs[1][0]) == repr(outs[0][0])
    assert_close(outs[1][1], outs[0][1], atol=1e-6)
    assert abs(outs[1][2].item()) < 1e-6
    assert outs[1][2].grad_fn.name() == outs[0][2].grad_fn.name() == 'MeanBackward0'


def test_my_linear():
    require('F.relu')
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        linear = my_linear(lib, 5, 3)
        y = linear(lib.rand(2, 5))
        outs.append((linear, y))
    (lt, yt), (le, ye) = outs
    assert repr(le.weight) == repr(lt.weight)  # the blog prints linear.weight
    assert repr(le) == repr(lt) == 'MyLinear()'
    assert_close(ye, yt)
    # weight.data / bias.data are used: the output has no history back to the parameters
    assert ye.grad_fn is None and yt.grad_fn is None


def test_sequential_of_my_linear():
    require('F.relu')
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(1)
        net = lib.nn.Sequential(my_linear(lib, 64, 8), my_linear(lib, 8, 1))
        outs.append((net, net(lib.rand(2, 64))))
    assert_close(outs[1][1], outs[0][1], rtol=1e-4)
    assert repr(outs[1][0]) == repr(outs[0][0])
    sd_t, sd_e = outs[0][0].state_dict(), outs[1][0].state_dict()
    assert list(sd_e) == list(sd_t) == ['0.weight', '0.bias', '1.weight', '1.bias']
    net2 = ember.nn.Sequential(my_linear(ember, 64, 8), my_linear(ember, 8, 1))
    copy_weights(outs[0][0], net2)
    for k in sd_t:
        np.testing.assert_array_equal(to_np(net2.state_dict()[k]), to_np(sd_t[k]))
