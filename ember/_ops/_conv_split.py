"""Both cores for a convolution: the batch split into one range of images per thread.

NumPy releases the GIL in its copies and in BLAS, so the im2col copies, GEMMs and layout
changes of two halves of a batch run at the same time on ember's threads (`_threads`), each
with BLAS on its own thread (OpenBLAS's threads gave these small sequential GEMMs almost nothing
and its copies none). With torch.set_num_threads(1), without a BLAS whose threads ember can
hold (`_threads.can_split`), or for small convolutions, everything runs on the calling thread.
Results do not depend on timing: each half is computed alone and partial sums are added in
range order.
"""
from .._threads import can_split, get_num_threads, run_parallel

# below this many column elements (images x output pixels x kernel taps x channels) the
# handoff costs more than the second core saves
_SPLIT_MIN = 1 << 18


def batch_ranges(n, work):
    """[(lo, hi), ...] image ranges to run concurrently, or None to stay on this thread."""
    k = min(get_num_threads(), n)
    if k < 2 or work < _SPLIT_MIN or not can_split():
        return None
    return [(n * j // k, n * (j + 1) // k) for j in range(k)]


def run_ranges(fn, ranges):
    """[fn(*r) for r in ranges] (each r an image range (lo, hi) and any further arguments),
    the first on this thread, the others on ember's worker threads."""
    return run_parallel(fn, ranges)
