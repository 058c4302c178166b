"""Quantized tensors (torch.quint8, qint8, qint32, quint4x2, quint2x4) and fake quantization.

A quantized tensor is a ``QTensor``, a Tensor subclass (``type(q)`` prints as torch.Tensor)
holding its integer values in ``_int`` (an int8/uint8/int32 ndarray; the 4- and 2-bit types keep
one value per uint8 and pack only for ``int_repr``) and its quantization parameters: a scale and
zero point (per tensor) or arrays of them along ``_axis`` (per channel). Its ``_data`` slot holds a
``_QData`` that answers the metadata every layer reads (shape, ndim, size) and refuses any read of
values with torch's NotImplementedError, so a dense op handed a quantized tensor raises instead of
computing on its integers. The ops torch runs on quantized tensors are methods of the subclass;
the few free functions that torch also accepts them in (relu, cat, max_pool2d, ...) hand them to
``QTensor._qop``.

Arithmetic follows fbgemm's, as torch on x86 uses it: q = clamp(nearbyint(zp + x * (1/scale)))
in float32 (round half to even), x = scale * (q - zp) in float32 (per-channel scales are float64).
"""
import warnings

import numpy as np

from .. import _dtype
from .._dtype import qint8, quint8, qint32, quint4x2, quint2x4, float32, float64
from .._tensor import Tensor, _wrap, _VersionCounter, _parse_to, _check_device, _register_methods
from .._tensor_str import _values_str, _add_suffixes
from .._torch_function import _disabled_torch_function_impl
from ..autograd.graph import _record, derivative
from .sparse import _op_name, _SparseData, _FRESH

__all__ = ['qscheme', 'per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric',
           'per_channel_symmetric', 'per_channel_affine_float_qparams', 'quantize_per_tensor',
           'quantize_per_channel', 'quantize_per_tensor_dynamic', 'dequantize',
           'q_per_channel_scales', 'q_per_channel_zero_points', 'q_per_channel_axis',
           'fake_quantize_per_tensor_affine', 'fake_quantize_per_channel_affine',
           'fused_moving_avg_obs_fake_quant', 'empty_quantized', 'choose_qparams_optimized',
           'int_repr', 'q_scale', 'q_zero_point']


class qscheme:
    """A quantization scheme (torch.per_tensor_affine, ...)."""
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'torch.' + self.name

    def __reduce__(self):
        return (_scheme, (self.name,))


per_tensor_affine = qscheme('per_tensor_affine')
per_channel_affine = qscheme('per_channel_affine')
per_tensor_symmetric = qscheme('per_tensor_symmetric')
per_channel_symmetric = qscheme('per_channel_symmetric')
per_channel_affine_float_qparams = qscheme('per_channel_affine_float_qparams')
_SCHEMES = {s.name: s for s in (per_tensor_affine, per_channel_affine, per_tensor_symmetric,
                                per_channel_symmetric, per_channel_affine_float_qparams)}


def _scheme(name):
    return _SCHEMES[name]


# dtype -> (qmin, qmax, the NumPy type of one value, torch's C++ name)
_QINFO = {
    qint8: (-128, 127, np.int8, 'QInt8'),
    quint8: (0, 255, np.uint8, 'QUInt8'),
    qint32: (-2 ** 31, 2 ** 31 - 1, np.int32, 'QInt32'),
    quint4x2: (0, 15, np.uint8, 'QUInt4x2'),
    quint2x4: (0, 3, np.uint8, 'QUInt2x4'),
}
_SCALAR_NAMES = {'float32': 'Float', 'float64': 'Double', 'float16': 'Half', 'bfloat16': 'BFloat16',
                 'int64': 'Long', 'int32': 'Int', 'int16': 'Short', 'int8': 'Char',
                 'uint8': 'Byte', 'bool': 'Bool', 'complex64': 'ComplexFloat',
                 'complex128': 'ComplexDouble', 'uint16': 'UInt16', 'uint32': 'UInt32',
                 'uint64': 'UInt64'}


def _scalar_name(d):
    return _SCALAR_NAMES.get(d.name) or _QINFO[d][3]


def _backend_refusal(backend='QuantizedCPU', name=None):
    return NotImplementedError(
        f"Could not run 'aten::{name or _op_name()}' with arguments from the '{backend}' "
        "backend. This could be because the operator doesn't exist for this backend, or was "
        "omitted during the selective/custom build process (if using custom build).")


class _QData(_SparseData):
    """A quantized tensor's ``_data``: shape, ndim, size and the integer dtype as an ndarray's;
    any read of values raises torch's NotImplementedError for the QuantizedCPU backend."""
    __slots__ = ()

    def __init__(self, arr):
        _SparseData.__init__(self, arr.shape, arr.dtype, None)

    def _error(self):
        return _backend_refusal()


# ---- the arithmetic ---------------------------------------------------------------------------

