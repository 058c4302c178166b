"""torch.mps.profiler: Metal's OS-signpost profiler and GPU-trace capture (need MPS)."""
import contextlib

from ..backends._flags import no_binding

__all__ = ['start', 'stop', 'profile', 'metal_capture', 'is_metal_capture_enabled',
           'is_capturing_metal']


def start(mode='interval', wait_until_completed=False):
    mode.lower().replace(' ', '')
    raise RuntimeError('Cannot execute profilerStartTrace() without MPS backend.')


def stop():
    raise RuntimeError('Cannot execute profilerStopTrace() without MPS backend.')


@contextlib.contextmanager
def profile(mode='interval', wait_until_completed=False):
    try:
        start(mode, wait_until_completed)
        yield
    finally:
        stop()


def is_metal_capture_enabled():
    raise no_binding('_mps_isCaptureEnabled')


def is_capturing_metal():
    raise no_binding('_mps_isCapturing')


@contextlib.contextmanager
def metal_capture(fname):
    # torch's stop in `finally` fails the same way as its start, and its error is the one seen
    raise no_binding('_mps_stopCapture')
    yield
