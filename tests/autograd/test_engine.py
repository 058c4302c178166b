"""The autograd engine against torch: accumulation, graphs, hooks, in-place rules, errors."""
import gc
import weakref

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def pair(arr, requires_grad=False):
    """The same values as an ember tensor and a torch tensor."""
    arr = np.asarray(arr)
    e = ember.tensor(arr.copy(), requires_grad=requires_grad)
    t = torch.tensor(arr.copy(), requires_grad=requires_grad)
    return e, t


def assert_close(e, t, **kw):
    np.testing.assert_allclose(np.asarray(e.detach()._data), t.detach().numpy(), **kw)


def test_grad_accumulates_across_backward_calls():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    ex, tx = pair(x, True)
    for _ in range(3):
        (ex * ex).sum().backward()
        (tx * tx).sum().backward()
    assert_close(ex.grad, tx.grad, rtol=1e-6)


def test_shared_subexpression_and_broadcast_unreduced_once():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 1, 3))
    b = rng.standard_normal((2, 3))
    ea, ta = pair(a, True)
    eb, tb = pair(b, True)
    ey = ea * eb + ea
    ty = ta * tb + ta
    g = rng.standard_normal(ty.shape)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(ea.grad, ta.grad, rtol=1e-12)
    assert_close(eb.grad, tb.grad, rtol=1e-12)
    assert ea.grad.shape == ea.shape and eb.grad.shape == eb.shape


def test_mixed_dtype_gradients_cast_back_to_input_dtype():
    a32, t32 = pair(np.ones(3, np.float32), True)
    a64, t64 = pair(np.arange(3.0), True)
    (a32 * a64).sum().backward()
    (t32 * t64).sum().backward()
    assert a32.grad.dtype == ember.float32 and a64.grad.dtype == ember.float64
    assert_close(a32.grad, t32.grad)


def test_long_chain_is_iterative():
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_second_backward_through_freed_graph_raises():
    x = ember.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    ex, tx = pair(np.array([1.0, 2.0]), True)
    ey, ty = (ex * ex).sum(), (tx * tx).sum()
    ey.backward(retain_graph=True)
    ey.backward()
    ty.backward(retain_graph=True)
    ty.backward()
    assert_close(ex.grad, tx.grad)


def test_create_graph_second_derivative():
    ex, tx = pair(np.array([0.3, -1.2, 2.0]), True)
    ey = (ex ** 3).sum()
    ty = (tx ** 3).sum()
    (eg,) = ember.autograd.grad(ey, ex, create_graph=True)
    (tg,) = torch.autograd.grad(ty, tx, create_graph=True)
    assert_close(eg, tg)
    eg.sum().backward()
    tg.sum().backward()
    assert_close(ex.grad, tx.grad)


def test_create_graph_through_saved_result():
    ex, tx = pair(np.array([0.3, -1.2]), True)
    (eg,) = ember.autograd.grad(ex.exp().sum(), ex, create_graph=True)
    (tg,) = torch.autograd.grad(tx.exp().sum(), tx, create_graph=True)
    (egg,) = ember.autograd.grad(eg.sum(), ex)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    assert_close(egg, tgg)


def test_autograd_grad_leaves_grad_untouched_and_allow_unused():
    x = ember.ones(2, requires_grad=True)
    z = ember.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ember.autograd.grad(y, (x, z), retain_graph=True)
    gx, gz = ember.autograd.grad(y, (x, z), allow_unused=True)
    assert gz is None and x.grad is None
    np.testing.assert_array_equal(gx._data, [2.0, 2.0])


def test_backward_on_non_scalar_needs_gradient():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()


def test_backward_without_grad_raises():
    x = ember.ones(2)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x += 1
    with ember.no_grad():
        x -= 0.5  # allowed without grad mode, as in the seeds' manual SGD
    np.testing.assert_array_equal(x._data, [0.5, 0.5])


def test_inplace_division_inside_forward_matches_torch():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 4)).astype(np.float32)
    ew, tw = pair(w, True)
    ex, tx = ew.mm(ew), tw.mm(tw)
    while ex.abs().sum() > 1:
        ex /= 2
    while tx.abs().sum() > 1:
        tx /= 2
    assert ex.grad_fn.name() == tx.grad_fn.name() == "DivBackward0"
    ex.sum().backward()
    tx.sum().backward()
    assert_close(ew.grad, tw.grad, rtol=1e-5)


def test_modified_saved_tensor_raises():
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    z = y.sigmoid()  # saves its result
    z.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_modified_saved_input_raises():
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        z.sum().backward()


