"""A split's parts run on the kernels library's own threads (`_kernels.run_deferred`, C in
ember/_kernels/src/threads.c): each part's kernel calls are recorded, then all parts run at
once without the GIL. The ops that split this way (convolutions, ReLU) are compared with torch
beside them (tests/nn/test_conv.py, test_norm_split.py); here, the mechanism itself."""
import os
import threading

import numpy as np
import pytest
import torch

import ember
from ember import _kernels

pytestmark = pytest.mark.skipif(not _kernels.available(),
                                reason='no compiled kernels (no C compiler)')

RNG = np.random.default_rng(11)

_kernels.declare('ember_axpy_f32', None, 'i64', 'f32', 'p', 'p')


def _axpy_parts(x, y, a, parts):
    """y[lo:hi] += a * x[lo:hi] for each (lo, hi), deferred; what each part returned."""
    def part(lo, hi):
        _kernels.get('ember_axpy_f32')(hi - lo, a, x[lo:].ctypes.data, y[lo:].ctypes.data)
        return lo, hi
    return _kernels.run_deferred(part, parts)


@pytest.mark.parametrize('parts', [[(0, 5), (5, 7)], [(0, 300), (300, 1000), (1000, 1001)],
                                   [(0, 0), (0, 9)]])
def test_parts_run_their_calls_and_return_in_order(parts):
    n = parts[-1][1]
    x = RNG.standard_normal(n).astype(np.float32)
    y = RNG.standard_normal(n).astype(np.float32)
    want = y + np.float32(-1.75) * x        # a float argument passes through its slot
    assert _axpy_parts(x, y, -1.75, parts) == parts
    np.testing.assert_array_equal(y, want)


def test_calls_run_in_the_order_recorded():
    # two calls on the same part: the second sees the first's result
    x = np.ones(64, np.float32)
    y = np.zeros(64, np.float32)

    def part(lo, hi):
        axpy = _kernels.get('ember_axpy_f32')
        axpy(hi - lo, 2.0, x[lo:].ctypes.data, y[lo:].ctypes.data)
        axpy(hi - lo, 3.0, y[lo:].ctypes.data, x[lo:].ctypes.data)     # x += 3 y
    _kernels.run_deferred(part, [(0, 32), (32, 64)])
    np.testing.assert_array_equal(y, 2)
    np.testing.assert_array_equal(x, 7)


def test_arrays_made_in_a_part_live_until_its_calls_run():
    # an 'a' argument: the part's temporary (the layout kernel's output) is read by the conv
    # kernel after the part's Python has returned and dropped it
    from ember._ops import conv
    x = RNG.standard_normal((4, 8, 9, 9)).astype(np.float32)
    w = RNG.standard_normal((16, 8, 3, 3)).astype(np.float32)
    with _kernels.forced():
        if conv._direct(x, w, (1, 1), (1, 1)) is None:
            pytest.skip('no direct convolution kernel')
        out = np.empty((4, 16, 9, 9), np.float32)

        def part(i, j):
            conv._corr(x[i:j], w, None, (1, 1), (1, 1), (1, 1), (1, 1), out=out[i:j])
        _kernels.run_deferred(part, [(0, 2), (2, 4)])
        junk = [np.full(x[:2].size + 11, np.nan, np.float32) for _ in range(20)]   # reuse
        del junk
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1)
    np.testing.assert_allclose(out, want.numpy(), rtol=1e-4, atol=1e-4)


def test_a_kernel_without_a_task_form_refuses_to_record():
    # it would run at once, before the recorded calls whose results it may read
    restype, argtypes = _kernels._SIGNATURES['ember_conv2d_f32']
    _kernels.declare('ember_conv2d_portable_f32', restype, *argtypes)

    def part(lo, hi):
        _kernels.get('ember_conv2d_portable_f32')
    with pytest.raises(RuntimeError, match='no task form'):
        _kernels.run_deferred(part, [(0, 1), (1, 2)])
    # and the recording is over: the next call runs
    x = np.ones(3, np.float32)
    y = np.zeros(3, np.float32)
    _kernels.get('ember_axpy_f32')(3, 1.0, x.ctypes.data, y.ctypes.data)
    np.testing.assert_array_equal(y, 1)


def test_queries_run_while_a_part_records():
    # a kernel that returns a value (simd_lanes) is a query, not work: it runs at once
    def part(lo, hi):
        return _kernels.get('ember_simd_lanes')()
    lanes = _kernels.get('ember_simd_lanes')()
    assert _kernels.run_deferred(part, [(0, 1), (1, 2)]) == [lanes, lanes]


