"""Reductions on their direct NumPy paths against torch and against what they replaced.

argmax/argmin along a dim compute the indices alone (no values, no node): torch's indices on
ties and NaN (the first NaN wins), its refusals of complex and bool. mean, var and std call
np.add.reduce and divide as np.mean does: np.mean's bits, float16 and complex included.
"""
import numpy as np
import pytest
import torch

import ember
from ember._ops.reduce import _np_mean


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'int64', 'uint8'])
@pytest.mark.parametrize('which', ['argmax', 'argmin'])
def test_arg_extreme_matches_torch(dtype, which):
    rng = np.random.default_rng(7)
    a = rng.integers(0, 5, (6, 7, 5)).astype(dtype)   # ties everywhere
    if dtype.startswith('float'):
        a[rng.random(a.shape) < 0.1] = np.nan
    for dim in (None, 0, 1, 2, -1):
        for keepdim in (False, True):
            got = getattr(ember.from_numpy(a.copy()), which)(dim=dim, keepdim=keepdim)
            want = getattr(torch.from_numpy(a.copy()), which)(dim=dim, keepdim=keepdim)
            assert got.dtype == ember.int64
            np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize('which', ['argmax', 'argmin'])
def test_arg_extreme_refusals_match_torch(which):
    for values, kind in (([1 + 1j, 2 + 0j], 'complex'), ([True, False], 'bool')):
        for dim in (None, 0):
            with pytest.raises(RuntimeError) as e:
                getattr(ember.tensor(values), which)(dim=dim)
            with pytest.raises(RuntimeError) as t:
                getattr(torch.tensor(values), which)(dim=dim)
            assert str(e.value) == str(t.value) == f'{which}(): does not support {kind} input'
    # a 0-d tensor along dim 0: index 0
    assert ember.tensor(3.).argmax(0).item() == torch.tensor(3.).argmax(0).item() == 0


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64', 'complex64', 'complex128'])
@pytest.mark.parametrize('shape', [(7, 33, 5), (1000,), (3, 1)])
def test_np_mean_has_np_means_bits(dtype, shape):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    if dtype.startswith('complex'):
        a = a + 1j * (rng.standard_normal(shape) * 3).astype(dtype)
    axes_list = [None, (0,), (a.ndim - 1,), tuple(range(a.ndim))]
    for axes in axes_list:
        for keepdim in (False, True):
            n = a.size if axes is None else int(np.prod([a.shape[i] for i in axes]))
            want = np.asarray(np.mean(a, axis=axes, keepdims=keepdim))
            got = np.asarray(_np_mean(a, axes, keepdim, n))
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_mean_var_std_match_torch(dtype):
    a = np.random.default_rng(1).standard_normal((6, 40, 9)).astype(dtype)
    e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-13)
    for dim in (None, 0, (1, 2), -1):
        for name in ('mean', 'var', 'std'):
            kw = {} if dim is None else {'dim': dim}
            got, want = getattr(e, name)(**kw), getattr(t, name)(**kw)
            assert got.dtype == ember.from_numpy(a).dtype and got.shape == want.shape
            np.testing.assert_allclose(got.numpy(), want.numpy(), **tol)


# ---- the sum of a whole contiguous float array in C (src/reduce.c, through _cgraph.float_op),
# split or not --------------------------------------------------------------------------------

SUM_SIZES = [1, 7, 8, 40, 128, 129, 1000 + 1, 32767, 32768, 40_000 + 3, 64_000, 131_072 + 5,
             1_000_003]


@pytest.mark.parametrize('n', SUM_SIZES)
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('compiled', [True, False])
@pytest.mark.parametrize('threads', [1, 2, 4])
def test_whole_sum_and_mean_have_numpys_bits(n, dtype, compiled, threads):
    from ember import _kernels
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(dtype) * rng.choice([1e-3, 1.0, 1e3], n).astype(dtype)
    was = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        with _kernels.forced() if compiled else _kernels.disabled():
            for _ in range(3):  # the first call may find the pool asleep: then all on one thread
                t = ember.from_numpy(a.reshape(-1, 1) if n % 2 else a.reshape(2, -1))
                s, m = t.sum(), t.mean()
                assert s.numpy().tobytes() == np.add.reduce(a).tobytes()
                assert m.numpy().tobytes() == np.mean(a).tobytes()
                assert s.dtype == m.dtype == getattr(ember, dtype)
    finally:
        ember.set_num_threads(was)
    np.testing.assert_allclose(s.numpy(), torch.from_numpy(a).sum().numpy(),
                               rtol=1e-4 if dtype == 'float32' else 1e-10)


@pytest.mark.parametrize('special', ['-0.0', 'inf', '-inf and inf', 'nan'])
@pytest.mark.parametrize('n', [1, 6, 40, 70_000])
def test_whole_sum_special_values(special, n):
    a = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    if special == '-0.0':
        a[:] = -0.0
    elif special == 'inf':
        a[n // 3] = np.inf
    elif special == '-inf and inf':
        a[0], a[n - 1] = -np.inf, np.inf
    else:
        a[n // 2] = np.nan
    with np.errstate(all='ignore'):
        for _ in range(3):
            got = ember.from_numpy(a).sum().numpy()
            assert got.tobytes() == np.add.reduce(a).tobytes()
    want = torch.from_numpy(a).sum().numpy()
    np.testing.assert_array_equal(got, want)  # (torch: +0.0 for the zeros too)


def test_sum_of_views_and_other_dtypes_stays_numpys():
    base = np.random.default_rng(4).standard_normal((400, 200)).astype(np.float32)
    for a in (base[:, ::2], base.T, base.astype(np.float16), base.astype(np.int32)):
        got = ember.from_numpy(a).sum().numpy()
        want = np.add.reduce(a, None, np.int64 if a.dtype.kind == 'i' else a.dtype)
        assert got.tobytes() == np.asarray(want).tobytes()


@pytest.mark.parametrize('layout', ['contiguous', 'strided', 'dim'])
def test_sum_overflows_to_inf_silently_as_torch(layout):
    a = np.full((4, 6), 3e38, np.float32)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        for lib in (ember, torch):
            t = lib.from_numpy(a.copy())
            s = t.sum() if layout == 'contiguous' else t[:, ::2].sum() if layout == 'strided' \
                else t.sum(0)
            assert np.all(np.isinf(s.numpy()))
