"""dtypes: torch's names over NumPy's dtypes, and torch's type-promotion rules."""
import importlib

import numpy as np

__all__ = ['dtype', 'float16', 'half', 'float32', 'float', 'float64', 'double', 'bfloat16',
           'int8', 'int16', 'short', 'int32', 'int', 'int64', 'long', 'uint8', 'uint16',
           'uint32', 'uint64', 'bool', 'complex64', 'cfloat', 'complex128', 'cdouble',
           'get_default_dtype', 'set_default_dtype', 'promote_types', 'can_cast', 'finfo', 'iinfo',
           'qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4', 'complex32', 'chalf',
           'float8_e4m3fn', 'float8_e4m3fnuz', 'float8_e5m2', 'float8_e5m2fnuz', 'float8_e8m0fnu',
           'float4_e2m1fn_x2', 'bits1x8', 'bits2x4', 'bits4x2', 'bits8', 'bits16', 'bit',
           'int1', 'int2', 'int3', 'int4', 'int5', 'int6', 'int7',
           'uint1', 'uint2', 'uint3', 'uint4', 'uint5', 'uint6', 'uint7']


class dtype:
    """A tensor element type, printed as torch prints it (``torch.float32``)."""
    __slots__ = ('name', '_np', 'itemsize', 'is_floating_point', 'is_complex', 'is_signed',
                 '_kind', '_legacy')

    def __init__(self, name, np_dtype, kind, legacy, signed=None):
        self.name = name
        npd = np.dtype(np_dtype) if np_dtype is not None else None
        self._np = npd
        self.itemsize = npd.itemsize if npd is not None else 2
        # kind orders the categories for promotion: bool < int < float < complex
        self._kind = kind
        self.is_floating_point = kind == 2
        self.is_complex = kind == 3
        self.is_signed = (name not in ('bool', 'uint8', 'uint16', 'uint32', 'uint64')
                          if signed is None else signed)
        self._legacy = legacy

    def __repr__(self):
        return 'torch.' + self.name

    def __reduce__(self):
        return (_lookup, (self.name,))

    def to_real(self):
        return {'complex64': float32, 'complex128': float64, 'complex32': float16}.get(
            self.name, self)

    def to_complex(self):
        got = {'float32': complex64, 'float64': complex128, 'float16': complex32}.get(self.name)
        if got is None:
            if self.name in _NO_COMPLEX:
                raise RuntimeError(f"Unknown Complex ScalarType for {_cname(self)}")
            return self
        return got

    @property
    def is_bfloat16(self):
        return self.name == 'bfloat16'


def _lookup(name):
    return _BY_NAME[name]


_NP_SLOT = dtype._np


class _OptionalDtype(dtype):
    """A dtype whose NumPy type comes from an optional package (bfloat16: ml_dtypes), loaded
    when the type is first needed: importing ml_dtypes costs more than the rest of ember's
    import. `_np` stays None when the package is missing."""
    __slots__ = ('_module',)

    def __init__(self, name, module, kind, legacy, signed=None, itemsize=2):
        self._module = module
        super().__init__(name, None, kind, legacy, signed)
        self.itemsize = itemsize

    @property
    def _np(self):
        got = _NP_SLOT.__get__(self)
        if got is None and self._module is not None:
            try:
                got = np.dtype(getattr(importlib.import_module(self._module), self.name))
            except ImportError:
                return None
            _NP_SLOT.__set__(self, got)
            _FROM_NP[got] = self
        return got

    @_np.setter
    def _np(self, value):
        _NP_SLOT.__set__(self, value)


bool = dtype('bool', np.bool_, 0, 'BoolTensor')
uint8 = dtype('uint8', np.uint8, 1, 'ByteTensor')
uint16 = dtype('uint16', np.uint16, 1, None)
uint32 = dtype('uint32', np.uint32, 1, None)
uint64 = dtype('uint64', np.uint64, 1, None)
int8 = dtype('int8', np.int8, 1, 'CharTensor')
int16 = dtype('int16', np.int16, 1, 'ShortTensor')
int32 = dtype('int32', np.int32, 1, 'IntTensor')
int64 = dtype('int64', np.int64, 1, 'LongTensor')
float16 = dtype('float16', np.float16, 2, 'HalfTensor')
float32 = dtype('float32', np.float32, 2, 'FloatTensor')
float64 = dtype('float64', np.float64, 2, 'DoubleTensor')
bfloat16 = _OptionalDtype('bfloat16', 'ml_dtypes', 2, 'BFloat16Tensor')
complex64 = dtype('complex64', np.complex64, 3, 'ComplexFloatTensor')
complex128 = dtype('complex128', np.complex128, 3, 'ComplexDoubleTensor')

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

