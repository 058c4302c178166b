"""torch.cond, torch.while_loop, the sym_constrain_range checks, torch.return_types and
torch.classes on ember, against torch (eager)."""
import numpy as np
import pytest
import torch

import ember
from _oracle import assert_same_error as _assert_same_error, error_of as _err

LIBS = (ember, torch)


def assert_same_error(make):
    _assert_same_error(make, torch)


def assert_close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)


# torch runs cond/while_loop on a tensor predicate through dynamo, which is slow to start and
# fragile in a process shared with other tests: the oracle is torch running the chosen branch
# (the loop) eagerly, which is what those ops compute; the node names are torch's.

def _branches(L):
    return (lambda x, w: (x.sin() * w, x + 1)), (lambda x, w: (x.cos() * w, x - 1))


@pytest.mark.parametrize('positive', [True, False])
def test_cond_values_gradients_and_node_name(positive):
    x0 = np.array([0.5, -1.0, 2.0], dtype=np.float32) * (1 if positive else -1)
    res = {}
    for L in LIBS:
        x = L.tensor(x0, requires_grad=True)
        w = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        t, f = _branches(L)
        if L is ember:
            out = L.cond(x.sum() > 0, t, f, (x, w))
        else:
            out = t(x, w) if bool(x.sum() > 0) else f(x, w)
        (out[0].sum() + (out[1] ** 2).sum()).backward()
        res[L] = (out[0], out[1], x.grad, w.grad)
    for a, b in zip(res[ember], res[torch]):
        assert_close(a, b)
    assert type(res[ember][0].grad_fn).__name__ == 'CondAutogradOpBackward'


def test_cond_with_a_python_predicate_and_nested_operands():
    for L in LIBS:
        x = L.ones(2)
        assert L.cond(True, lambda x: x + 1, lambda x: x - 1, (x,)).tolist() == [2.0, 2.0]
        assert L.cond(0, lambda x: x + 1, lambda x: x - 1, (x,)).tolist() == [0.0, 0.0]
    out = ember.cond(ember.tensor(False), lambda d: d['a'] * 2, lambda d: d['a'] * 3,
                     ({'a': ember.ones(2)},))
    assert out.tolist() == [3.0, 3.0]


def test_cond_argument_checks_match_torch():
    def x(L):
        return L.ones(3)
    assert_same_error(lambda L: L.cond(L.tensor([True, False]), lambda x: x, lambda x: x,
                                       (x(L),)))
    assert_same_error(lambda L: L.cond('a', lambda x: x, lambda x: x, (x(L),)))
    assert_same_error(lambda L: L.cond(L.tensor(True), 1, lambda x: x, (x(L),)))
    assert_same_error(lambda L: L.cond(L.tensor(True), lambda x: x, lambda x: x, (1,)))
    e = _err(lambda: ember.cond(ember.tensor(True), lambda x: x, lambda x: x, (ember.ones(2),)))
    assert e == ('UncapturedHigherOrderOpError', "This higher order operator doesn't work "
                 "unless it is captured completely with torch.compile. Got graph break/error:")


def _torch_loop(cond_fn, body_fn, carried):
    while bool(cond_fn(*carried)):
        carried = body_fn(*carried)
    return carried


def test_while_loop_values_ints_and_gradients():
    res = {}
    for L in LIBS:
        loop = L.while_loop if L is ember else _torch_loop
        x = L.tensor([1.0, 2.0], requires_grad=True)
        i, y = loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * y.sin()), (L.tensor(0), x))
        y.sum().backward()
        j, z = loop(lambda j, z: j < 2, lambda j, z: (j + 1, z + 1), (0, L.ones(2)))
        k, w = loop(lambda k, w: k > 5, lambda k, w: (k + 1, w + 1), (L.tensor(0), L.ones(2)))
        res[L] = (i, y, x.grad, j, z, k, w)
    e, t = res[ember], res[torch]
    for a, b in zip(e[:3], t[:3]):
        assert_close(a, b)
    assert e[3] == t[3] == 2
    for a, b in zip(e[4:7], t[4:7]):
        assert_close(a, b)
    assert type(e[1].grad_fn).__name__ == 'WhileLoopAutogradOpBackward'


