"""Helpers shared by the tests/ops files: building inputs for both libraries and comparing."""
import numpy as np

import ember

torch = None


def _torch():
    global torch
    if torch is None:
        import torch as _t
        torch = _t
    return torch


def clone_layout(x):
    """A fresh copy of ndarray x with the same strides (non-contiguous stays non-contiguous)."""
    if x.flags.c_contiguous or x.ndim == 0 or x.size == 0:
        return x.copy()
    root = x
    while root.base is not None and isinstance(root.base, np.ndarray):
        root = root.base
    rc = root.copy()
    off = x.__array_interface__['data'][0] - root.__array_interface__['data'][0]
    return np.ndarray(x.shape, x.dtype, buffer=rc, offset=off, strides=x.strides)


def to_lib(lib, x, grad=False, contiguous=False, leaves=None):
    """Arrays -> tensors of `lib` (float ones require grad when asked); lists recursively."""
    if isinstance(x, np.ndarray):
        a = np.array(x, order='C', copy=True) if contiguous else clone_layout(x)
        t = lib.from_numpy(a)
        if grad and a.dtype.kind == 'f':
            t.requires_grad_(True)
            if leaves is not None:
                leaves.append(t)
        return t
    if isinstance(x, list):
        return [to_lib(lib, y, grad, contiguous, leaves) for y in x]
    if isinstance(x, tuple) and any(isinstance(y, np.ndarray) for y in x):
        return tuple(to_lib(lib, y, grad, contiguous, leaves) for y in x)
    return x


def build(lib, sample, grad=False, contiguous=False):
    leaves = []
    args = [to_lib(lib, a, grad, contiguous, leaves) for a in sample.args]
    kwargs = {k: to_lib(lib, v, grad, contiguous, leaves) for k, v in sample.kwargs.items()}
    return args, kwargs, leaves


def is_tensor(x):
    return isinstance(x, (ember.Tensor, _torch().Tensor))


def flat_outputs(o):
    """Every tensor or Python value in an op's output, in order."""
    if is_tensor(o):
        return [o]
    if isinstance(o, (tuple, list)):
        out = []
        for y in o:
            out += flat_outputs(y)
        return out
    return [o]


def np_of(t):
    if isinstance(t, ember.Tensor):
        return t.detach()._data
    return t.detach().numpy()


def tol(dtype_name, atol=None, rtol=None):
    if dtype_name in ('float16', 'bfloat16'):
        return dict(atol=atol or 1e-2, rtol=rtol or 1e-2)
    if dtype_name == 'float32':
        return dict(atol=atol or 1e-5, rtol=rtol or 1e-4)
    return dict(atol=atol or 1e-9, rtol=rtol or 1e-7)


def assert_same(e, t, atol=None, rtol=None, what='output', check_stride=False):
    """ember value e matches torch value t: type, shape, dtype and values."""
    T = _torch()
    if isinstance(t, T.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e)}"
        assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} != {tuple(t.shape)}"
        assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} != {t.dtype}"
        a, b = np_of(e), np_of(t)
        if b.dtype.kind in 'fc':
            np.testing.assert_allclose(a, b, equal_nan=True, err_msg=what,
                                       **tol(b.dtype.name, atol, rtol))
        else:
            np.testing.assert_array_equal(a, b, err_msg=what)
        if check_stride:
            assert e.stride() == t.stride(), f"{what}: stride {e.stride()} != {t.stride()}"
        return
    if isinstance(t, tuple) and type(t).__module__ == 'torch.return_types':
        assert type(e).__name__ == type(t).__name__, \
            f"{what}: return type {type(e).__name__} != {type(t).__name__}"
        for f in ('values', 'indices', 'min', 'max'):
            if hasattr(t, f):
                assert_same(getattr(e, f), getattr(t, f), atol, rtol, f"{what}.{f}")
        return
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"{what}: expected a sequence, got {type(e)}"
        assert type(e) is type(t) or not (type(t) in (tuple, list)), \
            f"{what}: {type(e).__name__} != {type(t).__name__}"
        assert len(e) == len(t), f"{what}: length {len(e)} != {len(t)}"
        for i, (x, y) in enumerate(zip(e, t)):
            assert_same(x, y, atol, rtol, f"{what}[{i}]")
        return
    assert type(e) is type(t), f"{what}: {type(e).__name__} != {type(t).__name__}"
    if isinstance(t, float):
        np.testing.assert_allclose(e, t, equal_nan=True, err_msg=what)
    else:
        assert e == t, f"{what}: {e!r} != {t!r}"


def run_both(fn_e, fn_t):
    """Run both; if torch raises, ember must raise the same exception type."""
    try:
        t = fn_t()
    except Exception as te:  # noqa: BLE001 - any torch error must be mirrored
        try:
            fn_e()
        except Exception as ee:  # noqa: BLE001
            assert isinstance(ee, type(te)) or type(te).__name__ == type(ee).__name__, \
                f"torch raised {type(te).__name__}({te}) but ember raised " \
                f"{type(ee).__name__}({ee})"
            return None, None, te
        raise AssertionError(f"torch raised {type(te).__name__}({te}) but ember did not")
    return fn_e(), t, None
