"""Sums, products and ReLU (forward and gradient) of 32K to 256K elements over the kernels'
threads (ember_split_run in src/threads.c, issue 15): the same bits as NumPy's single-threaded
ufunc and torch's values, whether the pool's threads ran pieces or not, at the sizes around the
thresholds and the pieces' 16-element rounding, and NumPy's ufunc for the layouts the kernels
do not take."""
import time

import numpy as np
import pytest

import ember
from ember import _kernels
from ember._ops import elementwise as E

torch = pytest.importorskip('torch')

SIZES = [E._SPLIT_MIN - 1, E._SPLIT_MIN, 40_000 + 7, 64_000, E._ELEMENTWISE_MIN - 1]


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
        want = {'add': x + y, 'mul': x * y, 'relu': np.where(x < 0, dtype(0), x)}
    ctx = _kernels.forced() if compiled else _kernels.disabled()
    with ctx:
        for _ in range(3):  # the first call may find the pool asleep (then all on this thread)
            a, b = ember.from_numpy(x.copy()), ember.from_numpy(y.copy())
            got = {'add': (a + b).numpy(), 'mul': (a * b).numpy(), 'relu': ember.relu(a).numpy()}
            for k in want:
                assert _same_bits(got[k], want[k]), k
    ta, tb = torch.from_numpy(x), torch.from_numpy(y)
    for k, t in (('add', ta + tb), ('mul', ta * tb), ('relu', torch.relu(ta))):
        np.testing.assert_array_equal(got[k], t.numpy())


@pytest.mark.parametrize('n', [E._SPLIT_MIN, 64_000 + 3])
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
