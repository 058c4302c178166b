"""Tensor creation: tensor(), zeros/ones/full/empty, arange/linspace, eye, *_like, new_*."""
import math
import numbers

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap, _check_device, _register_method, tensor_op
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, derivative
from .complex import complex, polar
from ._util import (_with_out, _no_pinned_memory, _size_args, _out, _scalar_to,
                    _overflow_error, _check_storage, _alloc_errors, _write_inplace, _zeros, _quiet,
                    _check_internal_overlap, _check_overlap, _writable, _scalar_kind)
from ._layout import _empty_like_array

__all__ = ['tensor', 'as_tensor', 'asarray', 'from_numpy', 'zeros', 'ones', 'full', 'empty',
           'zeros_like', 'ones_like', 'full_like', 'empty_like', 'arange', 'range', 'linspace',
           'logspace', 'eye', 'scalar_tensor', 'empty_strided', 'complex', 'polar',
           'tril_indices', 'triu_indices', 'FloatTensor', 'DoubleTensor', 'HalfTensor',
           'BFloat16Tensor', 'LongTensor', 'IntTensor', 'ShortTensor', 'CharTensor',
           'ByteTensor', 'BoolTensor', 'is_tensor', 'is_floating_point', 'is_complex',
           'numel', 'frombuffer']


def _np_dtype(dtype):
    return _dtype.to_numpy(dtype) if dtype is not None else None


