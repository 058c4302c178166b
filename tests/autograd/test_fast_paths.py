"""The engine's and the linear ops' fast paths against torch (issue 15): a leaf keeps a
gradient's memory only when nobody else holds it, mm/addmm compute only the gradients their
inputs need and each in its operand's layout, on the shapes and layouts where the fast paths
are taken and where they are not, float32 and float64, with create_graph too."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]


def _pair(a, requires_grad=True):
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def assert_close(e, t, dtype):
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert e is not None and t is not None
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def test_calibration_enables_stealing():
    from ember.autograd import graph
    assert graph._SOLE_REFS is not None


@pytest.mark.parametrize('dtype', DTYPES)
def test_one_gradient_for_two_leaves_is_not_shared(dtype):
    # AddBackward0 hands the same gradient to both leaves: each .grad must have its own memory
    c = np.array([1.0, 2.0, 3.0], dtype)
    res = {}
    for lib, (a, b) in (('ember', (ember.ones(3, dtype=ember.float64 if dtype == np.float64
                                              else ember.float32, requires_grad=True),
                                   ember.ones(3, dtype=ember.float64 if dtype == np.float64
                                              else ember.float32, requires_grad=True))),
                        ('torch', (torch.ones(3, dtype=torch.float64 if dtype == np.float64
                                              else torch.float32, requires_grad=True),
                                   torch.ones(3, dtype=torch.float64 if dtype == np.float64
                                              else torch.float32, requires_grad=True)))):
        L = ember if lib == 'ember' else torch
        for _ in range(2):
            ((a + b) * L.tensor(c)).sum().backward()
        with L.no_grad():
            a.grad.mul_(10)  # an in-place change to one .grad leaves the other alone
        res[lib] = (a.grad.numpy().copy(), b.grad.numpy().copy())
    np.testing.assert_array_equal(res['ember'][0], res['torch'][0])
    np.testing.assert_array_equal(res['ember'][1], res['torch'][1])


def test_a_gradient_the_caller_holds_is_copied():
    for L in (ember, torch):
        x = L.ones(4, requires_grad=True)
        g = L.full((4,), 2.0)
        (x * 1).backward(g)  # MulBackward0 returns a new array, AddBackward0 would not
        y = x.clone()
        x.grad = None
        (y + 0).backward(g)   # the caller's g itself reaches x through clone/add
        g.add_(1)             # changing it later does not change x.grad
        assert x.grad.tolist() == [2.0] * 4


def test_a_gradient_a_hook_keeps_is_copied():
    kept = []
    x = ember.ones(3, requires_grad=True)
    x.register_hook(lambda g: kept.append(g))
    (x * 3).sum().backward()
    kept[0].add_(1)
    assert x.grad.tolist() == [3.0] * 3


def test_gradient_kept_for_a_retained_intermediate_and_a_leaf():
    for L in (ember, torch):
        x = L.ones(3, requires_grad=True)
        y = x * 1
        y.retain_grad()
        (y + 0).sum().backward()
        x.grad.mul_(5)
        assert y.grad.tolist() == [1.0] * 3


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('x_grad', [True, False])
def test_linear_gradients_and_layout(dtype, bias, x_grad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7)).astype(dtype)
    w = rng.standard_normal((3, 7)).astype(dtype)
    b = rng.standard_normal(3).astype(dtype)
    (xe, xt), (we, wt), (be, bt) = _pair(x, x_grad), _pair(w), _pair(b)
    for _ in range(2):  # the second pass accumulates into the kept memory
        ember.nn.functional.linear(xe, we, be if bias else None).pow(2).sum().backward()
        torch.nn.functional.linear(xt, wt, bt if bias else None).pow(2).sum().backward()
    assert_close(we.grad, wt.grad, dtype)
    assert we.grad.is_contiguous() and we.grad.stride() == wt.grad.stride()
    if bias:
        assert_close(be.grad, bt.grad, dtype)
    if x_grad:
        assert_close(xe.grad, xt.grad, dtype)
    else:
        assert xe.grad is None


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('layout', ['cc', 'fc', 'cf', 'ff'])
@pytest.mark.parametrize('needs', [(True, True), (True, False), (False, True)])
def test_mm_and_addmm_layouts_and_masks(dtype, layout, needs):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 6)).astype(dtype)
    b = rng.standard_normal((6, 5)).astype(dtype)
    c = rng.standard_normal(5).astype(dtype)
    (ae, at), (be, bt), (ce, ct) = _pair(a, needs[0]), _pair(b, needs[1]), _pair(c)

    def lay(t, f):  # 'f': the same matrix held by columns (a transposed view)
        return t.t().contiguous().t() if f == 'f' else t

    for L, (A, B, C) in ((ember, (ae, be, ce)), (torch, (at, bt, ct))):
        (L.mm(lay(A, layout[0]), lay(B, layout[1])) * 2).sum().backward()
        L.addmm(C, lay(A, layout[0]), lay(B, layout[1]), beta=0.5,
                alpha=3.0).pow(2).sum().backward()
    for e, t, need in ((ae, at, needs[0]), (be, bt, needs[1])):
        if need:
            assert_close(e.grad, t.grad, dtype)
        else:
            assert e.grad is None and t.grad is None
    assert_close(ce.grad, ct.grad, dtype)


def test_addmm_post_hook_sees_none_for_an_input_without_grad():
    got = {}
    for L in (ember, torch):
        x = L.ones(2, 3)
        w = L.ones(4, 3, requires_grad=True)
        b = L.zeros(4, requires_grad=True)
        y = L.nn.functional.linear(x, w, b)
        y.grad_fn.register_hook(lambda gi, go, L=L: got.__setitem__(
            L.__name__, [g is None for g in gi]))
        y.sum().backward()
    assert got['ember'] == got['torch']


@pytest.mark.parametrize('dtype', DTYPES)
def test_linear_double_backward(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4)).astype(dtype)
    w = rng.standard_normal((2, 4)).astype(dtype)
    out = {}
    for L in (ember, torch):
        xx, ww = L.tensor(x, requires_grad=True), L.tensor(w, requires_grad=True)
        y = L.nn.functional.linear(xx, ww).tanh().sum()
        gx, = L.autograd.grad(y, xx, create_graph=True)
        gx.pow(2).sum().backward()
        out[L.__name__] = (ww.grad, xx.grad)
    assert_close(out['ember'][0], out['torch'][0], dtype)
    assert_close(out['ember'][1], out['torch'][1], dtype)


def test_mm_sparse_operand_still_differentiates():
    i = [[0, 1], [1, 0]]
    v = [1.0, 2.0]
    res = {}
    for L in (ember, torch):
        s = L.sparse_coo_tensor(i, v, (2, 2))
        d = L.ones(2, 3, requires_grad=True)
        L.sparse.mm(s, d).sum().backward()
        res[L.__name__] = d.grad.tolist()
    assert res['ember'] == res['torch']


SELECT_DTYPES = [np.float16, np.float32, np.float64, np.complex64, np.int32]


@pytest.mark.parametrize('dtype', SELECT_DTYPES)
@pytest.mark.parametrize('shapes', [((6, 5), (6, 5)), ((6, 5), (5,)), ((5,), (6, 5)),
                                    ((), (3,)), ((6, 5), ()), ('T', 'T'),
                                    # above 2048 elements: the bitwise form
                                    ((64, 40), (64, 40)), ((64, 40), (40,)), ((40,), (64, 40))])
def test_select_is_np_where_bit_for_bit(dtype, shapes):
    from ember._ops._util import _select
    rng = np.random.default_rng(3)
    gs, ms = shapes
    if gs == 'T':  # a transposed (non-contiguous) gradient and mask
        g = (rng.standard_normal((5, 6)) * 3).astype(dtype).T
        m = (rng.random((5, 6)) < 0.5).T
    else:
        g = (rng.standard_normal(gs) * 3).astype(dtype)
        m = rng.random(ms) < 0.5
    if g.ndim and dtype in (np.float16, np.float32, np.float64):
        g[(0,) * g.ndim] = np.nan
        g[(-1,) * g.ndim] = np.inf
        g[(1,) * g.ndim] = -0.0
    zero = np.zeros((), g.dtype)
    for keep in (True, False):
        want = np.ascontiguousarray(np.where(m, g, zero) if keep else np.where(m, zero, g))
        got = _select(g, m, keep)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.ascontiguousarray(got).tobytes() == want.tobytes()


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('contiguous', [True, False])
@pytest.mark.parametrize('shape', [(8, 6), (80, 60)])  # np.where, and the bitwise form
def test_relu_backward_keeps_nan_and_inf_out(dtype, contiguous, shape):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, :3] = [0.0, -0.0, np.nan]
    g = rng.standard_normal(shape).astype(dtype)
    g[x <= 0] = np.inf
    g[1, :] = np.nan
    res = {}
    for L in (ember, torch):
        xx = L.tensor(x if contiguous else x.T.copy(), requires_grad=True)
        gg = L.tensor(g)
        for f in (L.relu, lambda t: L.nn.functional.threshold(t, 0.1, 0.0),
                  lambda t: L.clamp(t, -0.5, 0.5)):
            xx.grad = None
            f(xx if contiguous else xx.t()).backward(gg)
            res.setdefault(L.__name__, []).append(xx.grad.numpy().copy())
    for e, t in zip(res['ember'], res['torch']):
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape', [(6, 3), (4, 3, 5), (4, 3, 6, 5)])
@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('affine', [True, False])
def test_batch_norm_per_channel_operands(dtype, shape, training, affine):
    # the per-channel values are spread to (C, L) operands: every layout of batch_norm
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype) * 2 + 1
    g = rng.standard_normal(shape).astype(dtype)
    c = shape[1]
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    res = {}
    for L in (ember, torch):
        xx = L.tensor(x, requires_grad=True)
        ww, bb = L.tensor(w, requires_grad=True), L.tensor(b, requires_grad=True)
        rm, rv = L.tensor(np.full(c, 0.5, dtype)), L.tensor(np.full(c, 2.0, dtype))
        src = xx if len(shape) == 2 else xx.transpose(0, -1).contiguous().transpose(0, -1)
        y = L.nn.functional.batch_norm(src, rm, rv, ww if affine else None,
                                       bb if affine else None, training, 0.1, 1e-5)
        L.relu(y).backward(L.tensor(g))
        res[L.__name__] = [y, xx.grad, rm, rv] + ([ww.grad, bb.grad] if affine else [])
    for e, t in zip(res['ember'], res['torch']):
        assert_close(e, t, dtype)


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('shapes', [((4, 3), (4, 3)), ((4, 3), (3,)), ((), ())])
def test_mse_loss_backward(dtype, reduction, shapes):
    rng = np.random.default_rng(6)
    x = np.asarray(rng.standard_normal(shapes[0])).astype(dtype)
    y = np.asarray(rng.standard_normal(shapes[1])).astype(dtype)
    res = {}
    for L in (ember, torch):
        xx, yy = L.tensor(x, requires_grad=True), L.tensor(y, requires_grad=True)
        out = L.nn.functional.mse_loss(xx, yy, reduction=reduction)
        (out.sum() if reduction == 'none' else out).backward()
        res[L.__name__] = (xx.grad, yy.grad)
    for e, t in zip(res['ember'], res['torch']):
        assert_close(e, t, dtype)
