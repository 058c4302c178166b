"""ember.autograd.functional against torch.autograd.functional (float64)."""
import re

import numpy as np
import pytest
import torch

import ember

A = np.array([[1.0, 2.0, -1.0], [0.5, -0.3, 2.0]])
X = np.array([0.3, -1.2, 0.8])
Y = np.array([1.5, 0.2])


def f_vec(lib):
    a = lib.tensor(A)
    return lambda x: lib.tanh(a @ x) * x[:2]


def f_two(lib):
    return lambda x, y: (x[:2] * y).sin().sum() + (x ** 3).sum()


def _np(r):
    if isinstance(r, tuple):
        return [_np(x) for x in r]
    return r.detach().numpy()


def assert_results_match(e, t):
    e, t = _np(e), _np(t)
    if isinstance(t, list):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _cmp_arr(a, b)
    else:
        _cmp_arr(e, t)


def _cmp_arr(a, b):
    if isinstance(b, list):
        for x, y in zip(a, b):
            _cmp_arr(x, y)
        return
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('name', ['jacobian', 'hessian', 'vjp', 'jvp', 'hvp', 'vhp'])
def test_matches_torch(name):
    results = []
    for lib in (ember, torch):
        F = lib.autograd.functional
        x, y = lib.tensor(X), lib.tensor(Y)
        if name == 'jacobian':
            r = (F.jacobian(f_vec(lib), x), F.jacobian(f_two(lib), (x, y)))
        elif name == 'hessian':
            r = (F.hessian(lambda x: (x ** 3).sum() * x[0], x), F.hessian(f_two(lib), (x, y)))
        elif name == 'vjp':
            r = F.vjp(f_vec(lib), x, lib.tensor(Y))
        elif name == 'jvp':
            r = F.jvp(f_vec(lib), x, lib.tensor(X * 2))
        else:
            r = getattr(F, name)(f_two(lib), (x, y), (lib.tensor(X), lib.tensor(Y)))
        results.append(r)
    assert_results_match(results[0], results[1])


def _f_vec_any(lib):
    return lambda x: lib.tanh(lib.tensor(A, dtype=x.dtype) @ x) * x[:2]


def assert_both_libs_match(run):
    out = []
    for lib in (ember, torch):
        r = run(lib)
        out.append(r)
    assert _kinds(out[0]) == _kinds(out[1])
    for a, b in zip(_leaves(out[0]), _leaves(out[1])):
        tol = 1e-10 if a.dtype == np.float64 else 2e-5
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _kinds(r):
    if isinstance(r, (tuple, list)):
        return (type(r).__name__, [_kinds(x) for x in r])
    return (tuple(r.shape), str(r.dtype), r.requires_grad)


def _leaves(r):
    if isinstance(r, (tuple, list)):
        return [a for x in r for a in _leaves(x)]
    return [r.detach().numpy()]


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_options_match_torch(dtype):
    x0, y0 = X.astype(dtype), Y.astype(dtype)
    for kw in (dict(vectorize=True), dict(vectorize=True, strategy='forward-mode'),
               dict(create_graph=True), dict(strict=True)):
        assert_both_libs_match(lambda lib: lib.autograd.functional.jacobian(
            f_two(lib), (lib.tensor(x0), lib.tensor(y0)), **kw))
        assert_both_libs_match(lambda lib: lib.autograd.functional.jacobian(_f_vec_any(lib), lib.tensor(x0),
                                                                **kw))
    for kw in (dict(vectorize=True), dict(vectorize=True, outer_jacobian_strategy='forward-mode'),
               dict(create_graph=True), dict(strict=True)):
        assert_both_libs_match(lambda lib: lib.autograd.functional.hessian(
            f_two(lib), (lib.tensor(x0), lib.tensor(y0)), **kw))
    for name in ('hvp', 'vhp', 'jvp', 'vjp'):
        for kw in (dict(create_graph=True), dict(strict=True)):
            def run(lib):
                F = lib.autograd.functional
                if name in ('hvp', 'vhp'):
                    return getattr(F, name)(f_two(lib), (lib.tensor(x0), lib.tensor(y0)),
                                            (lib.tensor(x0), lib.tensor(y0)), **kw)
                v = lib.tensor(x0 * 2 if name == 'jvp' else y0)
                return getattr(F, name)(_f_vec_any(lib), lib.tensor(x0), v, **kw)
            assert_both_libs_match(run)