def test_concurrent_callers_each_get_their_results():
    # one run at a time uses the library's threads; another caller's parts run on its own
    # thread, in order
    n = 1 << 16
    xs = [RNG.standard_normal(n).astype(np.float32) for _ in range(4)]
    ys = [np.zeros(n, np.float32) for _ in range(4)]
    errors = []

    def work(k):
        try:
            for rep in range(30):
                _axpy_parts(xs[k], ys[k], 1.0, [(0, n // 2), (n // 2, n)])
        except BaseException as e:      # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for x, y in zip(xs, ys):
        np.testing.assert_allclose(y, 30 * x, rtol=1e-5)


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='fork')
def test_a_forked_child_starts_its_own_threads(tmp_path):
    # the child has none of the parent's threads: its splits must not wait for them
    import _subproc
    prog = _subproc.write(tmp_path, 'fork.py', '''
        import os, sys
        import numpy as np
        import ember
        from ember import _kernels
        _kernels.declare('ember_axpy_f32', None, 'i64', 'f32', 'p', 'p')
        x = np.arange(10, dtype=np.float32)

        def split():
            y = np.zeros(10, np.float32)
            def part(lo, hi):
                _kernels.get('ember_axpy_f32')(hi - lo, 2.0, x[lo:].ctypes.data,
                                               y[lo:].ctypes.data)
            _kernels.run_deferred(part, [(0, 5), (5, 10)])
            return bool((y == 2 * x).all())

        assert split()
        pid = os.fork()
        if pid == 0:
            os._exit(0 if split() and split() else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), split())
    ''')
    res = _subproc.python(prog, cwd=tmp_path, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ['0', 'True']


@pytest.mark.skipif(not os.path.exists('/proc/self/task'), reason='Linux: thread names')
def test_the_library_threads_are_named():
    _axpy_parts(np.ones(8, np.float32), np.zeros(8, np.float32), 1.0, [(0, 4), (4, 8)])
    names = set()
    for tid in os.listdir('/proc/self/task'):
        with open(f'/proc/self/task/{tid}/comm') as f:
            names.add(f.read().strip())
    assert 'ember-kernels' in names


def test_conv_training_step_split_as_torch(two_threads, kernel_path, took):
    # a U-Net-like block whose convolutions split (4 images, 16 channels of 32x32): the
    # forward, both gradients, through the library's threads on the compiled path
    runs = took(_kernels, 'run_deferred')
    x = RNG.standard_normal((4, 16, 32, 32)).astype(np.float32)
    w1 = RNG.standard_normal((16, 16, 3, 3)).astype(np.float32) * 0.1
    w2 = RNG.standard_normal((8, 16, 3, 3)).astype(np.float32) * 0.1
    res = []
    for lib in (torch, ember):
        xs = lib.tensor(x, requires_grad=True)
        ws = [lib.tensor(w, requires_grad=True) for w in (w1, w2)]
        h = lib.nn.functional.relu(lib.nn.functional.conv2d(xs, ws[0], padding=1))
        y = lib.nn.functional.conv2d(h, ws[1], padding=1)
        (y * y).sum().backward()
        res.append([t.detach().numpy() for t in (y, xs.grad, *[w.grad for w in ws])])
    for e, t in zip(res[1], res[0]):
        np.testing.assert_allclose(e, t, rtol=2e-4, atol=2e-3)
    # both forwards, both backwards (and the ReLU's: below its split floor, none)
    assert runs == ([True] * 4 if kernel_path == 'compiled' else [])


def test_an_error_in_part_zero_waits_for_the_others():
    # the library's parts start before part 0's Python runs: when that raises, they have
    # run to their end before the error comes back, and the threads are free again
    x = np.ones(1 << 16, np.float32)
    y = np.zeros(1 << 16, np.float32)
    h = x.size // 2

    def part(lo, hi):
        if lo == 0:
            raise ValueError('part zero')
        _kernels.get('ember_axpy_f32')(hi - lo, 3.0, x[lo:].ctypes.data, y[lo:].ctypes.data)
    with pytest.raises(ValueError, match='part zero'):
        _kernels.run_deferred(part, [(0, h), (h, x.size)])
    np.testing.assert_array_equal(y[h:], 3)
    np.testing.assert_array_equal(y[:h], 0)
    assert _axpy_parts(x, y, 1.0, [(0, h), (h, x.size)]) == [(0, h), (h, x.size)]
    np.testing.assert_array_equal(y, np.where(np.arange(x.size) < h, 1, 4))
