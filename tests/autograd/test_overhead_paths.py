"""The per-op fast paths of issue 15 against torch, where they are taken and where they are
not: view/reshape of a contiguous tensor with plain int sizes, two plain matrices through
`@`/matmul, sum/mean backward as a NumPy view, the implicit gradient of a scalar loss;
float32 and float64, gradients, errors, version counters and strides."""
import numpy as np
import pytest

import ember
from tests._oracle import assert_same, assert_same_error

torch = pytest.importorskip("torch")

DTYPES = ['float32', 'float64']


def _t(L, a, dtype='float32', requires_grad=False):
    return L.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


def _rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- view / reshape ---------------------------------------------------------------------------

VIEW_ARGS = [(12,), (3, 4), (-1,), (2, -1), (-1, 6), (1, 12), (2, 3, 2), (12, 1, 1), ((3, 4),),
             ([2, 6],)]


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('args', VIEW_ARGS)
@pytest.mark.parametrize('name', ['view', 'reshape'])
def test_view_values_grads_and_aliasing(dtype, args, name):
    x = _rand((3, 4))

    def run(L):
        t = _t(L, x, dtype, requires_grad=True)
        v = getattr(t, name)(*args)
        w = _t(L, _rand(tuple(v.shape), 1), dtype)
        (v * w).sum().backward()
        fn = v.grad_fn.name()
        with L.no_grad():
            base = t.detach()
            alias = base.view(*args) if name == 'view' else base.reshape(*args)
            alias.add_(1)  # a view shares the version counter and the memory
        return (tuple(v.shape), v.stride(), str(v.dtype), fn, v._base is t,
                t.grad.tolist(), base._version, alias._version, base.tolist())
    assert_same(run, torch)


@pytest.mark.parametrize('args', [(5,), (-1, -1), (-2, 6), (3, -2), (0, -1), (np.int64(12),),
                                  (3, 5), (24,), (ember.Size([4, 3]),)])
def test_view_arguments_outside_the_fast_path(args):
    # errors (torch's messages) and accepted forms that the fast path leaves to the full one
    def run(L):
        if args and isinstance(args[0], ember.Size):
            v = _t(L, _rand((3, 4))).view(L.Size(args[0]))
        else:
            v = _t(L, _rand((3, 4))).view(*args)
        return tuple(v.shape), v.tolist()
    assert_same(run, torch)


def test_view_of_non_contiguous_and_empty_tensors():
    def run(L):
        t = _t(L, _rand((3, 4))).t()
        out = [tuple(t.reshape(-1).shape), t.reshape(2, 6).is_contiguous()]
        try:
            t.view(12)
        except RuntimeError as e:
            out.append(str(e))
        e = L.zeros(0, 3)
        out += [tuple(e.view(0).shape), tuple(e.view(3, 0).shape), tuple(e.view(-1, 3).shape)]
        return out
    assert_same(run, torch)
    assert_same_error(lambda L: L.zeros(0, 3).view(0, -1), torch)


def test_view_without_grad_mode_and_dtype_view():
    def run(L):
        t = _t(L, _rand((2, 3)), requires_grad=True)
        with L.no_grad():
            v = t.view(3, 2)
        u = t.detach().view(L.int32)
        return v.grad_fn is None, v._base is t, str(u.dtype), tuple(u.shape)
    assert_same(run, torch)


# ---- matmul ----------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('call', ['operator', 'function', 'method'])
@pytest.mark.parametrize('layout', ['contiguous', 'transposed'])
def test_matmul_two_matrices(dtype, call, layout):
    a, b = _rand((4, 5)), _rand((5, 3), 1)

    def run(L):
        x = _t(L, a, dtype, requires_grad=True)
        w = _t(L, b.T.copy() if layout == 'transposed' else b, dtype, requires_grad=True)
        ww = w.t() if layout == 'transposed' else w
        y = x @ ww if call == 'operator' else L.matmul(x, ww) if call == 'function' \
            else x.matmul(ww)
        y.backward(_t(L, _rand((4, 3), 2), dtype))
        return (y.grad_fn.name(), str(y.dtype), w.grad.stride(),
                [v.detach().numpy().copy() for v in (y, x.grad, w.grad)])
    e, t = run(ember), run(torch)
    assert e[:3] == t[:3]
    for ev, tv in zip(e[3], t[3]):
        np.testing.assert_allclose(ev, tv, rtol=1e-5 if dtype == 'float32' else 1e-12)


