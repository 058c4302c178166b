"""torch.cuda.nvtx: NVIDIA Tools Extension ranges; not installed in a CPU build."""
import contextlib

__all__ = ['range_push', 'range_pop', 'range_start', 'range_end', 'mark', 'range']


def _fail(*args, **kwargs):
    raise RuntimeError('NVTX functions not installed. Are you sure you have a CUDA build?')


range_push = range_pop = mark = _fail


def range_start(msg):
    # torch's CPU stub lacks this one altogether
    raise AttributeError("'_NVTXStub' object has no attribute 'rangeStartA'")


def range_end(range_id):
    raise AttributeError("'_NVTXStub' object has no attribute 'rangeEnd'")


@contextlib.contextmanager
def range(msg, *args, **kwargs):
    """Push an NVTX range for the block (context manager or decorator)."""
    range_push(msg.format(*args, **kwargs))  # refused: without NVTX the block never runs
    yield