def _infer_array(data):
    """Nested Python data as an ndarray with torch's dtype inference."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, (bool, np.bool_)):
        return np.asarray(data, dtype=np.bool_)
    if isinstance(data, numbers.Integral):
        if not _INT64_MIN <= data <= _INT64_MAX:
            raise _unpack_overflow()
        return np.asarray(data, dtype=np.int64)
    if isinstance(data, numbers.Real):
        return np.asarray(data, dtype=_dtype._default._np)
    if isinstance(data, numbers.Complex):
        return np.asarray(data, dtype=_dtype._default_complex()._np)
    if isinstance(data, (list, tuple)):
        flat = _flatten_scalars(data)
        try:
            arr = np.array(flat[0] if False else data, dtype=None)
        except ValueError:
            raise ValueError(_ragged_message(data)) from None
        if not flat:
            return np.zeros(arr.shape, dtype=_dtype._default._np)
        seq = _sequence_dtype(flat)
        if (arr.dtype == object or arr.dtype == np.uint64 or arr.dtype.kind != seq.kind) \
                and any(type(x) is int and not _INT64_MIN <= x <= _INT64_MAX for x in flat):
            # Python ints beyond int64 (NumPy made them object, uint64 or float): torch
            # refuses them unless a float among them makes the sequence floating-point
            if seq.kind not in 'fc':
                raise _unpack_overflow()
            return np.array([float(x) if type(x) is int else x for x in flat],
                            dtype=seq).reshape(_nested_shape(data))
        if arr.dtype == object:
            if any(isinstance(x, Tensor) for x in flat):
                arr = np.array([_scalar_of(x) for x in flat]).reshape(_nested_shape(data))
            else:
                raise ValueError(_ragged_message(data))
        return arr.astype(seq, copy=False)
    if hasattr(data, '__array__'):
        return np.asarray(data)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


_PY_KIND = {bool: 0, int: 1, float: 2, complex: 3}


def _sequence_dtype(flat):
    """torch's inference for a sequence: each element's own dtype, promoted together.

    Python scalars give bool/int64/default float/default complex; NumPy scalars and tensors
    keep their dtype (a list of np.int32 is int32, of np.float64 is float64).
    """
    result = None
    seen = set()
    for x in flat:
        t = type(x)
        if t in seen and t in _PY_KIND:
            continue
        seen.add(t)
        if t in _PY_KIND:
            d = _dtype._dtype_for_kind(_PY_KIND[t])
        elif isinstance(x, Tensor):
            d = x.dtype
        elif isinstance(x, np.generic):
            d = _dtype.from_numpy(x.dtype)
        else:
            d = _dtype._dtype_for_kind(_kind(x))
        result = d if result is None else _dtype.promote_types(result, d)
    return result._np


def _scalar_of(x):
    if isinstance(x, Tensor):
        if x._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return x.item()
    return x


def _kind(x):
    if isinstance(x, Tensor):
        return {'b': 0, 'i': 1, 'u': 1, 'f': 2, 'c': 3}.get(x._data.dtype.kind, 2)
    try:
        return _scalar_kind(x)
    except TypeError:
        raise TypeError(f"new(): invalid data type '{type(x).__name__}'") from None


def _flatten_scalars(data):
    out = []
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(reversed(x))
        elif isinstance(x, np.ndarray):
            out.extend(x.reshape(-1).tolist())
        else:
            out.append(x)
    return out


def _nested_shape(data):
    shape = []
    while isinstance(data, (list, tuple)):
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return tuple(shape)


def _ragged_message(data):
    shape = _nested_shape(data)
    # find the first ragged level for torch's message
    def walk(x, dim):
        if dim >= len(shape) or not isinstance(x, (list, tuple)):
            return None
        for y in x:
            if isinstance(y, (list, tuple)):
                if dim + 1 < len(shape) and len(y) != shape[dim + 1]:
                    return f"expected sequence of length {shape[dim + 1]} at dim {dim + 1} " \
                           f"(got {len(y)})"
                r = walk(y, dim + 1)
                if r:
                    return r
        return None
    return walk(data, 0) or "expected a sequence of equal-length sequences"


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _is_python_data(data):
    return isinstance(data, (list, tuple, int, float)) and not isinstance(data, Tensor)


def _unpack_overflow():
    return ValueError("Overflow when unpacking long long")


def _checked_int_array(data, target):
    """Python data as an array of integer dtype `target`, with torch.tensor()'s checks: an
    int beyond int64 or a float/int that does not fit the type raises; negative ints wrap
    into an unsigned type."""
    arr = _infer_array(data)  # int64 / float / bool, or raises for ints beyond int64
    if arr.dtype.kind == 'f':
        if arr.size:
            info = np.iinfo(target)
            finite = np.isfinite(arr).all()
            if not finite or arr.min() < info.min or arr.max() > info.max:
                raise _overflow_error(target, cpp=False)
        return arr.astype(target)
    if arr.dtype.kind in 'iu' and target != arr.dtype and arr.size:
        info = np.iinfo(target)
        lo = info.min if target.kind == 'i' else -int(info.max)
        if int(arr.min()) < lo or int(arr.max()) > info.max:
            raise _overflow_error(target, cpp=False)
    return arr.astype(target)


def _flat_list_array(data):
    """tensor([1.0, 2.0]) and tensor([1, 2]): a flat list of Python floats (the default dtype)
    or of ints within int64 (int64) straight to NumPy; None for anything else, which goes
    through the general inference."""
    if not data:
        return None
    kind = data[0].__class__
    if kind is float:
        for x in data:
            if x.__class__ is not float:
                return None
        return np.array(data, _dtype._default._np)
    if kind is int:
        for x in data:
            if x.__class__ is not int or not _INT64_MIN <= x <= _INT64_MAX:
                return None
        return np.array(data, np.int64)
    return None


@_no_pinned_memory
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    _check_device(device)
    if dtype is None and data.__class__ is list:
        arr = _flat_list_array(data)
        if arr is not None:
            t = _wrap(arr)
            if requires_grad:
                _factory_requires_grad(t)
            return t
    target = _np_dtype(dtype)
    if target is not None and target.kind in 'iu' and target != np.uint64 and \
            _is_python_data(data):
        # torch checks each Python number against the integer type (no silent wrap)
        arr = _checked_int_array(data, target)
    elif dtype is not None and isinstance(data, (list, tuple)) and not target.kind == 'b':
        # straight to the target dtype: no detour through the default float type
        try:
            arr = np.array(data, dtype=target)
        except (ValueError, TypeError):
            arr = _infer_array(data).astype(target)
    elif target is not None and target.kind in 'fc' and isinstance(data, numbers.Number) \
            and not isinstance(data, (np.generic, Tensor)):
        arr = np.array(data, dtype=target)
    else:
        arr = _infer_array(data)
    if dtype is not None:
        arr = arr.astype(target, copy=False)
    else:
        arr = np.array(arr, copy=True)
        if arr.dtype not in _dtype._FROM_NP:
            _dtype.from_numpy(arr.dtype)  # raises torch's TypeError
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    t = _wrap(arr)
    if requires_grad:
        _factory_requires_grad(t)
    return t


def as_tensor(data, dtype=None, device=None):
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        if dtype is None or data.dtype == _np_dtype(dtype):
            _dtype.from_numpy(data.dtype)
            return _wrap(data)
        return _wrap(data.astype(_np_dtype(dtype)))
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = t.clone()
    if requires_grad:
        t.requires_grad_()
    return t


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy(ndarray.dtype)
    return _wrap(ndarray)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    return _wrap(np.frombuffer(buffer, dtype=_np_dtype(dtype), count=count, offset=offset))


def _factory_requires_grad(t):
    if t._data.dtype.kind not in 'fc' and t._data.dtype.name != 'bfloat16':
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    t.requires_grad = True


def _make(fn, size, dtype, device, requires_grad, out=None, default=None, size_kw=None):
    _check_device(device)
    if size_kw is not None:
        if size:
            raise TypeError("got multiple values for argument 'size'")
        size = (size_kw,)
    name = getattr(fn, '__name__', '')
    shape = _size_args(size, {'zeros': 'zeros', 'ones': 'ones', '<lambda>': 'full'}.get(
        name, 'empty'))
    for s in shape:
        if s < 0:
            name = getattr(fn, '__name__', '')
            raise RuntimeError(f"{name}: Dimension size must be non-negative." if name in (
                'zeros', 'ones') else f"Trying to create tensor with negative dimension {s}: "
                f"{list(shape)}")
    d = _np_dtype(dtype) if dtype is not None else (default or _dtype._default._np)
    _check_storage(shape, d)
    t = _wrap(fn(shape, d))
    if out is not None:
        return _out(out, t)
    if requires_grad:
        _factory_requires_grad(t)
    return t


@_no_pinned_memory
@_alloc_errors
def zeros(*args, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, size=None):
    return _make(np.zeros, args, dtype, device, requires_grad, out, size_kw=size)


@_no_pinned_memory
@_alloc_errors
def ones(*args, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, memory_format=None, size=None):
    return _make(np.ones, args, dtype, device, requires_grad, out, size_kw=size)


@_no_pinned_memory
@_alloc_errors
def empty(*args, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, size=None):
    # zero-filled: "uninitialised" memory that is deterministic costs little and hides nothing
    return _make(_zeroed, args, dtype, device, requires_grad, out, size_kw=size)


def _zeroed(shape, dtype):
    return np.zeros(shape, dtype)


@_no_pinned_memory
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        return fill_value._data.dtype
    return _dtype._dtype_for_kind(_kind(fill_value))._np


@_no_pinned_memory
@_alloc_errors
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    d = _np_dtype(dtype) if dtype is not None else _fill_dtype(fill_value)
    fill_value = _scalar_to(fill_value, np.dtype(d))
    return _make(lambda s, dt: np.full(s, fill_value, dtype=dt), (tuple(size),), None, device,
                 requires_grad, out, default=d)


@_no_pinned_memory
def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    return full((), s, dtype=dtype or _dtype._default, device=device,
                requires_grad=requires_grad)


def _like(fn, input, dtype, requires_grad, device=None, memory_format=None):
    _check_device(device)
    d = _np_dtype(dtype) if dtype is not None else input._data.dtype
    _check_storage(input._data.shape, d)
    arr = fn(input._data.shape, d)
    if not input._data.flags.c_contiguous or memory_format is not None:
        out = _empty_like_array(input._data, d, memory_format)
        out[...] = arr
        arr = out
    t = _wrap(arr)
    if requires_grad:
        _factory_requires_grad(t)
    return t


def _filled_like(name, fill):
    """zeros_like, ones_like, empty_like (zeros: ember's uninitialised memory)."""
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None):
        return _like(fill, input, dtype, requires_grad, device, memory_format)
    like.__name__ = like.__qualname__ = name
    return _no_pinned_memory(_alloc_errors(like))


