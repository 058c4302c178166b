"""torch.special's Bessel, Airy, incomplete gamma, zeta, polygamma and erfcx functions (and
torch.i0/igamma/igammac/polygamma/mvlgamma) against torch: values in float64 and float32,
dtypes, torch's edge values, gradients and their gradients, errors.

ember computes these in float64 and rounds: in float32 it is compared with torch's float64
values rounded to float32 (torch's float32 kernels lose a few digits at large arguments), and
in float64 with a tolerance that covers torch's own Cephes approximations (J, Y and Ai are
accurate to about 1e-7 there; ember's agree with SciPy to 1e-15)."""
import numpy as np
import pytest
import torch

import ember
import ember.special as ES
from ember.autograd import gradcheck, gradgradcheck

_X = np.concatenate([np.linspace(-40, 40, 161), np.geomspace(1e-8, 1e4, 40),
                     -np.geomspace(1e-8, 1e4, 40),
                     [0.0, 3.0, -3.0, 7.9, 8.0, 8.1, 24.9, 25.0, 25.1, 49.9, 50.0, 50.1, 700.0,
                      np.inf, -np.inf, np.nan]])

_NO_GRAD = ['bessel_j0', 'bessel_j1', 'bessel_y0', 'bessel_y1', 'modified_bessel_i0',
            'modified_bessel_i1', 'modified_bessel_k0', 'modified_bessel_k1',
            'scaled_modified_bessel_k0', 'scaled_modified_bessel_k1', 'airy_ai']
_WITH_GRAD = ['i0', 'i0e', 'i1', 'i1e', 'erfcx']


def _assert_close(e, t, rtol, atol):
    np.testing.assert_allclose(e, t, rtol=rtol, atol=atol, equal_nan=True)
    assert np.array_equal(np.isinf(e), np.isinf(t))


@pytest.mark.parametrize('name', _NO_GRAD + _WITH_GRAD)
def test_values_float64(name):
    e = getattr(ES, name)(ember.tensor(_X))
    t = getattr(torch.special, name)(torch.tensor(_X))
    assert str(e.dtype) == str(t.dtype) == 'torch.float64'
    _assert_close(e.numpy(), t.numpy(), 1e-6, 1e-6)


@pytest.mark.parametrize('name', _NO_GRAD + _WITH_GRAD)
def test_values_float32(name):
    x32 = _X.astype(np.float32)
    e = getattr(ES, name)(ember.tensor(x32))
    t32 = getattr(torch.special, name)(torch.tensor(x32))
    assert str(e.dtype) == str(t32.dtype) == 'torch.float32'
    ref = getattr(torch.special, name)(torch.tensor(x32, dtype=torch.float64)).float().numpy()
    _assert_close(e.numpy(), ref, 2e-6, 1e-6)


@pytest.mark.parametrize('name', ['bessel_j0', 'i1', 'airy_ai', 'scaled_modified_bessel_k1'])
def test_integer_input_computes_in_the_default_dtype(name):
    e = getattr(ES, name)(ember.tensor([0, 1, 2, 30]))
    t = getattr(torch.special, name)(torch.tensor([0, 1, 2, 30]))
    assert str(e.dtype) == str(t.dtype)
    _assert_close(e.numpy(), t.numpy(), 1e-5, 1e-6)


@pytest.mark.parametrize('name', _NO_GRAD)
def test_no_gradient_as_in_torch(name):
    t = getattr(torch.special, name)(torch.ones(3, requires_grad=True))
    e = getattr(ES, name)(ember.ones(3, requires_grad=True))
    assert e.requires_grad == t.requires_grad is False


def _grads(lib, fn, arrays, wrt):
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=(i == wrt))
          for i, a in enumerate(arrays)]
    y = fn(lib, *xs)
    g, = lib.autograd.grad(y.sum(), xs[wrt], create_graph=True)
    gg, = lib.autograd.grad(g.sum(), xs[wrt])
    return type(y.grad_fn).__name__, y.detach().numpy(), g.detach().numpy(), gg.numpy()


_X_GRAD = np.array([-7.5, -3.0, -0.5, 0.0, 0.7, 2.5, 12.0, 60.0])
_POS = np.array([0.3, 1.0, 2.5, 7.0, 15.0])

