"""Conversions and creation vs torch: item, tolist, numpy(), float/int/bool, len, iteration,
__array__, __index__, legacy constructors, from_numpy, creation functions, dtype promotion."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

from ._compare import assert_same, run_both  # noqa: E402


def both(fn):
    e, t, err = run_both(lambda: fn(ember), lambda: fn(torch))
    if err is None:
        assert_same(e, t)
    return e, t


@pytest.mark.parametrize('data', [[1, 2], [[1.5, 2], [3, 4]], 3, 2.5, True, [True, False],
                                  [], [[]], [1, 2.0], [True, 2], [[1], [2]]])
def test_tensor_inference_item_tolist(data):
    e, t = both(lambda L: L.tensor(data))
    assert e.tolist() == t.tolist()
    if t.numel() == 1:
        assert type(e.item()) is type(t.item()) and e.item() == t.item()


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool'])
def test_item_tolist_types(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    assert e.tolist() == t.tolist()
    assert [type(v) for v in e.tolist()[0]] == [type(v) for v in t.tolist()[0]]
    assert type(e[1, 2].item()) is type(t[1, 2].item())
    assert e[1, 2].item() == t[1, 2].item()


def test_numpy_shares_memory_and_refuses_grad():
    x = ember.zeros(3)
    n = x.numpy()
    n[0] = 5
    assert x[0].item() == 5
    x[1] = 7
    assert n[1] == 7
    y = ember.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        y.numpy()
    assert y.detach().numpy().tolist() == [0, 0]


def test_from_numpy_shares_memory():
    a = np.arange(6.0).reshape(2, 3)
    e, t = ember.from_numpy(a), torch.from_numpy(a.copy())
    a[0, 0] = 9
    assert e[0, 0].item() == 9
    e[1, 1] = -1
    assert a[1, 1] == -1
    # a non-contiguous array stays a view with torch's strides
    b = np.arange(12.0).reshape(3, 4)[:, ::2]
    eb, tb = ember.from_numpy(b), torch.from_numpy(b)
    assert eb.stride() == tb.stride() and eb.is_contiguous() == tb.is_contiguous()
    b[0, 0] = 100
    assert eb[0, 0].item() == 100 == tb[0, 0].item()
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


@pytest.mark.parametrize('conv', [float, int, bool])
def test_scalar_conversions(conv):
    for data in ([2.5], [[3]], 0.0, [1, 2], []):
        e, t, err = run_both(lambda: conv(ember.tensor(data)), lambda: conv(torch.tensor(data)))
        if err is None:
            assert e == t and type(e) is type(t)


def test_scalar_conversion_errors_match_type():
    for conv in (float, int):
        with pytest.raises(Exception) as te:
            conv(torch.zeros(2))
        with pytest.raises(Exception) as ee:
            conv(ember.zeros(2))
        assert str(ee.value) == str(te.value)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.zeros(2))


def test_len_iteration():
    a = np.arange(6.0).reshape(3, 2)
    e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    assert len(e) == len(t) == 3
    rows_e, rows_t = list(e), list(t)
    assert len(rows_e) == len(rows_t)
    for x, y in zip(rows_e, rows_t):
        assert_same(x, y)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ember.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(ember.tensor(1.0))


def test_iterating_rows_are_views():
    """A row from iteration is a view: writing to it writes the tensor (as in torch)."""
    for lib in (torch, ember):
        x = lib.zeros(2, 3)
        for row in x:
            row += 1
        assert x.sum().item() == 6


def test_iterating_1d_gives_0d_views():
    """Iterating a 1-d tensor gives 0-d tensors that are views of it, as torch's do."""
    e, t = ember.zeros(3), torch.zeros(3)
    ev, tv = list(e), list(t)
    assert_same(ev[1], tv[1])
    for v in tv:
        v.add_(2)
    for v in ev:
        v.add_(2)
    assert_same(e, t)


