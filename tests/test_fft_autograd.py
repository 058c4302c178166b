"""torch.fft with gradients, and complex autograd, against torch.

Each case builds the same input in both libraries, applies a transform and a real loss that
weighs every output element differently (so every gradient entry is exercised), and compares
values, dtypes, grad_fn names and the input's gradient; float64 cases also compare second-order
gradients (create_graph) and run gradcheck.
"""
import numpy as np
import pytest
import torch

import ember

ONE = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft']
MANY = ['fft2', 'ifft2', 'rfft2', 'irfft2', 'hfft2', 'ihfft2',
        'fftn', 'ifftn', 'rfftn', 'irfftn', 'hfftn', 'ihfftn']
REAL_ONLY = {'rfft', 'ihfft', 'rfft2', 'ihfft2', 'rfftn', 'ihfftn'}
NORMS = [None, 'ortho', 'forward']


def _inputs(shape, dtype, complex_, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if complex_:
        a = a + 1j * rng.standard_normal(shape)
        a = a.astype(np.complex64 if dtype == np.float32 else np.complex128)
    else:
        a = a.astype(dtype)
    e = ember.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    return e, t


def _loss(lib, y, seed=1):
    """A real loss touching real and imaginary parts with distinct weights."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(tuple(y.shape) + (2,) if y.is_complex() else tuple(y.shape))
    w = lib.tensor(w.astype(np.float64))
    if y.is_complex():
        yr = lib.view_as_real(y.resolve_conj())
        return (yr * w.to(yr.dtype)).sum() + (y.abs() ** 2).sum() * 0.1
    return (y * w.to(y.dtype)).sum() + (y ** 2).sum() * 0.1


def _assert_close(e, t, tol):
    e_np = e.detach().numpy() if isinstance(e, ember.Tensor) else e
    np.testing.assert_allclose(e_np, t.detach().resolve_conj().numpy(), rtol=tol, atol=tol)


def _check(fn_name, kwargs, shape, dtype, complex_):
    e, t = _inputs(shape, dtype, complex_)
    ye = getattr(ember.fft, fn_name)(e, **kwargs)
    yt = getattr(torch.fft, fn_name)(t, **kwargs)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert str(ye.dtype) == str(yt.dtype) and tuple(ye.shape) == tuple(yt.shape)
    _assert_close(ye, yt, tol)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    _loss(ember, ye).backward()
    _loss(torch, yt).backward()
    assert str(e.grad.dtype) == str(t.grad.dtype)
    _assert_close(e.grad, t.grad, tol * 10)


def _with_inputs(names):
    # the real-only transforms take no complex input (their error is tested below)
    return [(n, c) for n in names for c in (False, True) if not (c and n in REAL_ONLY)]


@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['f32', 'f64'])
@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('name, complex_', _with_inputs(ONE))
def test_one_dim(name, complex_, norm, dtype):
    for kw in ({}, {'n': 5}, {'n': 12}, {'dim': 0}, {'n': 3, 'dim': 0}):
        _check(name, dict(kw, norm=norm), (6, 8), dtype, complex_)


@pytest.mark.parametrize('norm', NORMS)
@pytest.mark.parametrize('name, complex_', _with_inputs(MANY))
def test_many_dims(name, complex_, norm):
    kws = [{}, {'s': (4, 6)}, {'dim': (0, 2)}, {'s': (3, 9), 'dim': (2, 0)}]
    if name.endswith('n'):
        kws += [{'dim': None}, {'s': (4,)}, {'dim': (1,)}]
    for kw in kws:
        _check(name, dict(kw, norm=norm), (5, 4, 6), np.float64, complex_)


@pytest.mark.parametrize('name', ['fft', 'rfft', 'irfft', 'hfft', 'ihfft', 'fft2', 'irfftn'])
def test_gradcheck_and_double_backward(name):
    complex_ = name not in REAL_ONLY
    e, t = _inputs((4, 6), np.float64, complex_, seed=3)
    fe = lambda x: getattr(ember.fft, name)(x, norm='ortho')  # noqa: E731
    assert ember.autograd.gradcheck(lambda x: _loss(ember, fe(x)), (e,))
    # second order: the gradient of the gradient's squared norm
    ft = lambda x: getattr(torch.fft, name)(x, norm='ortho')  # noqa: E731
    ge, = ember.autograd.grad(_loss(ember, fe(e)), e, create_graph=True)
    gt, = torch.autograd.grad(_loss(torch, ft(t)), t, create_graph=True)
    _assert_close(ge, gt, 1e-10)
    hge, = ember.autograd.grad((ge.abs() ** 2).sum(), e)
    hgt, = torch.autograd.grad((gt.abs() ** 2).sum(), t)
    _assert_close(hge, hgt, 1e-9)


def test_errors_as_torch():
    z = ember.ones(4, dtype=ember.complex64)
    for name, msg in (('rfft', 'rfft expects a real input tensor, but got ComplexFloat'),
                      ('rfft2', 'rfftn expects a real-valued input tensor'),
                      ('ihfft', 'ihfft expects a real input tensor'),
                      ('ihfftn', 'Only supports floating-point dtypes, but found: ComplexFloat')):
        zz = z if name in ('rfft', 'ihfft') else z.reshape(2, 2)
        with pytest.raises(RuntimeError, match=msg):
            getattr(ember.fft, name)(zz)
    with pytest.raises(RuntimeError, match='Invalid number of data points'):
        ember.fft.fft(ember.ones(4), n=0)
    with pytest.raises(RuntimeError, match='must have the same length'):
        ember.fft.fftn(ember.ones(4, 4), s=(2,), dim=(0, 1))
    with pytest.raises(RuntimeError, match='FFT dims must be unique'):
        ember.fft.fftn(ember.ones(4, 4), dim=(0, 0))
    with pytest.raises(RuntimeError, match='Invalid normalization mode'):
        ember.fft.fft(ember.ones(4), norm='foo')


def test_out_and_integer_input():
    out = ember.empty(0, dtype=ember.complex64)
    r = ember.fft.fft(ember.arange(6), out=out)
    assert r is out
    _assert_close(out, torch.fft.fft(torch.arange(6)), 1e-5)