zeros_like = _filled_like('zeros_like', np.zeros)
ones_like = _filled_like('ones_like', np.ones)
empty_like = _filled_like('empty_like', np.zeros)


@_no_pinned_memory
@_alloc_errors
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    fill_value = _scalar_to(fill_value, _np_dtype(dtype) if dtype is not None
                            else input._data.dtype)
    return _like(lambda s, d: np.full(s, fill_value, dtype=d), input, dtype, requires_grad,
                 device, memory_format)


def _cfmt(x):
    """A number as C++'s default stream output prints it (what torch's messages show)."""
    return f"{x:g}" if isinstance(x, float) else str(x)


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


@_alloc_errors
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    _check_device(device)
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                     for v in (start, end, step))
        dt = np.dtype(np.int64) if is_int else _dtype._default._np
    else:
        dt = _np_dtype(dtype)
    # torch converts the bounds to the result type with its checked cast
    start, end, step = (_scalar_to(v, np.dtype(np.int64)) if dt.kind in 'iu' else v
                        for v in (start, end, step))
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {_cfmt(start)} -> {_cfmt(end)}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    size = (end - start) / step
    if not 0 <= math.ceil(size) <= (1 << 63) - 1:
        raise RuntimeError("invalid size, possible overflow?")
    n = max(0, math.ceil(size))
    _check_storage((n,), dt)
    if dt.kind in 'iu':
        r = (start + step * np.arange(n, dtype=np.int64)).astype(dt)
    else:
        # computed in double as torch does, then cast
        r = (start + step * np.arange(n, dtype=np.float64)).astype(dt)
    t = _wrap(r)
    if requires_grad:
        _factory_requires_grad(t)
    return _out(out, t) if out is not None else t


