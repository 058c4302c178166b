"""nn.utils.fusion, skip_init and the memory-format converters against torch."""
import numpy as np
import pytest
import torch

import ember


def _pair(make):
    """The same module in both libraries (ember's weights copied from torch's)."""
    t = make(torch)
    e = make(ember)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return e, t


def _bn_stats(e, t, n):
    rng = np.random.default_rng(0)
    for k, v in (('running_mean', rng.normal(size=n)), ('running_var', rng.uniform(0.5, 2, n)),
                 ('weight', rng.normal(size=n)), ('bias', rng.normal(size=n))):
        getattr(t, k).data = torch.tensor(v, dtype=torch.float32)
        getattr(e, k).data = ember.tensor(v, dtype=ember.float32)


@pytest.mark.parametrize('kind,transpose', [('Conv2d', False), ('Conv1d', False),
                                            ('ConvTranspose2d', True), ('Conv3d', False)])
@pytest.mark.parametrize('bias', [True, False])
def test_fuse_conv_bn_eval(kind, transpose, bias):
    nd = int(kind[-2])
    out_ch = 4
    conv_e, conv_t = _pair(lambda L: getattr(L.nn, kind)(3, out_ch, 3, bias=bias))
    bn_e, bn_t = _pair(lambda L: getattr(L.nn, f'BatchNorm{nd}d')(out_ch))
    _bn_stats(bn_e, bn_t, out_ch)
    for m in (conv_e, conv_t, bn_e, bn_t):
        m.eval()
    fe = ember.nn.utils.fuse_conv_bn_eval(conv_e, bn_e, transpose=transpose)
    ft = torch.nn.utils.fuse_conv_bn_eval(conv_t, bn_t, transpose=transpose)
    assert fe is not conv_e and type(fe) is type(conv_e)
    for k in ('weight', 'bias'):
        pe, pt = getattr(fe, k), getattr(ft, k)
        assert isinstance(pe, ember.nn.Parameter) and pe.requires_grad == pt.requires_grad
        np.testing.assert_allclose(pe.detach().numpy(), pt.detach().numpy(), rtol=1e-6,
                                   atol=1e-7)
    x = np.random.default_rng(1).normal(size=(2, 3) + (6,) * nd).astype(np.float32)
    np.testing.assert_allclose(fe(ember.tensor(x)).detach().numpy(),
                               bn_e(conv_e(ember.tensor(x))).detach().numpy(), rtol=1e-5,
                               atol=1e-5)


def test_fuse_linear_bn_eval_and_errors():
    lin_e, lin_t = _pair(lambda L: L.nn.Linear(3, 4))
    bn_e, bn_t = _pair(lambda L: L.nn.BatchNorm1d(4))
    _bn_stats(bn_e, bn_t, 4)
    for lib, lin, bn in ((torch, lin_t, bn_t), (ember, lin_e, bn_e)):
        with pytest.raises(AssertionError, match='Fusion only for eval!'):
            lib.nn.utils.fuse_linear_bn_eval(lin, bn)
        lin.eval()
        bn.eval()
        with pytest.raises(AssertionError, match=r'linear.out_features=4 and bn.num_features=5'):
            lib.nn.utils.fuse_linear_bn_eval(lin, lib.nn.BatchNorm1d(5).eval())
    fe = ember.nn.utils.fuse_linear_bn_eval(lin_e, bn_e)
    ft = torch.nn.utils.fuse_linear_bn_eval(lin_t, bn_t)
    for k in ('weight', 'bias'):
        np.testing.assert_allclose(getattr(fe, k).detach().numpy(),
                                   getattr(ft, k).detach().numpy(), rtol=1e-6, atol=1e-7)
    w, b = ember.nn.utils.fuse_linear_bn_weights(lin_e.weight, None, bn_e.running_mean,
                                                 bn_e.running_var, 1e-3, bn_e.weight, bn_e.bias)
    tw, tb = torch.nn.utils.fuse_linear_bn_weights(lin_t.weight, None, bn_t.running_mean,
                                                   bn_t.running_var, 1e-3, bn_t.weight, bn_t.bias)
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=1e-6)
    assert b.requires_grad == tb.requires_grad


def test_skip_init_leaves_the_generator_alone():
    for lib in (torch, ember):
        lib.manual_seed(3)
        m = lib.nn.utils.skip_init(lib.nn.Linear, 5, 2, bias=True)
        assert tuple(m.weight.shape) == (2, 5) and m.weight.requires_grad
        after = lib.rand(3).numpy()
        lib.manual_seed(3)
        assert np.array_equal(after, lib.rand(3).numpy())
        with pytest.raises(RuntimeError, match='Expected a Module'):
            lib.nn.utils.skip_init(int)
        with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
            lib.nn.utils.skip_init(lib.nn.ReLU)
    assert not ember.nn.utils.skip_init(ember.nn.Linear, 5, 2).weight.detach().numpy().any()


def test_convert_weight_memory_format():
    for lib in (torch, ember):
        net = lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.Sequential(lib.nn.Conv3d(3, 2, 1)))
        before = [p.detach().numpy().copy() for p in net.parameters()]
        assert lib.nn.utils.convert_conv2d_weight_memory_format(net, lib.channels_last) is net
        assert net[0].weight.is_contiguous(memory_format=lib.channels_last)
        lib.nn.utils.convert_conv3d_weight_memory_format(net, lib.channels_last_3d)
        assert net[1][0].weight.is_contiguous(memory_format=lib.channels_last_3d)
        for b, p in zip(before, net.parameters()):
            assert np.array_equal(b, p.detach().numpy())