def test_while_loop_argument_checks_match_torch():
    def body(i, x):
        return i + 1, x * 2

    def cond(i, x):
        return i < 3
    assert_same_error(lambda L: L.while_loop(cond, body, [L.tensor(0), 1.5]))
    assert_same_error(lambda L: L.while_loop(1, body, [L.tensor(0)]))
    e = _err(lambda: ember.while_loop(lambda i, x: i + 0.5, body, (ember.tensor(0),
                                                                    ember.ones(2))))
    assert e[0] == 'RuntimeError' and 'boolean scalar tensor' in e[1]


def test_sym_constrain_range_checks_concrete_values():
    for L in LIBS:
        assert L.sym_constrain_range(3, min=0, max=5) is None
        assert L.sym_constrain_range_for_size(3) is None
    for kw in (dict(max=2), dict(min=5), dict(min=4, max=5)):
        assert_same_error(lambda L: L.sym_constrain_range(3, **kw))
        assert_same_error(lambda L: L.sym_constrain_range_for_size(3, **kw))
    assert_same_error(lambda L: L.sym_constrain_range_for_size(-1))
    assert_same_error(lambda L: L.sym_constrain_range(L.tensor(3), min=5))
    assert_same_error(lambda L: L.sym_constrain_range(3, 0, 5))


def test_return_types_module():
    names = sorted(n for n in torch.return_types.__all__)
    assert sorted(ember.return_types.__all__) == names
    x = ember.tensor([[3.0, 1.0], [2.0, 5.0]])
    assert type(ember.max(x, 0)) is ember.return_types.max
    assert type(ember.sort(x)) is ember.return_types.sort
    assert type(ember.linalg.qr(x)) is ember.return_types.linalg_qr
    assert type(ember.aminmax(x)) is ember.return_types.aminmax
    for n in names:
        if n in ('pytree_register_structseq', 'all_return_types'):
            continue
        tc, ec = getattr(torch.return_types, n), getattr(ember.return_types, n)
        vals = tuple(range(tc.n_fields))
        assert repr(ec(*vals)) == repr(tc(vals))
    assert len(ember.return_types.all_return_types) == len(torch.return_types.all_return_types)


def test_classes_namespace():
    assert repr(ember.classes) == repr(torch.classes)
    assert ember.classes.loaded_libraries == torch.classes.loaded_libraries == set()
    assert_same_error(lambda L: L.classes.my_ns.MyClass)
    with pytest.raises(NotImplementedError, match='load_library'):
        ember.classes.load_library('libfoo.so')


def test_check_family_matches_torch():
    for name in ('_check', '_check_index', '_check_value', '_check_type',
                 '_check_not_implemented'):
        for L in LIBS:
            assert getattr(L, name)(True) is None
        assert_same_error(lambda L: getattr(L, name)(False))
        assert_same_error(lambda L: getattr(L, name)(1 > 2, lambda: 'sizes differ'))
        assert_same_error(lambda L: getattr(L, name)(L.tensor(True)))
        assert_same_error(lambda L: getattr(L, name)(False, 'not callable'))
    assert_same_error(lambda L: L._check_is_size(-1))
    assert_same_error(lambda L: L._check_is_size(5, max=3))
    assert_same_error(lambda L: L._check_tensor_all(L.tensor([True, False])))
    assert_same_error(lambda L: L._check_tensor_all(L.tensor([1, 0])))
    assert_same_error(lambda L: L._check_tensor_all(True))
    assert_same_error(lambda L: L._check_with(Warning, False, None))
    assert_same_error(lambda L: L._check_with(ValueError, False))
    for L in LIBS:
        assert L._check_tensor_all(L.tensor([True, True])) is None
        assert L._check_is_size(3, max=3) is None
