"""ember.fft against torch.fft: values, dtypes and shapes."""
import numpy as np
import pytest
import torch

import ember


def _pair(shape, dtype, rng, complex_=False):
    a = rng.standard_normal(shape)
    if complex_:
        a = a + 1j * rng.standard_normal(shape)
        dtype = np.complex64 if dtype == np.float32 else np.complex128
    a = a.astype(dtype)
    return ember.tensor(a), torch.tensor(a)


def _assert_same(e, t, tol):
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.resolve_conj().numpy(), rtol=tol, atol=tol)


ONE = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft']
MANY = ['fft2', 'ifft2', 'rfft2', 'irfft2', 'fftn', 'ifftn', 'rfftn', 'irfftn']


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name', ONE)
@pytest.mark.parametrize('kw', [{}, {'n': 6}, {'dim': 0}, {'norm': 'ortho'},
                                {'norm': 'forward', 'n': 3}])
def test_one_dim(name, dtype, kw):
    rng = np.random.default_rng(0)
    complex_in = name in ('ifft', 'irfft', 'hfft')
    e, t = _pair((4, 5), dtype, rng, complex_=complex_in and name != 'ifft')
    tol = 1e-4 if dtype == np.float32 else 1e-10
    _assert_same(getattr(ember.fft, name)(e, **kw), getattr(torch.fft, name)(t, **kw), tol)


@pytest.mark.parametrize('name', MANY)
@pytest.mark.parametrize('kw', [{}, {'s': (4, 6)}, {'dim': (0, 2)}, {'norm': 'ortho'}])
def test_many_dims(name, kw):
    if name.endswith('2') and 'dim' in kw:
        kw = {'dim': (0, 2)}
    rng = np.random.default_rng(1)
    e, t = _pair((3, 4, 5), np.float64, rng, complex_=name.startswith('irfft'))
    if 's' in kw and 'dim' not in kw and name.endswith('n'):
        kw = dict(kw, dim=(-2, -1))
    _assert_same(getattr(ember.fft, name)(e, **kw), getattr(torch.fft, name)(t, **kw), 1e-10)


def test_integer_input_freqs_and_shifts():
    _assert_same(ember.fft.fft(ember.arange(6)), torch.fft.fft(torch.arange(6)), 1e-5)
    _assert_same(ember.fft.fftfreq(5), torch.fft.fftfreq(5), 0)
    _assert_same(ember.fft.rfftfreq(8, 0.1, dtype=ember.float64),
          torch.fft.rfftfreq(8, 0.1, dtype=torch.float64), 0)
    x = np.arange(12.).reshape(3, 4)
    for f in ('fftshift', 'ifftshift'):
        for kw in ({}, {'dim': 1}, {'dim': (0,)}):
            _assert_same(getattr(ember.fft, f)(ember.tensor(x), **kw),
                  getattr(torch.fft, f)(torch.tensor(x), **kw), 0)


def test_errors():
    with pytest.raises(RuntimeError, match='Invalid normalization mode'):
        ember.fft.fft(ember.ones(4), norm='foo')
    with pytest.raises(RuntimeError, match='Unsupported dtype Half'):
        ember.fft.fft(ember.ones(4, dtype=ember.float16))
    x = ember.ones(4, requires_grad=True)
    with ember.no_grad():
        assert ember.fft.fft(x).dtype == ember.complex64
    # gradients: tests/test_fft_autograd.py
