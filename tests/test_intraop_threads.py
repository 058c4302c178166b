"""ember's own threads (ember/_threads.py): matrix products split over them, BLAS held to the
calling thread. Every split path is compared with torch, values and gradients."""
import ctypes
import glob
import os
import threading

import numpy as np
import pytest
import torch

import ember
from ember import _kernels, _threads

RNG = np.random.default_rng(7)


def _blas_get():
    """OpenBLAS's thread count as the calling thread sees it, or None without NumPy's
    OpenBLAS."""
    root = os.path.dirname(np.__file__)
    for path in glob.glob(os.path.join(root, os.pardir, 'numpy.libs', '*openblas*')):
        lib = ctypes.CDLL(path)
        for name in ('scipy_openblas_get_num_threads64_', 'openblas_get_num_threads64_',
                     'openblas_get_num_threads'):
            fn = getattr(lib, name, None)
            if fn is not None:
                return fn
    return None


@pytest.fixture
def split_all(monkeypatch, two_threads, count_splits):
    """Two threads and no size floors: every product of matrices that can be split is."""
    monkeypatch.setattr(_threads, '_SPLIT_MIN', 0)
    monkeypatch.setattr(_threads, '_GEMM_SPLIT_MIN', 0)
    monkeypatch.setattr(_threads, '_BLAS_THREADED', 0)
    calls = count_splits(_threads)
    whole = _threads._gemm_whole

    def counted(name, args, parts, how, scratch=None):  # a split made and run in C
        ran = whole(name, args, parts, how, scratch)
        if ran:
            calls.append(parts)
        return ran
    monkeypatch.setattr(_threads, '_gemm_whole', counted)
    return calls


def _pair(arrays, dt):
    return ([torch.from_numpy(a.astype(dt)).requires_grad_() for a in arrays],
            [ember.from_numpy(a.astype(dt)).requires_grad_() for a in arrays])


def assert_same_values_and_grads(fn_t, fn_e, arrays, dt):
    """fn on torch and on ember: the same result, dtype and shape, and the same gradient of
    every input."""
    ts, es = _pair(arrays, dt)
    yt, ye = fn_t(*ts), fn_e(*es)
    assert ye.dtype == getattr(ember, str(yt.dtype).split('.')[1]) and ye.shape == yt.shape
    tol = dict(rtol=1e-4, atol=1e-4) if dt == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **tol)
    g = RNG.standard_normal(tuple(yt.shape)).astype(dt)
    yt.backward(torch.from_numpy(g))
    ye.backward(ember.from_numpy(g))
    for t, e in zip(ts, es):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **tol)


# (what is split, the operands' shapes, the op)
SPLIT_CASES = [
    ('rows', [(40, 7), (7, 5)], lambda lib, a, b: a @ b),
    ('columns', [(5, 7), (7, 40)], lambda lib, a, b: a @ b),
    ('rows, transposed operands', [(7, 40), (5, 7)], lambda lib, a, b: a.t() @ b.t()),
    ('batch', [(3, 6, 7), (3, 7, 5)], lambda lib, a, b: lib.bmm(a, b)),
    ('batch of 4-d', [(2, 3, 6, 7), (2, 3, 7, 5)], lambda lib, a, b: a @ b),
    ('batch of one', [(1, 40, 7), (1, 7, 5)], lambda lib, a, b: a @ b),
    ('addmm', [(40, 5), (40, 7), (7, 5)], lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5)),
    # (3x3 at stride 2: a 2x2 one at stride 2 is the kernels' own GEMMs, test_conv_transpose_block)
    ('conv_transpose2d', [(2, 6, 5, 5), (6, 4, 3, 3)],
     lambda lib, x, w: lib.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)),
    ('linear', [(4, 10, 7), (5, 7), (5,)], lambda lib, x, w, b: lib.nn.functional.linear(x, w, b)),
]


