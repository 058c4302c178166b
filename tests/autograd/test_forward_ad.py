"""ember.autograd.forward_ad against torch.autograd.forward_ad: tangents through elementwise
ops, matmul, reductions, views and the common layers; levels and errors."""
import numpy as np
import pytest
import torch

import ember


def _tangents(lib, fn, dtype, shapes=((4, 3),), seed=0):
    rng = np.random.default_rng(seed)
    prim = [lib.tensor(rng.standard_normal(s).astype(dtype)) for s in shapes]
    tang = [lib.tensor(rng.standard_normal(s).astype(dtype)) for s in shapes]
    fw = lib.autograd.forward_ad
    with fw.dual_level():
        duals = [fw.make_dual(p, t) for p, t in zip(prim, tang)]
        out = fn(lib, *duals)
        outs = out if isinstance(out, tuple) else (out,)
        res = []
        for o in outs:
            p, t = fw.unpack_dual(o)
            res.append((p.detach().numpy(), None if t is None else t.detach().numpy(),
                        str(p.dtype), tuple(p.shape)))
    return res


CASES = {
    'elementwise': lambda lib, x: (x.sin() * x.exp() - x.tanh() / (1 + x ** 2)).sigmoid(),
    'matmul': lambda lib, x, w: x @ w.t(),
    'reductions': lambda lib, x: (x.sum(0), x.mean(), x.amax(1), x.norm(), x.var(1)),
    'views': lambda lib, x: (x.t().reshape(2, 6)[1], x.unsqueeze(0).expand(2, 4, 3),
                             x[:, 1:].flatten(), lib.cat([x, x * 2], 1)),
    'activations': lambda lib, x: (lib.relu(x), lib.nn.functional.gelu(x),
                                   lib.softmax(x, 1), lib.log_softmax(x, 0),
                                   lib.nn.functional.leaky_relu(x, 0.1)),
    'linear': lambda lib, x, w: lib.nn.functional.linear(x, w, w[0]),
    'losses': lambda lib, x, y: (lib.nn.functional.mse_loss(x, y),
                                 lib.nn.functional.smooth_l1_loss(x, y)),
    'layer_norm': lambda lib, x: lib.nn.functional.layer_norm(x, (3,)),
    'inplace': lambda lib, x: (x * 2).add_(1).mul_(x),
    'conv_pool': lambda lib, x, w: lib.nn.functional.max_pool2d(lib.nn.functional.conv2d(
        x.reshape(1, 1, 4, 3), w.reshape(2, 1, 2, 2), padding=1), 2),
    'integer_output': lambda lib, x: (x.argmax(1), x.floor()),
}
SHAPES = {'conv_pool': ((4, 3), (2, 4)), 'matmul': ((4, 3), (5, 3)), 'linear': ((4, 3), (3, 3)), 'losses': ((4, 3), (4, 3))}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('case', sorted(CASES))
def test_tangents_match_torch(case, dtype):
    shapes = SHAPES.get(case, ((4, 3),))
    e = _tangents(ember, CASES[case], dtype, shapes)
    t = _tangents(torch, CASES[case], dtype, shapes)
    tol = 1e-10 if dtype == 'float64' else 1e-5
    assert len(e) == len(t)
    for (ep, et, ed, es), (tp, tt, td, ts) in zip(e, t):
        assert (ed, es) == (td, ts)
        np.testing.assert_allclose(ep, tp, rtol=tol, atol=tol)
        if tt is None:
            assert et is None
        else:
            np.testing.assert_allclose(et, tt, rtol=tol, atol=tol)


def test_module_tangent_and_reverse_over_forward():
    outs = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        fw = lib.autograd.forward_ad
        x = lib.arange(6.).reshape(2, 3) / 6
        with fw.dual_level():
            out = net(fw.make_dual(x, lib.ones(2, 3)))
            p, t = fw.unpack_dual(out)
            # the tangent depends on the weights: differentiable in reverse mode
            (gw,) = lib.autograd.grad(t.sum(), net[0].weight)
        outs.append([p.detach().numpy(), t.detach().numpy(), gw.numpy(), t.requires_grad])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_finite_differences_float64():
    rng = np.random.default_rng(2)
    x, v = rng.standard_normal(5), rng.standard_normal(5)

    def f(lib, a):
        return (a.cumsum(0) * a.flip(0)).tanh()
    fw = ember.autograd.forward_ad
    with fw.dual_level():
        tan = fw.unpack_dual(f(ember, fw.make_dual(ember.tensor(x), ember.tensor(v)))).tangent
    eps = 1e-6
    num = (f(np, x + eps * v) if False else
           (np.tanh(np.cumsum(x + eps * v) * (x + eps * v)[::-1]) -
            np.tanh(np.cumsum(x - eps * v) * (x - eps * v)[::-1])) / (2 * eps))
    np.testing.assert_allclose(tan.numpy(), num, rtol=1e-6, atol=1e-8)


