"""The intra-op thread count (torch.get_num_threads / set_num_threads) and the threads behind it,
at the bottom layer so that the op kernels which split work across threads can use them.

ember does its own splitting: a kernel hands parts of its work to `run_parallel` (NumPy releases
the GIL in its loops and in BLAS), and every BLAS call ember makes runs on the calling thread
only. OpenBLAS's own pool would otherwise wake for any GEMM above 64^3 multiply-adds and then
spin on the other core for about 0.1 s, taking the core that the other half of a split needs
(a ResNet training step lost a third of its speed to it). The BLAS thread count ember sets is
OpenBLAS's thread-local one (openblas_set_num_threads_local, OpenBLAS 0.3.27 and later, NumPy's
own copy): NumPy calls made by the rest of the program keep their threads. With another BLAS or
an older OpenBLAS nothing is split and BLAS keeps its own threads.
"""
import contextvars
import functools
import glob
import importlib
import os
import threading

import numpy as np

from . import _kernels

_threads = _kernels.THREADS     # [the count]: the kernels' float_op reads it too


def get_num_threads():
    return _threads[0]


def _positive_int(name, n):
    """torch's checks of a thread count: an int (not a bool, float or tensor), above 0."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return int(n)


def set_num_threads(n):
    _threads[0] = _positive_int('set_num_threads', n)


# ---- BLAS on the calling thread --------------------------------------------------------------

_LOCAL = [None]     # OpenBLAS's openblas_set_num_threads_local, or False when there is none
_BLAS_LIB = [None]  # the ctypes library it is in (its cblas GEMMs: _cblas)


def _find_local():
    """openblas_set_num_threads_local of the OpenBLAS NumPy loaded: the one its wheels bundle,
    else (Linux) any OpenBLAS mapped into the process, as a NumPy built on the system's has."""
    found = False
    root = os.path.dirname(np.__file__)
    paths = (glob.glob(os.path.join(root, os.pardir, 'numpy.libs', '*openblas*'))
             + glob.glob(os.path.join(root, '.dylibs', '*openblas*')))
    if not paths and os.path.exists('/proc/self/maps'):
        with open('/proc/self/maps') as maps:
            paths = sorted({line.split(None, 5)[-1].strip() for line in maps
                            if 'openblas' in line.rsplit('/', 1)[-1].lower()})
    if paths:
        try:
            ctypes = importlib.import_module('ctypes')     # lazy: import time
            for path in paths:
                lib = ctypes.CDLL(path)
                fn = getattr(lib, 'openblas_set_num_threads_local', None)
                if fn is not None:
                    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
                    found = fn
                    _BLAS_LIB[0] = lib
                    break
        except (ImportError, OSError):      # no ctypes (some embedded Pythons), unloadable
            pass
    _LOCAL[0] = found
    return found


def blas_single():
    """Hold this thread's BLAS calls to this thread; the token given back goes to
    blas_restore."""
    fn = _LOCAL[0]
    if fn is None:
        fn = _find_local()
    return fn(1) if fn else 1


def blas_restore(token):
    if token != 1:      # 1: already held (a nested hold) or nothing to restore
        _LOCAL[0](token)


def blas_held(fn):
    """fn with BLAS held to the calling thread while it runs (see blas_single)."""
    @functools.wraps(fn)
    def held(*args, **kwargs):
        token = blas_single()
        try:
            return fn(*args, **kwargs)
        finally:
            blas_restore(token)
    return held


def can_split():
    """Whether run_parallel can use more than this thread."""
    if _threads[0] < 2:
        return False
    if _LOCAL[0] is None:
        _find_local()
    return bool(_LOCAL[0])


# ---- the worker threads ------------------------------------------------------------------------

class _Worker:
    """A thread that runs one part at a time, handed over through two locks: about half the
    latency of an executor's queue and futures (10 against 20 us a round trip), which decides
    how small a split can pay."""

    def __init__(self):
        self._go = threading.Lock()
        self._go.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._task = self._result = None
        threading.Thread(target=self._loop, name='ember-worker', daemon=True).start()

    def _loop(self):
        blas_single()       # a worker's BLAS calls stay on the worker, for its whole life
        while True:
            self._go.acquire()
            fn, args = self._task
            self._task = None
            try:
                self._result = (True, fn(*args))
            except BaseException as e:      # noqa: BLE001 - raised again on the caller
                self._result = (False, e)
            self._done.release()

    def start(self, fn, args):
        self._task = (fn, args)
        self._go.release()

    def join(self):
        self._done.acquire()
        (ok, value), self._result = self._result, None
        return ok, value


