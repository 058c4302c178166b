"""torch.backends.cudnn without CUDA: not available, flags accepted."""
from .. import _flags

__all__ = ['is_available', 'version', 'is_acceptable', 'set_flags', 'flags', 'enabled',
           'benchmark', 'benchmark_limit', 'deterministic', 'allow_tf32', 'fp32_precision']

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True
fp32_precision = 'none'
_FLAGS = ('enabled', 'benchmark', 'benchmark_limit', 'deterministic', 'allow_tf32',
          'fp32_precision')


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    return False


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None, _fp32_precision='none'):
    # torch sets benchmark_limit only where cuDNN is available: never, here
    return _flags.swap(globals(), _FLAGS, (_enabled, _benchmark, None,
                                           _deterministic, _allow_tf32, _fp32_precision))


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision='none'):
    return _flags.scoped(set_flags, enabled, benchmark, benchmark_limit, deterministic,
                         allow_tf32, fp32_precision)