@pytest.mark.parametrize('what,shapes,op', SPLIT_CASES, ids=[c[0] for c in SPLIT_CASES])
@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_split_products_as_torch(what, shapes, op, dt, split_all, kernel_path):
    # compiled: a product of two matrices splits on the kernels' threads (one cblas GEMM of
    # NumPy's OpenBLAS per part, _gemm_split); numpy: on Python threads
    arrays = [RNG.standard_normal(s) for s in shapes]
    assert_same_values_and_grads(lambda *a: op(torch, *a), lambda *a: op(ember, *a), arrays, dt)
    assert split_all and all(n == 2 for n in split_all)


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('view', ['rows of a wider array', 'transposed slice', 'reversed rows',
                                  'every other column'])
def test_split_gemm_reads_views_or_leaves_them(view, dt, split_all, took):
    # views cblas reads in place (a leading dimension above the width, a transposed layout)
    # split on the kernels' threads; others (negative or non-unit inner strides) are NumPy's
    if _threads._cblas(np.dtype(dt)) is None:
        pytest.skip("NumPy's BLAS has no 64-bit-integer cblas GEMM")
    big = RNG.standard_normal((48, 80)).astype(dt)
    other = RNG.standard_normal((40, 60)).astype(dt)
    b = RNG.standard_normal((36, 40)).astype(dt)
    a = {'rows of a wider array': big[:, 5:41], 'transposed slice': other[:36, :48].T,
         'reversed rows': big[::-1, :36], 'every other column': big[:, ::2][:, :36]}[view]
    assert a.shape == (48, 36)
    gemms = took(_threads, '_gemm_split')
    got = _threads.matmul(a, b)
    tol = dict(rtol=1e-5, atol=1e-4) if dt == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, torch.from_numpy(np.ascontiguousarray(a)).matmul(
        torch.from_numpy(b)).numpy(), **tol)
    in_place = view in ('rows of a wider array', 'transposed slice')
    assert gemms == [in_place]


# (the operands' shapes, the op): inner dimensions at least _SPLIT_K_RATIO times both others
SPLIT_K_CASES = {
    'mm': ([(20, 300), (300, 24)], lambda lib, a, b: a @ b),
    'transposed operands': ([(300, 20), (24, 300)], lambda lib, a, b: a.t() @ b.t()),
    'odd k': ([(9, 257), (257, 3)], lambda lib, a, b: a @ b),
    "the seed MLP's first layer": ([(64, 1000), (100, 1000), (100,)],
                                   lambda lib, x, w, b: lib.nn.functional.linear(x, w, b)),
}


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('shapes,op', SPLIT_K_CASES.values(), ids=SPLIT_K_CASES.keys())
def test_long_inner_dimension_splits_along_it(shapes, op, dt, split_all, took):
    # each part multiplies a share of k; the parts' products are summed
    if not _kernels.available():
        pytest.skip(f'no compiled kernels: {_kernels.why_not()}')
    if _threads._cblas(np.dtype(dt)) is None:
        pytest.skip("NumPy's BLAS has no 64-bit-integer cblas GEMM")
    by_k = took(_threads, '_gemm_split_k')
    arrays = [RNG.standard_normal(s) for s in shapes]
    ts, es = _pair(arrays, dt)
    yt, ye = op(torch, *ts), op(ember, *es)
    tol = dict(rtol=1e-4, atol=1e-4) if dt == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **tol)
    assert ye.dtype == getattr(ember, str(yt.dtype).split('.')[1])
    g = RNG.standard_normal(tuple(yt.shape)).astype(dt)
    yt.backward(torch.from_numpy(g))
    ye.backward(ember.from_numpy(g))
    for t, e in zip(ts, es):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), **tol)
    # the forward's product is split along k (the gradients' products, short k, are not)
    assert by_k[0] is True and split_all[0] == 2


def test_short_inner_dimension_is_not_split_along_it(split_all, took):
    by_k = took(_threads, '_gemm_split_k')
    a, b = RNG.standard_normal((64, 200)), RNG.standard_normal((200, 64))
    np.testing.assert_allclose(_threads.matmul(a, b), a @ b, rtol=1e-12)
    assert by_k == [] and split_all == [2]


