"""torch.backends.cuda without CUDA: is_built() False; matmul and SDPA flags accepted."""
import contextlib
import enum
import warnings

from .. import _flags
from .._flags import no_binding as _no_cuda_binding
from ...nn.attention import (SDPAParams, SDPBackend, can_use_efficient_attention,  # noqa: F401
                             can_use_flash_attention)

__all__ = ['is_built', 'cuFFTPlanCacheAttrContextProp', 'cuFFTPlanCache', 'cuFFTPlanCacheManager',
           'cuBLASModule', 'preferred_linalg_library', 'preferred_blas_library',
           'preferred_rocm_fa_library', 'cufft_plan_cache', 'matmul', 'SDPAParams',
           'enable_cudnn_sdp', 'cudnn_sdp_enabled', 'enable_flash_sdp', 'flash_sdp_enabled',
           'enable_mem_efficient_sdp', 'mem_efficient_sdp_enabled', 'math_sdp_enabled',
           'enable_math_sdp', 'allow_fp16_bf16_reduction_math_sdp',
           'fp16_bf16_reduction_math_sdp_allowed', 'is_flash_attention_available',
           'can_use_flash_attention', 'can_use_efficient_attention', 'can_use_cudnn_attention',
           'sdp_kernel', 'SDPBackend', 'cublas_workspace_size', 'cublaslt_workspace_size',
           'blas_workspace_size', 'is_ck_sdpa_available']


def is_built():
    return False


def _reduction_setting(value, attr):
    """(allow_reduced_precision, allow_splitk) from a bool or a list/tuple of one or two."""
    def ensure_bool(obj, which):
        if isinstance(obj, bool):
            return obj
        raise TypeError(f"{attr} expects a bool for {which}, but got {type(obj)!r}")

    if isinstance(value, bool):
        return value, True
    if isinstance(value, (list, tuple)):
        if not value:
            raise TypeError(f"{attr} expects at least one boolean argument")
        if len(value) > 2:
            raise TypeError(f"{attr} expects at most two boolean arguments")
        reduced = ensure_bool(value[0], 'allow_reduced_precision')
        return (reduced, True) if len(value) == 1 else \
            (reduced, ensure_bool(value[1], 'allow_splitk'))
    raise TypeError(f"{attr} expects a bool or a tuple/list of bools, but got {type(value)!r}")


class cuBLASModule:
    """torch.backends.cuda.matmul: known flags only (an unknown one is an AttributeError);
    allow_tf32 and fp32_precision are the float32 precision tree's (backends._flags)."""
    _reductions = {'allow_fp16_reduced_precision_reduction': [True, True],
                   'allow_bf16_reduced_precision_reduction': [True, True]}
    _plain = {'allow_fp16_accumulation': [False]}

    def __getattr__(self, name):
        if name == 'allow_tf32':
            return _flags.cublas_allow_tf32()
        if name == 'fp32_precision':
            return _flags.get_precision('cuda', 'matmul')
        if name in self._reductions:
            return self._reductions[name][0]
        if name.endswith('_split_k') and name[:-8] in self._reductions:
            return self._reductions[name[:-8]][1]
        if name in self._plain:
            return self._plain[name][0]
        raise AttributeError('Unknown attribute ' + name)

    def __setattr__(self, name, value):
        if name == 'allow_tf32':
            return _flags.set_cublas_allow_tf32(value)
        if name == 'fp32_precision':
            return _flags.set_precision('cuda', 'matmul', value)
        if name in self._reductions:
            self._reductions[name][:] = _reduction_setting(value, name)
            return None
        if name in self._plain:
            self._plain[name][0] = bool(value)
            return None
        raise AttributeError('Unknown attribute ' + name)


class cuFFTPlanCache:
    def __init__(self, device_index):
        self.device_index = device_index

    size = property(lambda self: 0)
    max_size = 0

    def clear(self):
        pass


class cuFFTPlanCacheAttrContextProp:
    def __init__(self, getter, setter):
        self.getter, self.setter = getter, setter


class cuFFTPlanCacheManager:
    __initialized = False

    def __init__(self):
        self.caches = []

    def __getitem__(self, device):
        raise AssertionError('Torch not compiled with CUDA enabled')

    def __getattr__(self, name):
        raise AssertionError('Torch not compiled with CUDA enabled')


cufft_plan_cache = cuFFTPlanCacheManager()
matmul = cuBLASModule()