def test_array_protocol():
    e = ember.tensor([[1.0, 2.0]])
    a = np.asarray(e)
    assert a.dtype == np.float32 and a.shape == (1, 2)
    a[0, 0] = 5
    assert e[0, 0].item() == 5  # shares memory, as torch's __array__ does
    assert np.asarray(e, dtype=np.float64).dtype == np.float64
    assert np.array(e).tolist() == [[5.0, 2.0]]


def test_index_protocol():
    for lib in (torch, ember):
        i = lib.tensor(2)
        assert [10, 11, 12][i] == 12
        assert list(range(5))[lib.tensor(1):lib.tensor(3)] == [1, 2]
        with pytest.raises(TypeError):
            [1, 2][lib.tensor(1.0)]


@pytest.mark.parametrize('name,args', [
    ('FloatTensor', ([1, 2],)), ('FloatTensor', (2, 3)), ('LongTensor', ([1, 2],)),
    ('DoubleTensor', ([[1, 2]],)), ('IntTensor', ([1, -2],)), ('ByteTensor', ([1, 2],)),
    ('BoolTensor', ([True, False],)), ('LongTensor', (3,)), ('FloatTensor', ([],)),
    ('FloatTensor', ((2, 3),)),
])
def test_legacy_constructors(name, args):
    e = getattr(ember, name)(*args)
    t = getattr(torch, name)(*args)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    if t.dtype.is_floating_point and len(args) == 1 and isinstance(args[0], list):
        assert e.tolist() == t.tolist()
    assert isinstance(e, getattr(ember, name))
    assert isinstance(e, ember.Tensor)
    assert e.type() == t.type()


# ---- creation functions ------------------------------------------------------------------------

CREATION = {
    'zeros': lambda L: L.zeros(2, 3), 'zeros_tuple': lambda L: L.zeros((2, 3)),
    'zeros_dtype': lambda L: L.zeros(2, dtype=L.int64), 'ones': lambda L: L.ones([3]),
    'ones_size': lambda L: L.ones(L.Size([2, 1])), 'empty_shape': lambda L: L.empty(2, 0).shape,
    'full_int': lambda L: L.full((2,), 3), 'full_float': lambda L: L.full((2, 2), 1.5),
    'full_bool': lambda L: L.full((2,), True), 'full_dtype': lambda L: L.full((2,), 3,
                                                                            dtype=L.float64),
    'arange': lambda L: L.arange(5), 'arange_float': lambda L: L.arange(0, 1, 0.1),
    'arange_neg': lambda L: L.arange(5, 0, -1.5), 'arange_dtype': lambda L: L.arange(
        3, dtype=L.float64), 'arange_float_end': lambda L: L.arange(4.0),
    'linspace': lambda L: L.linspace(0, 1, 7), 'linspace_1': lambda L: L.linspace(2, 3, 1),
    'linspace_int': lambda L: L.linspace(0, 10, 4, dtype=L.int64),
    'logspace': lambda L: L.logspace(0, 2, 5), 'logspace_base': lambda L: L.logspace(
        0, 3, 4, base=2),
    'eye': lambda L: L.eye(3), 'eye_rect': lambda L: L.eye(2, 4, dtype=L.int64),
    'zeros_like': lambda L: L.zeros_like(L.ones(2, 3, dtype=L.float64)),
    'ones_like_dtype': lambda L: L.ones_like(L.zeros(2), dtype=L.int32),
    'full_like': lambda L: L.full_like(L.zeros(2, dtype=L.int64), 7),
    'empty_like_shape': lambda L: L.empty_like(L.zeros(3, 1)).shape,
    'tensor_dtype': lambda L: L.tensor([1, 2], dtype=L.float16),
    'as_tensor_list': lambda L: L.as_tensor([1.5, 2]),
    'new_zeros': lambda L: L.ones(2, dtype=L.float64).new_zeros(3),
    'new_ones': lambda L: L.ones(2, dtype=L.int64).new_ones((2, 2)),
    'new_full': lambda L: L.ones(2).new_full((2,), 4),
    'new_tensor': lambda L: L.ones(2, dtype=L.float64).new_tensor([1, 2]),
    'scalar_tensor': lambda L: L.scalar_tensor(3),
    'zeros_requires_grad': lambda L: L.zeros(2, requires_grad=True).requires_grad,
}


