"""Small pieces of torch's top-level namespace: devices, threads, layouts, backends."""
import ctypes
import itertools
import math
import os
import sys

import numpy as np

from . import _dtype, _storage
from .backends import _flags
from ._dtype import from_numpy
from ._ops._util import _operands
from ._ops.creation import eye, tensor
from ._ops.dropout import (alpha_dropout_, dropout_, feature_alpha_dropout_,  # noqa: F401
                           feature_dropout, feature_dropout_)
from ._ops.elementwise import sub
from ._ops.shape import vstack
from ._tensor import Tensor, _check_device, _has_attribute, _wrap, device
from ._tensor import device as _device
from ._tensor_str import _type_name
from ._threads import get_num_threads, set_num_threads, _positive_int
from ._values import (channels_last, channels_last_3d, contiguous_format, layout,
                      memory_format, preserve_format, sparse_coo, strided)
from .autograd.graph import _Anomaly
from .nn import functional as F
from .nn.functional import pad as _pad

__all__ = ['get_num_threads', 'set_num_threads',
           'get_num_interop_threads', 'set_num_interop_threads', 'strided', 'sparse_coo',
           'contiguous_format', 'channels_last', 'channels_last_3d', 'preserve_format',
           'layout', 'memory_format', 'is_storage', 'use_deterministic_algorithms',
           'are_deterministic_algorithms_enabled', 'typename', 'is_nonzero',
           'set_default_device', 'get_default_device']


def get_num_interop_threads():
    return 1


def set_num_interop_threads(n):
    _positive_int('set_num_interop_threads', n)    # ember has no inter-op pool to size


def is_storage(obj):
    return isinstance(obj, (_storage.TypedStorage, _storage.UntypedStorage))


_deterministic = [False, False]  # enabled, warn_only


def use_deterministic_algorithms(mode, *, warn_only=False):
    # ember's CPU kernels are deterministic already: only the flags are kept
    _deterministic[:] = [bool(mode), bool(warn_only)]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic[1]


def set_deterministic_debug_mode(debug_mode):
    """0/'default' (off), 1/'warn' (on, warn only) or 2/'error' (on)."""
    if not isinstance(debug_mode, (int, str)):
        raise TypeError(f'debug_mode must be str or int, but got {type(debug_mode)}')
    if isinstance(debug_mode, str):
        modes = {'default': 0, 'warn': 1, 'error': 2}
        if debug_mode not in modes:
            raise RuntimeError(f'invalid value of debug_mode, expected one of `default`, '
                               f'`warn`, `error`, but got {debug_mode}')
        debug_mode = modes[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f'invalid value of debug_mode, expected 0, 1, or 2, but got '
                           f'{debug_mode}')
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _deterministic[0]:
        return 0
    return 1 if _deterministic[1] else 2


def compiled_with_cxx11_abi():
    return True


def is_vulkan_available():
    return False


def init_num_threads():
    """Nothing to do: ember's thread pools start on demand."""


def get_device_module(device=None):
    """The module of a device type: ember.cpu for 'cpu' (or None: ember has no accelerator)."""
    if isinstance(device, str):
        device = _device(device)
    if device is None:
        name = 'cpu'
    elif isinstance(device, _device):
        name = device.type
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or "
                           f"None")
    module = getattr(sys.modules[__package__], name, None)  # ember.cpu, ...
    if module is None:
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered "
                           f"as 'torch.{name}'.")
    return module


# ---- the sym_* helpers: on plain Python numbers (ember traces no symbolic shapes) ----------

def sym_int(a):
    return int(a)


def sym_float(a):
    return float(a)


def sym_not(a):
    return not a


def _sym_extreme(pick, a, b):
    for v in (a, b):
        if not isinstance(v, (int, float, bool, np.integer, np.floating)):
            raise AssertionError(f"expected (<class 'int'>, <class 'float'>), got {type(v)}")
    r = pick(a, b)
    return float(r) if isinstance(a, (float, np.floating)) or isinstance(
        b, (float, np.floating)) else r


def sym_max(a, b):
    return _sym_extreme(max, a, b)


def sym_min(a, b):
    return _sym_extreme(min, a, b)


