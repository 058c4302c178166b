"""torch.signal.windows against torch: every window, both symmetries, float32 and float64,
the parameters, errors; and linspace, which the windows are built from, bit for bit."""
import numpy as np
import pytest
import torch

import ember
import ember.signal.windows as EW

_PARAMS = {'general_cosine': dict(a=[0.5, 0.3, 0.2]), 'exponential': dict(tau=0.7),
           'gaussian': dict(std=2.5), 'kaiser': dict(beta=5.0),
           'general_hamming': dict(alpha=0.6)}


@pytest.mark.parametrize('name', EW.__all__)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_windows_match_torch(name, dtype):
    for M in (0, 1, 2, 5, 10, 33, 256):
        for sym in (True, False):
            for kw in ({}, _PARAMS.get(name, {})) if name != 'general_cosine' else (
                    _PARAMS[name], dict(a=[0.3, 0.1, 0.05, 0.01])):
                e = getattr(EW, name)(M, sym=sym, dtype=getattr(ember, dtype), **kw)
                t = getattr(torch.signal.windows, name)(M, sym=sym,
                                                         dtype=getattr(torch, dtype), **kw)
                assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
                np.testing.assert_allclose(e.numpy(), t.numpy(),
                                           rtol=1e-6 if dtype == 'float32' else 1e-14,
                                           atol=1e-7 if dtype == 'float32' else 1e-15)


def test_default_dtype_requires_grad_and_center():
    for lib in (torch, ember):
        lib.set_default_dtype(lib.float64)
        try:
            w = lib.signal.windows.hann(8, requires_grad=True)
        finally:
            lib.set_default_dtype(lib.float32)
        assert str(w.dtype) == 'torch.float64' and w.requires_grad
    e = EW.exponential(7, center=2.0, sym=False, tau=0.5)
    t = torch.signal.windows.exponential(7, center=2.0, sym=False, tau=0.5)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize('call', [
    lambda W, L: W.hann(-1), lambda W, L: W.hann(4, dtype=L.int64),
    lambda W, L: W.exponential(4, tau=0), lambda W, L: W.exponential(4, center=1.0),
    lambda W, L: W.gaussian(4, std=-1), lambda W, L: W.kaiser(4, beta=-1),
    lambda W, L: W.general_cosine(4, a=[]), lambda W, L: W.general_cosine(4, a=3),
])
def test_errors_match_torch(call):
    msgs = []
    for W, L in ((torch.signal.windows, torch), (EW, ember)):
        with pytest.raises((ValueError, TypeError)) as e:
            call(W, L)
        msgs.append((type(e.value), str(e.value)))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'int32'])
def test_linspace_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    for trial in range(150):
        steps = int(rng.integers(2, 3000)) if trial % 2 else int(rng.integers(2, 40))
        a, b = rng.uniform(-100, 100, 2) * 10.0 ** rng.integers(-3, 3)
        if dtype.startswith('int'):
            a, b = round(a), round(b)
        t = torch.linspace(a, b, steps, dtype=getattr(torch, dtype)).numpy()
        e = ember.linspace(a, b, steps, dtype=getattr(ember, dtype)).numpy()
        assert np.array_equal(e, t), (a, b, steps)
