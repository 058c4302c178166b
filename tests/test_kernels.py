"""The optional compiled kernels (ember/_kernels): loading, switching off, and the library's
contract. Each kernel's results are tested against torch beside its op, on both paths."""
import os
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

from ember import _kernels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_kernels.declare('ember_axpy_f32', None, 'i64', 'f32', 'p', 'p')


def _compiler():
    cc = (sysconfig.get_config_var('CC') or 'cc').split()[0]
    return shutil.which(cc)


def test_built_wherever_a_compiler_is():
    # pip install (and CI's editable install) builds the library when a compiler is present
    if _compiler() is None:
        assert not _kernels.available() and 'not built' in _kernels.why_not()
    else:
        assert _kernels.available(), _kernels.why_not()
        assert _kernels.why_not() is None


@pytest.mark.skipif(not _kernels.available(), reason='no compiled kernels (no C compiler)')
def test_a_kernel_computes_on_numpy_buffers():
    x = np.arange(7, dtype=np.float32)
    y = np.full(7, 0.5, dtype=np.float32)
    _kernels.get('ember_axpy_f32')(7, 2.0, x.ctypes.data, y.ctypes.data)
    np.testing.assert_array_equal(y, 0.5 + 2 * np.arange(7, dtype=np.float32))


def test_disabled_hands_back_none_and_says_why():
    with _kernels.disabled():
        assert _kernels.get('ember_axpy_f32') is None
        assert not _kernels.available()
        assert 'disabled()' in _kernels.why_not()
    assert (_kernels.get('ember_axpy_f32') is not None) == _kernels.available()


def test_environment_switches_them_off():
    code = ('from ember import _kernels; import sys; '
            'sys.stdout.write(repr((_kernels.available(), _kernels.why_not())))')
    env = dict(os.environ, EMBER_KERNELS='0', PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out == repr((False, 'switched off by EMBER_KERNELS=0'))


def test_the_library_is_not_a_python_module():
    if not _kernels.available():
        pytest.skip('no compiled kernels (no C compiler)')
    with pytest.raises(ImportError, match='PyInit__lib'):
        __import__('ember._kernels._lib')


def test_a_kernel_missing_from_an_older_library_runs_the_numpy_code():
    _kernels.declare('ember_no_such_kernel', None, 'i64')
    assert _kernels.get('ember_no_such_kernel') is None
    if _kernels.available():
        assert _kernels.get('ember_axpy_f32') is not None


def _cpu_flags():
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('flags'):
                return set(line.split(':', 1)[1].split())
    return set()


@pytest.mark.skipif(not _kernels.available() or not os.path.exists('/proc/cpuinfo'),
                    reason='no compiled kernels, or no /proc/cpuinfo to check against')
def test_simd_lanes_match_the_cpu():
    flags = _cpu_flags()
    expect = 16 if 'avx512f' in flags else 8 if {'avx2', 'fma'} <= flags else 1
    assert _kernels.simd_lanes() == expect
    with _kernels.disabled():
        assert _kernels.simd_lanes() == 0 and not _kernels.wide(1)


@pytest.mark.skipif(not _kernels.available(), reason='no compiled kernels (no C compiler)')
def test_wide_only_kernels_wait_for_their_lanes(monkeypatch):
    # a kernel whose fast path needs wide vectors (the direct convolution: AVX2) is not taken
    # on a CPU without them (its portable C loses to NumPy), except under forced(), with which
    # the tests cover the portable C on any CPU
    from ember._ops import conv
    x = np.zeros((1, 8, 6, 6), np.float32)
    w = np.zeros((4, 8, 3, 3), np.float32)
    monkeypatch.setitem(_kernels._STATE, 'lanes', 1)
    assert conv._direct(x, w, (1, 1), (1, 1)) is None
    with _kernels.forced():
        assert conv._direct(x, w, (1, 1), (1, 1)) is not None
    for lanes in (8, 16):
        monkeypatch.setitem(_kernels._STATE, 'lanes', lanes)
        assert conv._direct(x, w, (1, 1), (1, 1)) is not None


@pytest.mark.parametrize('shape,lo,hi', [((2, 16, 9, 19), (1, 2), (2, 0)),
                                         ((3, 13, 8, 8), (0, 0), (0, 0)),
                                         ((1, 8, 1, 17), (3, 1), (1, 3)),
                                         ((2, 5, 12), (2,), (1,))])
def test_channels_last_layout_is_numpys(shape, lo, hi):
    # the conv layout change (src/layout.c: 8x8 blocks, scalar edges) against NumPy's
    from ember._ops import conv
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    got = conv._to_last(x, lo, hi)
    with _kernels.disabled():
        want = conv._to_last(x, lo, hi)
        strided = conv._to_last(x[..., ::-1], lo, hi)     # not C-contiguous: NumPy's code
    np.testing.assert_array_equal(got, want)
    assert got.flags.c_contiguous and got.dtype == np.float32
    np.testing.assert_array_equal(conv._to_last(x[..., ::-1], lo, hi), strided)


ADDR_CASES = {
    'contiguous': lambda: np.arange(12, dtype=np.float32).reshape(3, 4),
    'row slice': lambda: np.arange(40.0).reshape(8, 5)[3:],
    'offset column view': lambda: np.arange(40.0).reshape(8, 5)[:, 2],
    'transposed': lambda: np.arange(12, dtype=np.int64).reshape(3, 4).T,
    'reversed': lambda: np.arange(10, dtype=np.float32)[::-1],
    'empty': lambda: np.zeros((0, 3), np.float32),
    'zero-d': lambda: np.array(2.5),
    'read-only': lambda: np.broadcast_to(np.arange(3.0), (4, 3)),
    'subclass': lambda: np.arange(6.0).view(np.matrix),
}


@pytest.mark.parametrize('make', ADDR_CASES.values(), ids=ADDR_CASES.keys())
def test_addr_is_the_arrays_data_pointer(make):
    # read from the array object (what ctypes.data returns, without its helper object)
    a = make()
    assert _kernels.addr(a) == a.ctypes.data
    assert _kernels.addr(a) == a.__array_interface__['data'][0]


def test_a_kernel_writes_where_addr_points():
    if not _kernels.available():
        pytest.skip(f'no compiled kernels: {_kernels.why_not()}')
    y = np.zeros(10, np.float32)
    x = np.arange(10, dtype=np.float32)
    # the second half of y, through the address of a view of it
    _kernels.get('ember_axpy_f32')(5, 2.0, _kernels.addr(x[5:]), _kernels.addr(y[5:]))
    np.testing.assert_array_equal(y, np.r_[np.zeros(5), 2 * np.arange(5, 10)])
