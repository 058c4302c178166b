"""`out=` on the ops whose bodies leave it aside (`_ops._util._with_out`, and sort/topk inline):
the result lands in the given tensors, which come back (as the op's named tuple when there
are several), with the values torch puts there. These ops ignored out= before: a silent
wrong answer (the caller's tensors kept their old values)."""
import warnings

import numpy as np
import pytest
import torch

import ember

_rng = np.random.default_rng(0)
_X = _rng.standard_normal((4, 5)).astype(np.float32)
_B = _rng.standard_normal((4, 4))
_A = _B @ _B.T + 4 * np.eye(4)  # symmetric positive definite, float64
_V = np.array([1.0, 2.5, -3.0, 0.25], dtype=np.float32)

# name: (call, input). call(lib, x, **kw) passes kw (out=) through
CASES = {
    'sort': (lambda L, x, **kw: L.sort(x, 1, **kw), _X),
    'topk': (lambda L, x, **kw: L.topk(x, 2, **kw), _X),
    'frexp': (lambda L, x, **kw: L.frexp(x, **kw), _V),
    'histogram': (lambda L, x, **kw: L.histogram(x, 4, **kw), _V),
    'linalg.svd': (lambda L, x, **kw: L.linalg.svd(x, **kw), _A),
    'linalg.svdvals': (lambda L, x, **kw: L.linalg.svdvals(x, **kw), _A),
    'linalg.qr': (lambda L, x, **kw: L.linalg.qr(x, **kw), _A),
    'linalg.eigh': (lambda L, x, **kw: L.linalg.eigh(x, **kw), _A),
    'linalg.eigvalsh': (lambda L, x, **kw: L.linalg.eigvalsh(x, **kw), _A),
    'linalg.cholesky': (lambda L, x, **kw: L.linalg.cholesky(x, **kw), _A),
    'linalg.cholesky_ex': (lambda L, x, **kw: L.linalg.cholesky_ex(x, **kw), _A),
    'linalg.pinv': (lambda L, x, **kw: L.linalg.pinv(x, **kw), _A),
    'linalg.inv_ex': (lambda L, x, **kw: L.linalg.inv_ex(x, **kw), _A),
    'linalg.solve_ex': (lambda L, x, **kw: L.linalg.solve_ex(x, x[:, :2], **kw), _A),
    'linalg.lu_factor': (lambda L, x, **kw: L.linalg.lu_factor(x, **kw), _A),
    'linalg.lu': (lambda L, x, **kw: L.linalg.lu(x, **kw), _A),
    'linalg.matrix_rank': (lambda L, x, **kw: L.linalg.matrix_rank(x, **kw), _A),
    'linalg.multi_dot': (lambda L, x, **kw: L.linalg.multi_dot([x, x, x], **kw), _A),
    'linalg.vecdot': (lambda L, x, **kw: L.linalg.vecdot(x, x, **kw), _A),
    'linalg.ldl_factor': (lambda L, x, **kw: L.linalg.ldl_factor(x, **kw), _A),
    'cholesky_inverse': (lambda L, x, **kw: L.cholesky_inverse(L.linalg.cholesky(x), **kw),
                         _A),
    'triangular_solve': (lambda L, x, **kw: L.triangular_solve(x[:, :2], x.triu(), **kw), _A),
}


def _run(lib, name, **kw):
    call, x = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # torch's deprecations (cholesky_inverse's family)
        return call(lib, lib.from_numpy(x.copy()), **kw)


def _empty_like_results(lib, r):
    if isinstance(r, tuple):
        return tuple(lib.empty(0, dtype=t.dtype) for t in r)
    return lib.empty(0, dtype=r.dtype)


def _values(r):
    return [t.numpy() for t in r] if isinstance(r, tuple) else [r.numpy()]


@pytest.mark.parametrize('name', list(CASES))
def test_out_receives_the_result(name):
    plain = _run(ember, name)
    out = _empty_like_results(ember, plain)
    got = _run(ember, name, out=out)
    outs = out if isinstance(out, tuple) else (out,)
    gots = got if isinstance(got, tuple) else (got,)
    assert all(g is o for g, o in zip(gots, outs)), 'out= must come back'
    if isinstance(plain, tuple) and hasattr(plain, '_fields'):
        assert type(got)._fields == type(plain)._fields
    for o, p in zip(_values(out), _values(plain)):
        np.testing.assert_array_equal(o, p)
    # and torch's out= holds the same values
    tplain = _run(torch, name)
    tout = _empty_like_results(torch, tplain)
    _run(torch, name, out=tout)
    for o, t in zip(_values(out), _values(tout)):
        assert o.shape == t.shape and o.dtype == t.dtype
        if name not in ('linalg.svd', 'linalg.qr', 'linalg.eigh'):  # (signs: LAPACK's choice)
            np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)


def test_out_refusals_match_torch():
    x = ember.randn(3, 4)
    with pytest.raises(TypeError, match='expected tuple of 2 elements but got 1'):
        ember.sort(x, out=(ember.empty(0),))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.sort(x.requires_grad_(), out=(ember.empty(0), ember.empty(0, dtype=ember.long)))
    with ember.no_grad():   # without grad mode the result has no history: allowed, as in torch
        v, i = ember.empty(0), ember.empty(0, dtype=ember.long)
        ember.topk(x, 2, out=(v, i))
        np.testing.assert_array_equal(v.numpy(), ember.topk(x, 2).values.numpy())