@pytest.mark.parametrize('shapes', [((4,), (4, 3)), ((2, 4), (4,)), ((2, 3, 4), (4, 5)),
                                    ((3, 4), (2, 4, 5)), ((4,), (4,))])
def test_matmul_shapes_outside_the_fast_path(shapes):
    sa, sb = shapes

    def run(L):
        x = _t(L, _rand(sa), requires_grad=True)
        w = _t(L, _rand(sb, 1), requires_grad=True)
        y = x @ w
        y.sum().backward()
        return tuple(y.shape), [v.detach().numpy().copy() for v in (y, x.grad, w.grad)]
    e, t = run(ember), run(torch)
    assert e[0] == t[0]
    for ev, tv in zip(e[1], t[1]):
        np.testing.assert_allclose(ev, tv, rtol=1e-5)


@pytest.mark.parametrize('make', [
    lambda L: _t(L, _rand((2, 3))) @ _t(L, _rand((4, 2))),
    lambda L: _t(L, _rand((2, 3))) @ _t(L, _rand((3, 2)), 'float64'),
    lambda L: L.matmul(_t(L, _rand((2, 3))), _t(L, _rand((4, 2)))),
    lambda L: _t(L, _rand((2, 3))) @ L.tensor(3.0),
    lambda L: _t(L, _rand((2, 3))) @ [[1.0], [2.0], [3.0]],
])
def test_matmul_errors(make):
    assert_same_error(make, torch)


def test_matmul_integer_and_ndarray_operands():
    def run(L):
        a = L.arange(6).view(2, 3)
        b = L.arange(6).view(3, 2)
        r = a @ b
        m = _t(L, _rand((2, 3)))
        nd = _rand((3, 2)).astype(np.float32)
        via_numpy = m @ nd  # the tensor refuses an ndarray: NumPy's reflected matmul runs
        return str(r.dtype), r.tolist(), type(via_numpy).__name__, np.round(
            np.asarray(via_numpy), 5).tolist()
    assert_same(run, torch)


def test_matmul_under_autocast_and_profiler():
    pytest.importorskip('ml_dtypes')

    def run(L):
        x, w = _t(L, _rand((4, 5))), _t(L, _rand((5, 3), 1))
        with L.autocast('cpu', dtype=L.bfloat16):
            y = x @ w
        with L.profiler.profile() as p:
            x @ w
        names = [e.name for e in p.events()]
        return str(y.dtype), 'aten::matmul' in names, 'aten::mm' in names
    assert_same(run, torch)


# ---- sum / mean backward ----------------------------------------------------------------------

REDUCE_ARGS = [{}, {'dim': 1}, {'dim': (0, 2)}, {'dim': -1, 'keepdim': True},
               {'dim': (0, 1, 2), 'keepdim': True}]


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('kwargs', REDUCE_ARGS)
@pytest.mark.parametrize('name', ['sum', 'mean'])
@pytest.mark.parametrize('shape', [(3, 4, 5), (1, 4, 1)])
def test_reduction_gradient_is_an_expanded_view(dtype, kwargs, name, shape):
    x = _rand(shape)

    def run(L):
        t = _t(L, x, dtype, requires_grad=True)
        seen = []
        t.register_hook(lambda g: seen.append((tuple(g.shape), g.stride(), str(g.dtype),
                                               g.is_contiguous())))
        getattr(t, name)(**kwargs).sum().backward()
        if 1 in shape:  # the strides of size-1 dims: ember's expand differs from torch's there
            seen = [(sh, dt, c) for sh, _, dt, c in seen]
        return seen, t.grad.tolist(), t.grad.stride()
    assert_same(run, torch)


@pytest.mark.parametrize('dtype', DTYPES)
def test_reduction_backward_outside_the_fast_path(dtype):
    # a non-contiguous upstream gradient, and a recorded backward (create_graph)
    x, w = _rand((3, 4, 5)), _rand((4, 3), 1)

    def run(L):
        t = _t(L, x, dtype, requires_grad=True)
        y = t.sum(2)
        (y.t() * _t(L, w, dtype)).sum().backward()
        g1 = t.grad.tolist()
        t.grad = None
        u = _t(L, x, dtype, requires_grad=True)
        (gu,) = L.autograd.grad((u ** 2).mean(1).sum(), u, create_graph=True)
        gu.sum().backward()
        return g1, np.round(gu.detach().numpy(), 6).tolist(), gu.grad_fn is not None, \
            np.round(u.grad.numpy(), 6).tolist()
    assert_same(run, torch)