# (pid, workers, lock): a forked child makes its own. The lock lets one split run at a time:
# a kernel that another split's part calls (or another Python thread meanwhile) runs its parts
# in turn on its own thread instead of waiting for a worker that is waiting for it.
_POOL = [None, None, None]


def run_parallel(fn, parts, deferred=False):
    """[fn(*p) for p in parts]: the first part on this thread, the others on ember's worker
    threads, each with BLAS on its own thread. Results come back in the order of parts.

    deferred: the parts' work is compiled kernels' calls, and their NumPy code reads nothing
    those calls write; they then run on the kernels library's own threads
    (`_kernels.run_deferred`: no GIL between the calls) when it is there."""
    if deferred:
        results = _kernels.run_deferred(fn, parts)
        if results is not None:
            return results
    if _POOL[0] != os.getpid():
        _POOL[:] = [os.getpid(), [], threading.Lock()]
    lock, workers = _POOL[2], _POOL[1]
    if not lock.acquire(blocking=False):
        return [fn(*p) for p in parts]
    token = blas_single()
    _kernels.rest()
    try:
        while len(workers) < len(parts) - 1:
            workers.append(_Worker())
        for w, p in zip(workers, parts[1:]):
            # each part sees the caller's context variables (NumPy's errstate among them)
            w.start(contextvars.copy_context().run, (fn,) + tuple(p))
        try:
            first = fn(*parts[0])
        finally:
            rest = [w.join() for w in workers[:len(parts) - 1]]    # all done before returning
        for ok, value in rest:
            if not ok:
                raise value
        return [first] + [value for _, value in rest]
    finally:
        blas_restore(token)
        lock.release()


# elements per thread below which an elementwise split does not pay (measured on 2 cores: a
# float32 add over 2^18 elements ran in 56 us split against 116 us on one thread)
_MIN_SPAN = 1 << 18


