"""torch.backends.cudnn without CUDA: not available; the flags are kept as torch keeps them."""
import sys

from .. import _flags
from .._flags import ContextProp, PropModule, _FP32Precision

__all__ = ['is_available', 'version', 'is_acceptable', 'set_flags', 'flags', 'enabled',
           'benchmark', 'benchmark_limit', 'deterministic', 'allow_tf32', 'fp32_precision',
           'depthwise_kernel', 'conv', 'rnn', 'ContextProp', 'PropModule', 'CudnnModule']

# (getter, setter) of each flag, in set_flags' order (benchmark_limit: None, see there)
_PROPS = (_flags.legacy_flag('cudnn_enabled'), _flags.legacy_flag('cudnn_benchmark'), None,
          _flags.legacy_flag('cudnn_deterministic'),
          (_flags.cudnn_allow_tf32, _flags.set_cudnn_allow_tf32),
          (_flags.precision_getter('cuda', 'all'), _flags.precision_setter('cuda', 'all')),
          _flags.legacy_flag('cudnn_depthwise_kernel'))


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    # False before any warning: cuDNN only takes CUDA tensors, and ember has none
    return False


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None, _fp32_precision='none', _depthwise_kernel=None):
    # benchmark_limit is read and set only where cuDNN is available: never, here
    return _flags.set_all(_PROPS, (_enabled, _benchmark, None, _deterministic, _allow_tf32,
                                   _fp32_precision, _depthwise_kernel))


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision='none', depthwise_kernel='auto'):
    """`with torch.backends.cudnn.flags(enabled=False): ...`: cuDNN's flags for a block."""
    return _flags.scoped(set_flags, enabled, benchmark, benchmark_limit, deterministic,
                         allow_tf32, fp32_precision, depthwise_kernel)


class CudnnModule(PropModule):
    enabled = ContextProp(*_PROPS[0])
    benchmark = ContextProp(*_PROPS[1])
    benchmark_limit = None  # a property only where cuDNN is available
    deterministic = ContextProp(*_PROPS[3])
    allow_tf32 = ContextProp(*_PROPS[4])
    conv = _FP32Precision('cuda', 'conv')
    fp32_precision = ContextProp(*_PROPS[5])
    depthwise_kernel = ContextProp(*_PROPS[6])


sys.modules[__name__] = CudnnModule(sys.modules[__name__], __name__)

from . import rnn  # noqa: E402,F401