class _LinalgBackend(enum.IntEnum):
    Default = 0
    Cusolver = 1
    Magma = 2


class _BlasBackend(enum.IntEnum):
    Default = 0
    Cublas = 1
    Cublaslt = 2
    Ck = 3


_linalg = [_LinalgBackend.Default]
_blas = [_BlasBackend.Cublas]


def preferred_linalg_library(backend=None):
    if isinstance(backend, str):
        backend = {'default': _LinalgBackend.Default, 'cusolver': _LinalgBackend.Cusolver,
                   'magma': _LinalgBackend.Magma}[backend.lower()]
    if backend is not None:
        _linalg[0] = backend
    return _linalg[0]


def preferred_blas_library(backend=None):
    if isinstance(backend, str):
        backend = _BLAS_NAMES[backend.lower()]
    if backend is not None:
        _blas[0] = backend
    return _blas[0]


_BLAS_NAMES = {'default': _BlasBackend.Default, 'cublas': _BlasBackend.Cublas,
               'hipblas': _BlasBackend.Cublas, 'cublaslt': _BlasBackend.Cublaslt,
               'hipblaslt': _BlasBackend.Cublaslt, 'ck': _BlasBackend.Ck}


def cublas_workspace_size(size=None):
    raise _no_cuda_binding('_cuda_setCublasWorkspaceSize' if size is not None
                           else '_cuda_getCublasWorkspaceSize')


def cublaslt_workspace_size(size=None):
    raise _no_cuda_binding('_cuda_setCublasLtWorkspaceSize' if size is not None
                           else '_cuda_getCublasLtWorkspaceSize')


def blas_workspace_size(size=None, backend=None):
    if backend is None:
        resolved = preferred_blas_library()
    elif isinstance(backend, str):
        if backend not in _BLAS_NAMES:
            raise RuntimeError('Unknown backend string. Choose from: '
                               + ', '.join(_BLAS_NAMES) + '.')
        resolved = _BLAS_NAMES[backend]
    elif isinstance(backend, _BlasBackend):
        resolved = backend
    else:
        raise RuntimeError('Unknown backend type.')
    if resolved == _BlasBackend.Default:
        resolved = _BlasBackend.Cublas
    if resolved == _BlasBackend.Ck:
        raise RuntimeError('CK backend does not use a workspace.')
    if resolved == _BlasBackend.Cublaslt:
        return cublaslt_workspace_size(size)
    return cublas_workspace_size(size)


def is_ck_sdpa_available():
    return False


def preferred_rocm_fa_library(backend=None):
    return None


_sdp = {'flash': True, 'mem_efficient': True, 'math': True, 'cudnn': True,
        'fp16_bf16_reduction_math': False}


def _sdp_switch(key, getter, setter):
    """The pair of functions that read and set one scaled-dot-product backend flag."""
    def get():
        return _sdp[key]

    def set_(enabled):
        _sdp[key] = bool(enabled)
    get.__name__, get.__qualname__ = getter, getter
    set_.__name__, set_.__qualname__ = setter, setter
    return get, set_


flash_sdp_enabled, enable_flash_sdp = _sdp_switch(
    'flash', 'flash_sdp_enabled', 'enable_flash_sdp')
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _sdp_switch(
    'mem_efficient', 'mem_efficient_sdp_enabled', 'enable_mem_efficient_sdp')
math_sdp_enabled, enable_math_sdp = _sdp_switch('math', 'math_sdp_enabled', 'enable_math_sdp')
cudnn_sdp_enabled, enable_cudnn_sdp = _sdp_switch(
    'cudnn', 'cudnn_sdp_enabled', 'enable_cudnn_sdp')
fp16_bf16_reduction_math_sdp_allowed, allow_fp16_bf16_reduction_math_sdp = _sdp_switch(
    'fp16_bf16_reduction_math', 'fp16_bf16_reduction_math_sdp_allowed',
    'allow_fp16_bf16_reduction_math_sdp')


def is_flash_attention_available():
    return False


def can_use_cudnn_attention(params, debug=False):
    return False


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    warnings.warn('`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context '
                  'manager will be removed. Please see `torch.nn.attention.sdpa_kernel()` for '
                  'the new context manager, with updated signature.', FutureWarning,
                  stacklevel=3)
    saved = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield {}
    finally:
        _sdp.update(saved)