def sym_sum(*args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    return sum(args)


def sym_ite(b, t, f):
    if not isinstance(b, bool):
        raise AssertionError(f'expected SymBool or bool, got {type(b)}')
    if type(t) is not type(f):
        raise AssertionError(f'type mismatch: {type(t)} vs {type(f)}')
    return t if b else f


def sym_sqrt(a):
    return math.sqrt(a)


def sym_fresh_size(expr):
    return tensor(expr).item()


def are_deterministic_algorithms_enabled():
    return _deterministic[0]


def typename(obj):
    if isinstance(obj, Tensor):
        return _type_name(obj)
    return type(obj).__module__ + '.' + type(obj).__qualname__


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def set_default_device(device):
    _check_device(device)


def get_default_device():
    return device('cpu')


# ember.testing is a real module (ember/testing/)


# ---- functions torch also exposes at the top level ---------------------------------------------

def _from_functional(names):
    g = globals()
    for n in names:
        g[n] = getattr(F, n)
        __all__.append(n)


_from_functional([
    'adaptive_avg_pool1d', 'adaptive_max_pool1d', 'alpha_dropout', 'avg_pool1d', 'batch_norm',
    'bilinear', 'binary_cross_entropy_with_logits', 'cdist', 'celu', 'celu_', 'channel_shuffle',
    'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
    'cosine_embedding_loss', 'cosine_similarity', 'ctc_loss', 'dropout', 'embedding',
    'embedding_bag', 'feature_alpha_dropout', 'group_norm', 'hardshrink', 'hinge_embedding_loss',
    'instance_norm', 'kl_div', 'layer_norm', 'margin_ranking_loss', 'max_pool1d',
    'max_pool1d_with_indices', 'max_pool2d', 'max_pool3d', 'native_channel_shuffle',
    'pairwise_distance', 'pdist', 'pixel_shuffle', 'pixel_unshuffle', 'poisson_nll_loss',
    'prelu', 'relu_', 'rms_norm', 'rrelu', 'rrelu_', 'selu', 'selu_', 'threshold', 'threshold_',
    'triplet_margin_loss', 'relu', 'sigmoid', 'tanh'])


# the integer-coded ops behind F.grid_sample and F.affine_grid
from ._ops.vision import (grid_sampler, grid_sampler_2d, grid_sampler_3d,  # noqa: E402
                          affine_grid_generator)
__all__ += ['grid_sampler', 'grid_sampler_2d', 'grid_sampler_3d', 'affine_grid_generator']


def _method_forms(names):
    """torch.abs_(x) and friends: the in-place Tensor methods as functions."""
    g = globals()
    for n in names:
        if _has_attribute(n):
            g[n] = (lambda name: lambda input, *a, **k: getattr(input, name)(*a, **k))(n)
            g[n].__name__ = n
            __all__.append(n)


_method_forms([
    'abs_', 'acos_', 'acosh_', 'addmv_', 'arccos_', 'arccosh_', 'arcsin_', 'arcsinh_', 'arctan_',
    'arctanh_', 'asin_', 'asinh_', 'atan_', 'atanh_', 'ceil_', 'clamp_', 'clamp_max_',
    'clamp_min_', 'clip_', 'cos_', 'cosh_', 'deg2rad_', 'detach', 'detach_', 'erf_', 'erfc_',
    'exp2_', 'exp_', 'expm1_', 'fill_', 'fix_', 'floor_', 'frac_', 'gcd_', 'i0_', 'index_put_',
    'lcm_', 'ldexp_', 'log10_', 'log1p_', 'log2_', 'log_', 'logit_', 'nan_to_num_', 'neg_',
    'negative_', 'rad2deg_', 'reciprocal_', 'resize_as_', 'round_', 'rsqrt_', 'sigmoid_',
    'sin_', 'sinc_', 'sinh_', 'sqrt_', 'square_', 'tan_', 'tanh_', 'trunc_', 'xlogy_', 'zero_',
    'put', 'is_signed', 'is_conj', 'is_neg', 'is_inference', 'get_device', 'split_with_sizes',
    'unsafe_chunk', 'unsafe_split'])


def _copy_forms(names):
    """torch.view_copy(x, ...) etc: the view op, then a copy."""
    g = globals()
    for n in names:
        base = n[:-len('_copy')]
        g[n] = (lambda name: lambda input, *a, **k: getattr(Tensor, name)(input, *a, **k)
                .clone())(base)
        g[n].__name__ = n
        __all__.append(n)


_copy_forms(['as_strided_copy', 'detach_copy', 'diagonal_copy', 'expand_copy',
             'permute_copy', 'select_copy', 't_copy', 'transpose_copy', 'unfold_copy',
             'unsqueeze_copy', 'view_copy', 'view_as_real_copy', 'view_as_complex_copy'])


def alias_copy(input):
    return input.clone()


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """input[..., start:end:step, ...] along dim, copied."""
    dim = dim % max(input.dim(), 1)
    return input[(slice(None),) * dim + (slice(start, end, step),)].clone()


def split_copy(tensor, split_size, dim=0):
    return tuple(t.clone() for t in tensor.split(split_size, dim))


def split_with_sizes_copy(input, split_sizes, dim=0):
    return tuple(t.clone() for t in input.split_with_sizes(split_sizes, dim))


def unbind_copy(input, dim=0):
    return tuple(t.clone() for t in input.unbind(dim))


def fill(input, value):
    """A new tensor like input, filled with value (torch.fill, out of place)."""
    return input.clone().fill_(value)


__all__ += ['alias_copy', 'slice_copy', 'split_copy', 'split_with_sizes_copy', 'unbind_copy',
            'fill', 'dropout_', 'alpha_dropout_', 'feature_dropout', 'feature_dropout_',
            'feature_alpha_dropout_']


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return _wrap(np.asarray(np.isin(e, t, invert=invert)))


def result_type(tensor1, tensor2):
    if not isinstance(tensor1, Tensor) and not isinstance(tensor2, Tensor):
        tensor1 = tensor(tensor1)
    return from_numpy(np.dtype(_operands(tensor1, tensor2)[2]))


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def row_stack(tensors, *, out=None):
    return vstack(tensors, out=out)


def constant_pad_nd(input, pad, value=0):
    return _pad(input, pad, 'constant', value)


def combinations(input, r=2, with_replacement=False):
    n = input.shape[0]
    it = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(it(range(n), r)), dtype=np.int64).reshape(-1, r)
    if idx.size == 0:
        return input.new_zeros((0,) if r == 1 else (0, r))
    return input[_wrap(idx)]