def test_writing_into_the_expanded_gradient_is_refused():
    def run(L):
        t = _t(L, _rand((2, 3)), requires_grad=True)
        t.register_hook(lambda g: g.add_(1))
        t.sum().backward()
    assert_same_error(run, torch, prefix=True)


# ---- the implicit gradient of a scalar output --------------------------------------------------

@pytest.mark.parametrize('dtype', DTYPES + ['float16'])
@pytest.mark.parametrize('shape', [(), (1,), (1, 1)])
def test_implicit_gradient_of_a_scalar(dtype, shape):
    def run(L):
        t = _t(L, np.full(shape, 2.0), dtype, requires_grad=True)
        seen = []
        y = t * 3
        y.register_hook(lambda g: seen.append((tuple(g.shape), str(g.dtype), g.tolist())))
        y.backward()
        return seen, t.grad.tolist(), str(t.grad.dtype)
    assert_same(run, torch)


@pytest.mark.parametrize('make', [
    lambda L: (L.ones(2, requires_grad=True) * 2).backward(),
    lambda L: L.ones(2, requires_grad=True).sum().to(L.int64).backward(),
])
def test_implicit_gradient_errors(make):
    assert_same_error(make, torch)


# ---- tensor() of a flat list, x * float, relu and sum without a graph ---------------------------

@pytest.mark.parametrize('data', [[1.0, 2.5], [1, 2], [1, 2.0], [2.0, 1], [True, 1], [1, True],
                                  [], [float('nan'), float('inf'), -0.0], [2 ** 63 - 1, -2 ** 63],
                                  [2 ** 63], [1.0, 2 ** 70], [[1.0], [2.0]], [1e40, 1.0],
                                  [np.float64(1.0), 2.0], (1.0, 2.0)])
@pytest.mark.parametrize('default', ['float32', 'float64'])
def test_tensor_of_a_list(data, default):
    def run(L):
        prev = L.get_default_dtype()
        L.set_default_dtype(getattr(L, default))
        try:
            t = L.tensor(data, requires_grad=isinstance(data[0] if data else 0, float))
            return str(t.dtype), tuple(t.shape), repr(t.tolist()), t.requires_grad, t.is_leaf
        finally:
            L.set_default_dtype(prev)
    assert_same(run, torch)


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64', 'int64', 'bfloat16'])
@pytest.mark.parametrize('scalar', [0.5, 1e300, float('nan'), -0.0, 3])
def test_multiply_by_a_python_number(dtype, scalar):
    if dtype == 'bfloat16':
        pytest.importorskip('ml_dtypes')
    x = np.array([[1.5, -2.0, 0.0], [np.inf, -1e-30, 7.0]])

    def run(L):
        t = L.tensor(x).to(getattr(L, dtype))
        floating = t.is_floating_point()
        if floating:
            t.requires_grad_()
        y = t * scalar
        z = scalar * t
        out = [str(y.dtype), y.float().tolist(), z.float().tolist()]
        if floating:
            y.backward(L.ones_like(y))
            out += [y.grad_fn.name(), t.grad.float().tolist()]
        o = L.empty(0, dtype=y.dtype)
        L.mul(t.detach(), scalar, out=o)
        return repr(out + [o.float().tolist()])  # repr: NaN equals NaN, -0.0 differs from 0.0
    assert_same(run, torch)


@pytest.mark.parametrize('dtype', DTYPES + ['int32'])
def test_relu_and_sum_with_and_without_a_graph(dtype):
    x = np.array([[1.5, -2.0, 0.0], [-0.0, 3.0, -1.0]])

    def run(L):
        t = L.tensor(x).to(getattr(L, dtype))
        r, s = L.relu(t), t.sum()
        out = [str(r.dtype), r.tolist(), str(s.dtype), s.item(), r.grad_fn, s.grad_fn]
        if t.is_floating_point():
            t.requires_grad_()
            with L.no_grad():
                out.append((L.relu(t).requires_grad, t.sum().requires_grad))
            r = L.nn.functional.relu(t)
            (r * L.arange(6.0).view(2, 3).to(t.dtype)).sum().backward()
            out += [r.grad_fn.name(), t.grad.tolist()]
        o = L.zeros((), dtype=s.dtype)
        L.sum(t.detach(), (0, 1), out=o)
        return repr(out + [o.item()])
    assert_same(run, torch)


