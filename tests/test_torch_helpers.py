"""Small torch.* helpers against torch: the window functions of torch.* (hann_window, ...),
the sym_* helpers on plain numbers, the deterministic debug mode, get_device_module, vmap."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize('name,extra', [('hann_window', ()), ('hamming_window', ()),
                                        ('hamming_window', (0.6, 0.3)), ('blackman_window', ()),
                                        ('bartlett_window', ()), ('kaiser_window', ()),
                                        ('kaiser_window', (5.0,))])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_windows(name, extra, dtype):
    for length in (0, 1, 2, 3, 7, 64):
        for periodic in (True, False):
            t = getattr(torch, name)(length, periodic, *extra, dtype=getattr(torch, dtype))
            e = getattr(ember, name)(length, periodic, *extra, dtype=getattr(ember, dtype))
            assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
            # torch's float32 kaiser computes I0 in float32; ember in float64, then rounds
            tol = (2e-6 if 'kaiser' in name else 3e-7) if dtype == 'float32' else 1e-15
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=tol, atol=tol)


def test_window_options_and_errors():
    for lib in (torch, ember):
        w = lib.hann_window(5, requires_grad=True)
        assert w.requires_grad and w.is_leaf
        assert str(lib.hann_window(4).dtype) == 'torch.float32'
        with pytest.raises(RuntimeError, match='hann_window requires non-negative window_length, '
                                               'got window_length=-1'):
            lib.hann_window(-1)
        with pytest.raises(RuntimeError, match='bartlett_window expects floating point dtypes'):
            lib.bartlett_window(3, dtype=lib.int32)


def test_sym_helpers():
    calls = [('sym_max', (2, 3.0)), ('sym_max', (2, 3)), ('sym_min', (2.5, 3)),
             ('sym_int', (3.7,)), ('sym_int', (-3.7,)), ('sym_float', (2,)), ('sym_not', (0,)),
             ('sym_sum', ([1, 2, 3],)), ('sym_sum', (1.5, 2)), ('sym_ite', (True, 1, 2)),
             ('sym_ite', (False, 1, 2)), ('sym_sqrt', (4,))]
    for name, args in calls:
        t, e = getattr(torch, name)(*args), getattr(ember, name)(*args)
        assert (type(t), t) == (type(e), e), name
    for lib in (torch, ember):
        with pytest.raises(AssertionError, match='type mismatch'):
            lib.sym_ite(True, 1, 2.0)


def test_deterministic_debug_mode():
    for lib in (torch, ember):
        try:
            for mode, expected in (('warn', (1, True, True)), (2, (2, False, True)),
                                   ('default', (0, False, False))):
                lib.set_deterministic_debug_mode(mode)
                assert (lib.get_deterministic_debug_mode(),
                        lib.is_deterministic_algorithms_warn_only_enabled(),
                        lib.are_deterministic_algorithms_enabled()) == expected
            with pytest.raises(RuntimeError, match='invalid value of debug_mode'):
                lib.set_deterministic_debug_mode('loud')
            with pytest.raises(TypeError, match='debug_mode must be str or int'):
                lib.set_deterministic_debug_mode(1.0)
        finally:
            lib.set_deterministic_debug_mode(0)


def test_small_queries():
    for lib in (torch, ember):
        assert lib.get_device_module('cpu') is lib.cpu
        assert lib.get_device_module(lib.device('cpu')) is lib.cpu
        assert lib.compiled_with_cxx11_abi() is True and lib.is_vulkan_available() is False
        assert lib.init_num_threads() is None
        assert lib.vmap is lib.func.vmap
        with pytest.raises(RuntimeError, match='Invalid value of device'):
            lib.get_device_module(3)
