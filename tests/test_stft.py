"""torch.stft / torch.istft against torch: shapes, dtypes, values, gradients, round trips,
the warnings and errors, in float32 and float64, real and complex signals."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck


def _both(fn_name, x, *args, **kw):
    out = []
    for lib in (torch, ember):
        conv = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            out.append(getattr(lib, fn_name)(lib.tensor(x), *args, **conv))
    return out


_RNG = np.random.default_rng(0)
_HANN = np.hanning(17)[1:]

_CASES = [
    dict(n_fft=16, window=_HANN),
    dict(n_fft=16, hop_length=5, window=_HANN, normalized=True),
    dict(n_fft=16, win_length=10, window=np.hanning(12)[1:-1]),
    dict(n_fft=16, window=_HANN, center=False),
    dict(n_fft=16, window=_HANN, pad_mode='constant'),
    dict(n_fft=16, window=_HANN, onesided=False),
    dict(n_fft=16),
    dict(n_fft=15, hop_length=3, window=np.hanning(15)),
    dict(n_fft=16, win_length=10, window=np.hanning(12)[1:-1], center=False,
         align_to_window=True),
]


@pytest.mark.parametrize('case', range(len(_CASES)))
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('batch', [False, True])
def test_stft_and_its_inverse(case, dtype, batch):
    kw = dict(_CASES[case])
    x = _RNG.normal(size=(2, 60) if batch else 100).astype(dtype)
    if 'window' in kw:
        kw['window'] = kw['window'].astype(dtype)
    t, e = _both('stft', x, return_complex=True, **kw)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    tol = 1e-5 if dtype == 'float32' else 1e-12
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=tol, atol=tol)
    t2, e2 = _both('stft', x, return_complex=False, **kw)
    np.testing.assert_allclose(e2.numpy(), t2.numpy(), rtol=tol, atol=tol)
    ikw = {k: v for k, v in kw.items() if k in ('hop_length', 'win_length', 'window', 'center',
                                                'normalized', 'onesided')}
    results = []
    for lib, spec in ((torch, t), (ember, e)):
        w = ikw.get('window')
        args = dict(ikw, window=lib.tensor(w) if w is not None else None)
        try:
            results.append(lib.istft(spec, kw['n_fft'], length=x.shape[-1], **args).numpy())
        except RuntimeError as err:  # a window whose overlap-add has zeros (center=False)
            results.append(str(err))
    if isinstance(results[0], str):
        assert results[0] == results[1]
    else:
        np.testing.assert_allclose(results[1], results[0], rtol=tol * 10, atol=tol * 10)


def test_complex_signal_and_window():
    x = (_RNG.normal(size=64) + 1j * _RNG.normal(size=64)).astype(np.complex64)
    t, e = _both('stft', x, 16, window=_HANN.astype(np.float32))
    assert str(e.dtype) == str(t.dtype) == 'torch.complex64'
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)
    back = [lib.istft(s, 16, window=lib.tensor(_HANN.astype(np.float32)), length=64,
                      return_complex=True).numpy() for lib, s in ((torch, t), (ember, e))]
    np.testing.assert_allclose(back[1], back[0], rtol=1e-5, atol=1e-5)


def test_gradients_match_torch():
    x = _RNG.normal(size=40)
    grads = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        s = lib.stft(xt, 8, hop_length=3, window=lib.hann_window(8, dtype=lib.float64),
                     return_complex=True)
        y = lib.istft(s * 0.5, 8, hop_length=3, window=lib.hann_window(8, dtype=lib.float64),
                      length=40)
        (s.abs().sum() + (y * y).sum()).backward()
        grads.append(xt.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)
    w = ember.hann_window(8, dtype=ember.float64)
    assert gradcheck(lambda v: ember.view_as_real(
        ember.stft(v, 8, hop_length=3, window=w, return_complex=True)),
        (ember.tensor(x, requires_grad=True),))


def test_methods_warnings_and_errors():
    x = _RNG.normal(size=100).astype(np.float32)
    for lib in (torch, ember):
        t = lib.tensor(x)
        with pytest.raises(RuntimeError, match='stft requires the return_complex parameter'):
            t.stft(16, window=lib.hann_window(16))
        with pytest.raises(RuntimeError, match='align_to_window should only be set when'):
            lib.stft(t, 16, return_complex=True, align_to_window=True)
        s = t.stft(16, window=lib.hann_window(16), return_complex=True)
        assert s.istft(16, window=lib.hann_window(16), length=100).shape == t.shape
    msgs = []
    for lib in (torch, ember):
        t, w = lib.tensor(x), lib.hann_window(16)
        out = []
        for kw in [dict(window=w[:5]), dict(window=w, hop_length=0),
                   dict(window=w, win_length=20), dict(window=w, center=False, n_fft=200)]:
            n = kw.pop('n_fft', 16)
            with pytest.raises(RuntimeError) as e:
                lib.stft(t, n, return_complex=True, **kw)
            out.append(str(e.value))
        with pytest.raises(RuntimeError) as e:
            lib.stft(t.reshape(2, 2, 25), 16, window=w, return_complex=True)
        out.append(str(e.value))
        s = lib.stft(t, 16, window=w, return_complex=True)
        for kw in [dict(window=w, center=False), dict(window=w[:5])]:
            with pytest.raises(RuntimeError) as e:
                lib.istft(s, 16, length=100, **kw)
            out.append(str(e.value))
        msgs.append(out)
    assert msgs[0] == msgs[1]
