"""ember.utils.checkpoint against torch: the same values, gradients and random stream."""
import warnings

import numpy as np
import pytest
import torch

import ember


def _run(lib, reentrant, sequential):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Dropout(0.3),
                            lib.nn.Linear(8, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
    x = lib.randn(5, 4, requires_grad=True)
    from importlib import import_module
    cp = import_module(lib.__name__ + '.utils.checkpoint')
    if sequential:
        y = cp.checkpoint_sequential(net, 2, x, use_reentrant=reentrant)
    else:
        y = cp.checkpoint(net, x, use_reentrant=reentrant)
    y.pow(2).sum().backward()
    after = lib.rand(3)  # the generator stream continues where torch's does
    return [y.detach().numpy(), x.grad.numpy(), net[0].weight.grad.numpy(), after.numpy()]


@pytest.mark.parametrize('reentrant', [True, False])
@pytest.mark.parametrize('sequential', [True, False])
def test_checkpoint_matches_torch(reentrant, sequential):
    for e, t in zip(_run(ember, reentrant, sequential), _run(torch, reentrant, sequential)):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


def test_reentrant_without_grad_inputs_and_warnings():
    from ember.utils.checkpoint import checkpoint
    lin = ember.nn.Linear(2, 2)
    with pytest.warns(UserWarning, match='None of the inputs have requires_grad=True'):
        y = checkpoint(lin, ember.ones(1, 2), use_reentrant=True)
    assert not y.requires_grad  # as torch: parameters alone carry no gradient here
    with pytest.warns(UserWarning, match='use_reentrant parameter should be passed'):
        checkpoint(lin, ember.ones(1, 2, requires_grad=True))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert checkpoint(lin, ember.ones(1, 2), use_reentrant=False).requires_grad
    with pytest.raises(ValueError, match='Unexpected keyword arguments: foo'):
        checkpoint(lin, ember.ones(1, 2), use_reentrant=True, foo=1)


# ---- recomputation, memory, random state and the non-reentrant extras ------------------------

def _counting_block(lib):
    lib.manual_seed(3)
    net = lib.nn.Sequential(lib.nn.Linear(4, 16), lib.nn.GELU(), lib.nn.Dropout(0.5),
                            lib.nn.Linear(16, 16), lib.nn.LayerNorm(16), lib.nn.Tanh(),
                            lib.nn.Linear(16, 3))
    calls = []

    def block(x):
        calls.append(1)
        return net(x)
    return net, block, calls


def _grads(lib, mode):
    net, block, calls = _counting_block(lib)
    lib.manual_seed(5)
    x = lib.randn(6, 4, requires_grad=True)
    from importlib import import_module
    cp = import_module(lib.__name__ + '.utils.checkpoint')
    if mode == 'plain':
        y = block(x)
    else:
        y = cp.checkpoint(block, x, use_reentrant=(mode == 'reentrant'))
    forward_calls = len(calls)
    (y.sin() * 3).sum().backward()
    out = [y.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in net.parameters()]
    return out, forward_calls, len(calls)


@pytest.mark.parametrize('mode', ['reentrant', 'non_reentrant'])
def test_forward_rerun_in_backward_same_gradients(mode):
    plain, f0, n0 = _grads(ember, 'plain')
    got, f1, n1 = _grads(ember, mode)
    ref, f2, n2 = _grads(torch, mode)
    assert (f0, n0) == (1, 1)
    assert (f1, n1) == (1, 2) == (f2, n2)  # the segment runs again during backward
    for a, b, c in zip(got, plain, ref):
        # same dropout mask in the recomputation: the gradients equal the plain ones
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('reentrant', [True, False])
def test_activations_are_not_kept(reentrant):
    import gc
    import weakref
    from ember.utils.checkpoint import checkpoint
    refs = []

    def block(x):
        h = (x * 2).exp()       # exp saves its result, mul its operand
        refs.append(weakref.ref(h))
        return (h * x).tanh()

    for use_cp in (False, True):
        refs.clear()
        x = ember.randn(3, 3, dtype=ember.float64, requires_grad=True)
        y = checkpoint(block, x, use_reentrant=reentrant) if use_cp else block(x)
        gc.collect()
        alive = refs[0]() is not None
        assert alive == (not use_cp)
        y.sum().backward()
        xv = x.detach().numpy()
        np.testing.assert_allclose(
            x.grad.numpy(),
            (1 - np.tanh(np.exp(2 * xv) * xv) ** 2) * np.exp(2 * xv) * (2 * xv + 1), rtol=1e-10)


def test_preserve_rng_state_false_changes_the_mask():
    from ember.utils.checkpoint import checkpoint
    for lib in (ember,):
        lib.manual_seed(0)
        x = lib.ones(1, 200, requires_grad=True)
        y = checkpoint(lambda t: lib.nn.functional.dropout(t, 0.5) * 1.0, x,
                       use_reentrant=False, preserve_rng_state=False)
        y.sum().backward()
        # the recomputation drew a fresh mask: the gradient's zeros differ from y's
        assert not np.array_equal(x.grad.numpy() == 0, y.detach().numpy() == 0)


def test_non_reentrant_autograd_grad_kwargs_and_nested_inputs():
    from ember.utils.checkpoint import checkpoint as ecp
    from torch.utils.checkpoint import checkpoint as tcp
    res = []
    for lib, cp in ((ember, ecp), (torch, tcp)):
        lib.manual_seed(1)
        lin = lib.nn.Linear(3, 3)
        a = lib.randn(2, 3, requires_grad=True)
        b = lib.randn(2, 3, requires_grad=True)

        def fn(pair, scale=1.0):
            return lin(pair[0] * pair[1]).sigmoid() * scale

        y = cp(fn, [a, b], scale=2.0, use_reentrant=False)
        ga, gw = lib.autograd.grad(y.pow(2).sum(), (a, lin.weight))
        res.append((y.grad_fn.name(), ga.numpy(), gw.numpy()))
    assert res[0][0] == res[1][0] == 'MulBackward0'  # the segment's real graph
    for e, t in zip(res[0][1:], res[1][1:]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-7)


def test_reentrant_refuses_autograd_grad_as_torch():
    from ember.utils.checkpoint import checkpoint as ecp
    from torch.utils.checkpoint import checkpoint as tcp
    msgs = []
    for lib, cp in ((ember, ecp), (torch, tcp)):
        x = lib.randn(2, 2, requires_grad=True)
        y = cp(lambda t: t.exp(), x, use_reentrant=True)
        with pytest.raises(RuntimeError) as info:
            lib.autograd.grad(y.sum(), x)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_double_backward_through_non_reentrant_checkpoint():
    from ember.utils.checkpoint import checkpoint as ecp
    from torch.utils.checkpoint import checkpoint as tcp
    res = []
    for lib, cp in ((ember, ecp), (torch, tcp)):
        x = lib.tensor([[0.3, -1.2], [0.8, 0.1]], dtype=lib.float64, requires_grad=True)
        y = cp(lambda t: (t.tanh() * t).exp(), x, use_reentrant=False)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.pow(2).sum(), x)
        res.append((g.detach().numpy(), gg.numpy()))
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t, rtol=1e-10)


