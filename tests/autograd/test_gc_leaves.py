"""Backward through a graph whose leaves the caller no longer holds (the graph keeps them, as in
torch), and the leaves are freed with the graph."""
import gc
import weakref

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = [ember, torch]


def _leaf_of(out, *path):
    node = out.grad_fn
    for i in path:
        node = node.next_functions[i][0]
    return node


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_temporary_leaf_times_two(lib):
    out = (lib.ones(3, requires_grad=True) * 2).sum()
    gc.collect()
    out.backward()
    acc = _leaf_of(out, 0, 0)
    assert type(acc).__name__ == 'AccumulateGrad'
    assert acc.variable.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_temporary_linear(lib):
    lib.manual_seed(0)
    x = lib.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    out = lib.nn.Linear(3, 1)(x).sum()
    gc.collect()
    out.backward()
    # AddmmBackward0 -> (bias's AccumulateGrad, mat1, TBackward0 -> weight's AccumulateGrad)
    bias = _leaf_of(out, 0, 0).variable
    weight = _leaf_of(out, 0, 2, 0).variable
    assert bias.grad.tolist() == [2.0]
    np.testing.assert_allclose(weight.grad.numpy() if lib is torch else weight.grad._data,
                               [[3.0, 5.0, 7.0]])


def test_temporary_linear_matches_torch_values():
    res = {}
    for lib in LIBS:
        lib.manual_seed(3)
        x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3),
                       requires_grad=True)
        out = (lib.nn.Linear(3, 2)(x) ** 2).sum()
        gc.collect()
        out.backward()
        res[lib.__name__] = (x.grad.tolist(), _leaf_of(out, 0, 0, 0).variable.grad.tolist())
    np.testing.assert_allclose(res['ember'][0], res['torch'][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res['ember'][1], res['torch'][1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_autograd_grad_with_collected_leaves(lib):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (x * lib.full((3,), 4.0, requires_grad=True) + lib.ones(3, requires_grad=True)).sum()
    gc.collect()
    (gx,) = lib.autograd.grad(y, x)
    assert gx.tolist() == [4.0, 4.0, 4.0]
    # the collected leaves are reachable through the graph and untouched by autograd.grad
    mul = _leaf_of(y, 0, 0)
    w = mul.next_functions[1][0].variable
    assert w.grad is None and w.tolist() == [4.0, 4.0, 4.0]


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_retain_graph_twice_with_collected_leaves(lib):
    out = (lib.ones(2, requires_grad=True) * 3).sum()
    gc.collect()
    out.backward(retain_graph=True)
    out.backward()
    assert _leaf_of(out, 0, 0).variable.grad.tolist() == [6.0, 6.0]


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_create_graph_with_collected_leaf(lib):
    out = (lib.tensor([1.0, 2.0], requires_grad=True) ** 3).sum()
    gc.collect()
    out.backward(create_graph=True)
    leaf = _leaf_of(out, 0, 0).variable
    assert leaf.grad.tolist() == [3.0, 12.0]
    g = leaf.grad.sum()
    leaf.grad = None
    g.backward()
    assert leaf.grad.tolist() == [6.0, 12.0]


def test_leaf_freed_with_its_graph():
    x = ember.ones(3, requires_grad=True)
    ref = weakref.ref(x)
    out = (x * 2).sum()
    del x
    gc.collect()
    assert ref() is not None  # the graph keeps it
    del out
    assert ref() is None  # no reference cycle: freed without the cyclic collector


def test_accumulate_node_shared_while_a_graph_lives():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        a = x * 2
        b = x * 3
        assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0], lib.__name__
        (a + b).sum().backward()
        assert x.grad.tolist() == [5.0, 5.0]


def test_leaf_still_gets_grad_after_graph_rebuilt():
    x = ember.ones(2, requires_grad=True)
    for _ in range(3):
        (x * 2).sum().backward()
        gc.collect()
    assert x.grad.tolist() == [6.0, 6.0]