def set_float32_matmul_precision(precision):
    # NumPy's float32 matmul is always full precision; the setting is torch.backends' state
    _flags.set_float32_matmul_precision(precision)


def get_float32_matmul_precision():
    return _flags.get_float32_matmul_precision()


def set_default_tensor_type(t):
    name = t if isinstance(t, str) else t.__name__
    name = name.replace('torch.', '')
    table = {'FloatTensor': _dtype.float32, 'DoubleTensor': _dtype.float64,
             'HalfTensor': _dtype.float16, 'BFloat16Tensor': _dtype.bfloat16}
    if name not in table:
        raise TypeError(f"only floating-point types are supported as the default type")
    _dtype.set_default_dtype(table[name])


def set_flush_denormal(mode):
    return False


def is_anomaly_enabled():
    return _Anomaly.enabled


def set_anomaly_enabled(enabled, check_nan=True):
    _Anomaly.enabled, _Anomaly.check_nan = bool(enabled), check_nan


def is_anomaly_check_nan_enabled():
    return _Anomaly.check_nan


_warn_always = [False]


def set_warn_always(b):
    _warn_always[0] = bool(b)


def is_warn_always_enabled():
    return _warn_always[0]




def matrix_exp(A):
    """exp of a matrix by scaling and squaring with a Taylor series (differentiable ops)."""
    norm = float(np.abs(A._data).sum(-1).max()) if A._data.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0.5 else 0
    X = A / (2 ** s)
    I = eye(A.shape[-1], dtype=A.dtype)
    term = I.expand(A.shape) if A._data.ndim > 2 else I
    result = term
    for k in range(1, 18):
        term = term.matmul(X) / k
        result = result + term
    for _ in range(s):
        result = result.matmul(result)
    return result


__all__ += ['isin', 'result_type', 'rsub', 'row_stack', 'constant_pad_nd', 'combinations',
            'set_float32_matmul_precision', 'get_float32_matmul_precision',
            'set_default_tensor_type', 'set_flush_denormal', 'is_anomaly_enabled',
            'set_anomaly_enabled', 'is_anomaly_check_nan_enabled', 'set_warn_always',
            'is_warn_always_enabled', 'matrix_exp',
            'is_deterministic_algorithms_warn_only_enabled', 'set_deterministic_debug_mode',
            'get_deterministic_debug_mode', 'compiled_with_cxx11_abi', 'is_vulkan_available',
            'init_num_threads', 'get_device_module', 'sym_int', 'sym_float', 'sym_not',
            'sym_max', 'sym_min', 'sym_sum', 'sym_ite', 'sym_sqrt', 'sym_fresh_size']


def _tune_malloc():
    """Keep large freed buffers in the process instead of returning them to the OS at once.

    NumPy allocates every op's result afresh; with glibc's defaults each array above 128 KiB
    is a fresh mmap, whose pages are faulted in again on every training step. Raising the
    thresholds (as torch's caching allocator effectively does) removes that cost. Linux/glibc
    only; EMBER_MALLOC_TUNING=0 turns it off.
    """
    if os.environ.get('EMBER_MALLOC_TUNING', '1') == '0' or not sys.platform.startswith('linux'):
        return
    try:
        libc = ctypes.CDLL('libc.so.6')
        m_trim_threshold, m_mmap_threshold = -1, -3
        # at most 128 MiB of freed memory stays with the process (small-memory hosts can
        # opt out); arrays up to 64 MiB are served from the heap instead of fresh mmaps
        libc.mallopt(m_mmap_threshold, 64 << 20)
        libc.mallopt(m_trim_threshold, 128 << 20)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


_tune_malloc()