def _quantize_array(x, scale, zero_point, d, axis=None):
    """Integers of float32 values `x`, as fbgemm's Quantize: nearbyint(zp + x * (1/scale)) in
    float32 (one rounding, a fused multiply-add, in the per-tensor 8-bit kernel; two elsewhere),
    NaN to qmax, clamped. Per channel, scale/zero_point are arrays along `axis`."""
    lo, hi, np_t, _ = _QINFO[d]
    x = np.asarray(x, dtype=np.float32)
    if axis is None:
        inv = np.float32(1) / np.float32(scale)
        zp = np.float32(zero_point)
    else:
        shape = [1] * x.ndim
        shape[axis] = -1
        inv = (np.float32(1) / np.asarray(scale, dtype=np.float32)).reshape(shape)
        zp = np.asarray(zero_point, dtype=np.float32).reshape(shape)
    with np.errstate(invalid='ignore', over='ignore', divide='ignore'):
        if axis is None and d in (qint8, quint8):
            # float32 x float32 is exact in float64: the product-and-add rounds once
            v = (x.astype(np.float64) * np.float64(inv) + np.float64(zp)).astype(np.float32)
        else:
            v = zp + x * inv
        v = np.rint(v)
        v = np.where(np.isnan(v), np.float32(hi), v)
        return np.clip(v.astype(np.float64), lo, hi).astype(np_t)


def _dequantize_array(q):
    """float32 values of a QTensor."""
    ints = q._int
    if q._axis is None:
        return (np.float32(q._scale) *
                (ints.astype(np.int64) - q._zp).astype(np.float32)).astype(np.float32)
    shape = [1] * ints.ndim
    shape[q._axis] = -1
    scale = q._scale.reshape(shape)
    zp = q._zp.reshape(shape)
    if q._qs is per_channel_affine_float_qparams:
        return ((ints.astype(np.float32) - zp) * scale).astype(np.float32)
    return (scale.astype(np.float64) * (ints.astype(np.int64) - zp)).astype(np.float32)


def _choose_qparams(mn, mx, qmin, qmax, reduce_range=False, preserve_sparsity=False):
    """fbgemm's ChooseQuantizationParams (what quantize_per_tensor_dynamic uses)."""
    mn = min(float(np.float32(mn)), 0.0)
    mx = max(float(np.float32(mx)), 0.0)
    if reduce_range:
        qmin, qmax = int(qmin / 2), int(qmax / 2)
    if mn < 0 and mx > 0 and preserve_sparsity:
        symmetric_qmin = int(-((qmax - qmin) / 2 + 1))
        symmetric_qmax = int((qmax - qmin) / 2)
        max_scale = max(abs(mn / symmetric_qmin), abs(mx / symmetric_qmax))
        mn = float(np.float32(max_scale * symmetric_qmin))  # (C++ floats)
        mx = float(np.float32(max_scale * symmetric_qmax))
    scale = (mx - mn) / (qmax - qmin)
    f = np.float32(scale)
    with np.errstate(divide='ignore', over='ignore'):
        if f == 0 or np.isinf(np.float32(1) / f):
            scale = 0.1
    small = float(np.float32(6.1e-5))
    if scale < small:
        org = scale
        scale = small
        if mn == 0:
            mx = small * (qmax - qmin)
        elif mx == 0:
            mn = -small * (qmax - qmin)
        else:
            amp = float(np.float32(small / org))
            mn, mx = float(np.float32(mn * amp)), float(np.float32(mx * amp))
    zp_min = qmin - mn / scale
    zp_max = qmax - mx / scale
    err_min = abs(qmin) - abs(mn / scale)
    err_max = abs(qmax) - abs(mx / scale)
    initial = zp_min if err_min < err_max else zp_max
    if mn < 0 and mx > 0 and preserve_sparsity:
        initial = (qmin + qmax) / 2
    if initial < qmin:
        zp = qmin
    elif initial > qmax:
        zp = qmax
    else:
        zp = int(np.rint(initial))
    return scale, zp


# ---- the tensor ------------------------------------------------------------------------------

_DEPRECATION = [False]


def _warn_deprecated(d):
    if d in (qint8, quint8, qint32) and not _DEPRECATION[0]:
        _DEPRECATION[0] = True
        warnings.warn(
            "torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor "
            "creation functions that produce tensors with dtype torch.quint8, torch.qint8, and "
            "torch.qint32 are deprecated and will be removed in a future PyTorch release. Please "
            "see https://github.com/pytorch/pytorch/issues/184982 for more information.",
            UserWarning, stacklevel=3)


def _qt(ints, d, scheme, scale, zero_point, axis=None):
    """A QTensor around an integer array (no copy)."""
    t = object.__new__(QTensor)
    for name, value in _FRESH:  # a new tensor's autograd metadata, as _tensor._wrap sets it
        setattr(t, name, value)
    t._data = _QData(ints)
    t._vc = _VersionCounter()
    t._int = ints
    t._qd = d
    t._qs = scheme
    t._scale = scale
    t._zp = zero_point
    t._axis = axis
    return t


def _like(q, ints):
    """A QTensor with q's quantization parameters around other integers (a view or a copy)."""
    return _qt(ints, q._qd, q._qs, q._scale, q._zp, q._axis)


def _per_tensor_only():
    return RuntimeError("Setting strides is possible only on uniformly quantized tensor")


def _check(cond, what):
    if not cond:
        raise RuntimeError(f"Expected {what} to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request "
                           "to PyTorch.)")