@_alloc_errors
@_with_out
def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False):
    if end is None:
        start, end = 0, start
    dt = _np_dtype(dtype) if dtype is not None else _dtype._default._np
    n = int((end - start) // step) + 1
    _check_storage((n,), dt)
    t = _wrap((start + step * np.arange(n, dtype=np.float64)).astype(dt))
    if requires_grad:
        _factory_requires_grad(t)
    return t


def _split(a):
    """Veltkamp's split of float64 a into two halves of 26 bits (hi + lo == a exactly)."""
    c = a * 134217729.0  # 2**27 + 1
    hi = c - (c - a)
    return hi, a - hi


def _fma(a, b, c):
    """a * b + c rounded once (float64 arrays), as a fused multiply-add: the exact product's
    error (Dekker) and the sum's error (Knuth's two-sum) are added back before the last
    rounding."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    p_err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    bb = s - p
    s_err = (p - (s - bb)) + (c - bb)
    return s + (p_err + s_err)


@_alloc_errors
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    _check_device(device)
    start, end = _num(start), _num(end)
    dt = _np_dtype(dtype) if dtype is not None else _dtype._default._np
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    _check_storage((steps,), dt)
    # torch fills the first half from start and the second half from end (symmetric rounding),
    # each point one fused multiply-add (a single rounding), in the result's float type
    if steps == 1:
        r = np.array([start], dtype=np.float64)
    else:
        ft = np.float32 if dt == np.float32 else np.float64
        s, e = ft(start), ft(end)
        step = np.float64((e - s) / ft(steps - 1))
        i = np.arange(steps, dtype=np.float64)
        half = steps // 2
        r = np.where(i < half, _fma(step, i, np.float64(s)), _fma(-step, steps - 1 - i,
                                                                  np.float64(e)))
    if dt.kind in 'iu':
        r = np.trunc(r)
    t = _wrap(np.asarray(r).astype(dt))
    if requires_grad:
        _factory_requires_grad(t)
    return _out(out, t) if out is not None else t


@_alloc_errors
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    dt = _np_dtype(dtype) if dtype is not None else _dtype._default._np
    e = linspace(start, end, steps, dtype=_dtype.float64)._data
    t = _wrap(np.power(base, e).astype(dt))
    if requires_grad:
        _factory_requires_grad(t)
    return _out(out, t) if out is not None else t


@_alloc_errors
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    _check_device(device)
    if m is None:
        m = n
    dt = _np_dtype(dtype) if dtype is not None else _dtype._default._np
    _check_storage((n, m), dt)
    t = _wrap(np.eye(n, m, dtype=dt))
    if requires_grad:
        _factory_requires_grad(t)
    return _out(out, t) if out is not None else t


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    r, c = np.tril_indices(row, offset, col)
    return _wrap(np.stack([r, c]).astype(_np_dtype(dtype) if dtype else np.int64))


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    r, c = np.triu_indices(row, offset, col)
    return _wrap(np.stack([r, c]).astype(_np_dtype(dtype) if dtype else np.int64))


@tensor_op
def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input._data.size


# ---- legacy typed constructors: torch.FloatTensor([1, 2]), torch.LongTensor(3) ---------------

class _LegacyMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == _dtype.to_numpy(cls._dtype) \
            and not obj._sparse  # a sparse one is a torch.sparse.FloatTensor

    def __call__(cls, *args, device=None):
        _check_device(device)
        t = Tensor.__new__(Tensor)
        Tensor.__init__(t, *args, dtype=cls._dtype)
        if len(args) == 1 and not isinstance(args[0], (int, np.integer, tuple)):
            data = args[0]
            if isinstance(data, Tensor):
                if data._data.dtype != _dtype.to_numpy(cls._dtype):
                    raise TypeError(f"expected {cls._dtype!r} (got {data.dtype!r})")
                return data
            arr = _infer_array(data) if not isinstance(data, np.ndarray) else data
            t._data = np.array(arr, dtype=_dtype.to_numpy(cls._dtype))
        return t


def _legacy_class(name, dt):
    return _LegacyMeta(name, (), {'_dtype': dt, '__module__': 'torch'})


FloatTensor = _legacy_class('FloatTensor', _dtype.float32)
DoubleTensor = _legacy_class('DoubleTensor', _dtype.float64)
HalfTensor = _legacy_class('HalfTensor', _dtype.float16)
BFloat16Tensor = _legacy_class('BFloat16Tensor', _dtype.bfloat16)
LongTensor = _legacy_class('LongTensor', _dtype.int64)
IntTensor = _legacy_class('IntTensor', _dtype.int32)
ShortTensor = _legacy_class('ShortTensor', _dtype.int16)
CharTensor = _legacy_class('CharTensor', _dtype.int8)
ByteTensor = _legacy_class('ByteTensor', _dtype.uint8)
BoolTensor = _legacy_class('BoolTensor', _dtype.bool)
_register_method('_legacy_dtype', None, __name__)  # a plain tensor is of no legacy class
for _c in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor,
           ShortTensor, CharTensor, ByteTensor, BoolTensor):
    _c._legacy_dtype = _c._dtype


# ---- Tensor methods: new_*, fill_, zero_, copy_ -----------------------------------------------

@tensor_op(name='new_tensor')
def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    arr = _infer_array(data)
    t = _wrap(np.array(arr, dtype=_np_dtype(dtype) if dtype else self._data.dtype))
    if requires_grad:
        _factory_requires_grad(t)
    return t


def _new_factory(fn):
    def op(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
           pin_memory=False):
        return fn(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)
    return op


tensor_op(_new_factory(zeros), name='new_zeros')
tensor_op(_new_factory(ones), name='new_ones')
tensor_op(_new_factory(empty), name='new_empty')


@tensor_op(name='new_full')
def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device,
                requires_grad=requires_grad)


@derivative
def FillBackward0(grad):
    return _zeros(grad)


@derivative
def FillBackward1(grad):  # fill_ with a 0-d value tensor
    return _zeros(grad), grad.sum()


@tensor_op(name='fill_')
def _fill_(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        # torch fills from a tensor through a copy (which refuses an expanded self) but
        # from a number straight into memory (which does not)
        _check_internal_overlap(self._data)
        if _State.enabled and (self._requires_grad or value._requires_grad):
            res = _record(FillBackward1, np.full(self._data.shape, value._data,
                                                 self._data.dtype), (self, value))
            return _write_inplace(self, res)
        value = value._data
    else:
        value = _scalar_to(value, self._data.dtype)
    if _State.enabled and self._requires_grad:
        return _write_inplace(self, _record(FillBackward0, np.full(self._data.shape, value,
                                                                   self._data.dtype), (self,)))
    _writable(self._data).fill(value)
    self._vc.value += 1
    return self


@tensor_op(name='zero_')
def _zero_(self):
    return _fill_(self, 0)


@derivative
def CopyBackwards(grad, src_dtype):
    return _zeros(grad), grad.to(src_dtype)


@tensor_op(name='copy_')
def _copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        src = tensor(src)
    _check_overlap(self, src)
    try:
        shape = np.broadcast_shapes(src._data.shape, self._data.shape)
    except ValueError:
        shape = None
    if shape != self._data.shape:
        raise RuntimeError(
            f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match "
            f"the size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at "
            f"non-singleton dimension {max(self._data.ndim, src._data.ndim) - 1}")
    if _State.enabled and (src._requires_grad or self._requires_grad):
        arr = np.empty_like(self._data)
        np.copyto(arr, src._data, casting='unsafe')
        return _write_inplace(self, _record(CopyBackwards, arr, (self, src), src_dtype=src.dtype))
    np.copyto(self._data, src._data, casting='unsafe')
    self._vc.value += 1
    return self


@derivative
def ToCopyBackward0(grad, src_dtype):
    return grad.to(src_dtype)


@tensor_op
def _to_dtype(self, dtype):
    """Tensor.to's conversion to another dtype (always a copy), differentiable when the target
    is a floating or complex dtype."""
    # torch casts nan/inf to integers silently; NumPy would warn
    src = _dtype._float8_source(self._data, dtype) if dtype in _dtype._FLOAT8 else self._data
    arr = _quiet(src.astype, _dtype.to_numpy(dtype))
    if self._requires_grad and (dtype.is_floating_point or dtype.is_complex):
        return _record(ToCopyBackward0, arr, (self,), src_dtype=self.dtype)
    return _wrap(arr)