@pytest.mark.parametrize('shapes', [[(1, 7), (7, 3)], [(3, 6, 7), (7, 5)], [(1, 6, 7), (3, 7, 5)]],
                         ids=['too small to split', 'broadcast batch', 'broadcast batch 1'])
def test_unsplit_products_as_torch(shapes, split_all):
    """Products no split takes (too few rows and columns, a broadcast batch) are NumPy's."""
    arrays = [RNG.standard_normal(s) for s in shapes]
    assert_same_values_and_grads(lambda a, b: a @ b, lambda a, b: a @ b, arrays, np.float32)
    if len(shapes[0]) == 2:
        assert not split_all


def test_one_thread_never_splits(monkeypatch):
    monkeypatch.setattr(_threads, '_SPLIT_MIN', 0)
    monkeypatch.setattr(_threads, '_BLAS_THREADED', 0)

    def refuse(fn, parts):
        raise AssertionError('split with one thread')
    monkeypatch.setattr(_threads, 'run_parallel', refuse)
    before = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        a, b = RNG.standard_normal((40, 7)), RNG.standard_normal((7, 40))
        np.testing.assert_allclose((ember.from_numpy(a) @ ember.from_numpy(b)).numpy(), a @ b)
    finally:
        ember.set_num_threads(before)


def test_blas_held_while_ember_works(split_all):
    """Inside a backward pass and on ember's worker threads OpenBLAS sees one thread; the
    caller's count is back afterwards."""
    get = _blas_get()
    if get is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    outside = get()
    seen = []
    x = ember.randn(40, 7, requires_grad=True)
    y = x @ ember.randn(7, 5)
    y.register_hook(lambda g: seen.append(get()))
    y.sum().backward()
    assert seen == [1] and get() == outside
    on_workers = _threads.run_parallel(lambda k: (k, get()), [(0,), (1,)])
    assert on_workers == [(0, 1), (1, 1)] and get() == outside


def test_nested_and_concurrent_splits_run_in_turn(split_all):
    """A split inside a split's part, and splits from two Python threads at once, run their
    parts on their own thread instead of waiting for a busy worker."""
    inner = _threads.run_parallel(lambda k: _threads.run_parallel(lambda j: k * 10 + j,
                                                                  [(0,), (1,)]), [(1,), (2,)])
    assert inner == [[10, 11], [20, 21]]
    a, b = RNG.standard_normal((64, 33)), RNG.standard_normal((33, 48))
    want = a @ b
    got = [None] * 4

    def work(i):
        got[i] = (ember.from_numpy(a) @ ember.from_numpy(b)).numpy()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in got:
        np.testing.assert_allclose(g, want, rtol=1e-12)


def test_without_blas_control_nothing_splits(monkeypatch):
    monkeypatch.setattr(_threads, '_LOCAL', [False])
    monkeypatch.setattr(_threads, '_SPLIT_MIN', 0)
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        assert not _threads.can_split() and _threads.blas_single() == 1
        a, b = RNG.standard_normal((40, 7)), RNG.standard_normal((7, 40))
        np.testing.assert_allclose(_threads.matmul(a, b), a @ b)
    finally:
        ember.set_num_threads(before)


def test_a_failing_part_raises_on_the_caller(split_all):
    """An error in a part run by a worker is raised by run_parallel, after every part is done;
    the workers keep serving."""
    done = []

    def part(k):
        done.append(k)
        if k == 1:
            raise ValueError('part 1 failed')
        return k
    with pytest.raises(ValueError, match='part 1 failed'):
        _threads.run_parallel(part, [(0,), (1,)])
    assert sorted(done) == [0, 1]
    assert _threads.run_parallel(lambda k: k * 2, [(3,), (4,)]) == [6, 8]


