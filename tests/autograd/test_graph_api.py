"""torch.autograd.graph against torch: saved tensors hooks, save_on_cpu, their disabling,
multi-grad hooks, gradient edges, allow_mutation_on_saved_tensors and the Node API.

Each test runs one program on both libraries (`lib` is ember or torch) and compares what it
returns: values, gradients, the order hooks fire in, error types and messages."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = (ember, torch)


def both(program, *args):
    """Run program(lib, *args) on ember and torch; return the two results."""
    return program(ember, *args), program(torch, *args)


def to_np(v):
    if v is None:
        return None
    return np.asarray(v.detach().numpy() if hasattr(v, 'detach') else v)


def assert_same(e, t, rtol=1e-6, atol=1e-7):
    if isinstance(e, (list, tuple)):
        assert isinstance(t, (list, tuple)) and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            assert_same(a, b, rtol, atol)
    elif hasattr(e, 'detach') or hasattr(t, 'detach'):
        assert (e is None) == (t is None)
        np.testing.assert_allclose(to_np(e), to_np(t), rtol=rtol, atol=atol)
    else:
        assert e == t, (e, t)


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- saved_tensors_hooks --------------------------------------------------------------------

def _hooked_mlp(lib, pack, unpack, dtype):
    g = lib.Generator().manual_seed(0)
    x = lib.tensor(data(4, 5), dtype=dtype)
    w1 = lib.tensor(data(5, 6, seed=1), dtype=dtype, requires_grad=True)
    w2 = lib.tensor(data(6, 3, seed=2), dtype=dtype, requires_grad=True)
    del g
    ctx = lib.autograd.graph.saved_tensors_hooks(pack, unpack) if pack else None
    if ctx:
        ctx.__enter__()
    try:
        h = lib.tanh(x @ w1)
        y = lib.nn.functional.softplus(h @ w2).pow(2).mean()
    finally:
        if ctx:
            ctx.__exit__(None, None, None)
    y.backward()
    return y, w1.grad, w2.grad


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_saved_tensors_hooks_give_the_same_gradients(dtype):
    for lib in LIBS:
        d = getattr(lib, dtype)
        plain = _hooked_mlp(lib, None, None, d)
        packs = []
        hooked = _hooked_mlp(lib, lambda t: (packs.append(1), t.detach().clone() * 1)[1],
                             lambda t: t, d)
        assert packs  # every op that saved a tensor packed it
        assert_same(list(plain), list(hooked), rtol=1e-6 if dtype == 'float32' else 1e-12)
    e = _hooked_mlp(ember, lambda t: t, lambda t: t, ember.float64)
    t = _hooked_mlp(torch, lambda t: t, lambda t: t, torch.float64)
    assert_same(list(e), list(t), rtol=1e-12)


def test_unpack_result_is_used_and_order_of_hooks():
    def program(lib):
        log = []
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)

        def pack(t):
            log.append(('pack', tuple(t.shape)))
            return t.detach().numpy().copy()

        def unpack(arr):
            log.append('unpack')
            return lib.tensor(arr) * 2  # backward sees doubled values

        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (a.exp()).sum()
        y.backward()
        return log, a.grad
    (elog, eg), (tlog, tg) = both(program)
    assert elog == tlog
    assert_same(eg, tg)


def test_nested_hooks_innermost_applies():
    def program(lib):
        log = []
        a = lib.tensor([0.5, -1.0], requires_grad=True)
        outer = lib.autograd.graph.saved_tensors_hooks(
            lambda t: (log.append('outer pack'), t)[1], lambda t: (log.append('outer'), t)[1])
        inner = lib.autograd.graph.saved_tensors_hooks(
            lambda t: (log.append('inner pack'), t)[1], lambda t: (log.append('inner'), t)[1])
        with outer:
            b = a.sin()
            with inner:
                c = b.cos()
            d = c.exp()
        d.sum().backward()
        return log, a.grad
    (elog, eg), (tlog, tg) = both(program)
    assert elog == tlog
    assert_same(eg, tg)


def test_hooks_skip_the_version_check_and_none_saved_without_grad():
    def program(lib):
        packs = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: (packs.append(1), t.clone())[1],
                                                    lambda t: t):
            with lib.no_grad():
                a * a  # nothing recorded, nothing packed
            n = len(packs)
            b = a * 1
            c = b * b
        b.add_(1)  # in place on a saved tensor: the packed copy is used, no error
        c.sum().backward()
        return n, a.grad
    (en, eg), (tn, tg) = both(program)
    assert en == tn == 0
    assert_same(eg, tg)


def test_unpack_must_return_a_tensor():
    for lib in LIBS:
        a = lib.tensor([1.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: 3):
            y = a.exp()
        with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
            y.backward()


def test_custom_function_saved_tensors_are_packed():
    def program(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * x ** 2 * g
        log = []
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: (log.append('p'), t)[1],
                                                    lambda t: (log.append('u'), t * 1)[1]):
            y = Cube.apply(a)
        y.sum().backward()
        return log, a.grad
    (elog, eg), (tlog, tg) = both(program)
    assert elog == tlog
    assert_same(eg, tg)


def test_save_on_cpu_offloads_a_model():
    def program(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
        x = lib.tensor(data(5, 6), dtype=lib.float32)
        grads = []
        for offload in (False, True):
            model.zero_grad()
            if offload:
                with lib.autograd.graph.save_on_cpu(pin_memory=False):
                    loss = model(x).pow(2).sum()
            else:
                loss = model(x).pow(2).sum()
            loss.backward()
            grads.append([p.grad.clone() for p in model.parameters()])
        return loss, grads
    (el, eg), (tl, tg) = both(program)
    assert_same(el, tl, rtol=1e-5)
    assert_same(eg[0], eg[1], rtol=0, atol=0)
    assert_same(eg[1], tg[1], rtol=1e-5, atol=1e-6)


def test_disable_saved_tensors_hooks_messages():
    for lib in LIBS:
        graph = lib.autograd.graph
        with graph.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="^no hooks here$"):
                with graph.save_on_cpu():
                    pass
            with graph.disable_saved_tensors_hooks("inner message"):
                with pytest.raises(RuntimeError, match="^inner message$"):
                    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                        pass
            with pytest.raises(RuntimeError, match="^no hooks here$"):
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # enabled again
            pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            with pytest.raises(RuntimeError, match="^while hooks$"):
                with graph.disable_saved_tensors_hooks("while hooks"):
                    pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # not left disabled
            pass


# ---- the Node API -----------------------------------------------------------------------------

def test_node_saved_attributes_and_raw_saved_hooks():
    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a.exp()
        out = [y.grad_fn._saved_result is y, y.grad_fn.name(),
               isinstance(y.grad_fn, lib.autograd.graph.Node)]
        s = a.sin()
        out.append(s.grad_fn._saved_self is a)
        log = []
        y.grad_fn._raw_saved_result.register_hooks(lambda t: (log.append('p'), t)[1],
                                                   lambda t: (log.append('u'), t * 2)[1])
        y.sum().backward(retain_graph=True)
        out += [log, a.grad.clone()]
        with pytest.raises(RuntimeError, match="already been set"):
            y.grad_fn._raw_saved_result.register_hooks(lambda t: t, lambda t: t)
        z = a.cos()
        z.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.grad_fn._saved_self
        return out
    e, t = both(program)
    assert_same(e, t)


def test_node_metadata_hooks_and_next_functions():
    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * lib.tensor([2.0, 2.0])
        c = b.exp()
        log = []
        assert c.grad_fn.metadata == {}
        c.grad_fn.metadata['k'] = 1
        h1 = c.grad_fn.register_prehook(lambda go: log.append(('pre', to_np(go[0]).tolist())))
        c.grad_fn.register_hook(lambda gi, go: log.append(
            ('post', to_np(gi[0]).round(4).tolist())))
        b.grad_fn.register_prehook(lambda go: (go[0] * 10,))
        h1.remove()
        nf = [(type(n).__name__ if n is not None else None, i)
              for n, i in b.grad_fn.next_functions]
        c.sum().backward()
        return log, nf, a.grad, c.grad_fn.metadata
    e, t = both(program)
    assert_same(e, t, rtol=1e-5)


# ---- gradient edges and versions ------------------------------------------------------------

def test_gradient_edge_as_inputs():
    def program(lib):
        graph = lib.autograd.graph
        x = lib.tensor(data(3), requires_grad=True)
        h = x.sin() * 3
        y = (h * h).sum()
        ex, eh = graph.get_gradient_edge(x), graph.get_gradient_edge(h)
        via_edges = lib.autograd.grad(y, (ex, eh), retain_graph=True)
        direct = lib.autograd.grad(y, (x, h), retain_graph=True)
        single = lib.autograd.grad(y, ex, retain_graph=True)
        # an edge as output, with its gradient given
        back = lib.autograd.grad(eh, x, grad_outputs=lib.ones(3, dtype=lib.float64),
                                 retain_graph=True)
        return list(via_edges) + list(direct) + list(single) + list(back) + [ex.output_nr]
    e, t = both(program)
    assert_same(e, t, rtol=1e-12)
    for lib in LIBS:
        with pytest.raises(RuntimeError, match="does not require gradients"):
            lib.autograd.graph.get_gradient_edge(lib.ones(2))


def test_increment_version():
    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        c = b * b
        v0 = b._version
        lib.autograd.graph.increment_version(b)
        lib.autograd.graph.increment_version([b, a])
        with pytest.raises(RuntimeError) as err:
            c.sum().backward()
        return v0, b._version, a._version, 'modified by an inplace operation' in str(err.value)
    e, t = both(program)
    assert e == t


# ---- multi-grad hooks -----------------------------------------------------------------------

def test_register_multi_grad_hook_all():
    def program(lib):
        a = lib.tensor(data(2, 3), requires_grad=True)
        b = lib.tensor(data(2, 3, seed=1), requires_grad=True)
        c = a * b
        d = a * b
        log = []

        def fn(grads):
            log.append([None if g is None else to_np(g).round(6).tolist() for g in grads])
        h = lib.autograd.graph.register_multi_grad_hook((a, b, c, d), fn)
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        with pytest.raises(RuntimeError, match="A leaf node was passed"):
            lib.autograd.grad((c + d).sum(), (a,), retain_graph=True)
        h.remove()
        c.sum().backward(retain_graph=True)
        e = a * 2
        f = e * b
        h2 = lib.autograd.graph.register_multi_grad_hook((e, f), fn)
        lib.autograd.grad(f.sum(), (e,), retain_graph=True)
        lib.autograd.grad((f + e).sum(), (a,), retain_graph=True)
        lib.autograd.grad((f * 2).sum(), (b,), retain_graph=True)
        h2.remove()
        return log, a.grad, b.grad
    e, t = both(program)
    assert_same(e, t)
    for lib in LIBS:
        with pytest.raises(ValueError, match="Expects mode to be one of"):
            lib.autograd.graph.register_multi_grad_hook([], print, mode="some")


def test_register_multi_grad_hook_any():
    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        log = []
        lib.autograd.graph.register_multi_grad_hook(
            (a, b), lambda g: log.append(to_np(g).tolist()), mode="any")
        (a * 2 + b * 3).sum().backward()
        (b * 5).sum().backward()
        return log
    e, t = both(program)
    assert e == t and len(e) == 2


def test_leaf_hooks_run_for_autograd_grad_and_backward_inputs_keep_other_leaves():
    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        log = []
        a.register_hook(lambda g: (log.append('a'), g * 10)[1])
        g, = lib.autograd.grad((a * b).sum(), a)
        (a * b).sum().backward(inputs=(a,))
        return log, g, a.grad, b.grad
    e, t = both(program)
    assert_same(e, t)


# ---- allow_mutation_on_saved_tensors ----------------------------------------------------------

def test_allow_mutation_on_saved_tensors():
    def program(lib):
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            a = lib.tensor(data(2, 3), requires_grad=True)
            b = a.clone()
            out = (b ** 2).sum()
            b.sin_()
            out.backward()
            grad_plain = a.grad.clone()
            with pytest.raises(RuntimeError, match="cannot be nested"):
                with lib.autograd.graph.allow_mutation_on_saved_tensors():
                    pass
        return grad_plain, b
    e, t = both(program)
    assert_same(e, t, rtol=1e-12)


def test_mutation_outside_the_context_still_fails():
    for lib in LIBS:
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a.clone()
        out = (b ** 2).sum()
        b.sin_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward()
