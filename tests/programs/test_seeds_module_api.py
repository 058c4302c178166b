"""Seed 002 (nn.Module / Sequential / ModuleList tour): printing, apply, state_dict, to()."""
from collections import OrderedDict

import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
from _seed_helpers import assert_close, require, same_error  # noqa: E402


def seeded(lib, build, seed=0):
    lib.manual_seed(seed)
    return build(lib)


def test_apply_init_weight_and_prints():
    def build(lib):
        nn = lib.nn

        def init_weight(m):
            if type(m) == nn.Linear:
                m.weight.data.fill_(1.0)
                m.bias.data.fill_(0)
        net = nn.Sequential(nn.Linear(2, 2))
        assert net.apply(init_weight) is net
        return net
    t, e = seeded(torch, build), seeded(ember, build)
    assert repr(e) == repr(t)
    assert str(e.state_dict()) == str(t.state_dict())
    assert str(list(e.parameters())) == str(list(t.parameters()))


def test_state_dict_printing():
    t = seeded(torch, lambda lib: lib.nn.Linear(2, 2))
    e = seeded(ember, lambda lib: lib.nn.Linear(2, 2))
    assert str(e.state_dict()) == str(t.state_dict())
    assert str(e.state_dict().keys()) == str(t.state_dict().keys())
    assert type(e.named_parameters()).__name__ == type(t.named_parameters()).__name__ == 'generator'
    lines_t = [f'{n} {p}' for n, p in t.named_parameters()]
    lines_e = [f'{n} {p}' for n, p in e.named_parameters()]
    assert lines_e == lines_t
    net_t = seeded(torch, lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 2)))
    net_e = seeded(ember, lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 2)))
    assert str(list(net_e.parameters())) == str(list(net_t.parameters()))


def test_to_double_and_devices():
    t = seeded(torch, lambda lib: lib.nn.Linear(2, 2))
    e = seeded(ember, lambda lib: lib.nn.Linear(2, 2))
    assert repr(e.weight) == repr(t.weight)
    assert repr(e.to(ember.double)) == repr(t.to(torch.double))
    assert repr(e.weight) == repr(t.weight)  # dtype=torch.float64 suffix
    e.to(ember.device('cpu'))
    t.to(torch.device('cpu'))
    e.to(dtype=ember.half)
    t.to(dtype=torch.half)
    assert repr(e.weight) == repr(t.weight)
    # the blog's `linear.to(torch.device("cuda:1"), dtype=torch.half)`: as a CPU-only torch
    with pytest.raises(AssertionError, match='Torch not compiled with CUDA enabled'):
        t.to(torch.device('cuda:1'), dtype=torch.half, non_blocking=True)
    with pytest.raises(AssertionError, match='Torch not compiled with CUDA enabled'):
        e.to(ember.device('cuda:1'), dtype=ember.half, non_blocking=True)


def test_sequential_three_ways():
    require('nn.Conv2d', 'nn.ReLU')

    def plain(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.Conv2d(20, 64, 5), nn.ReLU())

    def ordered(lib):
        nn = lib.nn
        return nn.Sequential(OrderedDict([('conv1', nn.Conv2d(1, 20, 5)), ('relu1', nn.ReLU()),
                                          ('conv2', nn.Conv2d(20, 64, 5)),
                                          ('relu2', nn.ReLU())]))

    def added(lib):
        nn = lib.nn
        model = nn.Sequential()
        model.add_module('conv1', nn.Conv2d(1, 20, 5))
        model.add_module('relu1', nn.ReLU())
        model.add_module('conv2', nn.Conv2d(20, 64, 5))
        model.add_module('relu2', nn.ReLU())
        return model
    for build in (plain, ordered, added):
        t, e = build(torch), build(ember)
        assert repr(e) == repr(t)
        assert repr(e[2]) == repr(t[2])
    same_error(lambda: ordered(torch)['conv2'], lambda: ordered(ember)['conv2'])


def test_custom_conv_model_print():
    require('nn.Conv2d', 'F.relu')

    def build(lib):
        nn, F = lib.nn, lib.nn.functional

        class Model(nn.Module):
            def __init__(self):
                super(Model, self).__init__()
                self.conv1 = nn.Conv2d(1, 20, 5)
                self.conv2 = nn.Conv2d(20, 20, 5)

            def forward(self, x):
                x = F.relu(self.conv1(x))
                return F.relu(self.conv2(x))
        return Model()
    assert repr(build(ember)) == repr(build(torch))


def test_modulelist_model():
    require('nn.ReLU')
    def build(lib):
        nn = lib.nn

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 1)])
                self.layers.append(nn.Linear(1, 5))
                self.layers.extend([nn.Linear(5, 5) for _ in range(1, 3)])

            def forward(self, x):
                out = x
                for layer in self.layers[:3]:
                    out = layer(out)
                return out
        return Model()
    t, e = seeded(torch, build), seeded(ember, build)
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = [[0.5], [-1.0]]
    yt, ye = t(torch.tensor(x)), e(ember.tensor(x))
    assert_close(ye, yt)