# The quantized types (kind 4): their values live in a quantized tensor's integer array
# (ember/_ops/quantized.py), never in a plain tensor, so they have no NumPy dtype here.
qint8 = dtype('qint8', None, 4, None)
quint8 = dtype('quint8', None, 4, None)
qint32 = dtype('qint32', None, 4, None)
quint4x2 = dtype('quint4x2', None, 4, None)
quint2x4 = dtype('quint2x4', None, 4, None)
qint32.itemsize = 4
for _q in (qint8, quint8, quint4x2, quint2x4):
    _q.itemsize = 1
_QUANTIZED = (qint8, quint8, qint32, quint4x2, quint2x4)

_ALL = (bool, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, float32,
        float64, bfloat16, complex64, complex128)

# The low-precision types of torch's CPU build. float8 and complex32 tensors hold ml_dtypes
# arrays (the optional package, as bfloat16); the sub-byte and bits types exist as dtypes only
# (kind 5): torch's CPU kernels refuse nearly everything on them, ember refuses tensors of them.
complex32 = _OptionalDtype('complex32', 'ml_dtypes', 3, None, itemsize=4)
chalf = complex32
float8_e4m3fn = _OptionalDtype('float8_e4m3fn', 'ml_dtypes', 2, None, itemsize=1)
float8_e4m3fnuz = _OptionalDtype('float8_e4m3fnuz', 'ml_dtypes', 2, None, itemsize=1)
float8_e5m2 = _OptionalDtype('float8_e5m2', 'ml_dtypes', 2, None, itemsize=1)
float8_e5m2fnuz = _OptionalDtype('float8_e5m2fnuz', 'ml_dtypes', 2, None, itemsize=1)
float8_e8m0fnu = _OptionalDtype('float8_e8m0fnu', 'ml_dtypes', 2, None, False, itemsize=1)
_FLOAT8 = (float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz, float8_e8m0fnu)


class _BitsDtype(dtype):
    """torch's bits1x8..bits16: opaque bit containers; `is_signed` is undefined for them."""
    __slots__ = ()

    @property
    def is_signed(self):
        raise RuntimeError("Bits types are undefined")


_SIGNED_SLOT = dtype.is_signed
_BitsDtype.is_signed = property(_BitsDtype.is_signed.fget, _SIGNED_SLOT.__set__)

float4_e2m1fn_x2 = dtype('float4_e2m1fn_x2', None, 5, None)
float4_e2m1fn_x2.is_floating_point = True
bits1x8, bits2x4, bits4x2, bits8, bits16 = (
    _BitsDtype(_n, None, 5, None, False) for _n in ('bits1x8', 'bits2x4', 'bits4x2', 'bits8',
                                                    'bits16'))
int1, int2, int3, int4, int5, int6, int7 = (dtype(f'int{_i}', None, 5, None, True)
                                            for _i in range(1, 8))
uint1, uint2, uint3, uint4, uint5, uint6, uint7 = (dtype(f'uint{_i}', None, 5, None, False)
                                                   for _i in range(1, 8))
bit = uint1
_NO_VALUES = (float4_e2m1fn_x2, bits1x8, bits2x4, bits4x2, bits8, bits16, int1, int2, int3,
              int4, int5, int6, int7, uint1, uint2, uint3, uint4, uint5, uint6, uint7)
for _d in _NO_VALUES:
    _d.itemsize = 1
bits16.itemsize = 2
_LOW = (complex32,) + _FLOAT8 + _NO_VALUES
# the NumPy type names of ml_dtypes' types, which ember's NumPy fast paths must treat apart
_ML_FLOATS = frozenset(('bfloat16',) + tuple(d.name for d in _FLOAT8))
_ML_TYPES = _ML_FLOATS | {'complex32'}
_NO_COMPLEX = frozenset(d.name for d in _FLOAT8 + _NO_VALUES)

# torch's C++ ScalarType names, which its error messages use
_CNAMES = {'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int',
           'int64': 'Long', 'float16': 'Half', 'float32': 'Float', 'float64': 'Double',
           'bfloat16': 'BFloat16', 'complex32': 'ComplexHalf', 'complex64': 'ComplexFloat',
           'complex128': 'ComplexDouble', 'uint16': 'UInt16', 'uint32': 'UInt32',
           'uint64': 'UInt64', 'qint8': 'QInt8', 'quint8': 'QUInt8', 'qint32': 'QInt32',
           'quint4x2': 'QUInt4x2', 'quint2x4': 'QUInt2x4'}


