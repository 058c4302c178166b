"""ember.autograd.functional against torch.autograd.functional (float64)."""
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


def _cmp(e, t):
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
    _cmp(results[0], results[1])


def test_unsupported_options_say_so():
    with pytest.raises(NotImplementedError, match='vectorize=True'):
        ember.autograd.functional.jacobian(lambda x: x, ember.ones(2), vectorize=True)
