"""torch.cuda.profiler: the CUDA profiler's start/stop (need CUDA)."""
import contextlib

from . import check_error, cudart

__all__ = ['start', 'stop', 'profile']

DEFAULT_FLAGS = ['gpustarttimestamp', 'gpuendtimestamp', 'gridsize3d', 'threadblocksize',
                 'streamid', 'enableonstart 0', 'conckerneltrace']


def start():
    check_error(cudart().cudaProfilerStart())


def stop():
    check_error(cudart().cudaProfilerStop())


@contextlib.contextmanager
def profile():
    try:
        start()
        yield
    finally:
        stop()