@pytest.mark.parametrize('name', sorted(CREATION))
def test_creation(name):
    e, t, err = run_both(lambda: CREATION[name](ember), lambda: CREATION[name](torch))
    assert err is None
    if isinstance(t, torch.Size):
        assert tuple(e) == tuple(t)
    else:
        assert_same(e, t)


def test_as_tensor_shares_numpy_memory():
    a = np.zeros(3, np.float32)
    t = ember.as_tensor(a)
    a[0] = 1
    assert t[0].item() == 1
    assert ember.as_tensor(a, dtype=ember.float64)[0].item() == 1


def test_default_dtype_changes_creation():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for f in (lambda L: L.tensor([1.5]), lambda L: L.zeros(2), lambda L: L.arange(0, 1, 0.5),
                  lambda L: L.tensor([1, 2]) / 2, lambda L: L.linspace(0, 1, 3)):
            assert_same(f(ember), f(torch))
    finally:
        torch.set_default_dtype(torch.float32)


# ---- dtype promotion --------------------------------------------------------------------------

PROMOTION = {
    'int_float_scalar': lambda L: L.tensor([1, 2]) * 1.5,
    'int_int_scalar': lambda L: L.tensor([1, 2], dtype=L.int32) + 3,
    'float16_scalar': lambda L: L.tensor([1, 2], dtype=L.float16) * 2.5,
    'float32_pyfloat': lambda L: L.tensor([1.0]) + 1e-3,
    'int_true_div': lambda L: L.tensor([1, 2]) / L.tensor([2, 4]),
    'int_true_div_scalar': lambda L: L.tensor([3]) / 2,
    'int_floor_div': lambda L: L.tensor([7, -7]) // 2,
    'bool_add': lambda L: L.tensor([True, False]) + L.tensor([True, True]),
    'bool_mul_int': lambda L: L.tensor([True, False]) * 3,
    'bool_add_float': lambda L: L.tensor([True]) + 0.5,
    'bool_sum': lambda L: L.tensor([True, True, False]).sum(),
    'bool_cumsum': lambda L: L.tensor([True, True]).cumsum(0),
    'int32_sum': lambda L: L.tensor([1, 2], dtype=L.int32).sum(),
    'uint8_int8': lambda L: L.tensor([1], dtype=L.uint8) + L.tensor([1], dtype=L.int8),
    'int_float_tensor': lambda L: L.tensor([1, 2]) + L.tensor([0.5, 1]),
    'zero_dim_weak': lambda L: L.tensor([1, 2], dtype=L.float16) + L.tensor(1.5),
    'zero_dim_int_float': lambda L: L.tensor([1, 2]) + L.tensor(1.5, dtype=L.float64),
    'f32_f64': lambda L: L.tensor([1.0]) + L.tensor([1.0], dtype=L.float64),
    'int_pow_float': lambda L: L.tensor([2]) ** 0.5,
    'int_exp': lambda L: L.tensor([0, 1]).exp(),
    'int_sqrt': lambda L: L.tensor([4]).sqrt(),
    'bool_float_where': lambda L: L.where(L.tensor([True]), L.tensor([1]), 2.5),
    'int_mean_dtype': lambda L: L.tensor([1, 2]).mean(dtype=L.float32),
    'prod_int': lambda L: L.tensor([2, 3], dtype=L.int8).prod(),
    'compare_mixed': lambda L: L.tensor([1, 2]) < 1.5,
    'int_div_int_tensor_0d': lambda L: L.tensor(7) / L.tensor(2),
    'maximum_mixed': lambda L: L.maximum(L.tensor([1]), L.tensor([0.5])),
    'mean_int_raises': lambda L: L.tensor([1, 2]).mean(),
}


@pytest.mark.parametrize('name', sorted(PROMOTION))
def test_promotion(name):
    e, t, err = run_both(lambda: PROMOTION[name](ember), lambda: PROMOTION[name](torch))
    if err is None:
        assert_same(e, t)
    else:
        assert name.endswith('raises')
