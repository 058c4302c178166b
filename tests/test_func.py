"""ember.func.functional_call against torch.func.functional_call."""
import numpy as np
import pytest
import torch

import ember


def _net(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))
    return net


def _call(lib, **kw):
    net = _net(lib)
    w = lib.ones(4, 3, requires_grad=True)
    x = lib.arange(6.).reshape(2, 3)
    y = lib.func.functional_call(net, {'0.weight': w, '1.running_mean': lib.ones(4)}, (x,),
                                 **kw)
    y.sum().backward()
    return [y.detach().numpy(), w.grad.numpy(), net[0].weight.detach().numpy(),
            net[1].running_mean.numpy()]


def test_functional_call_matches_torch():
    for e, t in zip(_call(ember), _call(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


def test_functional_call_restores_and_checks():
    for lib in (ember, torch):
        net = _net(lib)
        before = net[0].weight
        lib.func.functional_call(net, ({'0.bias': lib.zeros(4)}, {'2.bias': lib.zeros(2)}),
                                 lib.ones(2, 3))
        assert net[0].weight is before and isinstance(net[0].bias, lib.nn.Parameter)
        with pytest.raises(ValueError, match='appeared in multiple dictionaries'):
            lib.func.functional_call(net, ({'0.bias': lib.zeros(4)}, {'0.bias': lib.zeros(4)}),
                                     lib.ones(2, 3))
        with pytest.raises(RuntimeError, match="Missing key"):
            lib.func.functional_call(net, {'0.bias': lib.zeros(4)}, lib.ones(2, 3),
                                     strict=True)


def test_tied_weights():
    for lib in (ember, torch):
        emb = lib.nn.Embedding(5, 3)
        head = lib.nn.Linear(3, 5, bias=False)
        head.weight = emb.weight
        net = lib.nn.Sequential(emb, head)
        out = lib.func.functional_call(net, {'0.weight': lib.zeros(5, 3)},
                                       lib.tensor([1, 2]))
        assert float(out.abs().sum()) == 0.0
        with pytest.raises(ValueError, match='which are tied'):
            lib.func.functional_call(net, {'0.weight': lib.zeros(5, 3),
                                           '1.weight': lib.ones(5, 3)}, lib.tensor([1]))


# ---- the transforms, against torch.func ---------------------------------------------------------

def _to_np(tree):
    if isinstance(tree, (tuple, list)):
        return [_to_np(x) for x in tree]
    if isinstance(tree, dict):
        return {k: _to_np(v) for k, v in tree.items()}
    if tree is None or isinstance(tree, (int, float)):
        return tree
    return (tree.detach().numpy(), str(tree.dtype), tuple(tree.shape), tree.requires_grad)


def _assert_same(e, t, rtol=1e-6):
    if isinstance(t, list):
        assert isinstance(e, list) and len(e) == len(t)
        for a, b in zip(e, t):
            _assert_same(a, b, rtol)
    elif isinstance(t, dict):
        assert list(e) == list(t)
        for k in t:
            _assert_same(e[k], t[k], rtol)
    elif isinstance(t, tuple):
        (ea, ed, es, er), (ta, td, ts, tr) = e, t
        assert (ed, es, er) == (td, ts, tr)
        np.testing.assert_allclose(ea, ta, rtol=rtol, atol=rtol)
    else:
        assert e == t


def assert_both_match(run, rtol=None, dtype='float64'):
    """run(lib, data) on ember and torch with the same data; results compared."""
    rng = np.random.default_rng(0)
    data = {k: rng.standard_normal(s).astype(dtype) for k, s in
            (('x', (3,)), ('y', (2, 3)), ('m', (3, 3)), ('b', (4, 3)), ('v', (2,)))}
    tol = rtol or (1e-10 if dtype == 'float64' else 2e-5)
    outs = []
    for lib in (ember, torch):
        d = {k: lib.tensor(v) for k, v in data.items()}
        outs.append(_to_np(run(lib, d)))
    _assert_same(*outs, rtol=tol)


def _f(lib):
    return lambda x, m: ((m @ x).tanh() * x).sum() + (x.sin() ** 2).sum()


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_grad_and_value_argnums_has_aux(dtype):
    assert_both_match(lambda lib, d: lib.func.grad(_f(lib))(d['x'], d['m']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.grad(_f(lib), argnums=(0, 1))(d['x'], d['m']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.grad(_f(lib), argnums=-1)(d['x'], d['m']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.grad_and_value(_f(lib), argnums=(1,))(d['x'], d['m']),
          dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.grad_and_value(
        lambda x: ((x ** 2).sum(), {'aux': x * 3}), has_aux=True)(d['x']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.grad(
        lambda p: (p['w'] * p['b']).sum().exp())({'w': d['x'], 'b': d['x'] + 1}), dtype=dtype)


def test_grad_composes_and_keeps_outer_graphs():
    assert_both_match(lambda lib, d: lib.func.grad(lib.func.grad(lambda x: x.sin() * x ** 3))(d['x'][0]))
    assert_both_match(lambda lib, d: lib.func.grad(lambda x: lib.func.grad(
        lambda y: (x * y).sin().sum())(d['y'][0]).sum())(d['x']))

    def outer(lib, d):
        w = d['x'].clone().requires_grad_()
        g = lib.func.grad(lambda x: (w * x).sin().sum())(d['m'][0])
        (gw,) = lib.autograd.grad(g.sum(), w)
        return g.requires_grad, gw
    assert_both_match(outer)
    # independent of the input: zeros
    assert_both_match(lambda lib, d: lib.func.grad(lambda x: lib.ones(()))(d['x']))


def test_grad_errors():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='to return a scalar Tensor, got tensor with 1 dims'):
            lib.func.grad(lambda x: x)(lib.ones(3))
        with pytest.raises(RuntimeError, match='Got argnum=2, but only 1 positional inputs'):
            lib.func.grad(lambda x: x.sum(), argnums=2)(lib.ones(3))
        with pytest.raises(RuntimeError, match='argnums elements must be unique'):
            lib.func.grad(lambda x: x.sum(), argnums=(0, 0))(lib.ones(3))
        with pytest.raises(RuntimeError, match=r'should be a tuple: \(output, aux\)'):
            lib.func.grad(lambda x: x.sum(), has_aux=True)(lib.ones(3))
        with pytest.raises(RuntimeError, match='floating point'):
            lib.func.grad(lambda x: x.sum())(lib.ones(3, dtype=lib.int64))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_vjp_jvp_linearize(dtype):
    def run_vjp(lib, d):
        out, fn = lib.func.vjp(lambda x, m: (m @ x, x.exp()), d['x'], d['m'])
        return out, fn((d['x'] * 2, d['x'] + 1))
    assert_both_match(run_vjp, dtype=dtype)

    def run_vjp_aux(lib, d):
        out, fn, aux = lib.func.vjp(lambda x: (x.sin(), x.cos()), d['y'], has_aux=True)
        return out, fn(lib.ones_like(out)), aux
    assert_both_match(run_vjp_aux, dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.jvp(lambda x, m: (m @ x).tanh(), (d['x'], d['m']),
                                      (d['x'] * 0.5, d['m'] * 2)), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.jvp(lambda x: ((x ** 2).sum(), x.log_softmax(0)), (d['x'],),
                                      (lib.ones(3, dtype=d['x'].dtype),)), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.jvp(lambda x: (x.exp(), x * 2), (d['x'],), (d['x'],),
                                      has_aux=True), dtype=dtype)

    def run_lin(lib, d):
        out, fn = lib.func.linearize(lambda x: (x.sin() * x).cumsum(0), d['x'])
        return out, fn(d['x']), fn(lib.ones_like(d['x']))
    assert_both_match(run_lin, dtype=dtype)
    # an output independent of the inputs: zeros (strict refuses)
    assert_both_match(lambda lib, d: lib.func.jvp(lambda x: lib.ones(2), (d['x'],), (d['x'],)))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='independent of the inputs'):
            lib.func.jvp(lambda x: lib.ones(2), (lib.ones(2),), (lib.ones(2),), strict=True)
        with pytest.raises(RuntimeError, match='Expected primals to be a tuple'):
            lib.func.jvp(lambda x: x, lib.ones(2), (lib.ones(2),))
        with pytest.raises(RuntimeError, match='same python structure'):
            lib.func.jvp(lambda x: x, (lib.ones(2),), (lib.ones(2), lib.ones(2)))
        with pytest.raises(RuntimeError, match='different size'):
            lib.func.jvp(lambda x: x, (lib.ones(2),), (lib.ones(3),))
        _, fn = lib.func.vjp(lambda x: (x, x), lib.ones(2))
        with pytest.raises(RuntimeError, match='pytree structure of cotangents'):
            fn(lib.ones(2))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_jacobians_and_hessian(dtype):
    for jac in ('jacrev', 'jacfwd'):
        assert_both_match(lambda lib, d: getattr(lib.func, jac)(lambda x, m: (m @ x).sigmoid())(
            d['x'], d['m']), dtype=dtype)
        assert_both_match(lambda lib, d: getattr(lib.func, jac)(lambda x, m: ((m @ x).sin(), x.sum()),
                                                    argnums=(0, 1))(d['x'], d['m']),
              dtype=dtype)
        assert_both_match(lambda lib, d: getattr(lib.func, jac)(lambda x: (x.exp(), x.sum()),
                                                    has_aux=True)(d['y']), dtype=dtype)
        assert_both_match(lambda lib, d: getattr(lib.func, jac)(lambda p: p['a'] * p['b'].sum())(
            {'a': d['x'], 'b': d['v']}), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.hessian(lambda x: (x.sin() * x.roll(1)).sum())(d['x']),
          dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.hessian(lambda x, m: (m @ x).pow(3).sum(), argnums=(0, 1))(
        d['x'], d['m']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.jacrev(lib.func.jacfwd(lambda x: x.tanh() * x.sum()))(d['x']),
          dtype=dtype)


def test_jacobian_matches_gradcheck_float64():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(4)
    j = ember.func.jacrev(lambda t: (t * t.flip(0)).cumprod(0))(ember.tensor(x)).numpy()
    eps = 1e-6
    num = np.stack([((lambda t: (t * t[::-1]).cumprod())(x + eps * e) -
                     (lambda t: (t * t[::-1]).cumprod())(x - eps * e)) / (2 * eps)
                    for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(j, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_vmap_dims(dtype):
    assert_both_match(lambda lib, d: lib.func.vmap(lambda a, m: m @ a, in_dims=(0, None))(d['b'], d['m']),
          dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.vmap(lambda a: a.softmax(0), in_dims=1)(d['b']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.vmap(lambda a: (a.sum(), a * 2), out_dims=(0, 1))(d['b']),
          dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.vmap(lambda a: a.sum(), out_dims=-1)(d['b']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.vmap(lambda p, s: p['w'] * p['b'] + s,
                                       in_dims=({'w': 0, 'b': None}, None))(
        {'w': d['b'], 'b': d['x']}, 2.0), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.vmap(lambda t: t[0] + t[1], in_dims=((0, 1),))(
        (d['y'], d['y'].t())), dtype=dtype)
    # nested: an outer product by two vmaps
    assert_both_match(lambda lib, d: lib.func.vmap(lib.func.vmap(lambda a, b: a * b, in_dims=(None, 0)),
                                       in_dims=(0, None))(d['x'], d['v']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.vmap(lambda a: a * 2, chunk_size=2)(d['b']), dtype=dtype)
    assert_both_match(lambda lib, d: lib.func.vmap(lambda a: lib.ones(2), out_dims=None)(d['b']))
    assert_both_match(lambda lib, d: lib.func.vmap(lambda a: a.exp())(d['b'][:0]))


def test_vmap_errors_and_randomness():
    for lib in (ember, torch):
        x = lib.arange(6.).reshape(2, 3)
        cases = [
            (lambda: lib.func.vmap(lambda a: 1.0)(x), ValueError, 'must only return Tensors'),
            (lambda: lib.func.vmap(lambda a, b: a + b)(x, lib.ones(3, 3)), ValueError,
             r'same size in the mapped dimension, got sizes \[2, 3\]'),
            (lambda: lib.func.vmap(lambda a: a, in_dims=(0, 0))(x), ValueError,
             'in_dims is not compatible with the structure of `inputs`'),
            (lambda: lib.func.vmap(lambda a: a, in_dims=2)(x), ValueError,
             'expected in_dim to satisfy -2 <= in_dim < 2'),
            (lambda: lib.func.vmap(lambda a: a, in_dims=None)(x), ValueError,
             'expected `in_dims` to be int'),
            (lambda: lib.func.vmap(lambda a: a)(3.0), ValueError, 'non-Tensor arguments'),
            (lambda: lib.func.vmap(lambda a: a, out_dims=None)(x), ValueError,
             'can not return a BatchedTensor when out_dim is None'),
            (lambda: lib.func.vmap(lambda a: a, out_dims=(0, 1))(x), ValueError,
             'out_dims is not compatible'),
            (lambda: lib.func.vmap(lambda a: a.sum(), out_dims=1)(x), IndexError,
             'Dimension out of range'),
            (lambda: lib.func.vmap(lambda a: a, randomness='x'), RuntimeError,
             'Only allowed values for randomness'),
            (lambda: lib.func.vmap(lambda a: a, chunk_size=0), ValueError,
             'chunk_size should be None or greater than 0'),
            (lambda: lib.func.vmap(lambda a: a + lib.rand(3))(x), RuntimeError,
             'randomness error mode'),
            (lambda: lib.func.vmap(lib.nn.Dropout(0.5))(x), RuntimeError,
             'randomness error mode'),
        ]
        for fn, exc, msg in cases:
            with pytest.raises(exc, match=msg):
                fn()
    # 'same': every sample draws what the first does, as one unbatched draw in torch
    outs = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        r = lib.func.vmap(lambda a: a + lib.rand(3), randomness='same')(lib.zeros(4, 3))
        outs.append((r.numpy(), lib.rand(2).numpy()))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    ember.manual_seed(3)
    r = ember.func.vmap(lambda a: a + ember.rand(3), randomness='different')(ember.zeros(4, 3))
    assert len({tuple(row) for row in r.numpy().tolist()}) == 4


def _mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_per_sample_grads_through_functional_call(dtype):
    def run(lib, d):
        net = _mlp(lib).to(getattr(lib, dtype))
        params = {k: v.detach() for k, v in net.named_parameters()}
        target = lib.tensor([0, 1, 1, 0])

        def loss(p, x, y):
            out = lib.func.functional_call(net, p, (x.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, y.unsqueeze(0))
        return lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, d['b'], target)
    assert_both_match(run, dtype=dtype)


def test_stack_module_state_and_model_ensembling():
    def run(lib, d):
        models = [_mlp(lib) for _ in range(3)]
        for i, m in enumerate(models):
            with lib.no_grad():
                for p in m.parameters():
                    p.mul_(i + 1)
        params, buffers = lib.func.stack_module_state(models)

        def call(p, b, x):
            return lib.func.functional_call(models[0], (p, b), (x,))
        out = lib.func.vmap(call, in_dims=(0, 0, None))(params, buffers, d['b'])
        return params, buffers, out
    assert_both_match(run, dtype='float32')
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='Expected at least one model'):
            lib.func.stack_module_state([])
        a, b = _mlp(lib), _mlp(lib).eval()
        with pytest.raises(RuntimeError, match='same training/eval mode'):
            lib.func.stack_module_state([a, b])
        with pytest.raises(RuntimeError, match='same class'):
            lib.func.stack_module_state([a, lib.nn.Linear(3, 5)])


def test_small_helpers():
    for lib in (ember, torch):
        bn = lib.nn.Sequential(lib.nn.BatchNorm1d(3), lib.nn.Linear(3, 3))
        assert lib.func.replace_all_batch_norm_modules_(bn) is bn
        assert bn[0].running_mean is None and bn[0].track_running_stats is False
        x = lib.ones(2)

        def mutate(t):
            t.add_(1)
            return t * 2
        y = lib.func.functionalize(mutate)(x)
        assert y.tolist() == [4.0, 4.0] and x.tolist() == [2.0, 2.0]
        assert lib.func.debug_unwrap(x) is x
        with pytest.raises(RuntimeError, match='received invalid argument for remove'):
            lib.func.functionalize(mutate, remove='x')


REARRANGE = [('b c h w -> b (c h w)', {}), ('b c h w -> w h c b', {}),
             ('b c (h1 h) w -> (b h1) c h w', dict(h1=2)), ('b c h (w1 w2) -> b (w2 c) h w1',
                                                             dict(w1=3)),
             ('... w -> w ...', {}), ('b ... w -> b (...) w', {}), ('b c h w -> b 1 c h w', {}),
             ('b c h w -> b c h w 1 1', {}), ('b c (h1 h2) w -> b c h1 h2 w', dict(h1=2, h2=2))]


@pytest.mark.parametrize('pattern,lengths', REARRANGE)
def test_rearrange_matches_torch(pattern, lengths):
    a = np.arange(2 * 3 * 4 * 6, dtype=np.float64).reshape(2, 3, 4, 6)
    assert_both_match(lambda lib, d: lib.func.rearrange(lib.tensor(a), pattern, **lengths))
    # gradients flow through (a reshape and a permute)
    assert_both_match(lambda lib, d: lib.func.grad(lambda x: (lib.func.rearrange(x, pattern, **lengths) *
                                                  lib.arange(float(a.size)).reshape(
                                                      lib.func.rearrange(x, pattern, **lengths)
                                                      .shape)).sum())(lib.tensor(a)))


def test_rearrange_lists_and_errors():
    a = np.arange(24.).reshape(2, 3, 4)
    assert_both_match(lambda lib, d: lib.func.rearrange([lib.tensor(a), lib.tensor(a) + 1],
                                            'n b c h -> b n (c h)'))
    assert_both_match(lambda lib, d: lib.func.rearrange(lib.tensor(a[:1]), '1 c h -> c h'))
    for pattern, lengths in [('b c -> c b', {}), ('b c h -> c b', {}), ('b c h', {}),
                             ('b c h -> b c h', dict(q=2)), ('b c h -> b c 2', {}),
                             ('b (c c) h -> b c h', {}), ('b c h -> b ((c h))', {}),
                             ('b c h -> b c h)', {}), ('b c h -> b c ...', {}),
                             ('b c h -> b c h', dict(b=2.0)), ('b c.. h -> b c h', {}),
                             ('b c h! -> b c h', {}), ('b _c h -> b _c h', {})]:
        errors = []
        for lib in (ember, torch):
            with pytest.raises((ValueError, TypeError)) as info:
                lib.func.rearrange(lib.tensor(a), pattern, **lengths)
            errors.append((info.type, str(info.value)))
        assert errors[0] == errors[1]


def test_jacfwd_randomness_rule():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='randomness error mode'):
            lib.func.jacfwd(lambda x: x * lib.rand(3))(lib.ones(3))
        assert lib.func.jacfwd(lambda x: x * lib.rand(3), randomness='same')(
            lib.ones(3)).shape == (3, 3)


def test_transform_outputs_pass_gradcheck_float64():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal(4), requires_grad=True)
    m = ember.tensor(rng.standard_normal((4, 4)))
    f = lambda t: ((m @ t).sin() * t).sum()  # noqa: E731
    gradcheck = ember.autograd.gradcheck
    assert gradcheck(lambda t: ember.func.grad(f)(t), (x,))
    assert gradcheck(lambda t: ember.func.jvp(lambda u: (m @ u).tanh(), (t,), (t.cos(),))[1],
                     (x,))
    assert gradcheck(lambda t: ember.func.vmap(lambda r: (r * t).exp().sum())(m), (x,))
    assert gradcheck(lambda t: ember.func.jacrev(lambda u: u.sin() * u.sum())(t), (x,))
    fw = ember.autograd.forward_ad

    def tangent(t):
        with fw.dual_level():
            return fw.unpack_dual((m @ fw.make_dual(t, t.exp())).sigmoid()).tangent
    assert gradcheck(tangent, (x,))
