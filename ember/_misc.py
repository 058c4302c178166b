"""Small pieces of torch's top-level namespace: devices, threads, layouts, backends."""
import os
import sys
import types

import numpy as np

__all__ = ['cuda', 'mps', 'backends', 'get_num_threads', 'set_num_threads',
           'get_num_interop_threads', 'set_num_interop_threads', 'strided', 'sparse_coo',
           'contiguous_format', 'channels_last', 'channels_last_3d', 'preserve_format',
           'layout', 'memory_format', 'is_storage', 'use_deterministic_algorithms',
           'are_deterministic_algorithms_enabled', 'compile', 'typename', 'is_nonzero',
           'set_default_device', 'get_default_device', 'jit', 'testing']


class layout:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'torch.' + self.name


class memory_format:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'torch.' + self.name


strided = layout('strided')
sparse_coo = layout('sparse_coo')
contiguous_format = memory_format('contiguous_format')
channels_last = memory_format('channels_last')
channels_last_3d = memory_format('channels_last_3d')
preserve_format = memory_format('preserve_format')


def _no_accelerator(*args, **kwargs):
    raise RuntimeError("ember has no accelerator backend: CUDA is not available in this build")


cuda = types.ModuleType('ember.cuda', 'ember has no CUDA backend; is_available() is False.')
cuda.is_available = lambda: False
cuda.device_count = lambda: 0
cuda.is_initialized = lambda: False
cuda.manual_seed = lambda seed: None
cuda.manual_seed_all = lambda seed: None
cuda.synchronize = lambda device=None: None
cuda.empty_cache = lambda: None
cuda.current_device = _no_accelerator
cuda.get_device_name = _no_accelerator
cuda.set_device = _no_accelerator
sys.modules['ember.cuda'] = cuda

mps = types.ModuleType('ember.mps')
mps.is_available = lambda: False
sys.modules['ember.mps'] = mps

backends = types.ModuleType('ember.backends')
for _name in ('cudnn', 'mps', 'cuda', 'mkldnn', 'openmp', 'mkl'):
    _m = types.ModuleType('ember.backends.' + _name)
    _m.is_available = lambda: False
    _m.enabled = False
    _m.deterministic = False
    _m.benchmark = False
    setattr(backends, _name, _m)
backends.mps.is_built = lambda: False
sys.modules['ember.backends'] = backends

_threads = [int(os.environ.get('OMP_NUM_THREADS', os.cpu_count() or 1))]


def get_num_threads():
    return _threads[0]


def set_num_threads(n):
    _threads[0] = int(n)  # NumPy's BLAS picks its own thread count; recorded for callers


def get_num_interop_threads():
    return 1


def set_num_interop_threads(n):
    pass


def is_storage(obj):
    return False


_deterministic = [False]


def use_deterministic_algorithms(mode, *, warn_only=False):
    _deterministic[0] = bool(mode)  # ember's CPU kernels are deterministic already


def are_deterministic_algorithms_enabled():
    return _deterministic[0]


def compile(model=None, **kwargs):
    """torch.compile: ember runs eagerly, so compiling returns the model unchanged."""
    if model is None:
        return lambda m: m
    return model


def typename(obj):
    from ._tensor_str import _type_name
    from ._tensor import Tensor
    if isinstance(obj, Tensor):
        return _type_name(obj)
    return type(obj).__module__ + '.' + type(obj).__qualname__


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def set_default_device(device):
    from ._tensor import _check_device
    _check_device(device)


def get_default_device():
    from ._tensor import device
    return device('cpu')


jit = types.ModuleType('ember.jit')


def _jit_missing(*args, **kwargs):
    raise NotImplementedError("TorchScript (torch.jit) is not supported by ember")


jit.script = jit.trace = jit.load = jit.save = _jit_missing
jit.ignore = jit.unused = jit.export = lambda fn=None, **kw: fn
jit.is_scripting = lambda: False
jit.is_tracing = lambda: False
sys.modules['ember.jit'] = jit

testing = types.ModuleType('ember.testing')


def _assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=False,
                  check_dtype=True, msg=None, **kwargs):
    from ._tensor import Tensor
    a = actual._data if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected._data if isinstance(expected, Tensor) else np.asarray(expected)
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and \
            a.dtype != e.dtype:
        raise AssertionError(f"The values for attribute 'dtype' do not match: "
                             f"{actual.dtype} != {expected.dtype}.")
    if a.shape != e.shape:
        raise AssertionError(f"The values for attribute 'shape' do not match: "
                             f"{tuple(a.shape)} != {tuple(e.shape)}.")
    tols = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
            np.dtype(np.float64): (1e-7, 1e-7)}
    r, t = tols.get(a.dtype, (0, 0))
    rtol = r if rtol is None else rtol
    atol = t if atol is None else atol
    if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan):
        raise AssertionError(msg or "Tensor-likes are not close!")


testing.assert_close = _assert_close
testing.assert_allclose = _assert_close
sys.modules['ember.testing'] = testing
