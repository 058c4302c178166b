"""torch.backends.mkldnn (oneDNN): reported as torch's CPU wheel reports it; the flags are
accepted (ember's kernels are NumPy's either way)."""
from .. import _flags

__all__ = ['is_available', 'enabled', 'deterministic', 'allow_tf32', 'fp32_precision',
           'set_flags', 'flags', 'VERBOSE_OFF', 'VERBOSE_ON', 'VERBOSE_ON_CREATION', 'verbose']

enabled = True
deterministic = False
allow_tf32 = False
fp32_precision = 'none'
_FLAGS = ('enabled', 'deterministic', 'allow_tf32', 'fp32_precision')
VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2


def is_available():
    return True


class verbose(_flags._Verbose):
    def __init__(self, level):
        self.level = level


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision='none'):
    return _flags.swap(globals(), _FLAGS, (_enabled, _deterministic, _allow_tf32, _fp32_precision))


def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision='none'):
    return _flags.scoped(set_flags, enabled, deterministic, allow_tf32, fp32_precision)
