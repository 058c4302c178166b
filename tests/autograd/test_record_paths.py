"""What recording a node keeps, against torch (issue 15's cheaper _record): a node's edges
(next_functions), what post-hooks receive for inputs with and without an edge, the version
check of a saved output (kept without a versions entry) and of saved inputs, detach() sharing
the version counter, and double backward through a saved output."""
import numpy as np
import pytest

import ember
from tests._oracle import assert_same

torch = pytest.importorskip("torch")


def _t(L, shape, seed, dtype='float32', requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return L.tensor(a, requires_grad=requires_grad)


def _edges(fn):
    """next_functions as names and output numbers, two levels down."""
    out = []
    for nxt, nr in fn.next_functions:
        if nxt is None:
            out.append((None, nr))
        else:
            name = nxt.name().rsplit('::', 1)[-1]  # torch's is torch::autograd::AccumulateGrad
            out.append((name, nr, _edges(nxt) if name != 'AccumulateGrad' else []))
    return out


@pytest.mark.parametrize('op', ['add', 'mul', 'matmul', 'sub_bcast'])
@pytest.mark.parametrize('grads', [(True, False), (False, True), (True, True)])
def test_post_hook_sees_none_for_an_input_without_edge(op, grads):
    def run(L):
        a = _t(L, (2, 3), 0, requires_grad=grads[0])
        b = _t(L, (3, 3) if op == 'matmul' else (3,), 1, requires_grad=grads[1])
        y = {'add': lambda: a + b, 'mul': lambda: a * b, 'matmul': lambda: a @ b,
             'sub_bcast': lambda: a - b}[op]()
        seen = []
        y.grad_fn.register_hook(lambda gi, go: seen.append(
            [None if g is None else (tuple(g.shape), g.dtype is L.float32) for g in gi]))
        y.sum().backward()
        grads_ = [None if t.grad is None else t.grad.numpy().round(5).tolist() for t in (a, b)]
        return seen, grads_, _edges(y.grad_fn)
    seen = assert_same(run, torch)[1][0]
    assert len(seen) == 1 and len(seen[0]) == 2


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('fn', ['relu', 'exp', 'sigmoid', 'tanh', 'sqrt_abs'])
@pytest.mark.parametrize('write', [None, 'result', 'detached'])
def test_saved_output_version_check(fn, dtype, write):
    def run(L):
        x = _t(L, (2, 4), 2, dtype, requires_grad=True)
        h = x * 1.5
        y = {'relu': L.relu, 'exp': L.exp, 'sigmoid': L.sigmoid, 'tanh': L.tanh,
             'sqrt_abs': lambda v: v.abs().sqrt()}[fn](h)
        if write == 'result':
            y.mul_(2)
        elif write == 'detached':
            d = y.detach()
            d.add_(1)
            assert d._version == y._version
        (y * 3).sum().backward()
        return x.grad.numpy().round(4).tolist(), y._version
    assert_same(run, torch)


@pytest.mark.parametrize('fn', ['relu', 'exp', 'sigmoid'])
def test_double_backward_through_saved_output(fn):
    def run(L):
        x = _t(L, (5,), 3, 'float64', requires_grad=True)
        y = getattr(L, fn)(x * 0.7)
        (g,) = L.autograd.grad((y * y).sum(), x, create_graph=True)
        (gg,) = L.autograd.grad(g.sum(), x)
        return g.detach().numpy().round(8).tolist(), gg.numpy().round(8).tolist()
    assert_same(run, torch)


def test_saved_input_changed_after_record_raises_as_torch():
    def run(L):
        x = _t(L, (3,), 4, requires_grad=True)
        y = x * 2
        z = y * y  # saves y
        y.add_(1)
        z.sum().backward()
    assert assert_same(run, torch)[0] == 'raised'


def test_leaf_edges_and_grad_after_dropping_the_leaf():
    def run(L):
        w = _t(L, (3, 2), 5, requires_grad=True)
        x = _t(L, (4, 3), 6)
        y = (x @ w).relu().sum()
        edges = _edges(y.grad_fn)
        acc = y.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[1][0]
        del w
        y.backward()
        return edges, acc.variable.grad.numpy().round(5).tolist()
    assert_same(run, torch)


@pytest.mark.parametrize('name', ['__sub__', '__isub__', '__truediv__', '__lt__', '__pow__'])
def test_operator_wrapper_plain_and_extra_arguments(name):
    """_tensor._refuse_ndarray's operator: a plain call (the operator protocol), a call with
    torch's extra keyword (alpha=) and an ndarray operand (NotImplemented), as torch's."""
    def run(L):
        a = L.tensor([1.5, 2.0, 3.0])
        b = L.tensor([2.0, 4.0, 1.0])
        out = {'plain': getattr(a.clone(), name)(b).tolist(),
               'ndarray': getattr(a.clone(), name)(np.ones(3)) is NotImplemented}
        if name in ('__sub__', '__isub__'):
            out['alpha'] = getattr(a.clone(), name)(b, alpha=2).tolist()
        return out
    assert assert_same(run, torch)[1]['ndarray'] is True
