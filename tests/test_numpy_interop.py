"""NumPy interop, Variable, and the small top-level values, compared with torch (issue 11,
item 2)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember
from _subproc import env

torch = pytest.importorskip('torch')


def outcome(fn, lib):
    with warnings.catch_warnings():
        # torch's __array_wrap__ triggers NumPy 2's DeprecationWarning; ember must not (below)
        warnings.simplefilter('ignore', DeprecationWarning)
        try:
            r = fn(lib)
        except Exception as exc:  # noqa: BLE001 - compared
            return 'raised', type(exc).__name__, str(exc)
    kind = 'tensor' if isinstance(r, lib.Tensor) else type(r).__name__
    return kind, str(getattr(r, 'dtype', None)), np.asarray(r.tolist() if kind == 'tensor'
                                                            else r).tolist()


T = lambda L: L.tensor([1.0, 2.0])  # noqa: E731
TI = lambda L: L.tensor([1, 2])  # noqa: E731

CASES = {
    'np.exp(t)': lambda L: np.exp(T(L)),
    'np.add(t, 1)': lambda L: np.add(T(L), 1),
    'np.multiply(int t, 2.5)': lambda L: np.multiply(TI(L), 2.5),
    'np.maximum(t, 1)': lambda L: np.maximum(T(L), 1),
    'np.sqrt(t)': lambda L: np.sqrt(T(L)),
    'np.log(t)': lambda L: np.log(T(L)),
    'np.abs(t)': lambda L: np.abs(T(L)),
    'np.square(int t)': lambda L: np.square(TI(L)),
    'np.isnan(t) (uint8)': lambda L: np.isnan(T(L)),
    'np.exp(0-d)': lambda L: np.exp(L.tensor(1.0)),
    'np.exp(t) + 1': lambda L: np.exp(T(L)) + 1,
    'np.exp(requires_grad)': lambda L: np.exp(L.ones(2, requires_grad=True)),
    'np.asarray(requires_grad)': lambda L: np.asarray(L.ones(2, requires_grad=True)),
    'np.float32(2) * t': lambda L: np.float32(2) * T(L),
    'np.float64(2) * t': lambda L: np.float64(2) * T(L),
    'np.float16(2) * t': lambda L: np.float16(2) * T(L),
    't * np.float64(2)': lambda L: T(L) * np.float64(2),
    'np.int64(2) * int t': lambda L: np.int64(2) * TI(L),
    'int t * np.float64(2.5)': lambda L: TI(L) * np.float64(2.5),
    'np.float32(3) - t': lambda L: np.float32(3) - T(L),
    't ** np.float64(2)': lambda L: T(L) ** np.float64(2),
    't + np.bool_(True)': lambda L: T(L) + np.bool_(True),
    't > np.float64(1)': lambda L: T(L) > np.float64(1),
    'np.float64(1) < t': lambda L: np.float64(1) < T(L),
    't + ndarray': lambda L: T(L) + np.array([1.0, 2.0]),
    't == ndarray': lambda L: T(L) == np.array([1.0, 3.0]),
    'ndarray == t': lambda L: np.array([1.0, 3.0]) == T(L),
    'np.asarray(t)': lambda L: np.asarray(T(L)),
    'np.asarray(t, float64)': lambda L: np.asarray(T(L), dtype=np.float64),
    'np.array(t, copy=True)': lambda L: np.array(T(L), copy=True),
    'np.stack': lambda L: np.stack([T(L), T(L)]),
    'np.concatenate': lambda L: np.concatenate([T(L), T(L)]),
    'np.where': lambda L: np.where(T(L) > 1, T(L), 0),
    'bfloat16 np.asarray': lambda L: np.asarray(L.ones(2, dtype=L.bfloat16)),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_numpy_on_tensors_as_torch(name):
    assert outcome(CASES[name], ember) == outcome(CASES[name], torch)


def test_no_numpy2_deprecation_warnings():
    t = ember.tensor([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        np.exp(t)
        np.isnan(t)
        a = np.array(t, copy=False)  # NumPy 2's copy keyword is honoured: no copy
        assert np.shares_memory(a, t.numpy())
        np.asarray(t, dtype=np.float64)
    with pytest.raises(ValueError, match='Unable to avoid copy'):
        np.array(t, dtype=np.float64, copy=False)


def test_asarray_shares_memory():
    for L in (torch, ember):
        t = L.zeros(3)
        a = np.asarray(t)
        a[1] = 5.0
        assert t.tolist() == [0.0, 5.0, 0.0]
        assert np.array(t, copy=True) is not a


def test_variable_is_the_legacy_wrapper():
    def build(L):
        from importlib import import_module
        Variable = import_module(L.__name__ + '.autograd').Variable
        t = L.ones(2)
        v = Variable(t)
        v2 = Variable(t, requires_grad=True)
        x = L.ones(2, requires_grad=True) * 2
        v3 = Variable(x)
        (v2 * 3).sum().backward()
        return (type(v) is L.Tensor, v is t, v.requires_grad, v2.requires_grad, t.requires_grad,
                v2.is_leaf, v2.data_ptr() == t.data_ptr(), v2.grad.tolist(), v3.grad_fn,
                v3.requires_grad, isinstance(t, Variable), isinstance(3, Variable),
                repr(Variable()), repr(Variable))
    assert build(ember) == build(torch)
    for L in (torch, ember):
        with pytest.raises(TypeError, match='Variable data has to be a tensor, but got int'):
            L.autograd.Variable(3)
        with pytest.warns(UserWarning, match='volatile was removed'):
            L.autograd.Variable(L.ones(1), volatile=True)


def test_constants_and_none_comparison():
    for name in ('inf', 'nan', 'pi', 'e', 'newaxis'):
        a, b = getattr(ember, name), getattr(torch, name)
        assert repr(a) == repr(b)
    for L in (torch, ember):
        t = L.ones(2)
        assert (t == None) is False  # noqa: E711
        assert (t != None) is True  # noqa: E711
        assert t[L.newaxis].shape == (1, 2)


def test_import_leaves_ml_dtypes_for_bfloat16():
    """ml_dtypes (the bfloat16 extra) costs more to import than the rest of ember: it is
    loaded when bfloat16 is first used, not by `import ember`."""
    code = ('import sys, ember; before = "ml_dtypes" in sys.modules; '
            'x = ember.ones(2, dtype=ember.bfloat16) * 3; '
            'print(before, "ml_dtypes" in sys.modules, x.dtype, x.float().tolist())')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env=env(), check=True).stdout.split()
    assert out == ['False', 'True', 'torch.bfloat16', '[3.0,', '3.0]']
