"""Regression tests for the mismatches tests/ops/test_fuzz_chains.py found, each against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

from ._compare import assert_same, run_both  # noqa: E402

NAN, INF = float('nan'), float('inf')


def assert_agree(fn, *arrays, grad=False):
    """fn(lib, *tensors) agrees in both libraries: values, or the exception type; with grad,
    the gradients of (out * w).sum() too."""
    def run(lib):
        ts = [lib.tensor(a, requires_grad=grad and np.asarray(a).dtype.kind == 'f')
              if not isinstance(a, str) else a for a in arrays]
        out = fn(lib, *ts)
        if grad and out.requires_grad:
            w = lib.tensor(np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)),
                           dtype=out.dtype)
            (out * w).sum().backward()
        return out, [t.grad for t in ts if getattr(t, 'requires_grad', False)]
    e, t, err = run_both(lambda: run(ember), lambda: run(torch))
    if err is None:
        assert_same(e[0], t[0])
        assert len(e[1]) == len(t[1])
        for a, b in zip(e[1], t[1]):
            assert_same(a, b, what='grad')
    return err


# ---- shape ops on 0-d tensors ------------------------------------------------------------------

@pytest.mark.parametrize('src,dst', [(0, 0), (-1, 0), (0, -1), (1, 0), (0, -2)])
def test_movedim_0d(src, dst):
    assert_agree(lambda L, x: L.movedim(x, src, dst), 1.5)


def test_narrow_0d_raises_runtime_error():
    assert isinstance(assert_agree(lambda L, x: L.narrow(x, 0, 0, 0), 1.5), RuntimeError)


@pytest.mark.parametrize('dim', [0, -1, -2, 1, (0, -1), (0,), ()])
def test_squeeze_0d_checks_dims(dim):
    assert_agree(lambda L, x: L.squeeze(x, dim), 1.5)


def test_squeeze_duplicate_dims():
    assert isinstance(assert_agree(lambda L, x: x.squeeze((0, -2)), np.ones((1, 1))), RuntimeError)


@pytest.mark.parametrize('a,b', [(0, 0), (0, -1), (0, 1), (-2, 0), (1, 1)])
def test_flatten_0d_checks_dims(a, b):
    assert_agree(lambda L, x: L.flatten(x, a, b), 1.5)


def test_expand_without_sizes_is_a_type_error():
    assert isinstance(assert_agree(lambda L, x: x.expand(), 1.5), TypeError)


def test_prod_dim_backward_0d():
    assert_agree(lambda L, x: L.prod(x, -1, keepdim=True), 1.5, grad=True)
    assert_agree(lambda L, x: L.prod(x, 0), -2.0, grad=True)


# ---- indexing ------------------------------------------------------------------------------------

@pytest.mark.parametrize('index', [0, [0], [], [0, 0]])
def test_index_select_0d(index):
    assert_agree(lambda L, x: L.index_select(x, 0, L.tensor(index, dtype=L.long)), 1.5, grad=True)


@pytest.mark.parametrize('shape,dim,index', [
    ((4, 0, 1), 0, [-5]), ((4, 0, 1), 0, [4]), ((4, 0, 1), 1, [0]), ((0, 4), 0, [0]),
    ((0, 4), 0, []), ((2, 0), 1, [0]), ((2, 3), 0, [7]), ((2, 3), 1, [7]), ((0,), 0, [0])])
def test_index_select_empty_self_errors(shape, dim, index):
    assert_agree(lambda L, x: L.index_select(x, dim, L.tensor(index, dtype=L.long)), np.ones(shape))


@pytest.mark.parametrize('index', [[], [0], [0, 0], 0])
def test_gather_0d_takes_the_index_shape(index):
    assert_agree(lambda L, x: L.gather(x, 0, L.tensor(index, dtype=L.long)), 1.5, grad=True)


@pytest.mark.parametrize('index,dim', [([], -2), ([], 0), (0, 0), (0, -2)])
def test_take_along_dim_0d_check_order(index, dim):
    assert assert_agree(lambda L, x: L.take_along_dim(x, L.tensor(index, dtype=L.long), dim), 1.5) \
        is not None


@pytest.mark.parametrize('index,source', [([0], 2.5), (0, 2.5), ([0, 0], 2.5), ([], 2.5),
                                          ([1], 2.5), ([0], [2.5]), ([0, 0], [1.0, 2.0])])
def test_index_add_0d(index, source):
    assert_agree(lambda L, x, s: x.index_add(0, L.tensor(index, dtype=L.long), s), 1.0, source,
         grad=True)


@pytest.mark.parametrize('key', [
    (slice(0, None, -1),), (0, slice(None, None, -1)), (slice(None, None, -1), 0),
    (None, slice(None, None, -1)), slice(None, None, 0), slice(None, None, -1)])
@pytest.mark.parametrize('shape', [(), (2,)])
def test_too_many_indices_checked_before_the_step(shape, key):
    err = assert_agree(lambda L, x: x[key], np.ones(shape))
    assert err is not None


@pytest.mark.parametrize('shape,key', [
    ((1, 0, 1), ([0], slice(None), [1])), ((1, 0, 1), ([5],)), ((1, 0, 1), (slice(None),) * 2
                                                                  + ([5],)),
    ((0,), ([0],)), ((0, 3), ([0],)), ((3, 0), ([7],)), ((3, 0), ([7], [0])),
    ((3, 2), ([], [7])), ((3, 2), ([7], [])), ((3, 2), ([7], [0]))])
def test_empty_advanced_index_results_skip_the_bounds_check(shape, key):
    def fn(L, x):
        return x[tuple(L.tensor(k, dtype=L.long) if isinstance(k, list) else k for k in key)]
    assert_agree(fn, np.arange(np.prod(shape), dtype=np.float64).reshape(shape), grad=True)


# ---- reductions and softmax -----------------------------------------------------------------------

@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('v', [INF, -INF, NAN, 2.0])
def test_softmax_0d_non_finite(fn, v):
    assert_agree(lambda L, x: getattr(L, fn)(x, 0), v)


@pytest.mark.parametrize('shape', [(1,), (2, 3), (), (0,), (2, 0), (1, 0)])
@pytest.mark.parametrize('keepdim', [False, True])
def test_logsumexp_empty_dim_list(shape, keepdim):
    assert_agree(lambda L, x: L.logsumexp(x, (), keepdim=keepdim), np.ones(shape))


@pytest.mark.parametrize('v', [[NAN], [INF], [2.0], [[NAN], [3.0]]])
def test_cumprod_backward_over_a_single_element_is_the_identity(v):
    assert_agree(lambda L, x: x.cumprod(0), v, grad=True)


def test_gelu_float32_underflow_keeps_the_sign(kernel_path):
    # torch's oneDNN GELU (its path on AVX-512 CPUs) keeps the sign of an underflowed result;
    # its ATen kernel elsewhere gives +0.0 (tests/nn/test_activation.py's special values)
    x = np.array([-20.0, -200.0, 0.0, -0.0, 3.0], np.float32)
    if torch.backends.cpu.get_cpu_capability() != 'AVX512':
        x = np.array([0.0, 3.0, -3.0, 1e-30, -1e-30], np.float32)
    e = ember.nn.functional.gelu(ember.from_numpy(x))._data
    t = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(np.signbit(e), np.signbit(t))


# ---- broadcasting errors are torch's RuntimeError ------------------------------------------------

@pytest.mark.parametrize('name', ['remainder', 'fmod', 'atan2', 'hypot', 'fmax', 'fmin',
                                  'copysign', 'nextafter', 'xlogy', 'logaddexp', 'logaddexp2',
                                  'heaviside', 'isclose', 'gcd', 'lcm', 'bitwise_and',
                                  'bitwise_or', 'bitwise_xor', 'bitwise_left_shift'])
def test_broadcast_errors(name):
    ints = name in ('gcd', 'lcm') or name.startswith('bitwise')
    a, b = (np.ones(2, np.int64), np.ones(3, np.int64)) if ints else (np.ones(2), np.ones(3))
    assert isinstance(assert_agree(lambda L, x, y: getattr(L, name)(x, y), a, b), RuntimeError)


def test_broadcast_errors_where_masked_select_complex():
    assert isinstance(assert_agree(lambda L, x, y: L.where(x > 0, x, y), np.ones((0, 2, 2)),
                           np.ones((3, 1, 1))), RuntimeError)
    assert isinstance(assert_agree(lambda L, x, y: L.where(y > 0, x, 0.0), np.ones((0, 2, 2)),
                           np.ones((2, 2, 2))), RuntimeError)
    assert isinstance(assert_agree(lambda L, x, m: L.masked_select(x, m > 0), np.ones((0, 3)),
                           np.ones(2)), RuntimeError)
    assert isinstance(assert_agree(lambda L, x, y: L.complex(x, y), np.ones(2), np.ones(3)),
                      RuntimeError)