def test_create_graph_keeps_the_graph():
    for lib in (ember, torch):
        x = lib.tensor(X, requires_grad=True)
        j = lib.autograd.functional.jacobian(lambda t: t.sin() * t.sum(), x, create_graph=True)
        assert j.requires_grad
        (g,) = lib.autograd.grad(j.sum(), x)
        j2 = lib.autograd.functional.jacobian(lambda t: t.sin() * t.sum(), x)
        assert not j2.requires_grad
        if lib is ember:
            eg = g.numpy()
        else:
            np.testing.assert_allclose(eg, g.numpy(), rtol=1e-10)


def test_errors_match_torch():
    cases = [
        (lambda F, lib: F.jacobian(lambda x: x, lib.ones(2), strategy='x'), AssertionError,
         'Expected strategy to be either'),
        (lambda F, lib: F.jacobian(lambda x: x, lib.ones(2), strategy='forward-mode'),
         NotImplementedError, 'only implemented for `vectorize=True`'),
        (lambda F, lib: F.jacobian(lambda x: x, lib.ones(2), strategy='forward-mode',
                                   vectorize=True, create_graph=True), NotImplementedError,
         '`create_graph=True` and `strategy="forward-mode"`'),
        (lambda F, lib: F.jacobian(lambda x: x, lib.ones(2), strategy='forward-mode',
                                   vectorize=True, strict=True), RuntimeError,
         '`strict=True` and `strategy="forward-mode"`'),
        (lambda F, lib: F.jacobian(lambda x: x, lib.ones(2), vectorize=True, strict=True),
         RuntimeError, '`strict=True` and `vectorized=True`'),
        (lambda F, lib: F.jacobian(lambda x, y: x * 2, (lib.ones(2), lib.ones(2)), strict=True),
         RuntimeError, 'Output 0 of the user-provided function is independent of input 1'),
        (lambda F, lib: F.jacobian(lambda x: lib.ones(2), lib.ones(2), strict=True),
         RuntimeError, 'Output 0 of the user-provided function does not require gradients'),
        (lambda F, lib: F.vjp(lambda x: x * 2, lib.ones(2), lib.ones(3)), RuntimeError,
         'v has invalid size: should be'),
        (lambda F, lib: F.vjp(lambda x: x * 2, lib.ones(2)), RuntimeError,
         'The vector v can only be None if the user-provided function returns'),
        (lambda F, lib: F.jvp(lambda x: x * 2, (lib.ones(2),), (lib.ones(2), lib.ones(2))),
         RuntimeError, 'v is a tuple of invalid length: should be 1 but got 2'),
        (lambda F, lib: F.jvp(lambda x: x * 2, lib.ones(2), lib.ones(2), strict=True,
                              create_graph=True), RuntimeError,
         'The jacobian of the user-provided function is independent of input 0'),
        (lambda F, lib: F.vjp(lambda x: x * 2, 3), TypeError,
         'The inputs given to vjp must be either a Tensor or a tuple of Tensors'),
        (lambda F, lib: F.hessian(lambda x: x, lib.ones(2)), RuntimeError,
         'should contain a single element'),
        (lambda F, lib: F.hessian(lambda x: (x * 2).sum(), lib.ones(2), strict=True),
         RuntimeError, 'the jacobian of the user-provided function with respect to input 0 is '
                       'independent'),
        (lambda F, lib: F.hvp(lambda x: (x * 2).sum(), lib.ones(2), lib.ones(2), strict=True),
         RuntimeError, 'While computing the hessian'),
        (lambda F, lib: F.vhp(lambda x: x, lib.ones(2), lib.ones(2)), RuntimeError,
         'The Tensor returned by the function given to vhp should contain a single element'),
    ]
    for fn, exc, msg in cases:
        for lib in (ember, torch):
            with pytest.raises(exc, match=re.escape(msg)):
                fn(lib.autograd.functional, lib)
