"""torch.backends.mkldnn (oneDNN): reported as torch's CPU wheel reports it; the flags are
accepted (ember's kernels are NumPy's either way)."""
import contextlib

__all__ = ['is_available', 'enabled', 'deterministic', 'allow_tf32', 'fp32_precision',
           'set_flags', 'flags', 'VERBOSE_OFF', 'VERBOSE_ON', 'VERBOSE_ON_CREATION', 'verbose']

enabled = True
deterministic = False
allow_tf32 = False
fp32_precision = 'none'
VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2


def is_available():
    return True


class verbose:
    def __init__(self, level):
        self.level = level

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision='none'):
    global enabled, deterministic, allow_tf32, fp32_precision
    orig = (enabled, deterministic, allow_tf32, fp32_precision)
    if _enabled is not None:
        enabled = _enabled
    if _deterministic is not None:
        deterministic = _deterministic
    if _allow_tf32 is not None:
        allow_tf32 = _allow_tf32
    if _fp32_precision is not None:
        fp32_precision = _fp32_precision
    return orig


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision='none'):
    orig = set_flags(enabled, deterministic, allow_tf32, fp32_precision)
    try:
        yield
    finally:
        set_flags(*orig)