_GRAD_CASES = {
    'i0': (lambda L, x: L.i0(x), [_X_GRAD], 0),
    'i0e': (lambda L, x: L.special.i0e(x), [_X_GRAD], 0),
    'i1': (lambda L, x: L.special.i1(x), [_X_GRAD], 0),
    'i1e': (lambda L, x: L.special.i1e(x), [_X_GRAD], 0),
    'erfcx': (lambda L, x: L.special.erfcx(x), [np.array([-3.0, -0.5, 0.0, 0.7, 2.5, 30.0])], 0),
    'polygamma0': (lambda L, x: L.polygamma(0, x), [_POS], 0),
    'polygamma1': (lambda L, x: x.polygamma(1), [_POS], 0),
    'polygamma3': (lambda L, x: L.special.polygamma(3, x), [np.array([-2.5, -0.3, 0.3, 4.0])], 0),
    'igamma': (lambda L, a, x: L.igamma(a, x), [np.array([0.5, 2.0, 3.0, 10.0, 40.0]), _POS], 1),
    'igammac': (lambda L, a, x: L.special.gammaincc(a, x), [np.array([0.5, 2.0, 3.0, 10.0,
                                                                      40.0]), _POS], 1),
    'zeta': (lambda L, s, q: L.special.zeta(s, q), [np.array([1.5, 2.0, 3.5, 6.0, 2.5]), _POS],
             1),
    'zeta_scalar_s': (lambda L, q: L.special.zeta(3.0, q), [_POS], 0),
    'mvlgamma': (lambda L, x: L.mvlgamma(x, 3), [_POS + 1.5], 0),
    'multigammaln': (lambda L, x: L.special.multigammaln(x, 2), [_POS + 1], 0),
}


@pytest.mark.parametrize('case', sorted(_GRAD_CASES))
def test_gradients_and_second_gradients(case):
    fn, arrays, wrt = _GRAD_CASES[case]
    e = _grads(ember, fn, arrays, wrt)
    t = _grads(torch, fn, arrays, wrt)
    assert e[0] == t[0]
    for a, b in zip(e[1:], t[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize('case', ['i0', 'i0e', 'i1', 'i1e', 'erfcx', 'polygamma1', 'igamma',
                                  'zeta', 'mvlgamma'])
def test_gradcheck(case):
    fn, arrays, wrt = _GRAD_CASES[case]
    others = [ember.tensor(a, dtype=ember.float64) for a in arrays]
    # |x| has a kink at 0, where finite differences see an average
    x = ember.tensor(arrays[wrt][arrays[wrt] != 0], dtype=ember.float64, requires_grad=True)
    others = [o[:x.shape[0]] for o in others]

    def f(v):
        args = list(others)
        args[wrt] = v
        return fn(ember, *args)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize('name,msg', [('igamma', "the derivative for 'igamma: input' is not "
                                                 "implemented."),
                                      ('igammac', "the derivative for 'igammac: input' is not "
                                                  "implemented."),
                                      ('zeta', "the derivative for 'zeta' is not implemented.")])
def test_gradients_torch_refuses(name, msg):
    for lib in (torch, ember):
        fn = getattr(lib.special, name) if name == 'zeta' else getattr(lib, name)
        a = lib.tensor([2.0, 3.0], requires_grad=True)
        with pytest.raises(NotImplementedError, match=msg):
            fn(a, lib.tensor([1.0, 2.0])).sum().backward()
        if name == 'zeta':
            with pytest.raises(NotImplementedError, match=msg):
                fn(a, 2.0).sum().backward()
        else:  # igamma takes tensors only
            with pytest.raises(TypeError, match=r"argument 'other' \(position 2\) must be "
                                                r"Tensor, not float"):
                fn(a, 2.0)


def test_incomplete_gamma_values():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0, 20, 300), rng.uniform(0, 1e3, 30),
                        [0, 0, 1, np.inf, np.inf, 5, -1, np.nan, 2, 0.5, 1e-3, 3, 0]])
    x = np.concatenate([rng.uniform(0, 30, 300), rng.uniform(0, 1e3, 30),
                        [1, 0, 0, 3, np.inf, np.inf, 1, 1, -1, 1e-5, 100, np.nan, -0.0]])
    for en, tn in [('igamma', 'igamma'), ('igammac', 'igammac')]:
        for dt in ('float64', 'float32'):
            e = getattr(ember, en)(ember.tensor(a, dtype=getattr(ember, dt)),
                                   ember.tensor(x, dtype=getattr(ember, dt)))
            t = getattr(torch, tn)(torch.tensor(a, dtype=getattr(torch, dt)),
                                   torch.tensor(x, dtype=getattr(torch, dt)))
            assert str(e.dtype) == str(t.dtype)
            _assert_close(e.numpy(), t.numpy(), 1e-8 if dt == 'float64' else 2e-5, 1e-12)