def _cname(d):
    """torch's C++ name of a dtype ('Float', 'Float8_e4m3fn', 'UInt4', 'Bits8')."""
    got = _CNAMES.get(d.name)
    if got is None:
        n = d.name
        got = 'UInt' + n[4:] if n.startswith('uint') else n[0].upper() + n[1:]
    return got


_BY_NAME = {d.name: d for d in _ALL + _QUANTIZED + _LOW}
_FROM_NP = {d._np: d for d in _ALL if not isinstance(d, _OptionalDtype)}


def _float8_source(arr, d):
    """The values to hand ml_dtypes' cast so that it rounds as torch's CPU conversion:
    float8_e4m3fn saturates out-of-range values (infinities too) at +-448, float8_e8m0fnu (a
    bare exponent) takes magnitudes and maps 0 to its smallest value."""
    if d is float8_e4m3fn and arr.dtype.kind == 'f':
        return np.where(np.isnan(arr), arr, np.clip(arr, -448.0, 448.0))
    if d is float8_e8m0fnu and arr.dtype.kind in 'fiu':
        a = np.abs(arr)
        return np.where(a == 0, 2.0 ** -127, a)
    return arr


def from_numpy(np_dtype):
    """The ember dtype of a NumPy dtype; TypeError for one torch has no counterpart of."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        np_dtype = np.dtype(np_dtype)
        if np_dtype.name == bfloat16.name and bfloat16._np == np_dtype:
            return bfloat16     # an ml_dtypes array before ember needed the type itself
        return _FROM_NP[np_dtype]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types "
            "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint64, uint32, uint16, uint8, and bool.") from None


def to_numpy(d):
    """The NumPy dtype that holds an ember dtype's values."""
    if d._np is None:
        if d._kind == 5:
            raise NotImplementedError(
                f"ember does not hold tensors of {d!r} (torch's CPU kernels refuse nearly every "
                f"op on {_cname(d)})")
        if d._kind == 4:
            raise RuntimeError(f"ember: {d!r} values exist only inside a quantized tensor "
                               "(torch.quantize_per_tensor, torch._empty_affine_quantized)")
        raise NotImplementedError(
            f"{d!r} needs the optional 'ml_dtypes' package (pip install ml_dtypes)")
    return d._np


_default = float32


def get_default_dtype():
    return _default


def set_default_dtype(d):
    global _default
    if not isinstance(d, dtype) or d not in (float16, float32, float64, bfloat16):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default = d


def _default_complex():
    return complex128 if _default is float64 else complex64


# ---- promotion --------------------------------------------------------------------------------
# torch's table (c10/core/ScalarType.h) agrees with NumPy's for the pairs NumPy knows,
# except where it keeps the smaller float type (int64 + float16 -> float16) and bfloat16.

def _promote_pair(a, b):
    if a is b:
        return a
    if a._kind != b._kind:
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi.is_complex and lo.is_floating_point:
            return complex128 if lo is float64 or hi is complex128 else complex64
        return hi
    if a is bfloat16 or b is bfloat16:
        other = b if a is bfloat16 else a
        return float32 if other is float16 else other
    if a._kind == 1 and a.is_signed != b.is_signed:
        # uint8 with a signed type: torch promotes to the signed type that holds both.
        u, s = (a, b) if not a.is_signed else (b, a)
        if u is uint8:
            return s if s.itemsize > 1 else int16
        return _FROM_NP[np.promote_types(a._np, b._np)] if u.itemsize < 8 else u
    return _FROM_NP[np.promote_types(a._np, b._np)]


def _promote_low(a, b):
    """torch's promotion for the low-precision types (errors as its ScalarType.cpp)."""
    if a is b:
        return a
    names = f"{_cname(a)} and {_cname(b)}"
    for d in (a, b):
        if isinstance(d, _BitsDtype):
            raise RuntimeError(f"Promotion from {names} is unsupported.")
    if a in _FLOAT8 or b in _FLOAT8:
        raise RuntimeError(f"Promotion for Float8 Types is not supported, attempted to promote "
                           f"{names}")
    if float4_e2m1fn_x2 in (a, b) or a._kind == 4 or b._kind == 4:
        raise RuntimeError(f"Promotion for {names} is not supported")
    if a._kind == 5 or b._kind == 5:
        # the sub-byte ints: torch's table has them beside uint16..uint64
        u, o = (a, b) if a._kind == 5 else (b, a)
        if o.is_floating_point or o is u:
            return o
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {names}")
    # complex32 with a type of the table
    c, o = (a, b) if a is complex32 else (b, a)
    if o.is_complex or o in (float32, float64):
        return {float32: complex64, float64: complex128}.get(o, o)
    if o is bfloat16:
        return complex64
    if o in (uint16, uint32, uint64):
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {names}")
    return c


