"""Helpers shared by the op families: operand coercion, dtype rules, in-place writes."""
import functools
import numbers
import warnings

import numpy as np

from .. import _dtype, _kernels
from .._tensor import Tensor, _wrap, _wrap_dim, Size
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, _attach, derivative

__all__ = []

_FLOAT_KINDS = 'fc'


_NP_ALIASES = {'axis': 'dim', 'keepdims': 'keepdim'}


def _np_compat(fn):
    """Accept NumPy's `axis=` / `keepdims=` for `dim=` / `keepdim=`, as torch's argument
    parser does for every native op (d2l writes `A.sum(axis=0, keepdims=True)`)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not kwargs:  # the common call: nothing to rename
            return fn(*args)
        if 'axis' in kwargs or 'keepdims' in kwargs:
            for np_name, name in _NP_ALIASES.items():
                if np_name in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got multiple values for argument "
                                        f"'{name}'")
                    kwargs[name] = kwargs.pop(np_name)
        return fn(*args, **kwargs)
    return wrapper


def _no_pinned_memory(fn):
    """A factory's pin_memory=True, answered as a CPU-only torch does (there is no pinned
    memory allocator without an accelerator)."""
    @functools.wraps(fn)
    def wrapper(*args, pin_memory=False, **kwargs):
        if pin_memory:
            raise RuntimeError("pin_memory=True requires a CUDA or other accelerator backend; no "
                               "pinned memory allocator is available on this system.")
        return fn(*args, **kwargs)
    return wrapper


def _is_tensor(x):
    return isinstance(x, Tensor)


def _scalar_kind(x):
    """0 bool, 1 int, 2 float, 3 complex for a Python/NumPy scalar."""
    if isinstance(x, (bool, np.bool_)):
        return 0
    if isinstance(x, numbers.Integral):
        return 1
    if isinstance(x, numbers.Real):
        return 2
    if isinstance(x, numbers.Complex):
        return 3
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _np_default_float():
    return _dtype._default._np


def _operands(a, b):
    """Two op operands (Tensor or scalar) as arrays of their common torch result dtype.

    Returns (a_array_or_scalar, b_array_or_scalar, result_np_dtype). Python scalars stay
    Python scalars (NumPy treats them as weak, as torch does) unless their category lifts the
    result dtype, in which case the tensor side is cast.
    """
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if not (ta and tb):
        # NumPy arrays take part as tensors of their own dtype, as torch converts them
        if type(a) is np.ndarray:
            a, ta = _wrap(a), True
        if type(b) is np.ndarray:
            b, tb = _wrap(b), True
    if ta and tb:
        ad, bd = a._data, b._data
        if ad.dtype is bd.dtype or ad.dtype == bd.dtype:
            return ad, bd, ad.dtype
        rd = _dtype.result_type_tensors(_dtype.from_numpy(ad.dtype), ad.ndim == 0,
                                        _dtype.from_numpy(bd.dtype), bd.ndim == 0)._np
        if ad.dtype != rd:
            ad = ad.astype(rd)
        if bd.dtype != rd:
            bd = bd.astype(rd)
        return ad, bd, rd
    if ta:
        ad = a._data
        rd = _scalar_result(ad.dtype, b)
        if ad.dtype != rd:
            ad = ad.astype(rd)
        return ad, _np_scalar(b, rd), rd
    if tb:
        bd = b._data
        rd = _scalar_result(bd.dtype, a)
        if bd.dtype != rd:
            bd = bd.astype(rd)
        return _np_scalar(a, rd), bd, rd
    raise TypeError("expected at least one Tensor operand")


def _np_scalar(x, np_dtype):
    """A scalar operand in a form NumPy combines without widening the array's dtype."""
    if type(x) in (int, float, bool, complex):
        if type(x) is int and not -(1 << 63) <= x < (1 << 64):
            # torch unpacks a Python int as int64, or uint64 above that range
            raise OverflowError("can't convert negative int to unsigned" if x < 0 else
                                "int too big to convert")
        if type(x) is int and np_dtype.kind in 'iu':
            info = np.iinfo(np_dtype)
            if not info.min <= x <= info.max:
                # torch wraps out-of-range integer scalars; NumPy would raise
                return np.array(x).astype(np_dtype)
        return x
    if isinstance(x, np.generic):
        return x.item()
    return x


_SCALAR_CACHE = {}


def _scalar_result(np_dtype, scalar):
    kind = _scalar_kind(scalar)
    key = (np_dtype, kind, _dtype._default)
    r = _SCALAR_CACHE.get(key)
    if r is None:
        r = _dtype.result_type_scalar(_dtype.from_numpy(np_dtype), kind)._np
        _SCALAR_CACHE[key] = r
    return r