def _int_view(name):
    """A QTensor method that runs the integer tensor's own method `name` and keeps the
    quantization parameters (views, copies, selections: the values move, never change)."""
    def method(self, *args, **kwargs):
        if self._axis is not None and name not in ('clone', 'contiguous', 'detach'):
            raise _per_tensor_only()
        out = getattr(Tensor, name)(_wrap(self._int), *args, **kwargs)
        if isinstance(out, Tensor):
            return _like(self, out._data)
        if hasattr(out, '_fields'):  # sort, topk: values quantized, indices plain
            return type(out)(_like(self, out[0]._data), out[1])
        return tuple(_like(self, o._data) for o in out)
    method.__name__ = name
    method.__qualname__ = 'QTensor.' + name
    return method


_VIEWS = ('view', 'reshape', 'flatten', 't', 'transpose', 'permute', 'squeeze', 'unsqueeze',
          'expand', 'narrow', 'select', '__getitem__', 'chunk', 'split', 'unbind', 'flip',
          'repeat', 'index_select', 'contiguous', 'clone', 'view_as', 'reshape_as',
          'expand_as', 'movedim', 'unflatten', 'swapaxes', 'swapdims', 'sort', 'topk',
          'tensor_split', 'unfold', 'squeeze_', 'unsqueeze_', 'resize_')


class QTensor(Tensor):
    """A quantized tensor. ``type(q)`` prints as torch.Tensor, as torch's does."""
    __slots__ = ('_int', '_qd', '_qs', '_scale', '_zp', '_axis')
    _prints_as_tensor = True
    # torch's quantized tensors are plain Tensors: no subclass dispatch, no conversion
    __torch_function__ = _disabled_torch_function_impl

    for _name in _VIEWS:
        locals()[_name] = _int_view(_name)
    del _name

    # ---- metadata ----------------------------------------------------------------------------
    @property
    def dtype(self):
        return self._qd

    @property
    def is_quantized(self):
        return True

    def is_floating_point(self):
        return False

    def is_signed(self):
        raise RuntimeError("isSignedType not supported for quantized types")

    def stride(self, dim=None):
        return Tensor.stride(_wrap(self._int), dim)

    def is_contiguous(self, memory_format=None):
        return Tensor.is_contiguous(_wrap(self._int), memory_format)

    def storage_offset(self):
        return Tensor.storage_offset(_wrap(self._int))

    def data_ptr(self):
        return self._int.__array_interface__['data'][0]

    @property
    def nbytes(self):
        return self._int.nbytes

    def qscheme(self):
        return self._qs

    def q_scale(self):
        _check(self._axis is None, "quantizer->qscheme() == kPerTensorAffine")
        return self._scale

    def q_zero_point(self):
        _check(self._axis is None, "quantizer->qscheme() == kPerTensorAffine")
        return self._zp

    def _need_channel(self):
        _check(self._axis is not None, "quantizer->qscheme() == kPerChannelAffine || "
               "quantizer->qscheme() == kPerChannelAffineFloatQParams")

    def q_per_channel_scales(self):
        self._need_channel()
        return _wrap(self._scale.copy())

    def q_per_channel_zero_points(self):
        self._need_channel()
        return _wrap(self._zp.copy())

    def q_per_channel_axis(self):
        self._need_channel()
        return self._axis

    def int_repr(self):
        ints = self._int
        if self._qd in (quint4x2, quint2x4):
            per = 2 if self._qd is quint4x2 else 4
            bits = 8 // per
            flat = np.ascontiguousarray(ints).reshape(-1)
            n = -(-flat.size // per)
            padded = np.zeros(n * per, np.uint8)
            padded[:flat.size] = flat
            packed = np.zeros(n, np.uint8)
            for k in range(per):
                packed |= (padded[k::per] << (bits * k)).astype(np.uint8)
            return _wrap(packed)
        return _wrap(np.ascontiguousarray(ints).copy())

    def dequantize(self):
        return _wrap(_dequantize_array(self))

    # ---- conversion --------------------------------------------------------------------------
    def numpy(self, *, force=False):
        raise TypeError(f"Got unsupported ScalarType {_QINFO[self._qd][3]}")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"Got unsupported ScalarType {_QINFO[self._qd][3]}")

    def tolist(self):
        raise RuntimeError("load_scalar: invalid type")

    def item(self):
        if self._int.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._int.size} elements cannot be converted to Scalar")
        return float(_dequantize_array(self).reshape(()))

    def __float__(self):
        return self.item()

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None:
            return f'torch.quantized.{_QINFO[self._qd][3]}Tensor'
        return Tensor.type(self, dtype, non_blocking, **kwargs)

    def to(self, *args, **kwargs):
        dev, dtype, _, copy, _ = _parse_to(args, kwargs)
        _check_device(dev, to=True)
        if dtype is not None and dtype is not self._qd:
            raise RuntimeError("Creation of quantized tensor requires quantized dtype like "
                               "torch.quint8")
        return self.clone() if copy else self

    def cpu(self, memory_format=None):
        return self

    def detach(self):
        t = _like(self, self._int)
        t._vc = self._vc
        return t

    @property
    def data(self):
        return _like(self, self._int)

    def __iter__(self):
        if self._int.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self, *, tensor_contents=None):
        return _qrepr(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        t = _like(self, self._int.copy())
        if self._axis is not None:
            t._scale, t._zp = self._scale.copy(), self._zp.copy()
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, protocol):
        raise NotImplementedError("ember does not implement saving or pickling quantized "
                                  "tensors yet")

    def __eq__(self, other):
        if isinstance(other, QTensor):
            return _wrap(_dequantize_array(self) == _dequantize_array(other))
        raise _backend_refusal(name='eq.Tensor')

    __hash__ = Tensor.__hash__

    def equal(self, other):
        if not isinstance(other, QTensor):
            raise _backend_refusal(name='equal')
        if self._qs is not other._qs or self._qd is not other._qd or \
                self._int.shape != other._int.shape:
            return False
        if self._axis is None:
            same = self._scale == other._scale and self._zp == other._zp
        else:
            same = (self._axis == other._axis and np.array_equal(self._scale, other._scale)
                    and np.array_equal(self._zp, other._zp))
        return bool(same and np.array_equal(self._int, other._int))

    # ---- value ops torch runs on quantized tensors -------------------------------------------
    def _qop(self, fn, *args, **kwargs):
        """fn (a float op that only selects, orders or averages values) on the dequantized
        values, quantized back with this tensor's parameters."""
        if self._axis is not None:
            raise _backend_refusal(name=fn.__name__)
        out = fn(self.dequantize(), *args, **kwargs)
        if isinstance(out, tuple):  # (values, indices): max_pool2d(return_indices=True)
            return (self._requant(out[0]),) + tuple(out[1:])
        return self._requant(out)

    def _qcat(self, tensors, dim=0, stack=False):
        return _qcat(tensors, dim, stack)

    def _requant(self, out):
        return _like(self, _quantize_array(out._data, self._scale, self._zp, self._qd))

    def relu(self):
        if self._axis is not None:
            raise _backend_refusal(name='relu')
        return _like(self, np.maximum(self._int, self._int.dtype.type(self._zp)))

    def relu_(self):
        if self._axis is not None:
            raise _backend_refusal(name='relu_')
        np.maximum(self._int, self._int.dtype.type(self._zp), out=self._int)
        self._vc.value += 1
        return self

    def clamp(self, min=None, max=None):
        return self._qop(Tensor.clamp, min, max)

    clip = clamp

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        args = () if dim is None else (dim, keepdim)
        return self._qop(Tensor.mean, *args)

    def max(self, *args, **kwargs):
        if args or kwargs:
            raise NotImplementedError("ember does not implement max(dim) of quantized tensors")
        return _like(self, self._int.max())

    def min(self, *args, **kwargs):
        if args or kwargs:
            raise NotImplementedError("ember does not implement min(dim) of quantized tensors")
        return _like(self, self._int.min())

    def _fixed_out(self, fn, u8, s8):
        scale, zp = u8 if self._qd is quint8 else s8
        x = fn(self.dequantize())
        return _qt(_quantize_array(x._data, scale, zp, self._qd), self._qd, per_tensor_affine,
                   scale, zp)

    def sigmoid(self):
        return self._fixed_out(Tensor.sigmoid, (1.0 / 256, 0), (1.0 / 256, -128))

    def tanh(self):
        return self._fixed_out(Tensor.tanh, (2.0 / 256, 128), (2.0 / 256, 0))

    def fill_(self, value):
        self._int[...] = _quantize_array(np.float32(value), self._scale, self._zp, self._qd)
        self._vc.value += 1
        return self

    def copy_(self, src, non_blocking=False):
        if isinstance(src, QTensor):
            self._int[...] = src._int
        else:
            v = np.broadcast_to(np.asarray(src._data, np.float32), self._int.shape)
            self._int[...] = _quantize_array(v, self._scale, self._zp, self._qd, self._axis)
        self._vc.value += 1
        return self

    def masked_fill(self, mask, value):
        out = self.clone()
        fill = _quantize_array(np.float32(value), self._scale, self._zp, self._qd)
        out._int[np.broadcast_to(np.asarray(mask._data, bool), out._int.shape)] = fill
        return out

    def __setitem__(self, index, value):
        raise _backend_refusal(name='index_put_')