def test_nested_checkpoint_and_sequential_calls():
    from ember.utils.checkpoint import checkpoint, checkpoint_sequential
    calls = []

    def inner(t):
        calls.append('inner')
        return t.sin() * 2

    def outer(t):
        calls.append('outer')
        return checkpoint(inner, t.cos(), use_reentrant=False).exp()

    x = ember.tensor([0.2, -0.4, 1.1], requires_grad=True)
    y = checkpoint(outer, x, use_reentrant=False)
    y.sum().backward()
    assert calls == ['outer', 'inner', 'outer', 'inner']
    xv = x.detach().numpy()
    expect = np.exp(2 * np.sin(np.cos(xv))) * 2 * np.cos(np.cos(xv)) * -np.sin(xv)
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-5)
    net = ember.nn.Sequential(*[ember.nn.Linear(4, 4) for _ in range(4)])
    seen = []
    for m in net:
        m.register_forward_hook(lambda mod, i, o: seen.append(mod))
    out = checkpoint_sequential(net, 2, ember.randn(2, 4, requires_grad=True),
                                use_reentrant=False)
    n_forward = len(seen)
    out.sum().backward()
    assert n_forward == 4 and len(seen) == 6  # the first segment ran again


def test_determinism_check_and_context_fn():
    from ember.utils.checkpoint import checkpoint, CheckpointError
    state = {'n': 0}

    def unstable(t):
        state['n'] += 1
        return t.exp() if state['n'] == 1 else t.exp().exp()

    x = ember.randn(3, requires_grad=True)
    y = checkpoint(unstable, x, use_reentrant=False)
    with pytest.raises(CheckpointError, match='A different number of tensors was saved'):
        y.sum().backward()
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', "
                                         r"'none'\], but got bad"):
        checkpoint(unstable, x, use_reentrant=False, determinism_check='bad')
    entered = []

    @__import__('contextlib').contextmanager
    def tag(name):
        entered.append(name)
        yield

    y = checkpoint(lambda t: t.sigmoid(), x, use_reentrant=False,
                   context_fn=lambda: (tag('forward'), tag('recompute')))
    y.sum().backward()
    assert entered == ['forward', 'recompute']
    assert issubclass(CheckpointError, RuntimeError)


def test_public_names():
    import ember.utils.checkpoint as cp
    assert cp.DefaultDeviceType.get_device_type() in ('cpu', 'cuda')
    assert cp.get_device_states(ember.ones(1)) == ([], [])
    assert [p.name for p in cp.CheckpointPolicy] == [p.name for p in
                                                      torch.utils.checkpoint.CheckpointPolicy]
    with pytest.warns(UserWarning, match='None of the inputs have requires_grad=True'):
        cp.check_backward_validity([ember.ones(1)])
    with cp.set_checkpoint_early_stop(False), cp.set_checkpoint_debug_enabled(None), \
            cp.GraphExecGroup():
        x = ember.ones(2, requires_grad=True)
        cp.checkpoint(lambda t: t * 3, x, use_reentrant=False).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(NotImplementedError, match='create_selective_checkpoint_contexts'):
        cp.create_selective_checkpoint_contexts([])
