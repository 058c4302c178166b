"""torch.backends.mkldnn (oneDNN): reported as torch's CPU wheel reports it; the flags are kept
as torch keeps them (ember's kernels are NumPy's either way)."""
import sys
import warnings

from .. import _flags
from .._flags import ContextProp, PropModule, _FP32Precision

__all__ = ['is_available', 'is_acl_available', 'enabled', 'deterministic', 'allow_tf32',
           'fp32_precision', 'matmul', 'conv', 'rnn', 'set_flags', 'flags', 'VERBOSE_OFF',
           'VERBOSE_ON', 'VERBOSE_ON_CREATION', 'verbose', 'ContextProp', 'PropModule',
           'MkldnnModule']

VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2


def is_available():
    return True


def is_acl_available():
    return False  # Arm Compute Library: aarch64 builds only


class verbose(_flags._Verbose):
    def __init__(self, level):
        self.level = level


def _get_allow_tf32():
    return None  # torch's CPU build answers None: oneDNN TF32 exists only for Intel GPUs


def _set_allow_tf32(value):
    warnings.warn('TF32 acceleration on top of oneDNN is available for Intel GPUs. The current '
                  'Torch version does not have Intel GPU Support.', UserWarning, stacklevel=3)


_PROPS = (_flags.legacy_flag('mkldnn_enabled'), _flags.legacy_flag('mkldnn_deterministic'),
          (_get_allow_tf32, _set_allow_tf32),
          (_flags.precision_getter('mkldnn', 'all'), _flags.precision_setter('mkldnn', 'all')))


def set_flags(_enabled=None, _deterministic=None, _allow_tf32=None, _fp32_precision='none'):
    return _flags.set_all(_PROPS, (_enabled, _deterministic, _allow_tf32, _fp32_precision))


def flags(enabled=False, deterministic=False, allow_tf32=True, fp32_precision='none'):
    """`with torch.backends.mkldnn.flags(enabled=False): ...`: oneDNN's flags for a block."""
    return _flags.scoped(set_flags, enabled, deterministic, allow_tf32, fp32_precision)


class MkldnnModule(PropModule):
    def is_available(self):
        return is_available()

    enabled = ContextProp(*_PROPS[0])
    deterministic = ContextProp(*_PROPS[1])
    allow_tf32 = ContextProp(*_PROPS[2])
    matmul = _FP32Precision('mkldnn', 'matmul')
    conv = _FP32Precision('mkldnn', 'conv')
    rnn = _FP32Precision('mkldnn', 'rnn')
    # as torch: read from oneDNN's node, written to the generic one
    fp32_precision = ContextProp(_flags.precision_getter('mkldnn', 'all'),
                                 _flags.precision_setter('generic', 'all'))


sys.modules[__name__] = MkldnnModule(sys.modules[__name__], __name__)