def _child_product(q):
    # a batch of products: split over Python threads (a product of two matrices would go to
    # the kernels' threads, tests/test_kernel_threads.py)
    a = np.arange(2 * 40 * 7, dtype=np.float64).reshape(2, 40, 7)
    b = a.transpose(0, 2, 1)
    err = np.abs(_threads.matmul(a, b) - a @ b).max()
    q.put((err, _threads._POOL[0] == os.getpid()))


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='fork is POSIX')
def test_a_forked_child_makes_its_own_workers(split_all):
    """Workers do not survive a fork: a child that splits starts its own."""
    import multiprocessing as mp
    _threads.run_parallel(lambda k: k, [(0,), (1,)])        # the parent's workers exist
    ctx = mp.get_context('fork')
    q = ctx.Queue()
    p = ctx.Process(target=_child_product, args=(q,))
    p.start()
    err, own = q.get(timeout=60)
    p.join(60)
    assert p.exitcode == 0 and err == 0 and own


@pytest.mark.parametrize('name', ['set_num_threads', 'set_num_interop_threads'])
@pytest.mark.parametrize('value', [0, -1, 2.5, '2', True, 'tensor'])
def test_thread_count_checks_as_torch(name, value):
    """A thread count must be a positive int: torch's RuntimeError for anything else."""
    from _oracle import assert_same_error

    def make(lib):
        v = lib.tensor(2) if value == 'tensor' else value
        return getattr(lib, name)(v)
    assert_same_error(make, torch)


def test_thread_count_accepts_numpy_ints():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(np.int64(1))
        assert ember.get_num_threads() == 1 and type(ember.get_num_threads()) is int
    finally:
        ember.set_num_threads(before)


@pytest.mark.skipif(not os.path.exists('/proc/self/maps'), reason='Linux: /proc/self/maps')
def test_blas_found_among_the_mapped_libraries(monkeypatch):
    """A NumPy built on the system's OpenBLAS (no bundled copy beside it): ember finds the
    library among those mapped into the process."""
    get = _blas_get()
    if get is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    monkeypatch.setattr(_threads.glob, 'glob', lambda pattern: [])
    monkeypatch.setattr(_threads, '_LOCAL', [None])
    fn = _threads._find_local()
    assert fn and _threads._LOCAL[0] is fn
    prev = fn(1)
    try:
        assert get() == 1
    finally:
        fn(prev)


_NO_POOL_PROGRAM = '''
import os, threading, time
import ember as torch
F = torch.nn.functional


def blas_pool_cpu_ms():
    """CPU time of the threads Python did not start (OpenBLAS's pool), in ms: not those of
    ember's kernels library (named ember-kernels), which run a split's parts."""
    mine = {t.native_id for t in threading.enumerate()}
    total = 0
    for tid in os.listdir('/proc/self/task'):
        with open(f'/proc/self/task/{tid}/comm') as f:
            kernels = f.read().strip() == 'ember-kernels'
        if int(tid) not in mine and not kernels:
            with open(f'/proc/self/task/{tid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total * 1000 // os.sysconf('SC_CLK_TCK')


torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
    torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(),
    torch.nn.Conv2d(32, 32, 1), torch.nn.Flatten(), torch.nn.Linear(32 * 16 * 16, 300),
    torch.nn.GELU(), torch.nn.Linear(300, 10))
opt = torch.optim.Adam(model.parameters())
x, y = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))
w = torch.randn(256, 256)
lstm = torch.nn.LSTM(64, 128)
seq = torch.randn(20, 8, 64)


def step():
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
    (w @ w).sum()
    lstm(seq)[0].sum().backward()


step()
time.sleep(0.5)     # a pool woken before this point has gone back to sleep
before = blas_pool_cpu_ms()
for _ in range(5):
    step()
print(blas_pool_cpu_ms() - before)
'''