def test_relu_of_a_quantized_tensor():
    def run(L):
        q = L.quantize_per_tensor(L.tensor([-1.0, 0.5, 2.0]), 0.5, 2, L.quint8)
        r = L.relu(q)
        return str(r.dtype), r.dequantize().tolist()
    assert_same(run, torch)


# ---- the + and * operators of two tensors of one dtype ----------------------------------------

@pytest.mark.parametrize('op', ['add', 'mul'])
@pytest.mark.parametrize('dtypes', [('float32', 'float32'), ('float64', 'float64'),
                                    ('int64', 'int64'), ('float32', 'float64'),
                                    ('int32', 'float32'), ('bool', 'bool')])
@pytest.mark.parametrize('shapes', [((2, 3), (2, 3)), ((2, 3), (3,)), ((1, 3), (2, 1)),
                                    ((), (2, 3))])
def test_operators_of_two_tensors(op, dtypes, shapes):
    def run(L):
        a = L.tensor(_rand(shapes[0]) * 3).to(getattr(L, dtypes[0]))
        b = L.tensor(_rand(shapes[1], 1) * 3).to(getattr(L, dtypes[1]))
        r = a + b if op == 'add' else a * b
        r2 = b + a if op == 'add' else b * a
        return str(r.dtype), tuple(r.shape), repr(r.tolist()), repr(r2.tolist())
    assert_same(run, torch)


@pytest.mark.parametrize('op', ['add', 'mul'])
@pytest.mark.parametrize('needs', [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize('dtype', DTYPES)
def test_operator_gradients(op, needs, dtype):
    def run(L):
        a = _t(L, _rand((2, 3)), dtype, requires_grad=needs[0])
        b = _t(L, _rand((3,), 1), dtype, requires_grad=needs[1])
        p = L.nn.Parameter(_t(L, _rand((2, 3), 2), dtype))
        r = (a + b if op == 'add' else a * b)
        r = r + p if op == 'add' else r * p
        r.backward(_t(L, _rand((2, 3), 3), dtype))
        grads = [None if t.grad is None else np.round(t.grad.numpy(), 6).tolist()
                 for t in (a, b, p)]
        with L.no_grad():
            q = a + b if op == 'add' else a * b
        return r.grad_fn.name(), r.grad_fn.next_functions[0][0].name(), grads, q.requires_grad
    assert_same(run, torch)


@pytest.mark.parametrize('op', ['add', 'mul'])
def test_operator_errors_and_other_operands(op):
    f = (lambda x, y: x + y) if op == 'add' else (lambda x, y: x * y)
    assert_same_error(lambda L: f(L.ones(2, 3), L.ones(4)), torch)
    assert_same_error(lambda L: f(L.ones(2, 3), 'a'), torch)

    def run(L):
        t = L.tensor([[1.0, 2.0], [3.0, 4.0]])
        nd = np.array([[0.5, 1.0], [2.0, 3.0]], np.float32)
        out = []
        for other in (nd, 2, 2.5, True, [1.0, 2.0]):
            try:
                r = f(t, other)
                out.append((type(r).__name__, repr(np.asarray(r).tolist())))
            except TypeError as e:
                out.append(str(e))
        return out + [repr(f(3, t).tolist()), repr(f(L.tensor(2.0), t).tolist())]
    assert_same(run, torch)


@pytest.mark.parametrize('requires_grad', [False, True])
@pytest.mark.parametrize('i', [0, -1, 3, 4])
def test_integer_index(requires_grad, i):
    def run(L):
        x = _t(L, _rand((4, 5)), requires_grad=requires_grad)
        r = x[i]
        out = [tuple(r.shape), r.stride(), r._base is x, r.grad_fn is None, r.requires_grad]
        if requires_grad:
            (r * 2).sum().backward()
            out.append(x.grad.tolist())
        else:
            r.add_(1)
            out += [x._version, r._version, np.round(x.numpy(), 6).tolist()]
        return out
    assert_same(run, torch)