def run_spans(fn, n):
    """fn(lo, hi) over [0, n), one span per thread when the spans are long enough (NumPy
    releases the GIL inside its loops, so big elementwise kernels run on every core, as
    torch's do); small ones stay on the calling thread."""
    k = min(_threads[0], n // _MIN_SPAN)
    if k < 2:
        fn(0, n)
        return
    run_parallel(fn, [(n * j // k, n * (j + 1) // k) for j in range(k)])


def map_rows(fn, rows, per_row):
    """[fn(lo, hi) for each span of rows]: one span of [0, rows) per thread when each span
    holds at least half of _MIN_SPAN elements (per_row a row), else the single span
    (0, rows) on this thread. Half the elementwise threshold pays for kernels of several
    whole-array passes (normalisations, softmax)."""
    k = min(_threads[0], rows, rows * per_row // max(1, _MIN_SPAN // 2))
    if k < 2:
        return [fn(0, rows)]
    return run_parallel(fn, [(rows * j // k, rows * (j + 1) // k) for j in range(k)])


# ---- matrix products ---------------------------------------------------------------------------

# OpenBLAS runs a GEMM of at most 64^3 multiply-adds on one thread: nothing to hold below that
_BLAS_THREADED = 1 << 18
# below this many multiply-adds a split costs more than the second core saves: waking an idle
# worker takes tens of microseconds on a virtual machine, and each part packs the operand it
# shares with the other again (seed 001's 64x1000x100 products ran 20-60% slower split)
_SPLIT_MIN = 1 << 24
_SPLIT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64),
                 np.dtype(np.complex128))


# From this many multiply-adds a product of two float matrices splits over the kernels
# library's threads, one cblas GEMM of NumPy's OpenBLAS per part (_gemm_split): a run costs
# 15-20 us there, and 20-40 more when the other thread has been spinning a while on a
# virtual machine, against 50-100 us with Python threads. The seed MLP's 64x1000x100 products
# (6.4M: one thread 0.16-0.19 ms, 0.12-0.13 split at C level) take its step from 744 to 684 us
# split (session 29; split runs cost 45 us before session 28, when they gained nothing).
_GEMM_SPLIT_MIN = 1 << 22
_GEMM_NAMES = {np.dtype(np.float32): ('ember_gemm_f32', 'scipy_cblas_sgemm64_', 'cblas_sgemm64_'),
               np.dtype(np.float64): ('ember_gemm_f64', 'scipy_cblas_dgemm64_', 'cblas_dgemm64_')}
for _k in _GEMM_NAMES.values():
    _kernels.declare(_k[0], None, *['i64'] * 7, 'p', 'i64', 'p', 'i64', 'p', 'i64')
    # the whole split in one call (src/gemm.c): how 0 rows, 1 columns, 2 along k
    _kernels.declare(_k[0].replace('gemm', 'gemm_split'), None, *['i64'] * 7, 'p', 'i64', 'p',
                     'i64', 'p', 'i64', 'i64', 'i64', 'p')
# split by k when k is at least this many times both m and n (_gemm_split_k)
_SPLIT_K_RATIO = 4
_CBLAS = {}     # dtype: (address of the cblas GEMM, of openblas_set_num_threads_local) or None


def _cblas(dtype):
    """The 64-bit-integer cblas GEMM of dtype in NumPy's OpenBLAS and the address of its
    thread-local count, or None (another BLAS, a 32-bit-integer interface)."""
    if dtype not in _CBLAS:
        found = None
        if _LOCAL[0] is None:
            _find_local()
        lib = _BLAS_LIB[0]
        if lib is not None:
            ctypes = importlib.import_module('ctypes')     # lazy: import time (loaded)
            for name in _GEMM_NAMES[dtype][1:]:
                fn = getattr(lib, name, None)
                if fn is not None:
                    found = (ctypes.cast(fn, ctypes.c_void_p).value,
                             ctypes.cast(_LOCAL[0], ctypes.c_void_p).value)
                    break
        _CBLAS[dtype] = found
    return _CBLAS[dtype]


def _gemm_layout(x):
    """(cblas transpose flag, leading dimension) of a 2-d array as row-major cblas reads
    it: as it is (111) or transposed (112); (None, None) for other strides."""
    (r, c), (s0, s1), it = x.shape, x.strides, x.itemsize
    if x.flags.aligned:
        if s1 == it and s0 % it == 0 and s0 // it >= max(1, c):
            return 111, s0 // it
        if s0 == it and s1 % it == 0 and s1 // it >= max(1, r):
            return 112, s1 // it
    return None, None


def _gemm_split(a, b, m, n):
    """a @ b (2-d, float32 or float64, one dtype) split by rows, by columns or along k over the
    kernels library's threads, or None (nothing ran: no kernels, another BLAS, operands
    cblas cannot read in place, or too few rows and columns)."""
    if not _kernels.available():
        return None
    blas = _cblas(a.dtype)
    ta, lda = _gemm_layout(a)
    tb, ldb = _gemm_layout(b)
    t = _threads[0]
    if blas is None or ta is None or tb is None:
        return None
    gemm, local = blas
    name, k, isz = _GEMM_NAMES[a.dtype][0], a.shape[1], a.itemsize
    # along k when it is long (_gemm_split_k), else by rows when there are more rows than
    # columns (as _split_matmul), else by columns
    how = 2 if k >= _SPLIT_K_RATIO * max(m, n) and k >= 64 * t else \
        0 if m >= 16 * t and (m >= n or n < 16 * t) else 1 if n >= 16 * t else None
    if how is None:
        return None
    out = np.empty((m, n), a.dtype)
    pa, pb, pc = _kernels.addr(a), _kernels.addr(b), _kernels.addr(out)
    if how == 2:
        return _gemm_split_k(name, blas, (pa, ta, lda), (pb, tb, ldb), out, k, t)
    if _gemm_whole(name, (gemm, local, ta, tb, m, n, k, pa, lda, pb, ldb, pc, n), t, how):
        return out
    if how == 0:
        def part(lo, hi):
            _kernels.get(name)(gemm, local, ta, tb, hi - lo, n, k, pa + lo * a.strides[0], lda,
                               pb, ldb, pc + lo * n * isz, n)
        parts = _bounds(m, t)
    else:
        def part(lo, hi):
            _kernels.get(name)(gemm, local, ta, tb, m, hi - lo, k, pa, lda,
                               pb + lo * b.strides[1], ldb, pc + lo * isz, n)
        parts = _bounds(n, t)
    # (on Python threads if the kernels' threads are taken: each part calls the shim itself)
    run_parallel(part, parts, deferred=True)
    return out


def _gemm_whole(name, args, parts, how, scratch=None):
    """A split product's pieces made and run in C in one call (ember_gemm_split_*, src/gemm.c;
    ~15 us less than recording them, run_deferred): `args` the GEMM shim's, `how` 0 rows,
    1 columns, 2 along k (into `scratch`, added in order, as _gemm_split_k's NumPy adds).
    False when that kernel is unavailable: nothing ran."""
    whole = _kernels.get_split(name.replace('gemm', 'gemm_split'))
    if whole is None:
        return False
    whole(*args, parts, how, None if scratch is None else _kernels.addr(scratch))
    return True


def _gemm_split_k(name, blas, a, b, out, k, t):
    """out = a @ b with the inner dimension k split in t parts, summed at the end; a and b are
    (address, cblas transpose flag, leading dimension) (_gemm_layout).

    For a long k (an MLP's first layer, 64x1000 @ 1000x100) each part packs only its share of
    both operands; split by rows or columns the parts would each pack one operand whole."""
    (pa, ta, lda), (pb, tb, ldb) = a, b
    (m, n), isz = out.shape, out.itemsize
    gemm, local = blas
    sums = np.empty((t - 1, m, n), out.dtype)
    if _gemm_whole(name, (gemm, local, ta, tb, m, n, k, pa, lda, pb, ldb, _kernels.addr(out), n),
                   t, 2, sums):
        return out
    dest = [_kernels.addr(out)] + [_kernels.addr(sums) + j * m * n * isz for j in range(t - 1)]
    step_a = isz if ta == 111 else lda * isz    # the next column of a, row of b
    step_b = ldb * isz if tb == 111 else isz
    parts = _bounds(k, t)

    def part(j):
        lo, hi = parts[j]
        _kernels.get(name)(gemm, local, ta, tb, m, n, hi - lo, pa + lo * step_a, lda,
                           pb + lo * step_b, ldb, dest[j], n)
    run_parallel(part, [(j,) for j in range(t)], deferred=True)
    for j in range(t - 1):
        np.add(out, sums[j], out=out)
    return out


def matmul(a, b, _np_matmul=np.matmul):
    """np.matmul(a, b) with BLAS on this thread; a large product of matrices is split by rows
    (or by columns, or by batch) over ember's threads. Each part is its own GEMM, written
    straight into its slice of the result."""
    sa, sb = a.shape, b.shape
    if len(sa) == 2 == len(sb):
        work = sa[0] * sa[1] * sb[1]
    elif len(sa) < 2 or len(sb) < 2:
        return _np_matmul(a, b)
    else:
        work = a.size * sb[-1]      # batch x m x k x n
    if work <= _BLAS_THREADED:
        return _np_matmul(a, b)
    m, n = sa[-2], sb[-1]
    token = blas_single()
    try:
        if (work >= _GEMM_SPLIT_MIN and len(sa) == 2 == len(sb) and type(a) is np.ndarray
                and type(b) is np.ndarray and a.dtype == b.dtype and a.dtype in _GEMM_NAMES
                and _threads[0] > 1):
            r = _gemm_split(a, b, m, n)
            if r is not None:
                return r
        if (work >= _SPLIT_MIN and type(a) is np.ndarray and type(b) is np.ndarray
                and can_split() and a.dtype == b.dtype
                and a.dtype in _SPLIT_DTYPES and sa[-1] == sb[-2]):
            r = _split_matmul(a, b, m, n)
            if r is not None:
                return r
        return np.matmul(a, b)
    finally:
        blas_restore(token)


def _bounds(size, parts):
    return [(size * j // parts, size * (j + 1) // parts) for j in range(parts)]


def _split_matmul(a, b, m, n):
    t = _threads[0]
    if a.ndim == 2 and b.ndim == 2:
        out = np.empty((m, n), a.dtype)
        # rows when there are more rows than columns: each part packs the shared operand
        # again, and split this way it is the smaller one
        if m >= 16 * t and (m >= n or n < 16 * t):
            sl = [(slice(lo, hi),) for lo, hi in _bounds(m, t)]
            run_parallel(lambda s: np.matmul(a[s], b, out=out[s]), sl)
        elif n >= 16 * t:
            sl = [(slice(lo, hi),) for lo, hi in _bounds(n, t)]
            run_parallel(lambda s: np.matmul(a, b[:, s], out=out[:, s]), sl)
        else:
            return None
        return out
    if a.ndim == b.ndim and a.shape[:-2] == b.shape[:-2] and a.size == m * a.shape[-1]:
        # a batch of one (a convolution's groups=1 product): the matrices' own split
        r = _split_matmul(a.reshape(m, -1), b.reshape(b.shape[-2], n), m, n)
        return None if r is None else r.reshape(a.shape[:-1] + (n,))
    if a.ndim == b.ndim and a.shape[:-2] == b.shape[:-2] and a.shape[0] >= t:
        out = np.empty(a.shape[:-1] + (n,), a.dtype)
        sl = [(slice(lo, hi),) for lo, hi in _bounds(a.shape[0], t)]
        run_parallel(lambda s: np.matmul(a[s], b[s], out=out[s]), sl)
        return out
    return None