@pytest.mark.skipif(not os.path.exists('/proc/self/task'), reason='Linux: per-thread CPU time')
def test_training_never_wakes_the_blas_pool(tmp_path):
    """A training step (convolutions, batch norm, linear layers, an LSTM, a bare matmul, Adam)
    runs every BLAS call on ember's threads: OpenBLAS's own pool, which would spin on the
    second core, does no work at all."""
    if _blas_get() is None or not _threads.can_split():
        pytest.skip("NumPy's BLAS is not an OpenBLAS ember can hold")
    import _subproc
    res = _subproc.python('-c', _NO_POOL_PROGRAM, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert int(res.stdout.strip()) == 0


@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_gelu_split_in_spans_as_torch(approximate, split_all, monkeypatch, kernel_path):
    """GELU's float32 kernel and its gradient run in one span per thread (run_spans): the same
    values and gradient as torch's, whether split or not."""
    x = RNG.standard_normal((3, 50)) * 4
    for span in (16, 1 << 18):
        monkeypatch.setattr(_threads, '_MIN_SPAN', span)
        del split_all[:]
        assert_same_values_and_grads(
            lambda t: torch.nn.functional.gelu(t, approximate=approximate),
            lambda t: ember.nn.functional.gelu(t, approximate=approximate), [x], np.float32)
        assert bool(split_all) == (span == 16)


def test_run_spans_covers_every_element_once(split_all, monkeypatch):
    monkeypatch.setattr(_threads, '_MIN_SPAN', 4)
    for n in (0, 3, 8, 9, 31):
        seen = np.zeros(n, int)

        def mark(lo, hi):
            seen[lo:hi] += 1
        _threads.run_spans(mark, n)
        assert (seen == 1).all()


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('affine', ['both', 'weight', 'none'])
@pytest.mark.parametrize('d', [12, 40])
def test_layer_norm_split_by_rows_as_torch(dt, affine, d, split_all, monkeypatch, kernel_path):
    """LayerNorm's forward and backward run one span of rows per thread (map_rows), the
    weight and bias gradients summed span by span: torch's values and gradients, split or
    not, on a non-contiguous input too (rows shorter and longer than the compiled kernel's
    16 lanes)."""
    x = RNG.standard_normal((5, 7, d)) * 3 + 1
    w, b = RNG.standard_normal(d), RNG.standard_normal(d)
    args = {'both': (w, b), 'weight': (w,), 'none': ()}[affine]

    def ln(lib):
        def f(t, *p):
            t = t.transpose(0, 1)       # rows that are not contiguous in memory
            return lib.nn.functional.layer_norm(t, (d,), *p)
        return f
    for span in (8, 1 << 18):
        monkeypatch.setattr(_threads, '_MIN_SPAN', span)
        del split_all[:]
        assert_same_values_and_grads(ln(torch), ln(ember), [x, *args], dt)
        assert bool(split_all) == (span == 8)


def test_map_rows_covers_every_row_once(split_all, monkeypatch):
    monkeypatch.setattr(_threads, '_MIN_SPAN', 8)
    for rows, per in ((0, 5), (1, 100), (3, 1), (9, 4), (31, 2)):
        seen = np.zeros(rows, int)

        def mark(lo, hi):
            seen[lo:hi] += 1
            return lo
        starts = _threads.map_rows(mark, rows, per)
        assert (seen == 1).all()
        assert starts == sorted(starts)


_MIXED = [
    ('float32', 'float64', 'expect parameter to have scalar type of Float'),
    ('float64', 'float32', 'all inputs must share same datatype'),
    ('float16', 'float64', 'expect parameter to have scalar type of Float'),
    ('float16', 'bfloat16', 'expect parameter to have scalar type of Float'),
]
NORMS = ['layer_norm', 'batch_norm', 'instance_norm', 'group_norm']


# half inputs: only layer_norm follows torch's rules (batch/group norm's are their own: left)
@pytest.mark.parametrize('xd,pd,message,norm', [
    m + (n,) for m in _MIXED for n in NORMS if n == 'layer_norm' or m[0] != 'float16'])
def test_norm_mixed_dtypes_refused_as_torch(xd, pd, message, norm):
    """torch's CPU rule for parameters of another dtype than the input, in every
    normalisation."""
    for lib in (torch, ember):
        F = lib.nn.functional
        x = lib.ones(3, 4, 2, dtype=getattr(lib, xd))
        w = lib.ones(4, dtype=getattr(lib, pd))
        with pytest.raises(RuntimeError, match=message):
            if norm == 'layer_norm':
                F.layer_norm(x, (2,), lib.ones(2, dtype=getattr(lib, pd)))
            elif norm == 'batch_norm':
                F.batch_norm(x, None, None, w, training=True)
            elif norm == 'instance_norm':
                F.instance_norm(x, weight=w)
            else:
                F.group_norm(x, 2, w)


def test_layer_norm_half_input_float_weight_as_torch(kernel_path):
    """A float16 input with float32 parameters: torch's float32 arithmetic, a float16 result
    and float32 parameter gradients."""
    x = RNG.standard_normal((6, 8))
    w, b = RNG.standard_normal(8), RNG.standard_normal(8)
    res = []
    for lib in (torch, ember):
        xt = lib.tensor(x, dtype=lib.float16, requires_grad=True)
        wt = lib.tensor(w, dtype=lib.float32, requires_grad=True)
        bt = lib.tensor(b, dtype=lib.float32, requires_grad=True)
        y = lib.nn.functional.layer_norm(xt, (8,), wt, bt)
        y.backward(lib.tensor(np.cos(np.arange(48.)).reshape(6, 8), dtype=lib.float16))
        res.append([str(y.dtype), str(xt.grad.dtype), str(wt.grad.dtype)] +
                   [a.detach().float().numpy() for a in (y, xt.grad, wt.grad, bt.grad)])
    for r in res:
        assert [s.split('.')[-1] for s in r[:3]] == ['float16', 'float16', 'float32']
    for a, b in zip(res[0][3:], res[1][3:]):
        np.testing.assert_allclose(b, a, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('scale', [1.0, 40.0])      # 40: the shift by the array's max
def test_softmax_split_by_rows_as_torch(dt, scale, split_all, monkeypatch, kernel_path):
    """softmax along a contiguous last axis and its backward run one span of rows per thread:
    torch's values and gradients, and bit for bit the unsplit result."""
    x = RNG.standard_normal((4, 6, 33)) * scale
    sm_t = lambda t: torch.softmax(t, -1)     # noqa: E731
    sm_e = lambda t: ember.softmax(t, -1)     # noqa: E731
    got = []
    for span in (16, 1 << 18):
        monkeypatch.setattr(_threads, '_MIN_SPAN', span)
        del split_all[:]
        assert_same_values_and_grads(sm_t, sm_e, [x], dt)
        assert bool(split_all) == (span == 16)
        t = ember.from_numpy(x.astype(dt)).requires_grad_()
        y = ember.softmax(t, -1)
        y.backward(ember.from_numpy(np.cos(x).astype(dt)))
        got.append((y.detach().numpy(), t.grad.numpy()))
    for a, b in zip(*got):
        assert np.array_equal(a, b)


def test_softmax_split_falls_back_on_underflowing_rows(split_all, monkeypatch):
    """A row far below the array's max underflows in the shifted-by-max form: the row-max
    path then gives torch's values."""
    monkeypatch.setattr(_threads, '_MIN_SPAN', 16)
    x = RNG.standard_normal((8, 20))
    x[5] -= 500.0
    x[0, 0] = 100.0
    assert_same_values_and_grads(lambda t: torch.softmax(t, 1), lambda t: ember.softmax(t, 1),
                                 [x], np.float32)


def test_parts_see_the_callers_numpy_error_state(split_all):
    """A part on a worker thread runs under the caller's np.errstate (a context variable)."""
    def part(lo, hi):
        return np.geterr()['over']
    with np.errstate(over='raise'):
        assert _threads.run_parallel(part, [(0, 1), (1, 2)]) == ['raise', 'raise']
    with np.errstate(over='ignore'):
        assert _threads.run_parallel(part, [(0, 1), (1, 2)]) == ['ignore', 'ignore']


@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_branch_gradients_added_over_threads_as_torch(dt, split_all, monkeypatch):
    """Two branches' gradients reaching one tensor (a residual connection) are added one span
    of the first axis per thread when large: torch's gradient, and the same bits unsplit."""
    from ember.autograd import graph
    x = RNG.standard_normal((6, 5, 4))

    def block(t):     # torch's and ember's: the same methods
        return (t * 2).tanh() + t.sin() * t

    monkeypatch.setattr(_threads, '_MIN_SPAN', 8)
    grads = []
    for floor in (0, 1 << 62):
        monkeypatch.setattr(graph, '_SPLIT_ADD', floor)
        del split_all[:]
        assert_same_values_and_grads(block, block, [x], dt)
        t = ember.from_numpy(x.astype(dt)).requires_grad_()
        block(t).backward(ember.from_numpy(np.cos(x).astype(dt)))
        grads.append(t.grad.numpy())
        assert bool(split_all) == (floor == 0)
    assert np.array_equal(grads[0], grads[1])


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('dim', [1, 2, -1])
def test_cat_along_a_later_axis_split_as_torch(dt, dim, split_all, monkeypatch):
    """torch.cat along dim > 0 of large contiguous tensors runs over ranges of dim 0, one per
    thread: torch's values, layout and gradients, split or not (a non-contiguous operand
    stays on one thread)."""
    from ember._ops import shape as S
    a, b = RNG.standard_normal((5, 3, 4, 2)), RNG.standard_normal((5, 3, 4, 2))
    monkeypatch.setattr(_threads, '_MIN_SPAN', 8)
    for floor in (0, 1 << 62):
        monkeypatch.setattr(S, '_COPY_SPLIT', floor)
        del split_all[:]
        assert_same_values_and_grads(lambda x, y: torch.cat([x, y * 2], dim),
                                     lambda x, y: ember.cat([x, y * 2], dim), [a, b], dt)
        assert bool(split_all) == (floor == 0)
        del split_all[:]
        assert_same_values_and_grads(lambda x, y: torch.cat([x[:, :, ::2], y[:, :, :2]], dim),
                                     lambda x, y: ember.cat([x[:, :, ::2], y[:, :, :2]], dim),
                                     [a, b], dt)
        assert not split_all



@pytest.mark.parametrize('dt', [np.float32, np.float64])
def test_copies_split_as_torch(dt, split_all, monkeypatch):
    """A reshape that must copy and contiguous() of large tensors copy one range of the first
    axis per thread: torch's values, shapes and gradients, split or not."""
    from ember._ops import shape as S
    x = RNG.standard_normal((4, 3, 5, 6))
    monkeypatch.setattr(_threads, '_MIN_SPAN', 8)
    cases = [(lambda t: t.transpose(1, 2).reshape(4, 15, 6) * 2),
             (lambda t: t.permute(0, 2, 3, 1).contiguous() * 2),
             (lambda t: t[:, :, ::2].reshape(-1) * 2)]
    for op in cases:
        for floor in (0, 1 << 62):
            monkeypatch.setattr(S, '_COPY_SPLIT', floor)
            del split_all[:]
            assert_same_values_and_grads(op, op, [x], dt)
            assert bool(split_all) == (floor == 0)


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('mkn', [(64, 1000, 100), (100, 64, 1000), (300, 50, 40), (40, 50, 300),
                                 (9, 257, 3), (33, 70, 33)])
@pytest.mark.parametrize('layout', ['plain', 'a transposed', 'b transposed'])
def test_split_gemm_in_one_call_has_the_recorded_splits_bits(mkn, layout, dt, split_all,
                                                            monkeypatch):
    """The pieces made and run in C (_gemm_whole) are the recorded pieces (run_deferred),
    exactly: rows, columns or k, and the pieces of k added in the same order."""
    if not _kernels.available() or _threads._cblas(np.dtype(dt)) is None:
        pytest.skip('no compiled kernels or no 64-bit-integer cblas GEMM')
    m, k, n = mkn
    a = RNG.standard_normal((m, k)).astype(dt)
    b = RNG.standard_normal((k, n)).astype(dt)
    if layout == 'a transposed':
        a = np.ascontiguousarray(a.T).T
    elif layout == 'b transposed':
        b = np.ascontiguousarray(b.T).T
    whole = _threads._gemm_split(a, b, m, n)
    assert split_all == [2]
    monkeypatch.setattr(_threads, '_gemm_whole', lambda *args: False)
    recorded = _threads._gemm_split(a, b, m, n)
    assert split_all == [2, 2]
    assert whole.tobytes() == recorded.tobytes()
    tol = dict(rtol=1e-4, atol=1e-3) if dt == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(whole, a @ b, **tol)

