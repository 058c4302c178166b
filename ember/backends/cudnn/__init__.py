"""torch.backends.cudnn without CUDA: not available, flags accepted."""
import contextlib

__all__ = ['is_available', 'version', 'is_acceptable', 'set_flags', 'flags', 'enabled',
           'benchmark', 'benchmark_limit', 'deterministic', 'allow_tf32', 'fp32_precision']

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True
fp32_precision = 'none'


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    return False


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None, _fp32_precision='none'):
    global enabled, benchmark, benchmark_limit, deterministic, allow_tf32, fp32_precision
    orig = (enabled, benchmark, benchmark_limit, deterministic, allow_tf32, fp32_precision)
    if _enabled is not None:
        enabled = _enabled
    if _benchmark is not None:
        benchmark = _benchmark
    if _benchmark_limit is not None:
        benchmark_limit = _benchmark_limit
    if _deterministic is not None:
        deterministic = _deterministic
    if _allow_tf32 is not None:
        allow_tf32 = _allow_tf32
    if _fp32_precision is not None:
        fp32_precision = _fp32_precision
    return orig


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision='none'):
    orig = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32,
                     fp32_precision)
    try:
        yield
    finally:
        set_flags(*orig)
