"""Hypothesis fuzzing of broadcasting against torch: binary ops, where, expand, gradients."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

from ._compare import assert_same, run_both  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


@st.composite
def broadcast_pair(draw, ndim=3):
    """Two shapes that broadcast together (sizes 0..3, ones sprinkled in, ranks trimmed)."""
    base = draw(st.lists(st.integers(0, 3), min_size=0, max_size=ndim))
    shapes = []
    for _ in range(2):
        s = [1 if draw(st.booleans()) else b for b in base]
        drop = draw(st.integers(0, len(s)))
        shapes.append(tuple(s[drop:]))
    return shapes


@st.composite
def any_pair(draw):
    """Two arbitrary small shapes (mostly not broadcastable)."""
    a = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    b = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    return a, b


_BINARY = {
    'add': lambda lib, a, b: a + b,
    'sub': lambda lib, a, b: lib.sub(a, b, alpha=2),
    'mul': lambda lib, a, b: a * b,
    'div': lambda lib, a, b: a / b,
    'maximum': lambda lib, a, b: lib.maximum(a, b),
    'atan2': lambda lib, a, b: lib.atan2(a, b),
    'pow': lambda lib, a, b: a.abs() ** b,
    'where': lambda lib, a, b: lib.where(a > 0, a, b),
    'lt': lambda lib, a, b: a < b,
    'logaddexp': lambda lib, a, b: lib.logaddexp(a, b),
}


def _pair(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(s) + 0.1, dtype=dtype) for s in shapes]


@pytest.mark.parametrize('name', sorted(_BINARY))
@SETTINGS
@given(shapes=broadcast_pair(), dtype=st.sampled_from(['float32', 'float64']),
       seed=st.integers(0, 2 ** 16))
def test_binary_broadcast(name, shapes, dtype, seed):
    fn = _BINARY[name]
    arrays = _pair(shapes, dtype, seed)
    e_in = [ember.from_numpy(a.copy()).requires_grad_() for a in arrays]
    t_in = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    e, t = fn(ember, *e_in), fn(torch, *t_in)
    assert_same(e, t)
    if t.requires_grad:
        up = np.random.default_rng(seed + 1).standard_normal(tuple(t.shape)).astype(dtype)
        tg = torch.autograd.grad(t, t_in, torch.from_numpy(up.copy()), allow_unused=True)
        eg = ember.autograd.grad(e, e_in, ember.from_numpy(up.copy()), allow_unused=True)
        for x, y, leaf in zip(eg, tg, t_in):
            if y is None:
                y = torch.zeros_like(leaf)
            assert x is not None
            assert_same(x, y, what=f"grad {name} {shapes}")


@pytest.mark.parametrize('name', ['add', 'mul', 'lt', 'where'])
@SETTINGS
@given(shapes=any_pair())
def test_binary_mismatch(name, shapes):
    """Shapes that do not broadcast raise torch's error type (and message for add/mul)."""
    fn = _BINARY[name]
    arrays = _pair(shapes, 'float32', 0)
    e, t, err = run_both(lambda: fn(ember, *[ember.from_numpy(a) for a in arrays]),
                         lambda: fn(torch, *[torch.from_numpy(a) for a in arrays]))
    if err is None:
        assert_same(e, t)
    elif name in ('add', 'mul', 'lt'):
        with pytest.raises(type(err)) as info:
            fn(ember, *[ember.from_numpy(a) for a in arrays])
        assert str(info.value) == str(err)


@SETTINGS
@given(shapes=broadcast_pair(), seed=st.integers(0, 100))
def test_broadcast_tensors_and_shapes(shapes, seed):
    arrays = _pair(shapes, 'float32', seed)
    e = ember.broadcast_tensors(*[ember.from_numpy(a) for a in arrays])
    t = torch.broadcast_tensors(*[torch.from_numpy(a) for a in arrays])
    assert_same(tuple(e), tuple(t))
    for x, y in zip(e, t):
        assert x.stride() == y.stride() or not y.numel()
    assert tuple(ember.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))


@SETTINGS
@given(shapes=broadcast_pair(), seed=st.integers(0, 100))
def test_expand_grad(shapes, seed):
    """expand to the broadcast shape; the gradient sums back over the expanded dims."""
    target = tuple(np.broadcast_shapes(*shapes))
    a = _pair(shapes[:1], 'float64', seed)[0]
    ex = ember.from_numpy(a.copy()).requires_grad_()
    tx = torch.from_numpy(a.copy()).requires_grad_()
    e, t = ex.expand(target), tx.expand(target)
    assert_same(e, t)
    assert e.stride() == t.stride() or not t.numel()
    up = np.random.default_rng(seed).standard_normal(target)
    (eg,) = ember.autograd.grad(e, ex, ember.from_numpy(up.copy()))
    (tg,) = torch.autograd.grad(t, tx, torch.from_numpy(up.copy()))
    assert_same(eg, tg)


@SETTINGS
@given(shapes=broadcast_pair(), seed=st.integers(0, 100))
def test_inplace_broadcast(shapes, seed):
    """a += b works when b broadcasts to a's shape and raises torch's error otherwise."""
    a, b = _pair(shapes, 'float32', seed)
    ea, ta = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())

    def e_op():
        ea.add_(ember.from_numpy(b))
        return ea

    def t_op():
        ta.add_(torch.from_numpy(b))
        return ta
    e, t, err = run_both(e_op, t_op)
    if err is None:
        assert_same(e, t)