def _as_array(x):
    return x._data if isinstance(x, Tensor) else x


def _to_float_array(d):
    """Integer/bool inputs of float-valued ops (exp, sqrt, ...) compute in the default dtype."""
    if d.dtype.kind in 'biu':
        return d.astype(_dtype._default._np)
    return d


def _arr(r):
    """ufuncs return NumPy scalars for 0-d inputs; ember always holds ndarrays."""
    return r if type(r) is np.ndarray else np.asarray(r)


def _broadcast_error(a, b):
    sa = a.shape if hasattr(a, 'shape') else ()
    sb = b.shape if hasattr(b, 'shape') else ()
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + tuple(sa)
    pb = (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(
                f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                f"non-singleton dimension {i}")
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast")


def _bcast_errors(fn):
    """NumPy's broadcasting ValueError inside `fn` as torch's RuntimeError (the tensor
    arguments' shapes are checked only once NumPy has failed: the common path pays nothing)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError:
            shapes = [a._data for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
            for i in range(1, len(shapes)):
                try:
                    np.broadcast_shapes(*[x.shape for x in shapes[:i + 1]])
                except ValueError:
                    a = np.broadcast_to(shapes[0], np.broadcast_shapes(
                        *[x.shape for x in shapes[:i]])) if i > 1 else shapes[0]
                    raise _broadcast_error(a, shapes[i]) from None
            raise
    return wrapper


def _dims(dim, ndim):
    """Normalise a dim argument (int, tuple, list or None) to a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        d = _wrap_dim(int(dim), ndim)
        return (d,) if ndim else ()  # a 0-d tensor accepts dim 0 / -1 and has no axis
    if len(dim) == 0:  # torch: an empty dim list reduces over every dim
        return tuple(range(ndim))
    out = tuple(sorted(_wrap_dim(int(d), ndim) for d in dim))
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[[out.count(x) > 1 for x in out].index(True)]} appears "
                           "multiple times in the list of dims")
    return out if ndim else ()


def _size_args(size, name='empty'):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size([2, 3]))."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    out = []
    for i, s in enumerate(size):
        if isinstance(s, Tensor):
            s = int(s)
        elif not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, but "
                            f"found element of type {type(s).__name__} at pos {i}")
        s = int(s)
        if not -(1 << 63) <= s < (1 << 63):
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos "
                            f"{i + 1} with error \"Overflow when unpacking long long\"")
        out.append(s)
    return tuple(out)


# ---- torch's errors for impossible sizes -------------------------------------------------------

def _check_storage(shape, np_dtype):
    """torch's check that a tensor's byte size fits in int64 (before any allocation)."""
    n = 1
    for s in shape:
        n *= int(s)
    if n and n * np.dtype(np_dtype).itemsize >= 1 << 63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes="
                           f"[{', '.join(str(int(s)) for s in shape)}]")


def _oom_error(nbytes):
    return RuntimeError(
        f"[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
        f"memory: you tried to allocate {nbytes} bytes. Error code 12 (Cannot allocate memory)")


def _alloc_errors(fn):
    """A factory whose allocation fails raises torch's RuntimeError, not NumPy's MemoryError
    (or its ValueError for a size beyond what NumPy can even represent)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MemoryError as e:
            raise _oom_error(getattr(e, '_total_size', 0)) from None
        except ValueError as e:
            msg = str(e)
            if 'array is too big' in msg or 'Maximum allowed size exceeded' in msg or \
                    'Maximum allowed dimension exceeded' in msg:
                raise RuntimeError("Storage size calculation overflowed") from None
            raise
    return wrapper


# ---- gradient helpers (used by the formulas declared with @derivative beside each op) ---------
# A gradient that is zero somewhere is built by selection (torch's where / masked_fill /
# threshold_backward / zeros_like), never by multiplying with a 0/1 mask or with 0: an infinite or
# NaN upstream gradient must stay out of the positions that get none (inf * 0 would be NaN).

def _nograph():
    """True when the backward pass itself is not being recorded (create_graph=False)."""
    return not _State.enabled


def _zeros(grad):
    """torch's zeros_like(grad): no graph of its own, even under create_graph."""
    d = grad._data
    return _wrap(np.zeros(d.shape, d.dtype))


def _zeros_like_shape(grad, shape):
    return _wrap(np.zeros(shape, dtype=grad._data.dtype))


