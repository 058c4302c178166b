"""Both cores for a convolution: the batch split into one range of images per thread.

NumPy releases the GIL in its copies and in BLAS, so the im2col copies, GEMMs and layout
changes of two halves of a batch run at the same time. Each thread's GEMMs are small and
sequential, so BLAS is held to one thread while the halves run (threadpoolctl; OpenBLAS's own
threads gave these shapes almost nothing and its copies none). Without threadpoolctl, with
torch.set_num_threads(1), or for small convolutions, everything runs on the calling thread.
Results do not depend on timing: each half is computed alone and partial sums are added in
range order.
"""
import importlib
import os
import threading

from .._threads import get_num_threads

# below this many column elements (images x output pixels x kernel taps x channels) the
# handoff costs more than the second core saves
_SPLIT_MIN = 1 << 18

_BLAS = [None]      # threadpoolctl controller of the loaded BLAS, False when unavailable
# (pid, executor, lock): a forked child makes its own. The lock lets one split run at a
# time: the BLAS thread count is process-wide, so only its holder changes and restores it; a
# convolution another Python thread runs meanwhile takes its ranges in turn on its own thread
_POOL = [None, None, None]


def _blas():
    if _BLAS[0] is None:
        try:
            tpc = importlib.import_module('threadpoolctl')  # optional extra
            _BLAS[0] = tpc.ThreadpoolController().select(user_api='blas')
        except ImportError:
            _BLAS[0] = False
    return _BLAS[0]


def batch_ranges(n, work):
    """[(lo, hi), ...] image ranges to run concurrently, or None to stay on this thread."""
    k = min(get_num_threads(), n)
    if k < 2 or work < _SPLIT_MIN or not _blas():
        return None
    return [(n * j // k, n * (j + 1) // k) for j in range(k)]


def run_ranges(fn, ranges):
    """[fn(*r) for r in ranges] (each r an image range (lo, hi) and any further arguments),
    the first on this thread, the others on the pool, with BLAS held to one thread meanwhile."""
    if _POOL[0] != os.getpid():
        futures = importlib.import_module('concurrent.futures')     # lazy: import time
        _POOL[:] = [os.getpid(), futures.ThreadPoolExecutor(
            max(1, (os.cpu_count() or 2) - 1), thread_name_prefix='ember-conv'),
            threading.Lock()]
    lock = _POOL[2]
    if not lock.acquire(blocking=False):
        return [fn(*r) for r in ranges]
    try:
        with _blas().limit(limits=1):
            pending = [_POOL[1].submit(fn, *r) for r in ranges[1:]]
            try:
                first = fn(*ranges[0])
            finally:
                rest = [f.result() for f in pending]    # all done before BLAS is reset
            return [first] + rest
    finally:
        lock.release()