def test_incomplete_gamma_forms():
    a, x = np.array([[0.5], [2.0]]), np.array([0.5, 1.0, 4.0])
    for lib in (torch, ember):
        ta, tx = lib.tensor(a), lib.tensor(x)
        r = [lib.special.gammainc(ta, tx), ta.igamma(tx), lib.special.gammaincc(ta, tx + 1),
             ta.igammac(tx), lib.igamma(ta, tx)]
        b = ta.clone()
        b.igamma_(lib.tensor([[1.5], [0.5]]))
        r.append(b)
        if lib is torch:
            ref = [v.numpy() for v in r]
        else:
            for v, w in zip(r, ref):
                np.testing.assert_allclose(v.numpy(), w, rtol=1e-10)


@pytest.mark.parametrize('s', [1.0, 1.5, 2.0, 3.0, 0.5, 4.0, 10.0, 31.0])
def test_zeta_values(s):
    q = np.concatenate([np.linspace(-5.5, 10, 63), [0, -1, -2.0, 1e-3, 1e3, np.inf, np.nan]])
    e = ES.zeta(ember.tensor(np.full_like(q, s)), ember.tensor(q)).numpy()
    t = torch.special.zeta(torch.tensor(np.full_like(q, s)), torch.tensor(q)).numpy()
    _assert_close(e, t, 1e-10, 1e-14)
    # the scalar forms
    _assert_close(ES.zeta(s, ember.tensor(q)).numpy(),
                  torch.special.zeta(s, torch.tensor(q)).numpy(), 1e-10, 1e-14)
    _assert_close(ES.zeta(ember.tensor(q + 2), 3.0).numpy(),
           torch.special.zeta(torch.tensor(q + 2), 3.0).numpy(), 1e-10, 1e-14)


@pytest.mark.parametrize('n', range(7))
def test_polygamma_values(n):
    x = np.concatenate([np.linspace(-5.5, 10, 63), [0, -1, 1e-3, 30, 100, np.inf, np.nan]])
    for dt in ('float64', 'float32'):
        if dt == 'float32':  # near the poles, float32 rounding of x decides the value
            x = x[(x > 0) | (np.abs(x - np.round(x)) > 0.05)]
        e = ember.polygamma(n, ember.tensor(x, dtype=getattr(ember, dt)))
        t = torch.polygamma(n, torch.tensor(x, dtype=getattr(torch, dt)))
        assert str(e.dtype) == str(t.dtype)
        # torch's trigamma is accurate to about 3e-10 (ember's to 1e-15)
        _assert_close(e.numpy(), t.numpy(), 1e-9 if dt == 'float64' else 1e-4, 1e-12)


def test_polygamma_forms_and_errors():
    x = np.array([0.5, 2.0, 3.5])
    for lib in (torch, ember):
        t = lib.tensor(x)
        r = [lib.special.polygamma(2, t), t.polygamma(3), t.clone().polygamma_(1),
             lib.polygamma(1, lib.tensor([1, 2, 3]))]
        if lib is torch:
            ref = [v.numpy() for v in r]
        else:
            for v, w in zip(r, ref):
                np.testing.assert_allclose(v.numpy(), w, rtol=1e-9)
                assert v.dtype == ember.float64 or w.dtype == np.float32
        with pytest.raises(RuntimeError, match='polygamma'):
            lib.polygamma(-1, t)


def test_mvlgamma():
    x = np.array([0.2, 0.5, -1.0, 1.5, 4.0])
    for lib in (torch, ember):
        t = lib.tensor(x)
        r = [lib.mvlgamma(t, 2), lib.special.multigammaln(t, 1), t.mvlgamma(3),
             t.clone().mvlgamma_(2), lib.mvlgamma(lib.tensor([1, 2, 4]), 1)]
        with pytest.raises(RuntimeError, match='p has to be greater than or equal to 1'):
            lib.mvlgamma(t, 0)
        if lib is torch:
            ref = [v.numpy() for v in r]
        else:
            for v, w in zip(r, ref):
                assert v.numpy().dtype == w.dtype
                np.testing.assert_allclose(v.numpy(), w, rtol=1e-6)