_SAME_SIZE_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def _select(g, mask, keep_if, out=None):
    """where(mask == keep_if, g, 0) for a NumPy array g and a boolean mask broadcastable to it
    (written into `out`, of the result's shape and g's dtype, when given).

    For float16/32/64 the bits of g are ANDed with an all-ones or all-zeros integer of the same
    size (1 - mask or 0 - mask): exactly np.where's values (+0.0 where dropped, a NaN or inf
    of g never leaks into a dropped position) at a fraction of its time.
    """
    mask = np.asarray(mask)
    dt = g.dtype
    # the bitwise form pays off from ~2000 elements (its ufuncs cost more to set up)
    ints = _SAME_SIZE_INT.get(dt.itemsize) if dt.kind == 'f' and dt.isnative \
        and g.size > 2048 else None
    if ints is None or mask.dtype != np.bool_:
        # a scalar of g's dtype (cheaper than a 0-d array): np.where keeps that dtype
        zero = dt.type(0) if dt.isnative else np.zeros((), dt)
        r = np.where(mask, g, zero) if keep_if else np.where(mask, zero, g)
        if out is None:
            return r
        out[...] = r
        return out
    if out is None:
        shape = g.shape if mask.shape == g.shape else np.broadcast_shapes(g.shape, mask.shape)
        out = np.empty(shape, dt)
    bits = out.view(ints)
    if keep_if:
        np.subtract(ints(0), mask, out=bits, dtype=ints)   # keep -> -1 (all ones), drop -> 0
    else:
        np.subtract(mask, ints(1), out=bits, dtype=ints)   # drop -> 0, keep -> -1
    np.bitwise_and(g.view(ints), bits, out=bits)
    return out


def _drop(grad, drop):
    """where(drop, 0, grad) for a boolean NumPy array `drop` (broadcastable to grad)."""
    if not _State.enabled:
        return _wrap(_select(grad._data, drop, False))
    return grad.masked_fill(_wrap(np.asarray(drop)), 0)


def _keep(grad, keep):
    """where(keep, grad, 0) for a boolean NumPy array `keep` (broadcastable to grad)."""
    if not _State.enabled:
        return _wrap(_select(grad._data, keep, True))
    return grad.masked_fill(_wrap(~np.asarray(keep)), 0)


def _values(x):
    """The NumPy values of a tensor operand, or the Python scalar itself."""
    return x._data if isinstance(x, Tensor) else x


def _unreduce(grad, shape, axes, keepdim):
    """Give a reduced gradient back its reduced dims (size 1); the engine broadcasts."""
    if axes is None:
        return grad.reshape((1,) * len(shape)) if grad.ndim != len(shape) else grad
    if not keepdim:
        for a in axes:
            grad = grad.unsqueeze(a)
    return grad


def _times(g, s):
    return g if s == 1 else g * s


def _act_c(x, g):
    """A Python constant as an array of the gradient's dtype (float32 stays float32)."""
    return np.asarray(x, dtype=g.dtype)


def _loss_scale(grad, reduction, n):
    """The upstream gradient of a loss, spread over its n elements when reduced by mean."""
    return grad / n if reduction == 'mean' else grad


# ---- in-place writes through views (torch's CopySlices) -----------------------------------------

