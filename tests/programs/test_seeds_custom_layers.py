"""Seed 003 (神经网络的学习记录): MLP printing, MyLayer, ParameterList/Dict dense layers,
the hand-written Conv2D/pool2d, LeNet, and the initialize_weights loop."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
from _seed_helpers import assert_close, copy_weights, require, to_np  # noqa: E402


def mlp_784(lib):
    nn = lib.nn

    class MLP(nn.Module):
        def __init__(self, **kwargs):
            super(MLP, self).__init__(**kwargs)
            self.hidden = nn.Linear(784, 256)
            self.act = nn.ReLU()
            self.output = nn.Linear(256, 10)

        def forward(self, x):
            return self.output(self.act(self.hidden(x)))
    return MLP()


def test_mlp_784_print_and_forward():
    require('nn.ReLU')
    t, e = mlp_784(torch), mlp_784(ember)
    assert repr(e) == repr(t)
    copy_weights(t, e)
    x = np.random.RandomState(0).rand(3, 784).astype(np.float32)
    assert_close(e(ember.tensor(x)), t(torch.tensor(x)), rtol=1e-4, atol=1e-6)


def test_my_layer():
    def build(lib):
        class MyLayer(lib.nn.Module):
            def __init__(self, **kwargs):
                super(MyLayer, self).__init__(**kwargs)

            def forward(self, x):
                return x - x.mean()
        return MyLayer()
    yt = build(torch)(torch.tensor([1, 2, 3, 4, 5], dtype=torch.float))
    ye = build(ember)(ember.tensor([1, 2, 3, 4, 5], dtype=ember.float))
    assert repr(ye) == repr(yt)


def list_dense(lib):
    nn = lib.nn

    class MyListDense(nn.Module):
        def __init__(self):
            super(MyListDense, self).__init__()
            self.params = nn.ParameterList([nn.Parameter(lib.randn(4, 4)) for i in range(3)])
            self.params.append(nn.Parameter(lib.randn(4, 1)))

        def forward(self, x):
            for i in range(len(self.params)):
                x = lib.mm(x, self.params[i])
            return x
    return MyListDense()


def dict_dense(lib):
    nn = lib.nn

    class MyDictDense(nn.Module):
        def __init__(self):
            super(MyDictDense, self).__init__()
            self.params = nn.ParameterDict({
                'linear1': nn.Parameter(lib.randn(4, 4)),
                'linear2': nn.Parameter(lib.randn(4, 1))})
            self.params.update({'linear3': nn.Parameter(lib.randn(4, 2))})

        def forward(self, x, choice='linear1'):
            return lib.mm(x, self.params[choice])
    return MyDictDense()


@pytest.mark.parametrize('build', [list_dense, dict_dense])
def test_parameter_container_dense(build):
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        net = build(lib)
        x = lib.ones(1, 4)
        ys = [net(x)] if build is list_dense else [net(x, c) for c in ('linear1', 'linear2',
                                                                         'linear3')]
        outs.append((net, ys))
    (nt, yt), (ne, ye) = outs
    assert repr(ne) == repr(nt)  # print(net)
    assert [n for n, _ in ne.named_parameters()] == [n for n, _ in nt.named_parameters()]
    for pe, pt in zip(ne.parameters(), nt.parameters()):
        np.testing.assert_array_equal(to_np(pe), to_np(pt))  # same seed, same randn
    for a, b in zip(ye, yt):
        assert_close(a, b, rtol=1e-5)
        assert a.grad_fn.name() == b.grad_fn.name()


def corr2d(lib, X, K):
    h, w = K.shape
    X, K = X.float(), K.float()
    Y = lib.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
    return Y


def test_handwritten_conv2d_module():
    outs = []
    for lib in (torch, ember):
        class Conv2D(lib.nn.Module):
            def __init__(self, kernel_size):
                super(Conv2D, self).__init__()
                self.weight = lib.nn.Parameter(lib.randn(kernel_size))
                self.bias = lib.nn.Parameter(lib.randn(1))

            def forward(self, x):
                return corr2d(lib, x, self.weight) + self.bias
        lib.manual_seed(0)
        conv = Conv2D((2, 2))
        X = lib.arange(20.).reshape(4, 5)
        Y = conv(X)
        Y.sum().backward()
        outs.append((Y, conv.weight.grad, conv.bias.grad))
    for e, t in zip(outs[1], outs[0]):
        assert_close(e, t, rtol=1e-5)


def test_handwritten_pool2d():
    def pool2d(lib, X, pool_size, mode='max'):
        p_h, p_w = pool_size
        Y = lib.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                if mode == 'max':
                    Y[i, j] = X[i: i + p_h, j: j + p_w].max()
                elif mode == 'avg':
                    Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
        return Y
    for mode in ('max', 'avg'):
        yt = pool2d(torch, torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]], dtype=torch.float),
                    (2, 2), mode)
        ye = pool2d(ember, ember.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]], dtype=ember.float),
                    (2, 2), mode)
        assert repr(ye) == repr(yt)


def lenet(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, self.num_flat_features(x))
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

        def num_flat_features(self, x):
            num_features = 1
            for s in x.size()[1:]:
                num_features *= s
            return num_features
    return Net()


def test_lenet():
    require('nn.Conv2d', 'F.max_pool2d', 'F.relu')
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        net = lenet(lib)
        x = lib.randn(1, 1, 32, 32)
        out = net(x)
        net.zero_grad()
        out.backward(lib.ones(1, 10) * 0.1)
        outs.append((net, out))
    (nt, ot), (ne, oe) = outs
    assert repr(ne) == repr(nt)
    assert len(list(ne.parameters())) == len(list(nt.parameters())) == 10
    for pe, pt in zip(ne.parameters(), nt.parameters()):
        np.testing.assert_array_equal(to_np(pe), to_np(pt))  # same construction-order draws
    assert_close(oe, ot, rtol=1e-4, atol=1e-6)
    assert_close(ne.conv1.weight.grad, nt.conv1.weight.grad, rtol=1e-3, atol=1e-6)


def test_initialize_weights_loop():
    require('nn.Conv2d', 'nn.ReLU', 'nn.BatchNorm2d')

    def initialize_weights(lib, self):
        nn = lib.nn
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                lib.nn.init.xavier_normal_(m.weight.data)
                if m.bias is not None:
                    lib.nn.init.constant_(m.bias.data, 0.3)
            elif isinstance(m, nn.Linear):
                lib.nn.init.normal_(m.weight.data, 0.1)
                if m.bias is not None:
                    lib.nn.init.zeros_(m.bias.data)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zeros_()

    def build(lib):
        nn = lib.nn

        class MLP(nn.Module):
            def __init__(self, **kwargs):
                super(MLP, self).__init__(**kwargs)
                self.hidden = nn.Conv2d(1, 1, 3)
                self.act = nn.ReLU()
                self.output = nn.Linear(10, 1)

            def forward(self, x):
                return self.output(self.act(self.hidden(x)))
        return MLP()
    printed = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        mlp = build(lib)
        before = str(list(mlp.parameters()))
        initialize_weights(lib, mlp)
        printed.append((before, str(list(mlp.parameters()))))
    assert printed[1] == printed[0]


def test_kaiming_and_constant_on_data():
    require('nn.Conv2d')
    out = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        conv = lib.nn.Conv2d(1, 1, 3)
        linear = lib.nn.Linear(10, 1)
        lib.nn.init.kaiming_normal_(conv.weight.data)
        lib.nn.init.constant_(linear.weight.data, 0.3)
        out.append((repr(conv.weight.data), repr(linear.weight.data)))
    assert out[1] == out[0]
