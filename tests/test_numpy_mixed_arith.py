"""Mixed NumPy-array / tensor operators, in both orders, compared with torch (issue 11).

torch's Tensor operators refuse an ndarray (NotImplemented), except == and !=: so `t + a`
is computed by NumPy on np.asarray(t) and wrapped back into a tensor, `a + t` raises
TypeError, and `a / t` is t.reciprocal() * a. ember must give the same types, dtypes, values
and errors.
"""
import operator
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')

OPS = {
    '+': operator.add, '-': operator.sub, '*': operator.mul, '/': operator.truediv,
    '//': operator.floordiv, '%': operator.mod, '**': operator.pow, '@': operator.matmul,
    '==': operator.eq, '!=': operator.ne, '<': operator.lt, '>=': operator.ge,
    '&': operator.and_, '|': operator.or_, '^': operator.xor,
}

ARRAYS = {
    'f64': np.array([[1.0, 2.0], [3.0, 0.5]]),
    'f32': np.array([[1.0, 2.0], [3.0, 0.5]], np.float32),
    'i64': np.array([[1, 2], [3, 4]]),
    'i32': np.array([[1, 2], [3, 4]], np.int32),
    'bool': np.array([[True, False], [True, True]]),
    'row': np.array([2.0, 3.0]),
    '0-d': np.array(2.0),
}

TENSORS = {
    'float': lambda L: L.tensor([[1.5, 2.0], [3.0, 4.0]]),
    'double': lambda L: L.tensor([[1.5, 2.0], [3.0, 4.0]], dtype=L.float64),
    'long': lambda L: L.tensor([[1, 2], [3, 4]]),
    'bool': lambda L: L.tensor([[True, False], [False, True]]),
}


def outcome(fn, L):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')          # torch's __array_wrap__ deprecation; 1/0
        try:
            r = fn(L)
        except Exception as exc:  # noqa: BLE001 - compared with torch
            # NumPy's messages name the operand types: torch's class is also 'Tensor'
            return 'raised', type(exc).__name__, str(exc)
    if isinstance(r, L.Tensor):
        return 'tensor', str(r.dtype), repr(np.asarray(r.detach()).tolist())   # nan == nan
    return type(r).__name__, repr(r)


@pytest.mark.parametrize('tensor', sorted(TENSORS))
@pytest.mark.parametrize('array', sorted(ARRAYS))
@pytest.mark.parametrize('op', sorted(OPS))
def test_operator_with_ndarray_both_orders(op, array, tensor):
    f, a, mk = OPS[op], ARRAYS[array], TENSORS[tensor]
    left = lambda L: f(a, mk(L))         # noqa: E731
    right = lambda L: f(mk(L), a)        # noqa: E731
    assert outcome(left, ember) == outcome(left, torch)
    assert outcome(right, ember) == outcome(right, torch)


@pytest.mark.parametrize('op', ['+=', '-=', '*=', '/=', '@='])
@pytest.mark.parametrize('array', ['f64', 'f32', 'i64'])
def test_augmented_assignment_with_ndarray(op, array):
    """torch's in-place operators refuse an ndarray too: `t += a` rebinds t to NumPy's result
    and leaves the original tensor as it was; `a += t` is NumPy's own in-place op."""
    def run(L, tensor_first):
        t = L.tensor([[1.5, 2.0], [3.0, 4.0]])
        orig = t
        a = ARRAYS[array].copy()
        ns = {'t': t, 'a': a}
        stmt = f't {op} a' if tensor_first else f'a {op} t'
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                exec(stmt, ns)
        except Exception as exc:  # noqa: BLE001 - compared with torch
            return 'raised', type(exc).__name__, str(exc)
        res = ns['t'] if tensor_first else ns['a']
        kind = 'tensor' if isinstance(res, L.Tensor) else type(res).__name__
        vals = np.asarray(res).tolist()
        return kind, str(getattr(res, 'dtype', None)), vals, np.asarray(orig).tolist()
    for first in (True, False):
        assert run(ember, first) == run(torch, first)


def test_requires_grad_tensor_with_ndarray():
    cases = [lambda L, t, a: t + a, lambda L, t, a: a + t, lambda L, t, a: t * a,
             lambda L, t, a: a / t, lambda L, t, a: t == a, lambda L, t, a: a != t,
             lambda L, t, a: t @ a]
    a = np.array([2.0, 3.0])
    for fn in cases:
        res = []
        for L in (ember, torch):
            t = L.tensor([1.0, 2.0], requires_grad=True)
            res.append(outcome(lambda L: fn(L, t, a), L))
        assert res[0] == res[1]


def test_numpy_scalars_stay_scalars():
    """NumPy scalars (np.generic) are numbers to both libraries, not arrays."""
    cases = [lambda L: np.float64(2.5) * L.tensor([1, 2]),
             lambda L: L.tensor([1.0, 2.0]) + np.int64(3),
             lambda L: np.float32(1) - L.tensor([1.0, 2.0], dtype=L.float64),
             lambda L: L.tensor([1.0, 2.0]) < np.float64(1.5)]
    for fn in cases:
        assert outcome(fn, ember) == outcome(fn, torch)


def test_result_of_numpy_path_is_a_plain_tensor():
    t = ember.tensor([1.0, 2.0])
    r = t + np.array([1.0, 1.0])
    assert type(r) is ember.Tensor and r.grad_fn is None and not r.requires_grad
    assert r.dtype == ember.float64
