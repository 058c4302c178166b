"""torch.backends.cuda without CUDA: is_built() False; matmul and SDPA flags accepted."""
import contextlib
import enum
import warnings

__all__ = ['is_built', 'cuFFTPlanCacheAttrContextProp', 'cuFFTPlanCache', 'cuFFTPlanCacheManager',
           'cuBLASModule', 'preferred_linalg_library', 'preferred_blas_library',
           'preferred_rocm_fa_library', 'cufft_plan_cache', 'matmul', 'SDPAParams',
           'enable_cudnn_sdp', 'cudnn_sdp_enabled', 'enable_flash_sdp', 'flash_sdp_enabled',
           'enable_mem_efficient_sdp', 'mem_efficient_sdp_enabled', 'math_sdp_enabled',
           'enable_math_sdp', 'allow_fp16_bf16_reduction_math_sdp',
           'fp16_bf16_reduction_math_sdp_allowed', 'is_flash_attention_available',
           'can_use_flash_attention', 'can_use_efficient_attention', 'can_use_cudnn_attention',
           'sdp_kernel']


def is_built():
    return False


class cuBLASModule:
    """torch.backends.cuda.matmul: known flags only (an unknown one is an AttributeError)."""
    _defaults = {'allow_tf32': False, 'allow_fp16_reduced_precision_reduction': True,
                 'allow_bf16_reduced_precision_reduction': True,
                 'allow_fp16_accumulation': False, 'fp32_precision': 'none'}

    def __init__(self):
        object.__setattr__(self, '_values', dict(self._defaults))

    def __getattr__(self, name):
        values = object.__getattribute__(self, '_values')
        if name in values:
            return values[name]
        raise AttributeError(f'Unknown attribute {name}')

    def __setattr__(self, name, value):
        if name not in self._values:
            raise AttributeError(f'Unknown attribute {name}')
        self._values[name] = value


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
        backend = {'cublas': _BlasBackend.Cublas, 'cublaslt': _BlasBackend.Cublaslt,
                   'hipblaslt': _BlasBackend.Cublaslt, 'ck': _BlasBackend.Ck,
                   'default': _BlasBackend.Default}[backend.lower()]
    if backend is not None:
        _blas[0] = backend
    return _blas[0]


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


class SDPAParams:
    def __init__(self, *args, **kwargs):
        self.args = args


def can_use_flash_attention(params, debug=False):
    return False


def can_use_efficient_attention(params, debug=False):
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