def test_levels_and_errors():
    for lib in (ember, torch):
        fw = lib.autograd.forward_ad
        x = lib.ones(3)
        with pytest.raises(RuntimeError, match='no level exists'):
            fw.make_dual(x, x)
        assert fw.unpack_dual(x) == (x, None)
        with fw.dual_level() as level:
            assert level == 0
            d = fw.make_dual(x, lib.full((3,), 2.0))
            assert d.requires_grad is False
            assert fw.unpack_dual(d).tangent.tolist() == [2.0, 2.0, 2.0]
            assert fw.unpack_dual(x).tangent is None
            assert isinstance(fw.unpack_dual(d), fw.UnpackedDualTensor)
            with pytest.raises(RuntimeError, match='Nested forward mode AD'):
                fw.enter_dual_level()
            with pytest.raises(RuntimeError, match='different size'):
                fw.make_dual(x, lib.ones(2))
            with pytest.raises(ValueError, match='Expected primal to be floating point'):
                fw.make_dual(lib.arange(3), lib.ones(3))
            with pytest.raises(ValueError, match='Expected tangent to be floating point'):
                fw.make_dual(x, lib.arange(3))
            y = d * 3
        assert fw.unpack_dual(y).tangent is None
        assert fw.enter_dual_level() == 0
        fw.exit_dual_level()


def test_no_tangent_is_dropped():
    fw = ember.autograd.forward_ad
    with fw.dual_level():
        d = fw.make_dual(ember.ones(2, 3), ember.ones(2, 3))
        # pdist's gradient has no derivative of its own (as on torch): refused, naming it
        # (torch has no forward rule for pdist either)
        apart = fw.make_dual(ember.tensor([[0.0, 1.0, 2.0], [3.0, 1.0, 0.0]]), ember.ones(2, 3))
        with pytest.raises(NotImplementedError, match='_pdist_backward'):
            fw.unpack_dual(ember.nn.functional.pdist(apart))
        # with grad mode off nothing is recorded to compute tangents from
        with pytest.raises(NotImplementedError, match='grad mode off'):
            with ember.no_grad():
                pass
    with ember.no_grad():  # outside a level, as ever
        pass


def test_cross_entropy_tangent_matches_torch():
    # nll_loss's gradient is differentiable again (issue 13), so its forward rule exists
    res = []
    for lib in (ember, torch):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            x = lib.tensor([[0.1, 0.5, -0.3], [1.0, 0.2, 0.3]])
            d = fw.make_dual(x, lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.0, 2.0]]))
            res.append(fw.unpack_dual(lib.nn.functional.cross_entropy(
                d, lib.tensor([0, 2]))).tangent.item())
    assert res[0] == pytest.approx(res[1], rel=1e-6)


def test_printing_and_flags_inside_the_level():
    outs = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        fw = lib.autograd.forward_ad
        x = lib.randn(3)
        with fw.dual_level():
            d = fw.make_dual(x, lib.ones(3))
            y = (d * 2).sin()
            outs.append((repr(d), str(y), y.requires_grad, d.requires_grad,
                         y.numpy().shape, str(fw.unpack_dual(y))))
            d.requires_grad_(True)  # now it requires grad for the caller as well
            z = d.exp()
            outs.append((d.requires_grad, z.requires_grad,
                         [round(v, 4) for v in fw.unpack_dual(z).tangent.tolist()]))
    assert outs[0] == outs[2] and outs[1] == outs[3]


@pytest.mark.parametrize('op', ['sigmoid', 'tanh', 'exp', 'sqrt', 'reciprocal'])
def test_reverse_over_forward_through_saved_outputs(op):
    # formulas that use the op's own output (sigmoid: grad * result * (1 - result)) must keep
    # it linked to the op in the nodes they record: a third pass differentiates those
    outs = []
    for lib in (ember, torch):
        rng = np.random.default_rng(5)
        x = lib.tensor(rng.standard_normal(4) ** 2 + 0.5, requires_grad=True)
        m = lib.tensor(rng.standard_normal((4, 4)))
        fn = getattr(lib.Tensor, op)
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            tan = fw.unpack_dual(fn(m @ fw.make_dual(x, x.exp()))).tangent
        (g,) = lib.autograd.grad(tan.sum(), x)
        (d1,) = lib.autograd.grad(fn(x).sum(), x, create_graph=True)
        (d2,) = lib.autograd.grad(d1.sum(), x, create_graph=True)
        (d3,) = lib.autograd.grad(d2.sum(), x)
        outs.append([g.numpy(), d3.numpy()])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