def test_hooks_on_leaf_and_non_leaf():
    ex, tx = pair(np.array([1.0, 2.0]), True)
    seen = {}
    ey = ex * 3
    ty = tx * 3
    ey.register_hook(lambda g: g * 10)
    ty.register_hook(lambda g: g * 10)
    ex.register_hook(lambda g: seen.setdefault('e', g.clone()))
    tx.register_hook(lambda g: seen.setdefault('t', g.clone()))
    ey.sum().backward()
    ty.sum().backward()
    assert_close(ex.grad, tx.grad)
    assert_close(seen['e'], seen['t'])


def test_retain_grad():
    ex, tx = pair(np.array([1.0, 2.0]), True)
    ey, ty = ex * 3, tx * 3
    ey.retain_grad()
    ty.retain_grad()
    (ey * ey).sum().backward()
    (ty * ty).sum().backward()
    assert_close(ey.grad, ty.grad)
    assert ey.retains_grad


def test_no_grad_and_decorators():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad

    @ember.no_grad()
    def f():
        return x * 2

    @ember.no_grad
    def g():
        return x * 2

    assert not f().requires_grad and not g().requires_grad
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    with ember.inference_mode():
        assert not (x * 2).requires_grad


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ember.tensor([1, 2]).requires_grad_()
    y = ember.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    assert not y.is_leaf and y.detach().is_leaf


def test_detach_shares_memory_and_version():
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    d[0] = 5.0
    assert y[0].item() == 5.0


def test_custom_function():
    class Exp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            r = i.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    x = ember.tensor([0.5, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert type(y.grad_fn).__name__ == "ExpBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, np.exp([0.5, 1.0]), rtol=1e-6)


def test_custom_function_multiple_outputs_and_needs_input_grad():
    class Split(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.k = k
            assert ctx.needs_input_grad == (True, False, False)
            return a * k, a + b

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * ctx.k + g2, None, None

    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2)
    u, v = Split.apply(a, b, 3.0)
    (u.sum() + v.sum() * 2).backward()
    np.testing.assert_allclose(a.grad._data, [5.0, 5.0])


def test_gradcheck_and_gradgradcheck():
    x = ember.tensor(np.random.default_rng(0).standard_normal((3,)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
    assert ember.autograd.gradgradcheck(lambda t: (t.sin() * t), (x,))


def test_gradcheck_catches_wrong_gradient():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            return i * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = ember.ones(2, dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Bad.apply, (x,))


def test_detect_anomaly_names_the_op():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    with ember.autograd.detect_anomaly():
        y = x.sqrt() * 0  # sqrt's backward at 0 gives inf * 0 = nan
        with pytest.warns(UserWarning, match="SqrtBackward0"), \
                pytest.raises(RuntimeError, match="returned nan values"):
            y.sum().backward()


def test_saved_arrays_freed_after_backward():
    x = ember.ones(1000, requires_grad=True)
    y = x.exp()
    ref = weakref.ref(y.grad_fn._result_alias)
    y.sum().backward()
    gc.collect()
    assert ref() is None


def test_grad_fn_names_match_torch():
    ex, tx = pair(np.ones((2, 2)), True)
    for expr in ["x + y", "x * y", "x - y", "x / y", "x.exp()", "x.sum()", "x.mean()",
                 "x.relu()", "x.sigmoid()", "x.tanh()", "x.t()", "x.mm(y)", "x.pow(2)",
                 "x.view(4)", "x.unsqueeze(0)", "x.abs()", "x.log_softmax(0)", "x.softmax(1)",
                 "x.transpose(0, 1)", "x[0:1]", "x.max()", "x.clamp(0, 1)"]:
        e = eval(expr, {"x": ex, "y": ex})
        t = eval(expr, {"x": tx, "y": tx})
        assert e.grad_fn.name() == t.grad_fn.name(), expr


def _views_program(lib, arr):
    w = lib.tensor(arr, requires_grad=True)
    x = w * 2
    x[:, 0] += 5          # in-place through a view of a non-leaf
    x[1][2] = w[0, 0] * 10  # setitem on a view, value requiring grad
    x.t()[1].mul_(3)      # in-place through a transposed view
    y = (x * x).sum()
    y.backward()
    Y = lib.zeros(2, 3)   # a buffer that does not require grad, filled with graph values
    Y[0][1] = w[1, 1] * 3
    Y[1] = w[0]
    (Y * Y).sum().backward()
    return x.detach(), w.grad


def test_inplace_through_views_matches_torch():
    arr = np.arange(6.0).reshape(2, 3) - 2
    ex, eg = _views_program(ember, arr)
    tx, tg = _views_program(torch, arr)
    assert_close(ex, tx)
    assert_close(eg, tg)


def test_inplace_on_view_of_leaf_requiring_grad_raises():
    w = ember.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[0].add_(1)
