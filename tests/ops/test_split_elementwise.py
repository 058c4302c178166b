"""Sums, products and ReLU (forward and gradient) below 256K elements through the kernels'
loops (_cgraph.float_op), over the kernels' threads from 32K elements (ember_split_run in
src/threads.c, issue 15): the same bits as NumPy's single-threaded ufunc and torch's values,
whether the pool's threads ran pieces or not, at the sizes around the thresholds and the
pieces' 16-element rounding; NumPy's ufunc for the layouts the kernels do not take; float_op's
own refusals and errors."""
import time

import numpy as np
import pytest

import ember
from ember import _kernels
from ember._ops import elementwise as E

torch = pytest.importorskip('torch')

SPLIT = 1 << 15     # two pieces of SPLIT_GRAIN (src/kernels.h) elements
SIZES = [0, 1, 7, 40, 129, SPLIT - 1, SPLIT, 40_000 + 7, 64_000, E._ELEMENTWISE_MIN - 1]


def _values(n, dtype, seed):
    v = np.random.default_rng(seed).standard_normal(n).astype(dtype)
    v[::97] = 0.0
    v[5::101] = -0.0
    v[7::211] = np.nan
    v[11::307] = np.inf
    v[13::401] = -np.inf
    return v


def _same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize('n', SIZES)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('compiled', [True, False])
def test_add_mul_relu_bits(n, dtype, compiled):
    x, y = _values(n, dtype, 0), _values(n, dtype, 1)
    with np.errstate(all='ignore'):
        want = {'add': x + y, 'sub': x - y, 'mul': x * y, 'scale': x * 0.1,
                'relu': np.where(x < 0, dtype(0), x), 'iadd': x + y, 'isub': x - y,
                'imul': x * y}
    ctx = _kernels.forced() if compiled else _kernels.disabled()
    with ctx:
        for _ in range(3):  # the first call may find the pool asleep (then all on this thread)
            got = run_ops(ember, x, y)
            for k in want:
                assert _same_bits(got[k], want[k]), k
    for k, t in run_ops(torch, x, y).items():
        np.testing.assert_array_equal(got[k], t, err_msg=k)


def run_ops(lib, x, y):
    a, b = lib.from_numpy(x.copy()), lib.from_numpy(y.copy())
    got = {'add': a + b, 'sub': a - b, 'mul': a * b, 'scale': a * 0.1, 'relu': lib.relu(a)}
    for k, op in (('iadd', '__iadd__'), ('isub', '__isub__'), ('imul', '__imul__')):
        c = lib.from_numpy(x.copy())
        got[k] = getattr(c, op)(b)
    return {k: v.numpy() for k, v in got.items()}


@pytest.mark.parametrize('n', [40, SPLIT, 64_000 + 3])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_relu_gradient_and_add_gradient_against_torch(n, dtype):
    x, g = _values(n, dtype, 2), _values(n, dtype, 3)
    x[np.isnan(x)] = 1.0  # torch's relu gradient for a NaN output is its own kernel's business

    def run(lib):
        a = lib.tensor(x, requires_grad=True)
        b = lib.tensor(x[::-1].copy(), requires_grad=True)
        y = lib.relu(a + b) * lib.tensor(g)
        y.backward(lib.ones_like(y))
        return y.detach().numpy(), a.grad.numpy(), b.grad.numpy()
    for mine, ref in zip(run(ember), run(torch)):
        np.testing.assert_array_equal(mine, ref)


def test_layouts_the_kernels_do_not_take():
    x = _values(2 * 64_000, np.float32, 4).reshape(2, 64_000)
    y = _values(64_000, np.float32, 5)
    a = ember.from_numpy(x)
    b = ember.from_numpy(y)
    cases = [(a[0], b), (a[:, ::2].reshape(-1)[:64_000], b),  # a view, a strided copy
             (a, b),                                          # broadcast
             (ember.from_numpy(x[0].astype(np.float16)), ember.from_numpy(y.astype(np.float16)))]
    for p, q in cases:
        with np.errstate(all='ignore'):
            np.testing.assert_array_equal((p + q).numpy(), p.numpy() + q.numpy())
            np.testing.assert_array_equal((p * q).numpy(), p.numpy() * q.numpy())


@pytest.mark.skipif(not _kernels.available(), reason='the compiled kernels are not built')
def test_the_pool_takes_pieces_once_awake():
    fn = _kernels.get('ember_relu_split_f32')
    x = _values(64_000, np.float32, 6)
    out = np.empty_like(x)
    ran, deadline = [], time.monotonic() + 10
    while time.monotonic() < deadline and not any(ran):
        # a sleeping pool is woken and the call runs here; the next finds it spinning
        ran.append(fn(x.size, _kernels.addr(x), _kernels.addr(out), 2))
        assert _same_bits(out, np.where(x < 0, np.float32(0), x))
    assert any(r == 1 for r in ran)
    # one thread asked, or too few elements for two pieces: everything here
    assert fn(x.size, _kernels.addr(x), _kernels.addr(out), 1) == 0
    assert fn(30_000, _kernels.addr(x), _kernels.addr(out), 2) == 0


@pytest.mark.skipif(not _kernels.available(), reason='the compiled kernels are not built')
def test_set_num_threads_one_keeps_the_work_here():
    was = ember.get_num_threads()
    x = _values(64_000, np.float32, 7)
    try:
        ember.set_num_threads(1)
        a = ember.from_numpy(x)
        np.testing.assert_array_equal((a + a).numpy(), x + x)
    finally:
        ember.set_num_threads(was)


def _bound():
    """_kernels.float_op bound (its first call binds it), or None."""
    fop = _kernels.float_op
    if fop is not None:
        fop(_kernels.FLOAT_SUM, None, np.zeros(1))
    return _kernels.float_op