def _qrepr(q):
    """torch's repr of a quantized tensor: the dequantized values, then size, dtype, scheme and
    parameters."""
    indent = len('tensor(')
    suffixes = ['size=' + str(tuple(q._int.shape)), f'dtype={q._qd!r}',
                f'quantization_scheme={q._qs!r}']
    if q._axis is None:
        suffixes += [f'scale={q._scale!r}', f'zero_point={q._zp!r}']
    else:
        suffixes += [f'scale={q.q_per_channel_scales()!r}',
                     f'zero_point={q.q_per_channel_zero_points()!r}', f'axis={q._axis}']
    values = _dequantize_array(q)
    text = '[]' if values.size == 0 else _values_str(values, float32, indent)
    return _add_suffixes('tensor(' + text, suffixes, indent)


def _qcat(tensors, dim=0, stack=False):
    """torch.cat / torch.stack of quantized tensors: the first one's parameters, the others'
    values requantized to them."""
    first = tensors[0]
    arrs = []
    for t in tensors:
        if not isinstance(t, QTensor):
            raise _backend_refusal(name='cat')
        same = (t._axis is None and t._scale == first._scale and t._zp == first._zp
                and t._qd is first._qd)
        arrs.append(t._int if same else
                    _quantize_array(_dequantize_array(t), first._scale, first._zp, first._qd))
    if first._axis is not None:
        raise _backend_refusal(name='cat')
    dims = first._int.ndim + (1 if stack else 0)
    if not -dims <= dim < dims:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-dims}, "
                         f"{dims - 1}], but got {dim})")
    out = (np.stack if stack else np.concatenate)(arrs, axis=dim)
    return _like(first, out)