class _PromoteTable(dict):
    def __missing__(self, key):
        return _promote_low(*key)


_PROMOTE = _PromoteTable({(_a, _b): _promote_pair(_a, _b) for _a in _ALL for _b in _ALL})


def promote_types(a, b):
    return _PROMOTE[a, b]


def can_cast(from_, to):
    """torch.can_cast: no cast that lowers the category (float -> int, complex -> float...)."""
    if from_.is_complex and not to.is_complex:
        return False
    # torch's integral types here are the standard ones, not the sub-byte or bits types
    if from_.is_floating_point and to._kind == 1:
        return False
    return from_ is bool or to is not bool


import builtins as _builtins  # noqa: E402  (after the dtype named `bool` shadows the builtin)

_pybool, _pyint, _pyfloat, _pycomplex = (_builtins.bool, _builtins.int, _builtins.float,
                                         _builtins.complex)


def _dtype_for_kind(kind):
    """dtype a lone Python scalar of this category becomes (torch.tensor(3.) etc)."""
    if kind == 0:
        return bool
    if kind == 1:
        return int64
    if kind == 2:
        return _default
    return _default_complex()


def _combine_categories(higher, lower):
    """torch's rule for mixing priority groups (dimensioned > 0-d > Python scalar).

    The lower-priority group only matters when its category is higher (an int64 0-d tensor
    does not widen an int32 tensor, a float scalar does turn an int tensor into floats).
    """
    if higher is None:
        return lower
    if lower is None or higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return _PROMOTE[higher, lower]
    return higher


def result_type_scalar(d, scalar_kind):
    """dtype of `tensor(d) op python_scalar`: the scalar is weak unless its category is higher."""
    if scalar_kind <= d._kind and not (scalar_kind == 1 and d is bool):
        return d
    return _combine_categories(d, _dtype_for_kind(scalar_kind))


def result_type_tensors(a, a_zero_dim, b, b_zero_dim):
    """dtype of `a op b` for two tensors: 0-d tensors only count when their category is higher."""
    if a_zero_dim == b_zero_dim:
        return _PROMOTE[a, b]
    if a_zero_dim:
        return _combine_categories(b, a)
    return _combine_categories(a, b)


# torch's finfo of the float8 types (bits, eps, max, min, tiny); resolution is 1 for all.
# These are torch's numbers (float8_e5m2fnuz's eps is torch's 2**-3, not 2**-2).
_FINFO8 = {
    'float8_e4m3fn': (8, 2.0 ** -3, 448.0, -448.0, 2.0 ** -6),
    'float8_e4m3fnuz': (8, 2.0 ** -3, 240.0, -240.0, 2.0 ** -7),
    'float8_e5m2': (8, 2.0 ** -2, 57344.0, -57344.0, 2.0 ** -14),
    'float8_e5m2fnuz': (8, 2.0 ** -3, 57344.0, -57344.0, 2.0 ** -15),
    'float8_e8m0fnu': (8, 1.0, 2.0 ** 127, 2.0 ** -127, 2.0 ** -127),
}


class finfo:
    """torch.finfo for the floating types."""

    def __init__(self, type=None):
        type = type or _default
        if not (type.is_floating_point or type.is_complex) or type._kind == 4:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        self.dtype = type.name
        if type is float4_e2m1fn_x2:
            self.bits = 8
            return
        if type.is_complex:
            type = type.to_real()
            self.dtype = type.name
        if type.name in _FINFO8:
            self.bits, self.eps, self.max, self.min, self.tiny = _FINFO8[type.name]
            self.resolution = 1.0
        else:
            info = np.finfo(to_numpy(type))
            self.bits = info.bits
            self.eps = _pyfloat(info.eps)
            self.max = _pyfloat(info.max)
            self.min = _pyfloat(info.min)
            self.tiny = _pyfloat(info.tiny)
            self.resolution = 10.0 ** -info.precision
        self.smallest_normal = self.tiny

    def __getattr__(self, name):
        # float4_e2m1fn_x2: torch knows only its width
        if name in ('eps', 'max', 'min', 'tiny', 'smallest_normal', 'resolution'):
            raise NotImplementedError(f'"{"epsilon" if name == "eps" else name}" not '
                                      "implemented for 'Float4_e2m1fn_x2'")
        raise AttributeError(name)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """torch.iinfo for the integer types."""

    def __init__(self, type):
        if type._kind == 5 or type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(to_numpy(type))
        self.bits = info.bits
        self.max = _pyint(info.max)
        self.min = _pyint(info.min)
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