_fop = _bound()
needs_fop = pytest.mark.skipif(_fop is None, reason='the extension or the kernels are not built')


@pytest.fixture(params=[1, 2])
def threads(request):
    was = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(was)


@needs_fop
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('n', [1000, 64_000 + 5])
def test_float_op_each_loop(dtype, n, threads):
    x, y = _values(n, dtype, 8).reshape(-1, 5), _values(n, dtype, 9).reshape(-1, 5)
    with np.errstate(all='ignore'):
        want = [x + y, x - y, x * y, x * 0.1, np.where(x < 0, dtype(0), x),
                np.where(y <= 0, dtype(0), x), np.add.reduce(x, None)]
    ops = [(_kernels.FLOAT_ADD, x, y), (_kernels.FLOAT_SUB, x, y), (_kernels.FLOAT_MUL, x, y),
           (_kernels.FLOAT_MUL_SCALAR, x, 0.1), (_kernels.FLOAT_RELU, x),
           (_kernels.FLOAT_RELU_BACKWARD, x, y), (_kernels.FLOAT_SUM, x)]
    for _ in range(3):  # the first call may find the pool asleep (then all on this thread)
        for (op, *arrays), w in zip(ops, want):
            got = _fop(op, None, *arrays)
            assert type(got) is np.ndarray and _same_bits(got, np.asarray(w)), op
    out = np.empty_like(x)
    assert _fop(_kernels.FLOAT_ADD, out, x, y) is out and _same_bits(out, want[0])
    z = x.copy()  # in place: out is an input
    assert _fop(_kernels.FLOAT_RELU, z, z) is z and _same_bits(z, want[4])


@needs_fop
def test_float_op_refuses_arrays_it_does_not_take():
    x = _values(2000, np.float32, 10)
    add = _kernels.FLOAT_ADD
    unaligned = np.frombuffer(b'\0' + x.tobytes(), np.float32, count=1000, offset=1)
    readonly = x[:1000].copy()
    readonly.flags.writeable = False
    refused = [
        (x[::2], x[:1000]),                                 # not contiguous
        (x.reshape(2, 1000)[:, :500], x[:1000].reshape(2, 500)),
        (x[:1000], x[:1000].reshape(10, 100)),              # shapes differ (sizes agree)
        (x[:1000], x[:999]),
        (x[:1000].astype(np.float16), x[:1000].astype(np.float16)),
        (x[:1000], x[:1000].astype(np.float64)),
        (x[:1000].astype('>f4'), x[:1000].astype('>f4')),   # byte-swapped
        (unaligned, x[:1000]),
        (x[:1000].view(np.ma.MaskedArray), x[:1000]),       # a subclass
        ([1.0], [2.0]),
    ]
    for a, b in refused:
        assert _fop(add, None, a, b) is None
    assert _fop(add, readonly, x[:1000], x[:1000]) is None
    assert _fop(add, np.empty(1000, np.float64), x[:1000], x[:1000]) is None
    assert _fop(_kernels.FLOAT_SUM, np.empty((), np.float32), x) is None
    for s in (1, np.float32(0.5), 0.5j, None):      # mul_scalar takes a Python float alone
        assert _fop(_kernels.FLOAT_MUL_SCALAR, None, x, s) is None
    with pytest.raises(ValueError):
        _fop(add, None, x)           # add takes two inputs
    with pytest.raises(ValueError):
        _fop(99, None, x)
    with pytest.raises(TypeError):
        _fop(add, None)


@needs_fop
def test_float_op_none_while_a_part_records_and_off_when_disabled():
    x = np.ones(10)
    seen = []
    _kernels.run_deferred(lambda k: seen.append(_fop(_kernels.FLOAT_SUM, None, x)),
                          [(0,), (1,)])
    assert seen == [None, None]
    with _kernels.disabled():
        assert _kernels.float_op is None
    assert _kernels.float_op is _fop and _fop(_kernels.FLOAT_SUM, None, x) == 10


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_small_ops_under_no_grad_and_in_place(dtype):
    x, g = _values(40, dtype, 11).reshape(2, 20), _values(40, dtype, 12).reshape(2, 20)
    x[np.isnan(x)] = 1.0

    def run(lib):
        a = lib.tensor(x, requires_grad=True)
        y = lib.relu(a)
        (gx,) = lib.autograd.grad(y, a, lib.tensor(g))     # ReluBackward0 without a graph
        b = lib.tensor(x)
        b.relu_()
        c = lib.tensor(x, requires_grad=True) * 1
        c.relu_()                                            # relu_ recording a node
        c.backward(lib.tensor(g))
        return y.detach().numpy(), gx.numpy(), b.numpy(), (a.sum() + a.mean()).detach().numpy()
    for mine, ref in zip(run(ember), run(torch)):
        np.testing.assert_array_equal(mine, ref)
        assert mine.dtype == ref.dtype


@pytest.mark.parametrize('n', [40, 64_000 + 3])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_gradients_summed_and_accumulated(n, dtype):
    """Two branches' gradients reaching one input (graph._add_grads) and a second backward
    adding into .grad (graph._accumulate) take the kernels' add."""
    x, g = _values(n, dtype, 13), _values(n, dtype, 14)
    x[~np.isfinite(x)] = 0.5

    def run(lib):
        a = lib.tensor(x, requires_grad=True)
        for k in range(3):
            y = a * lib.tensor(g) + lib.relu(a) * (k + 1.5)
            y.backward(lib.tensor(g))
        return a.grad.numpy()
    np.testing.assert_array_equal(run(ember), run(torch))