# ---- creation -------------------------------------------------------------------------------

def _need_qdtype(d, where='new_qtensor'):
    if d not in _QINFO:
        raise RuntimeError(f"ScalarType {_scalar_name(d)} is not supported in {where}.")


def _need_float(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"quantize_per_tensor(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    if input.dtype is not float32:
        raise RuntimeError(f"Quantize only works on Float Tensor, got {_scalar_name(input.dtype)}")


def _check_zero_point(zp, d, fn='quantize_tensor_per_tensor_affine'):
    lo, hi = _QINFO[d][:2]
    if zp > hi:
        raise RuntimeError(f"{fn} zero_point {zp} is above upper bound.")
    if zp < lo:
        raise RuntimeError(f"{fn} zero_point {zp} is below lower bound.")


def _as_float(v):
    if isinstance(v, Tensor):
        return float(v._data.reshape(-1)[0]) if v._data.size == 1 else float(v.item())
    return float(v)


def _as_int(v):
    if isinstance(v, Tensor):
        return int(v._data.reshape(-1)[0]) if v._data.size == 1 else int(v.item())
    return int(v)


def quantize_per_tensor(input, scale, zero_point, dtype):
    """Quantize a float32 tensor (or each of a list, with tensors of scales and zero points)."""
    if isinstance(input, (list, tuple)):
        scales = np.asarray(scale._data).reshape(-1)
        zps = np.asarray(zero_point._data).reshape(-1)
        return tuple(quantize_per_tensor(t, float(s), int(z), dtype)
                     for t, s, z in zip(input, scales, zps))
    if isinstance(zero_point, float) or isinstance(scale, Tensor) != isinstance(zero_point,
                                                                                Tensor):
        raise TypeError(
            "quantize_per_tensor() received an invalid combination of arguments - got "
            f"(Tensor, {type(scale).__name__}, {type(zero_point).__name__}, torch.dtype)")
    _need_float(input)
    _need_qdtype(dtype)
    s, zp = _as_float(scale), _as_int(zero_point)
    _check_zero_point(zp, dtype)
    _warn_deprecated(dtype)
    return _qt(_quantize_array(input._data, s, zp, dtype), dtype, per_tensor_affine, s, zp)


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """Quantize a float32 tensor with one scale and zero point per index along `axis`."""
    for name, pos, v in (('scales', 2, scales), ('zero_points', 3, zero_points)):
        if not isinstance(v, Tensor):
            raise TypeError(f"quantize_per_channel(): argument '{name}' (position {pos}) must be "
                            f"Tensor, not {type(v).__name__}")
    _need_float(input)
    _need_qdtype(dtype)
    nd = input._data.ndim
    if not 0 <= axis < nd:
        raise RuntimeError(f"Channel axis out of range in per channel affine quantization. "
                           f"Got: {axis}Expected: [0, {nd})")
    c = input._data.shape[axis]
    for v, what in ((scales, 'scales'), (zero_points, 'zero_points')):
        if v._data.size != c:
            raise RuntimeError(f"length of {what} must equal to channel, expected {c} got, "
                               f"{v._data.size}")
    _warn_deprecated(dtype)
    if zero_points.dtype.is_floating_point:
        s = np.asarray(scales._data, np.float32).reshape(-1).copy()
        zp = np.asarray(zero_points._data, np.float32).reshape(-1).copy()
        scheme = per_channel_affine_float_qparams
    else:
        s = np.asarray(scales._data, np.float64).reshape(-1).copy()
        zp = np.asarray(zero_points._data, np.int64).reshape(-1).copy()
        scheme = per_channel_affine
        lo, hi = _QINFO[dtype][:2]
        for z in zp:
            _check_zero_point(int(z), dtype, 'quantize_tensor_per_channel_affine')
    return _qt(_quantize_array(input._data, s, zp, dtype, axis), dtype, scheme, s, zp, axis)


def quantize_per_tensor_dynamic(input, dtype, reduce_range):
    """Quantize with the scale and zero point chosen from the tensor's own range."""
    _need_float(input)
    if dtype not in (qint8, quint8):
        raise RuntimeError(f"dtype {_scalar_name(dtype)}not supported")
    d = input._data
    mn, mx = (float(d.min()), float(d.max())) if d.size else (0.0, 0.0)
    qmin, qmax = (-128, 127) if dtype is qint8 else (0, 255)
    scale, zp = _choose_qparams(mn, mx, qmin, qmax, reduce_range)
    return quantize_per_tensor(input, scale, zp, dtype)


def empty_quantized(size, qtensor, *, dtype=None, layout=None, device=None, pin_memory=False,
                    memory_format=None):
    """A quantized tensor of `size` with `qtensor`'s quantization parameters (values 0: ember
    has no uninitialised memory to show)."""
    if not isinstance(qtensor, QTensor):
        raise _backend_refusal('CPU', 'empty_quantized')
    shape = tuple(size)
    ints = np.full(shape, 0, _QINFO[qtensor._qd][2])
    if qtensor._axis is None:
        ints[...] = qtensor._zp
    return _like(qtensor, ints)


def dequantize(tensor):
    """The float32 values of a quantized tensor (or of each in a list)."""
    if isinstance(tensor, (list, tuple)):
        for t in tensor:
            if not isinstance(t, QTensor):
                raise _backend_refusal('CPU', 'dequantize.tensors')
        return tuple(t.dequantize() for t in tensor)
    return tensor.dequantize()


def _plain_dequantize(self):
    """Tensor.dequantize of a float tensor: itself as float32, as torch's."""
    return self.to(float32)


def _plain_refusal(name):
    def method(self, *args, **kwargs):
        raise _backend_refusal('CPU', name)
    method.__name__ = name
    method.__qualname__ = 'Tensor.' + name
    return method


def _as_function(name):
    """torch.int_repr & co: the tensor's own method."""
    def fn(input):
        return getattr(input, name)()
    fn.__name__ = fn.__qualname__ = name
    return fn


_QPARAM_NAMES = ('int_repr', 'q_scale', 'q_zero_point', 'q_per_channel_scales',
                 'q_per_channel_zero_points', 'q_per_channel_axis')
for _name in _QPARAM_NAMES:
    globals()[_name] = _as_function(_name)
del _name


_register_methods(__name__, {
    'dequantize': _plain_dequantize,
    **{n: _plain_refusal(n) for n in _QPARAM_NAMES + ('qscheme',)}})


# ---- fake quantization --------------------------------------------------------------------------

def _fake_check(quant_min, quant_max, zero_points):
    if quant_min > quant_max:
        raise RuntimeError("`quant_min` should be less than or equal to `quant_max`.")
    if np.any(np.asarray(zero_points) < quant_min) or np.any(np.asarray(zero_points) > quant_max):
        raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")


def _fake_values(x, scale, zp, quant_min, quant_max, float_zp=False):
    """(output, mask) of torch's fake-quantize kernel: q = zp + nearbyint(x * (1/scale)) (x in
    its own precision, 1/scale in float32), clamped, and (q - zp) * scale in float32."""
    inv = np.float32(1) / np.asarray(scale, np.float32)
    work = np.float64 if x.dtype == np.float64 else np.float32
    with np.errstate(invalid='ignore', over='ignore', divide='ignore'):
        if float_zp:
            zpf = np.asarray(zp, np.float32)
            q = np.rint(x * inv.astype(work) + zpf.astype(work))
        else:
            zpf = np.asarray(zp, np.float64)
            q = zpf + np.rint(x * inv.astype(work))
        mask = (q >= quant_min) & (q <= quant_max)
        qc = np.clip(q, quant_min, quant_max)
        out = ((qc - zpf).astype(np.float32) * np.asarray(scale, np.float32)).astype(x.dtype)
    return out, mask


def _keep_grad(grad, mask):
    g = grad._data
    return _wrap(np.where(mask, g, np.zeros((), g.dtype)).astype(g.dtype, copy=False))


@derivative
def FakeQuantizePerTensorAffineCachemaskBackward0(grad, mask):
    return (_keep_grad(grad, mask),)


@derivative
def FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0(grad, mask):
    return (_keep_grad(grad, mask), None, None)


@derivative
def FakeQuantizePerChannelAffineCachemaskBackward0(grad, mask):
    return (_keep_grad(grad, mask), None, None)


@derivative
def FusedMovingAvgObsFqHelperBackward0(grad, mask):
    return (_keep_grad(grad, mask),)


def _need_fake_float(input):
    if input.dtype not in (float32, float64, _dtype.float16, _dtype.bfloat16):
        raise RuntimeError(f"\"fake_quantize_tensor_cachemask_kernel_type_handling\" not "
                           f"implemented for '{_scalar_name(input.dtype)}'")


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """Quantize and dequantize in one step; the gradient passes where the value was not
    clamped (straight-through estimator)."""
    _need_fake_float(input)
    if isinstance(scale, Tensor):
        s, zp = _as_float(scale), _as_int(zero_point)
        _fake_check(quant_min, quant_max, zp)
        out, mask = _fake_values(input._data, s, zp, quant_min, quant_max)
        return _record(FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0, out,
                       (input, scale, zero_point), mask=mask)
    s, zp = float(scale), int(zero_point)
    _fake_check(quant_min, quant_max, zp)
    out, mask = _fake_values(input._data, s, zp, quant_min, quant_max)
    return _record(FakeQuantizePerTensorAffineCachemaskBackward0, out, (input,), mask=mask)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """Per-channel fake quantization along `axis` (integer or float zero points)."""
    _need_fake_float(input)
    zd = zero_point.dtype
    if zd not in (_dtype.int32, float32, _dtype.float16):
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found {_scalar_name(zd)}")
    nd = input._data.ndim
    if not 0 <= axis < nd:
        raise RuntimeError("`axis` must be between 0 and number of dimensions of input")
    c = input._data.shape[axis]
    if scale._data.ndim != 1 or zero_point._data.ndim != 1:
        raise RuntimeError("scale and zero-point need to be 1-D tensors")
    if scale._data.size != c or zero_point._data.size != c:
        raise RuntimeError("dimensions of scale and zero-point are not consistent with input "
                           "tensor")
    _fake_check(quant_min, quant_max, zero_point._data)
    shape = [1] * nd
    shape[axis] = -1
    s = np.asarray(scale._data, np.float32).reshape(shape)
    zp = np.asarray(zero_point._data).reshape(shape)
    out, mask = _fake_values(input._data, s, zp, quant_min, quant_max,
                             float_zp=zd.is_floating_point)
    return _record(FakeQuantizePerChannelAffineCachemaskBackward0, out,
                   (input, scale, zero_point), mask=mask)


def _calc_qparams_tensor(mn, mx, quant_min, quant_max, symmetric=False):
    """Scale (float32) and zero point (int32) arrays of the fused observer: fbgemm's
    ChooseQuantizationParams per element (symmetric: preserve_sparsity)."""
    mn, mx = np.atleast_1d(mn), np.atleast_1d(mx)
    pairs = [_choose_qparams(lo, hi, quant_min, quant_max, preserve_sparsity=symmetric)
             for lo, hi in zip(mn.reshape(-1), mx.reshape(-1))]
    scale = np.array([p[0] for p in pairs], np.float32).reshape(mn.shape)
    zp = np.array([p[1] for p in pairs], np.int32).reshape(mn.shape)
    return scale, zp


def fused_moving_avg_obs_fake_quant(self, observer_on, fake_quant_on, running_min, running_max,
                                    scale, zero_point, averaging_const, quant_min, quant_max,
                                    ch_axis, per_row_fake_quant=False, symmetric_quant=False):
    """Moving-average min/max observation and fake quantization in one op (torch's fused
    kernel): updates running_min/max, scale and zero_point in place when the flags are on."""
    x = self._data
    per_channel = per_row_fake_quant
    if int(np.asarray(observer_on._data).reshape(-1)[0]):
        if per_channel:
            axes = tuple(i for i in range(x.ndim) if i != ch_axis)
            mn, mx = x.min(axis=axes), x.max(axis=axes)
        else:
            mn, mx = x.min(), x.max()
        rmin, rmax = running_min._data, running_max._data
        if rmin.size == 0 or np.isinf(rmin).all():
            new_min, new_max = mn, mx
        else:
            c = np.float32(averaging_const)
            new_min = rmin + c * (mn - rmin)
            new_max = rmax + c * (mx - rmax)
        running_min._data = np.asarray(new_min, np.float32).reshape(
            running_min._data.shape if running_min._data.size else np.shape(new_min))
        running_max._data = np.asarray(new_max, np.float32).reshape(running_min._data.shape)
    x = self._data
    if int(np.asarray(fake_quant_on._data).reshape(-1)[0]):
        # (the parameters follow the running range only while fake quantization is on)
        s, z = _calc_qparams_tensor(running_min._data, running_max._data, quant_min, quant_max,
                                    symmetric_quant)
        scale._data = s.reshape(scale._data.shape if scale._data.size == s.size else s.shape)
        zero_point._data = z.reshape(scale._data.shape)
        s = scale._data
        z = zero_point._data
        if per_channel:
            shape = [1] * x.ndim
            shape[ch_axis] = -1
            s, z = s.reshape(shape), z.reshape(shape)
        out, mask = _fake_values(x, s, z, quant_min, quant_max)
    else:
        out, mask = x.copy(), np.ones(x.shape, bool)
    return _record(FusedMovingAvgObsFqHelperBackward0, out, (self,), mask=mask)


def choose_qparams_optimized(input, numel, n_bins, ratio, bit_width):
    """torch.choose_qparams_optimized: the [min, max] range that minimises the L2 quantization
    error, searched by shrinking from both ends (torch's greedy search)."""
    x = np.asarray(input._data, np.float32).reshape(-1)[:numel]
    xmin, xmax = np.float32(x.min()), np.float32(x.max())
    stepsize = np.float32((xmax - xmin) / np.float32(n_bins))
    nbit = 1 << bit_width

    def loss(lo, hi):
        s = np.float32((hi - lo) / np.float32(nbit - 1))
        if s == 0:
            s = np.float32(np.finfo(np.float32).eps)  # the kernel's tiny step
        inv = np.float32(1) / s
        q = np.clip(np.rint((x - lo) * inv), 0, nbit - 1).astype(np.float32)
        return float(np.sum(((q * s + lo) - x).astype(np.float32) ** 2, dtype=np.float32))

    best = loss(xmin, xmax)
    cur_min, cur_max = xmin, xmax
    best_min, best_max = xmin, xmax
    min_bins = int(n_bins * (1.0 - ratio))
    for _ in range(n_bins):
        if int((cur_max - cur_min) / stepsize) <= min_bins:  # torch's stopping rule
            break
        a = loss(cur_min + stepsize, cur_max)
        b = loss(cur_min, cur_max - stepsize)
        if a < b:
            cur_min = np.float32(cur_min + stepsize)
            cand = a
        else:
            cur_max = np.float32(cur_max - stepsize)
            cand = b
        if cand < best:
            best, best_min, best_max = cand, cur_min, cur_max
    return _wrap(np.array([best_max], np.float32)), _wrap(np.array([best_min], np.float32))


# ---- fbgemm's quantized kernels (linear, conv2d) -------------------------------------------------

def _weight_channels(w):
    """(int8 values as int64 with the zero point taken off, float32 scales per output row)."""
    ints = w._int.astype(np.int64)
    rows = ints.shape[0]
    if w._axis is None:
        return ints - w._zp, np.full(rows, np.float32(w._scale))
    if w._axis != 0:
        raise NotImplementedError("ember quantizes weights along axis 0 only")
    shape = (rows,) + (1,) * (ints.ndim - 1)
    return ints - w._zp.reshape(shape), w._scale.astype(np.float32)


def _requantize(acc, x_scale, w_scales, bias, out_scale, out_zp, out_dtype, relu, axis):
    """fbgemm's ReQuantizeOutput with a float bias: nearbyint((acc + bias / (sx * sw)) *
    (sx * sw / sy)) + zy in float32, clamped (from zy up with a fused ReLU)."""
    lo, hi, np_t, _ = _QINFO[out_dtype]
    shape = [1] * acc.ndim
    shape[axis] = -1
    act_w = (np.float32(x_scale) * w_scales).astype(np.float32).reshape(shape)
    mult = (act_w / np.float32(out_scale)).astype(np.float32)
    raw = acc.astype(np.float32)
    if bias is not None:
        raw = raw + (np.asarray(bias, np.float32).reshape(shape) / act_w).astype(np.float32)
    v = np.rint((raw * mult).astype(np.float32)).astype(np.int64) + int(out_zp)
    return np.clip(v, out_zp if relu else lo, hi).astype(np_t)


def _quantized_linear(x, w, bias, out_scale, out_zp, relu=False):
    """quantized::linear(_relu) of a quint8 input and a qint8 weight (out_features x in)."""
    if not isinstance(x, QTensor):
        raise _backend_refusal('CPU', 'quantized::linear')
    wi, ws = _weight_channels(w)
    xi = x._int.astype(np.int64) - x._zp
    acc = xi @ wi.T
    out = _requantize(acc, x._scale, ws, bias, out_scale, out_zp, x._qd, relu, acc.ndim - 1)
    return _qt(out, x._qd, per_tensor_affine, float(out_scale), int(out_zp))


def _im2col(xi, kh, kw, stride, padding, dilation, pad_value):
    n, c, h, w_ = xi.shape
    ph, pw = padding
    xp = np.full((n, c, h + 2 * ph, w_ + 2 * pw), pad_value, xi.dtype)
    xp[:, :, ph:ph + h, pw:pw + w_] = xi
    oh = (h + 2 * ph - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (w_ + 2 * pw - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    cols = np.empty((n, c, kh, kw, oh, ow), xi.dtype)
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation[0], j * dilation[1]
            cols[:, :, i, j] = xp[:, :, r0:r0 + stride[0] * oh:stride[0],
                                  c0:c0 + stride[1] * ow:stride[1]]
    return cols, oh, ow


def _quantized_conv2d(x, w, bias, stride, padding, dilation, groups, out_scale, out_zp,
                      relu=False):
    """quantized::conv2d(_relu): int32 accumulation of (x - zx) * w over each window (the
    padding holds x's zero point, i.e. 0.0), requantized as fbgemm does."""
    if not isinstance(x, QTensor):
        raise _backend_refusal('CPU', 'quantized::conv2d.new')
    batched = x._int.ndim == 4
    xi = x._int.astype(np.int64) - x._zp
    if not batched:
        xi = xi[None]
    wi, ws = _weight_channels(w)
    oc, cg, kh, kw = wi.shape
    cols, oh, ow = _im2col(xi, kh, kw, stride, padding, dilation, 0)
    n = xi.shape[0]
    og = oc // groups
    acc = np.empty((n, oc, oh, ow), np.int64)
    for g in range(groups):
        part = cols[:, g * cg:(g + 1) * cg].reshape(n, cg * kh * kw, oh * ow)
        wg = wi[g * og:(g + 1) * og].reshape(og, cg * kh * kw)
        acc[:, g * og:(g + 1) * og] = np.einsum('ok,nkp->nop', wg, part).reshape(n, og, oh, ow)
    out = _requantize(acc, x._scale, ws, bias, out_scale, out_zp, x._qd, relu, 1)
    if not batched:
        out = out[0]
    return _qt(out, x._qd, per_tensor_affine, float(out_scale), int(out_zp))


def _dynamic_linear(x, w, bias, reduce_range=True, relu=False):
    """quantized::linear_dynamic: x quantized to quint8 from its own range (fbgemm's
    ChooseQuantizationParams, reduce_range), int32 products with the qint8 weight, and
    sx * sw * acc + bias in float32."""
    xd = np.asarray(x._data, np.float32)
    mn, mx = (float(xd.min()), float(xd.max())) if xd.size else (0.0, 0.0)
    sx, zx = _choose_qparams(mn, mx, 0, 255, reduce_range)
    inv = np.float32(1) / np.float32(sx)
    with np.errstate(invalid='ignore', over='ignore'):
        xq = np.clip(zx + np.rint(xd * inv), 0, 255).astype(np.int64)
    wi, ws = _weight_channels(w)
    acc = (xq - zx) @ wi.T
    scale = (np.float32(sx) * ws).astype(np.float32)
    out = (acc.astype(np.float32) * scale).astype(np.float32)
    if bias is not None:
        out = (out + np.asarray(bias._data, np.float32)).astype(np.float32)
    if relu:
        out = np.maximum(out, np.float32(0))
    return _wrap(out)
