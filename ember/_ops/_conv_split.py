"""Both cores for a convolution: the batch split into one range of images per thread.

NumPy releases the GIL in its copies and in BLAS, so the im2col copies, GEMMs and layout
changes of two halves of a batch run at the same time on ember's threads (`_threads`), each
with BLAS on its own thread (OpenBLAS's threads gave these small sequential GEMMs almost nothing
and its copies none). With torch.set_num_threads(1), without a BLAS whose threads ember can
hold (`_threads.can_split`), or for small convolutions, everything runs on the calling thread.
Results do not depend on timing: each half is computed alone and partial sums are added in
range order.
"""
import numpy as np

from .._threads import can_split, get_num_threads, run_parallel

# below this many column elements (images x output pixels x kernel taps x channels) the
# handoff costs more than the second core saves
_SPLIT_MIN = 1 << 18


# elements below which an elementwise pass or a batch norm over a convolution's output stays on
# one thread: measured on the resnet yardstick, a batch norm split at 2^17 elements ran slower
# than on one thread (three handoffs to the worker against ~180 us of work), at 2^18 as fast
# and at 2^19 1.2x faster; ReLU alike
_ELEMENTWISE_MIN = 1 << 18


def batch_ranges(n, work, least=None):
    """[(lo, hi), ...] image ranges to run concurrently, or None to stay on this thread (work
    below `least`, by default _SPLIT_MIN)."""
    k = min(get_num_threads(), n)
    if k < 2 or work < (_SPLIT_MIN if least is None else least) or not can_split():
        return None
    return [(n * j // k, n * (j + 1) // k) for j in range(k)]


def elementwise_ranges(n, size):
    """The image ranges of batch_ranges for an op over an (N, ...) array of `size` elements
    that a convolution may have written range by range (batch norm, ReLU, a residual add), or
    None. Each thread then works on the images its core wrote and still has in its cache:
    left on one thread, such an op read half its input from the other core's cache and ran
    slower on two threads than on one. The threshold is lower than run_spans' for that reason.
    """
    return batch_ranges(n, size, _ELEMENTWISE_MIN)


def run_ranges(fn, ranges, deferred=False):
    """[fn(*r) for r in ranges] (each r an image range (lo, hi) and any further arguments),
    the first on this thread, the others on ember's worker threads (deferred: see
    run_parallel)."""
    return run_parallel(fn, ranges, deferred)


def map_ranges(fn, dtype, *arrays, deferred=False):
    """A new array of `dtype` and the arrays' shape filled by fn(out[i:j], *(a[i:j] for a in
    arrays)) over the image ranges of elementwise_ranges, or None (nothing done: the caller
    runs its own unsplit code) unless the arrays are C-contiguous ones of one shape, large
    enough to split (and `dtype` in native byte order: NumPy's own results are)."""
    a = arrays[0]
    if a.size < _ELEMENTWISE_MIN or not dtype.isnative or not all(
            b.shape == a.shape and b.flags.c_contiguous for b in arrays):
        return None
    ranges = elementwise_ranges(a.shape[0], a.size)
    if ranges is None:
        return None
    out = np.empty(a.shape, dtype)
    run_parallel(lambda i, j: fn(out[i:j], *[b[i:j] for b in arrays]), ranges, deferred)
    return out
