"""The intra-op thread count (torch.get_num_threads / set_num_threads), at the bottom layer so
that the op kernels which split work across threads can read it."""
import os

_threads = [int(os.environ.get('OMP_NUM_THREADS', os.cpu_count() or 1))]


def get_num_threads():
    return _threads[0]


def set_num_threads(n):
    _threads[0] = int(n)  # NumPy's BLAS picks its own thread count; recorded for callers
