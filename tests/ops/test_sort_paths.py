"""sort and topk against torch on each of their paths.

topk of float32/64 with k up to 64 runs a compiled row kernel (src/sort.c; `kernel_path`
runs those tests on it and on the NumPy code). The NumPy code selects by partition when k is
at most an eighth of the dimension, and falls back to the whole sort on a tie at the k-th
value or a NaN there; a descending sort keys integers by bitwise not (exact for int64) and floats holding NaN by lexsort.
With distinct values torch's indices are determined and compared; with ties torch's topk
picks among equal values as its kernel goes, so there the values are compared with torch
and the indices with ember's own stable sort (what the partition path must reproduce).
"""
import numpy as np
import pytest
import torch

import ember


def _distinct(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if np.dtype(dtype).kind == 'f':
        return (rng.permutation(n) * 0.37 - n / 7).astype(dtype).reshape(shape)
    return (rng.permutation(n) - n // 2).astype(dtype).reshape(shape)


SHAPES = [((100, 100), -1), ((100, 100), 0), ((3, 64, 5), 1), ((257,), 0), ((2, 40), 1),
          ((6, 7), 1)]
# (uint8 holds only 256 distinct values; k goes up to the dimension)
SAMPLES = [(shape, dim, dtype, k) for shape, dim in SHAPES
           for dtype in ('float32', 'float64', 'int64', 'int32', 'uint8')
           for k in (1, 3, 5, 17)
           if k <= shape[dim] and (dtype != 'uint8' or np.prod(shape) <= 256)]


@pytest.mark.parametrize('shape,dim,dtype,k', SAMPLES)
@pytest.mark.parametrize('largest', [True, False])
def test_topk_distinct_values_match_torch(shape, dim, dtype, k, largest, kernel_path):
    a = _distinct(shape, dtype, seed=k)
    e = ember.topk(ember.from_numpy(a.copy()), k, dim, largest)
    t = torch.topk(torch.from_numpy(a.copy()), k, dim, largest)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())
    assert e.values.dtype == ember.from_numpy(a).dtype and e.indices.dtype == ember.int64


def _check_against_sort(x, k, dim, largest):
    """topk's values equal torch's; its indices are those of ember's stable sort."""
    e = ember.topk(x, k, dim, largest)
    t = torch.topk(torch.from_numpy(x.numpy().copy()), k, dim, largest)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    s = ember.sort(x, dim, descending=largest, stable=True)
    np.testing.assert_array_equal(e.indices.numpy(), s.indices.narrow(dim, 0, k).numpy())
    np.testing.assert_array_equal(x.gather(dim, e.indices).numpy(), e.values.numpy())


@pytest.mark.parametrize('largest', [True, False])
@pytest.mark.parametrize('k', [1, 4, 9])
def test_topk_ties_take_the_sorts_indices(largest, k, kernel_path):
    rng = np.random.default_rng(k)
    # few values: ties everywhere, at the k-th value in most rows
    x = ember.from_numpy(rng.integers(0, 6, (50, 80)).astype(np.float32))
    _check_against_sort(x, k, 1, largest)
    _check_against_sort(x.long(), k, 0, largest)
    # ties only inside the first k (the k-th value itself unique): the partition path
    y = np.tile(np.arange(80, dtype=np.float64), (4, 1))
    y[:, :2] = 79 if largest else 0  # two more copies of the extreme value
    _check_against_sort(ember.from_numpy(y), k, 1, largest)


@pytest.mark.parametrize('largest', [True, False])
@pytest.mark.parametrize('k', [1, 3, 6])
def test_topk_nan_and_inf(largest, k, kernel_path):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((20, 64)).astype(np.float32)
    a[rng.random(a.shape) < 0.05] = np.nan
    a[rng.random(a.shape) < 0.03] = np.inf
    a[rng.random(a.shape) < 0.03] = -np.inf
    x = ember.from_numpy(a)
    e = ember.topk(x, k, 1, largest)
    t = torch.topk(torch.from_numpy(a.copy()), k, 1, largest)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())  # NaN == NaN here
    s = ember.sort(x, 1, descending=largest, stable=True)
    np.testing.assert_array_equal(e.indices.numpy(), s.indices[:, :k].numpy())


def test_topk_kernel_is_taken_for_small_k_of_floats(took):
    from ember._ops import index
    seen = took(index, '_topk_kernel')
    from ember import _kernels
    x = ember.rand(4, 300)
    for k in (1, 64, 65, 300):
        ember.topk(x, k)
    ember.topk(x.double(), 3, dim=0)
    ember.topk(x.long(), 3)
    want = _kernels.available()
    assert seen == [want, want, False, False, want, False]


@pytest.mark.parametrize('k', [64, 65, 200])
def test_topk_large_k_matches_torch(k, kernel_path):
    a = _distinct((5, 300), 'float32', seed=k)
    for largest in (True, False):
        e = ember.topk(ember.from_numpy(a.copy()), k, 1, largest)
        t = torch.topk(torch.from_numpy(a.copy()), k, 1, largest)
        np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())


def test_topk_gradient_matches_torch():
    a = _distinct((16, 64), 'float64', seed=0)
    xe = ember.from_numpy(a.copy()).requires_grad_()
    xt = torch.from_numpy(a.copy()).requires_grad_()
    w = np.random.default_rng(1).standard_normal((16, 4))
    (ember.topk(xe, 4).values * ember.from_numpy(w)).sum().backward()
    (torch.topk(xt, 4).values * torch.from_numpy(w)).sum().backward()
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())
    assert ember.topk(xe, 4).values.grad_fn.name() == 'TopkBackward0'


@pytest.mark.parametrize('descending', [True, False])
def test_sort_nan_inf_order_matches_torch(descending):
    a = np.array([[1., np.nan, np.inf, 2., np.nan, np.inf, -1., -np.inf, 0., -0.]])
    e = ember.sort(ember.from_numpy(a), dim=1, descending=descending, stable=True)
    t = torch.sort(torch.from_numpy(a), dim=1, descending=descending, stable=True)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())


@pytest.mark.parametrize('dtype', ['int64', 'uint8', 'bool', 'int16'])
def test_sort_descending_integers_exact(dtype):
    # int64 beyond 2**53: a float64 key would merge neighbours
    if dtype == 'int64':
        a = np.array([2**62 + 1, 2**62, -2**62, 2**62 + 3, 2**62 + 1, np.iinfo(np.int64).min,
                      np.iinfo(np.int64).max], dtype=np.int64)
    elif dtype == 'bool':
        a = np.array([True, False, True, False, False, True])
    else:
        a = np.random.default_rng(3).integers(0, 100, 40).astype(dtype)
    e = ember.sort(ember.from_numpy(a), descending=True, stable=True)
    t = torch.sort(torch.from_numpy(a.copy()), descending=True, stable=True)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())