def _is_basic(idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    for i in idx:
        if isinstance(i, (np.ndarray, list, bool)):
            return False
    return True


@derivative
def SliceBackwardBackward0(grad, idx):
    return grad[idx]


def _embed_slice(grad, shape, idx):
    """zeros(shape) with grad added at idx: the gradient of x[idx] (duplicates accumulate)."""
    g = grad._data
    z = np.zeros(shape, dtype=g.dtype)
    if _is_basic(idx):
        z[idx] = g
    else:
        np.add.at(z, idx, g)
    return _record(SliceBackwardBackward0, z, (grad,), idx=idx)


def _view_positions(base, view):
    """C-order flat indices into `base` of each element of `view` (which shares its memory).

    None when the layout is not one this can describe (negative or unaligned strides).
    """
    item = base.itemsize
    strides = base.strides + view.strides
    if any(st < 0 or st % item for st in strides):
        return None
    span = 1 + sum((n - 1) * st // item for n, st in zip(base.shape, base.strides)) \
        if base.size else 0
    buf = np.full(max(span, 1), -1, np.int64)
    as_strided = np.lib.stride_tricks.as_strided
    slots = as_strided(buf, base.shape, tuple(st // item * 8 for st in base.strides))
    slots[...] = np.arange(base.size, dtype=np.int64).reshape(base.shape)
    off = (view.__array_interface__['data'][0] - base.__array_interface__['data'][0]) // item
    if off < 0 or off >= buf.size and view.size:
        return None
    pos = as_strided(buf[off:], view.shape, tuple(st // item * 8 for st in view.strides))
    if view.size and pos.min() < 0:
        return None
    return pos.copy()


@derivative
def CopySlices(grad, pos):
    g_base = grad.clone()
    g_base._data.reshape(-1)[pos.reshape(-1)] = 0  # overwritten: no gradient to the old value
    return g_base, grad.reshape(-1)[_wrap(pos)]


@derivative('AsStridedBackward0')
def _view_of_base_backward(grad, base_shape, pos):
    n = int(np.prod(base_shape))
    return _embed_slice(grad.reshape(-1), (n,), (pos.reshape(-1),)).reshape(base_shape)


def _rebase_view_inplace(view, result):
    """Write `result` into `view` (a view of `view._base`) and record it on the base.

    The base's history gains a CopySlices node (its old value plus `result` scattered into the
    view's positions); the view then reads its gradient from the new base.
    """
    base = view._base
    if base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    pos = _view_positions(base._data, view._data)
    if pos is None:
        raise NotImplementedError("in-place write through a view with this memory layout")
    if result._data.shape != view._data.shape:
        raise RuntimeError(f"output with shape {list(view._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    # the old base, as an autograd input, before its memory changes
    old = _wrap(base._data)
    old.grad_fn, old._output_nr, old._requires_grad = base.grad_fn, base._output_nr, \
        base._requires_grad
    old._grad_acc = base._grad_acc
    np.copyto(view._data, result._data, casting='unsafe')
    view._vc.value += 1
    _attach(base, CopySlices, (old if old._requires_grad else None, result), pos=pos)
    _attach(view, _view_of_base_backward, (base,), base_shape=base._data.shape, pos=pos)
    return view


# ---- memory overlap of in-place writes (torch's MemoryOverlap checks) ------------------------

_OVERLAP_INTERNAL = ("unsupported operation: more than one element of the written-to tensor "
                     "refers to a single memory location. Please clone() the tensor before "
                     "performing the operation.")
_OVERLAP_PARTIAL = ("unsupported operation: some elements of the input tensor and the "
                    "written-to tensor refer to a single memory location. Please clone() the "
                    "tensor before performing the operation.")


def _internal_overlap(d):
    """torch's has_internal_overlap() == YES: some dim of size > 1 has stride 0."""
    if d.flags.writeable and 0 not in d.strides or not d.size:  # the common case, cheaply
        return False
    return any(s == 0 and n > 1 for n, s in zip(d.shape, d.strides))


def _check_internal_overlap(d):
    if _internal_overlap(d):
        raise RuntimeError(_OVERLAP_INTERNAL)


def _dense(a):
    """torch's is_non_overlapping_and_dense: the elements tile a block of memory exactly."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    expect = a.itemsize
    for s, n in sorted((s, n) for n, s in zip(a.shape, a.strides) if n != 1):
        if s != expect:
            return False
        expect *= n
    return True


def _overlap(a, b):
    """torch's get_overlap_status for ndarrays: 'no', 'full' (the same elements, same
    strides), 'partial', or 'too hard' (a layout with gaps or self-overlap; never refused)."""
    if a is b:
        return 'full'
    if (a.base is None and b.base is None) or not a.size or not b.size or \
            not np.may_share_memory(a, b):
        return 'no'
    if not (_dense(a) and _dense(b)):
        return 'too hard'
    ab, bb = a.__array_interface__['data'][0], b.__array_interface__['data'][0]
    ae, be = ab + a.nbytes, bb + b.nbytes
    if ab == bb and ae == be:
        return 'full' if a.strides == b.strides else 'partial'
    return 'partial' if ab < be and bb < ae else 'no'


def _check_overlap(self, *inputs):
    """What torch's TensorIterator checks before writing into `self`: no internal overlap,
    and no partial overlap with any tensor input (the same memory exactly is fine)."""
    d = self._data
    _check_internal_overlap(d)
    for t in inputs:
        if isinstance(t, Tensor) and _overlap(d, t._data) == 'partial':
            raise RuntimeError(_OVERLAP_PARTIAL)


def _writable(d):
    """d itself, or a view of the same memory NumPy lets us write through: an expanded
    (stride-0) view is read-only in NumPy, but fill_ and masked_fill_ write into it in torch."""
    return d if d.flags.writeable else _as_view(d, d.shape, d.strides)


def _warn_expanded(d, name, example):
    if _internal_overlap(d):
        warnings.warn(f"Use of {name} on expanded tensors is deprecated. Please clone() the "
                      f"tensor before performing this operation. This also applies to advanced "
                      f"indexing e.g. {example}", UserWarning, stacklevel=3)


def _write_inplace(self, result):
    """Store an out-of-place result into `self`, rebasing self's autograd history onto it."""
    _check_internal_overlap(self._data)
    _check_inplace(self)
    node = result.grad_fn
    if node is not None and node._saved and _State.enabled:
        _save_original(node, self)
    if self._base is not None and _State.enabled and (result._requires_grad or
                                                       self._base._requires_grad):
        return _rebase_view_inplace(self, result)
    d = self._data
    r = result._data
    if r.shape != d.shape:
        raise RuntimeError(f"output with shape {list(d.shape)} doesn't match the broadcast "
                           f"shape {list(r.shape)}")
    if r.dtype != d.dtype and not np.can_cast(r.dtype, d.dtype, 'same_kind'):
        raise RuntimeError(f"result type {_TYPE_NAME[r.dtype.kind]} can't be cast to the desired "
                           f"output type {_legacy(d.dtype)}")
    np.copyto(_writable(d), r, casting='unsafe')
    self._vc.value += 1
    if result._requires_grad:
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._requires_grad = True
    return self


def _save_original(node, self):
    """If `node` saved `self` (about to be overwritten), save a copy of its current values
    instead, carrying self's history (torch saves the original self of an in-place op)."""
    saved = node._saved
    values = saved.values() if type(saved) is dict else saved
    for s in values:
        if s is self:
            break
    else:
        return
    orig = _wrap(self._data.copy())
    orig.grad_fn, orig._output_nr, orig._requires_grad = self.grad_fn, self._output_nr, \
        self._requires_grad
    orig._grad_acc = self._grad_acc
    if type(saved) is dict:
        node._saved = {k: orig if s is self else s for k, s in saved.items()}
    else:
        node._saved = tuple(orig if s is self else s for s in saved)
    if node._versions:
        node._versions = [(orig, orig._vc.value) if t is self else (t, v)
                          for t, v in node._versions]


_TYPE_NAME = {'f': 'Float', 'c': 'ComplexFloat', 'i': 'Long', 'u': 'Byte', 'b': 'Bool'}


def _legacy(np_dtype):
    return {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'int64': 'Long',
            'int32': 'Int', 'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte',
            'bool': 'Bool', 'complex64': 'ComplexFloat', 'complex128': 'ComplexDouble',
            'bfloat16': 'BFloat16'}.get(np_dtype.name, np_dtype.name)


def _check_inplace(self, view_op=None):
    """torch refuses in-place changes to leaves that require grad (while grad mode is on), and
    to views made without grad mode (_tensor._link_view). `view_op`: the view that the change
    is made through, as torch names it (Select for `t[0] = v`)."""
    if not (_State.enabled and self._requires_grad):
        return
    if self._no_grad_view:
        fn = self.grad_fn
        if view_op is None and fn is not None:
            view_op = fn.name().rsplit('Backward', 1)[0]
        what = 'A view was created' if view_op is None else (
            f"Output {self._output_nr if fn is not None else 0} of {view_op} is a view of a "
            "view which was created")
        raise RuntimeError(
            f"{what} in no_grad mode and is being modified inplace with grad mode enabled. "
            "Given that this use case is ambiguous and error-prone, it is forbidden. You can "
            "clarify your code by moving both the view and the inplace either both inside the "
            "no_grad block (if you don't want the inplace to be tracked) or both outside (if "
            "you want the inplace to be tracked).")
    base = self._base
    # as torch's check_inplace: a view that requires grad, of a leaf (whether or not the base
    # requires grad: `base.view(...).requires_grad_()` is refused too)
    if base is not None and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if self.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation.")


# a op= b of two float arrays of one shape: the kernels' loop into a (_kernels.float_op)
_FLOAT_INPLACE = {np.add: _kernels.FLOAT_ADD, np.subtract: _kernels.FLOAT_SUB,
                  np.multiply: _kernels.FLOAT_MUL}


def _opmath_scalar(ufunc, input, other):
    """ufunc(input, other) (np.multiply or np.true_divide) for a float16 or bfloat16 tensor and
    a Python number, as torch's mul and div compute it: in float32 with the number as a float32,
    rounded once to the tensor's dtype. NumPy would round the number to the tensor's dtype
    first (a third of the results then differ by an ulp). None for other operands."""
    if isinstance(input, Tensor):
        d, s, reverse = input._data, other, False
    elif isinstance(other, Tensor):
        d, s, reverse = other._data, input, True
    else:
        return None
    if s.__class__ not in (int, float) or d.dtype.itemsize != 2 or \
            d.dtype.name not in ('float16', 'bfloat16') or d.__class__ is not np.ndarray:
        return None
    tok = _NP_ERRSTATE.set(_NP_QUIET)
    try:
        f, c = d.astype(np.float32), np.float32(s)
        return np.asarray(ufunc(c, f) if reverse else ufunc(f, c)).astype(d.dtype)
    finally:
        _NP_ERRSTATE.reset(tok)


def _check_bool_sub(input, other):
    """torch's refusal of a subtraction with a bool operand, a tensor or a Python bool."""
    a = input.__class__ is bool or isinstance(input, Tensor) and input._data.dtype == np.bool_
    b = other.__class__ is bool or isinstance(other, Tensor) and other._data.dtype == np.bool_
    if a and b:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead.")
    if a or b:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _inplace_binary(self, other, ufunc, op_name, outofplace):
    """a op= b: straight into a's memory when no graph is needed, else rebase history."""
    _check_overlap(self, other)
    if ufunc is np.subtract:
        _check_bool_sub(self, other)
    needs_graph = _State.enabled and (
        self._requires_grad or (isinstance(other, Tensor) and other._requires_grad))
    if not needs_graph:
        d = _writable(self._data)  # an empty expanded tensor is read-only in NumPy
        od = other._data if isinstance(other, Tensor) else _np_scalar(other, d.dtype)
        try:
            if isinstance(other, Tensor) and od.dtype != d.dtype:
                rd = _operands(self, other)[2]
                if not np.can_cast(rd, d.dtype, 'same_kind'):
                    raise RuntimeError(
                        f"result type {_legacy(rd)} can't be cast to the desired output type "
                        f"{_legacy(d.dtype)}")
            elif not isinstance(other, Tensor) and d.dtype.kind in 'biu' and \
                    _scalar_kind(other) >= 2 and op_name != 'div':
                raise RuntimeError(f"result type Float can't be cast to the desired output "
                                   f"type {_legacy(d.dtype)}")
            if op_name == 'div' and d.dtype.kind in 'biu':
                raise RuntimeError(f"result type Float can't be cast to the desired output "
                                   f"type {_legacy(d.dtype)}")
            # (a float16/bfloat16 tensor *= or /= a number: in float32, as torch)
            r = _opmath_scalar(ufunc, self, other) \
                if ufunc is np.multiply or ufunc is np.true_divide else None
            op, fop = _FLOAT_INPLACE.get(ufunc), _kernels.float_op
            if r is not None:
                np.copyto(d, r)
            elif op is None or fop is None or fop(op, d, d, od) is None:
                _quiet(ufunc, d, od, out=d, casting='same_kind')
        except ValueError:
            raise _broadcast_error(d, od) from None
        except TypeError as e:
            raise RuntimeError(str(e)) from None
        self._vc.value += 1
        return self
    return _write_inplace(self, outofplace(self, other))


# In-place makers for `tensor_op(inplace=...)`: each turns an out-of-place op into its
# in-place method, and the declaration chooses which.

def _binary_inplace(ufunc):
    """a.op_(b): the ufunc straight into a's memory when no graph is needed (keywords such as
    alpha= go through the out-of-place op), else the rebased history."""
    def maker(fn):
        name = fn.__name__

        def op(self, other, **kw):
            if kw:
                _check_overlap(self, other)
                return _write_inplace(self, fn(self, other, **kw))
            return _inplace_binary(self, other, ufunc, name, fn)
        op.__name__ = name + '_'
        return op
    return maker


def _unary_inplace(fn):
    """a.op_(...): the out-of-place result copied into a's memory (with torch's cast check)
    when no graph is needed, else the rebased history."""
    def op(self, *args, **kw):
        _check_overlap(self, *args, *kw.values())
        if not _State.enabled or not self._requires_grad:
            r = fn(self, *args, **kw)
            if r._data.dtype != self._data.dtype and r._data.dtype.kind != \
                    self._data.dtype.kind and self._data.dtype.kind in 'biu':
                raise RuntimeError(f"result type Float can't be cast to the desired output type "
                                   f"{_legacy(self._data.dtype)}")
            np.copyto(_writable(self._data), r._data, casting='unsafe')
            self._vc.value += 1
            return self
        return _write_inplace(self, fn(self, *args, **kw))
    return op


def _rebase_inplace(fn):
    """a.op_(...): the out-of-place result written into a, rebasing a's history."""
    def op(self, *args, **kwargs):
        return _write_inplace(self, fn(self, *args, **kwargs))
    op.__name__ = fn.__name__ + '_'
    return op


def _dunder_compare(fn):
    """As torch's Tensor.__eq__ & co: an operand the op rejects with a TypeError (None, a
    string) gives NotImplemented, so Python falls back: `t == None` is False, `t < None` raises
    Python's own TypeError."""
    def op(self, other):
        try:
            return fn(self, other)
        except TypeError:
            return NotImplemented
    op.__name__ = op.__qualname__ = fn.__name__
    return op


def _out(out, result):
    """Honour an `out=` argument: copy result into it (resizing as torch does)."""
    if out is None:
        return result
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, result._data, casting='unsafe')
    out._vc.value += 1
    return out


def _fill_out(out, result, name):
    """`out=` for an op that computed `result` as usual: copied into out (a tensor, or a
    sequence of them for an op with several outputs) as _out does; out is returned (as the
    op's named tuple for several). torch refuses out= where the result requires grad."""
    results = result if isinstance(result, tuple) else (result,)
    if _State.enabled and any(isinstance(x, Tensor) and x.requires_grad for x in results):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if not isinstance(result, tuple):
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        return _out(out, result)
    if not isinstance(out, (tuple, list)) or not all(isinstance(o, Tensor) for o in out):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not "
                        f"{type(out).__name__}")
    if len(out) != len(result):
        raise TypeError(f"expected tuple of {len(result)} elements but got {len(out)}")
    for o, x in zip(out, result):
        _out(o, x)
    return type(result)(*out) if hasattr(result, '_fields') else tuple(out)


def _with_out(fn):
    """Decorate an op whose body leaves its `out=` keyword aside: _fill_out does it."""
    name = fn.__name__.lstrip('_')

    @functools.wraps(fn)
    def op(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        return _fill_out(out, fn(*args, **kwargs), name)
    return op


def _as_view(d, shape, strides):
    """A view of d's memory with the given shape and (byte) strides, keeping d's base chain
    (so storage_offset and writes behave like any other NumPy view)."""
    if d.flags.writeable:
        # the common case, d's own buffer (NumPy makes d's root the base): no pointer
        # arithmetic through __array_interface__, which costs microseconds
        try:
            return np.ndarray(shape, d.dtype, buffer=d, strides=strides)
        except (TypeError, ValueError, BufferError):
            pass  # not contiguous, or the view reaches outside d: from the root
    root = d
    while isinstance(root.base, np.ndarray):
        root = root.base
    off = d.__array_interface__['data'][0] - root.__array_interface__['data'][0]
    try:
        return np.ndarray(shape, d.dtype, buffer=root, offset=off, strides=strides)
    except (TypeError, ValueError, BufferError):
        return np.lib.stride_tricks.as_strided(d, shape, strides)


def _writeable_view(r):
    """A slice of a read-only expanded view that no longer overlaps itself is writeable in
    torch (x.expand(2, 3)[0].fill_(1)); make the NumPy view say so too."""
    if r.flags.writeable or not isinstance(r, np.ndarray):
        return r
    if any(s == 0 and n > 1 for s, n in zip(r.strides, r.shape)):
        return r
    return _as_view(r, r.shape, r.strides)


def _torch_unit_strides(r, positions):
    """r with the strides torch gives to size-1 dims it inserted (unsqueeze, None indexing):
    size * stride of the next dim, or 1 element for a trailing one. NumPy uses 0 there."""
    st = list(r.strides)
    for p in sorted(positions, reverse=True):
        st[p] = r.shape[p + 1] * st[p + 1] if p + 1 < r.ndim else r.itemsize
    if tuple(st) == r.strides:
        return r
    return _as_view(r, r.shape, tuple(st))


# ---- torch's grad_fn names for composite ops ----------------------------------------------------

def _fused(op, compute, inputs, **saved):
    """Run compute() (a composite of ember ops) with grad mode off, so only its values are
    kept, and record them as ONE node `op` over `inputs` (torch's fused backward)."""
    if not _State.enabled:
        return compute()
    _State.enabled = False
    try:
        r = compute()
    finally:
        _State.enabled = True
    return _record(op, r._data, inputs, **saved)


# ---- NumPy floating-point warnings -------------------------------------------------------------
# torch computes inf/nan silently (x / 0, inf * 0, log(-1), overflow); NumPy warns. np.errstate
# costs about a microsecond per use, so set NumPy's error-state context variable directly
# (what np.errstate does inside), with np.errstate as the fallback on other NumPy versions.
try:
    from numpy._core._multiarray_umath import _extobj_contextvar as _NP_ERRSTATE
    with np.errstate(all='ignore'):
        _NP_QUIET = _NP_ERRSTATE.get()
except (ImportError, AttributeError):  # pragma: no cover - NumPy 1.x
    _NP_ERRSTATE = None


class _ErrstateVar:  # pragma: no cover - the same set/reset interface over np.errstate
    def set(self, _):
        e = np.errstate(all='ignore')
        e.__enter__()
        return e

    def reset(self, e):
        e.__exit__(None, None, None)

if _NP_ERRSTATE is not None:
    def _quiet(f, *args, **kw):
        """f(*args, **kw) with NumPy's floating-point warnings off."""
        tok = _NP_ERRSTATE.set(_NP_QUIET)
        try:
            return f(*args, **kw)
        finally:
            _NP_ERRSTATE.reset(tok)
else:  # pragma: no cover
    _NP_ERRSTATE, _NP_QUIET = _ErrstateVar(), None

    def _quiet(f, *args, **kw):
        """f(*args, **kw) with NumPy's floating-point warnings off."""
        with np.errstate(all='ignore'):
            return f(*args, **kw)


# ---- torch's checked Scalar conversions ---------------------------------------------------------
# torch converts a Python number handed to an op (fill_, full, masked_fill, clamp's bounds, an
# alpha) to the tensor's C++ type through a checked cast: out-of-range values raise instead of
# wrapping, except that a negative integer wraps into an unsigned type (uint8 -1 -> 255).

_CPP_TYPE = {'int8': 'int8_t', 'int16': 'int16_t', 'int32': 'int', 'int64': 'int64_t',
             'uint8': 'uint8_t', 'uint16': 'uint16_t', 'uint32': 'uint32_t',
             'uint64': 'uint64_t', 'float32': 'float', 'float64': 'double',
             'complex64': 'c10::complex<float>', 'complex128': 'c10::complex<double>'}
_F32_MAX = float(np.finfo(np.float32).max)


def _overflow_error(np_dtype, cpp=True):
    """torch's error for a value that does not fit the target type; `cpp` names the C++ type
    (the Scalar path), otherwise the dtype's name (torch.tensor()'s path)."""
    np_dtype = np.dtype(np_dtype)
    name = _CPP_TYPE.get(np_dtype.name, np_dtype.name) if cpp else np_dtype.name
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


def _scalar_to(value, np_dtype):
    """`value` (a Python/NumPy number) converted as torch's checked Scalar cast to np_dtype
    would: raises where torch raises, else returns a number NumPy stores without complaint
    (negative integers already wrapped into an unsigned type)."""
    if isinstance(value, Tensor):
        value = value.item()
    k = np_dtype.kind
    if isinstance(value, (bool, np.bool_)) or k == 'b':
        return value
    if isinstance(value, numbers.Integral):
        v = int(value)
        if v >= 1 << 64:
            raise OverflowError("int too big to convert")
        if v < -(1 << 63):
            raise OverflowError("can't convert negative int to unsigned")
        if k in 'iu':
            info = np.iinfo(np_dtype)
            if v > info.max or (v < info.min if k == 'i' else v < -info.max):
                raise _overflow_error(np_dtype)
            return v + info.max + 1 if v < 0 and k == 'u' else v
        return v
    if isinstance(value, numbers.Real):
        f = float(value)
        if k in 'iu':
            info = np.iinfo(np_dtype)
            if f != f or not info.min <= f <= info.max:
                raise _overflow_error(np_dtype)
            return int(f)
        if np_dtype.itemsize == 4 * (1 + (k == 'c')) and abs(f) > _F32_MAX and \
                abs(f) != float('inf'):
            raise _overflow_error(np_dtype)
        return f
    return value


# ---- empty batches ----------------------------------------------------------------------------

def _empty_batch(batch_ndim=None, same_shape=False):
    """Let a layer's function take a batch of 0 samples as torch's do: the result is empty,
    of the shape a batch of one would give with its leading 0 (or the input's own shape,
    `same_shape`), and its graph reaches the input and every tensor argument with zero
    gradients. `batch_ndim` is the rank of a batched input (None: any rank >= 2)."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(input, *args, **kwargs):
            d = getattr(input, '_data', None)
            if d is None or d.ndim == 0 or d.shape[0] != 0 or d.ndim < 2 or (
                    batch_ndim is not None and d.ndim != batch_ndim):
                return fn(input, *args, **kwargs)
            tensors = [input] + [a for a in list(args) + list(kwargs.values())
                                 if isinstance(a, Tensor)]
            if same_shape:
                shapes = [(d.shape, d.dtype)]
                multi = False
            else:
                one = _wrap(np.zeros((1,) + d.shape[1:], d.dtype))
                saved = _State.enabled
                _State.enabled = False
                try:
                    r = fn(one, *args, **kwargs)
                finally:
                    _State.enabled = saved
                multi = isinstance(r, tuple)
                shapes = [((0,) + t._data.shape[1:], t._data.dtype)
                          for t in (r if multi else (r,))]
            outs = []
            for shape, dt in shapes:
                out = _wrap(np.zeros(shape, dt))
                if dt.kind in 'fc' and _State.enabled:
                    for t in tensors:
                        if t._requires_grad and t._data.dtype.kind in 'fc':
                            out = out + t.sum() * 0
                outs.append(out)
            return tuple(outs) if multi else outs[0]
        return wrapper
    return deco


_warned = set()


def _warn_once(key, message, stacklevel=3):
    """warnings.warn(message) the first time `key` is seen in this process (torch's
    TORCH_WARN_ONCE)."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, UserWarning, stacklevel=stacklevel)
