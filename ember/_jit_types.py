"""torch's TorchScript type objects (torch.IntType, torch.ListType, ...) and operator schemas
(torch.FunctionSchema, torch.Argument, torch.parse_schema).

ember runs no TorchScript, but programs and libraries inspect operator schemas and build these
types (to describe signatures, to check annotations): they behave as torch's do. Types compare
structurally, are unhashable (as torch's), print as torch prints them, and answer isSubtypeOf
by TorchScript's rules: int, float and complex are numbers, lists and dicts are invariant,
tuples, optionals and futures covariant, every type is a subtype of Any.
"""
import math
import re

from . import _dtype
from ._tensor import Tensor, device as _device

__all__ = ['Type', 'TensorType', 'IntType', 'FloatType', 'BoolType', 'StringType', 'NoneType',
           'NumberType', 'ComplexType', 'AnyType', 'ListType', 'DictType', 'TupleType',
           'OptionalType', 'UnionType', 'FutureType', 'AwaitType', 'RRefType', 'DeviceObjType',
           'StreamObjType', 'PyObjectType', 'ClassType', 'EnumType', 'InterfaceType',
           'SymIntType', 'SymBoolType', 'InferredType', 'FunctionSchema', 'Argument',
           'parse_schema', 'unify_type_list']

# torch's TypeKind order: a Union lists its members in it (then by their names)
_KIND_ORDER = ('AnyType EnumType AnyEnumType TensorType StorageType TupleType ListType DictType '
               'NumberType FloatType ComplexType FutureType AwaitType RRefType IntType NoneType '
               'StringType GeneratorType QuantizerType BoolType OptionalType VarType '
               'DeviceObjType StreamObjType FunctionType ClassType PyObjectType CapsuleType '
               'InterfaceType QSchemeType ScalarTypeType LayoutType MemoryFormatType AnyListType '
               'AnyTupleType AnyClassType SymIntType SymFloatType SymBoolType UnionType').split()


def _not_tensor(self):
    raise RuntimeError(f"{self.str()} is not a tensor type (torch's assertion "
                       "`r INTERNAL ASSERT FAILED` at jit_type_base.h)")


class Type:
    """A TorchScript type (torch._C.Type)."""
    _kind = 'Type'
    _contained = ()

    def __init__(self, *args, **kwargs):
        raise TypeError(f"torch._C.{type(self).__name__}: No constructor defined!")

    @classmethod
    def _make(cls, **fields):
        t = object.__new__(cls)
        t.__dict__.update(fields)
        return t

    def str(self):
        return self._name

    def __str__(self):
        return self.str()

    __repr__ = __str__

    @property
    def annotation_str(self):
        return self.str()

    def kind(self):
        return self._kind

    def containedTypes(self):
        return list(self._contained)

    def is_interface_type(self):
        return False

    def isSubtypeOf(self, other):
        if not isinstance(other, Type):
            raise TypeError("isSubtypeOf(): incompatible function arguments. The following "
                            "argument types are supported:\n    1. (self: torch._C.Type, "
                            "arg0: torch._C.Type) -> bool\n")
        return _subtype(self, other)

    def _key(self):
        return (self._kind, self.str())

    def __eq__(self, other):
        if not isinstance(other, Type):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None     # torch's types are unhashable

    # the tensor-only queries
    dim = sizes = symbolic_sizes = varyingSizes = strides = contiguous = scalarType = \
        device = dtype = requires_grad = undefined = _not_tensor

    def with_sizes(self, sizes):
        _not_tensor(self)

    def with_device(self, device):
        _not_tensor(self)

    def with_dtype(self, dtype):
        _not_tensor(self)


def _singleton(name, text, kind=None):
    cls = type(name, (Type,), {'_kind': kind or name, '__module__': 'torch',
                               '__doc__': f"torch.{name}: the TorchScript type `{text}`."})
    inst = cls._make(_name=text)
    cls.get = staticmethod(lambda: inst)
    return cls


IntType = _singleton('IntType', 'int')
FloatType = _singleton('FloatType', 'float')
BoolType = _singleton('BoolType', 'bool')
StringType = _singleton('StringType', 'str')
NoneType = _singleton('NoneType', 'NoneType')
NumberType = _singleton('NumberType', 'number')
ComplexType = _singleton('ComplexType', 'complex')
AnyType = _singleton('AnyType', 'Any')
DeviceObjType = _singleton('DeviceObjType', 'Device')
StreamObjType = _singleton('StreamObjType', 'Stream')
PyObjectType = _singleton('PyObjectType', 'PyObject')
SymIntType = _singleton('SymIntType', 'int')
SymBoolType = _singleton('SymBoolType', 'bool')


class _NamedType(Type):
    """A schema type ember has no public class for (Generator, Storage, Layout, a type variable
    `t`, a registered class): it prints as its name."""

    def __init__(self, name, kind):
        self._name = name
        self._kind = kind


class TensorType(Type):
    """torch.TensorType: `Tensor`, or a complete tensor type built from a tensor."""
    _kind = 'TensorType'

    @staticmethod
    def get():
        return _TENSOR

    @staticmethod
    def getInferred():
        return _INFERRED_TENSOR

    @staticmethod
    def create_from_tensor(t):
        return TensorType._make(_name='Tensor', _sizes=list(t.shape), _dtype=t.dtype,
                                _strides=list(t.stride()), _rg=bool(t.requires_grad),
                                _undef=False)

    def _key(self):
        return ('TensorType', self._sizes, self._dtype, self._strides, self._rg, self._undef)

    def dim(self):
        return None if self._sizes is None else len(self._sizes)

    def sizes(self):
        return None if self._sizes is None else list(self._sizes)

    def symbolic_sizes(self):
        return self.sizes()

    def varyingSizes(self):
        return self.sizes()

    def strides(self):
        return None if self._strides is None else list(self._strides)

    def contiguous(self):
        if self._sizes is None:
            raise RuntimeError("concrete_sizes.has_value() INTERNAL ASSERT FAILED: the type "
                               "has no sizes")
        return TensorType._make(**dict(self.__dict__, _strides=_contiguous(self._sizes)))

    def dtype(self):
        return self._dtype

    def scalarType(self):
        return None if self._dtype is None else _dtype._cname(self._dtype)

    def device(self):
        return None if self._dtype is None else _device('cpu')

    def requires_grad(self):
        return self._rg

    def undefined(self):
        return self._undef

    def with_sizes(self, sizes):
        if sizes is None:
            return TensorType._make(**dict(self.__dict__, _sizes=None, _strides=None))
        return TensorType._make(**dict(self.__dict__, _sizes=list(sizes),
                                       _strides=_contiguous(sizes)))

    def with_device(self, device):
        return self

    def with_dtype(self, dtype):
        return TensorType._make(**dict(self.__dict__, _dtype=dtype))


def _contiguous(sizes):
    st, acc = [], 1
    for s in reversed(list(sizes)):
        st.append(acc)
        acc *= max(s, 1)
    return st[::-1]


_TENSOR = TensorType._make(_name='Tensor', _sizes=None, _dtype=None, _strides=None, _rg=True,
                           _undef=False)
_INFERRED_TENSOR = TensorType._make(**dict(_TENSOR.__dict__))


def _need_type(cls, t, sig):
    if not isinstance(t, Type):
        raise TypeError(f"__init__(): incompatible constructor arguments. The following argument "
                        f"types are supported:\n    1. torch._C.{cls}({sig})\n\nInvoked with: "
                        f"{t!r}")


def _need_types(cls, seq):
    if isinstance(seq, Type) or not all(isinstance(t, Type) for t in seq):
        raise TypeError("__init__(): incompatible constructor arguments. The following argument "
                        f"types are supported:\n    1. torch._C.{cls}(arg0: "
                        f"collections.abc.Sequence[torch._C.Type])\n\nInvoked with: {seq!r}")


class _Container(Type):
    """A type with one element type: List[T], Future[T], Await[T], RRef[T], Optional[T]."""
    _fmt = '{}'

    def __init__(self, a0):
        _need_type(type(self).__name__, a0, 'arg0: torch._C.Type')
        self._contained = (a0,)

    def getElementType(self):
        return self._contained[0]

    def str(self):
        return self._fmt.format(self._contained[0].str())

    @property
    def annotation_str(self):
        return self._fmt.format(self._contained[0].annotation_str)


class ListType(_Container):
    _kind = 'ListType'
    _fmt = 'List[{}]'



for _n, _get in (('ofInts', IntType.get), ('ofFloats', FloatType.get),
                 ('ofComplexDoubles', ComplexType.get), ('ofBools', BoolType.get),
                 ('ofStrings', StringType.get), ('ofTensors', TensorType.get)):
    setattr(ListType, _n, staticmethod(lambda _get=_get: ListType(_get())))


class FutureType(_Container):
    _kind = 'FutureType'
    _fmt = 'Future[{}]'


class AwaitType(_Container):
    _kind = 'AwaitType'
    _fmt = 'Await[{}]'


class RRefType(_Container):
    _kind = 'RRefType'
    _fmt = 'RRef[{}]'


_DICT_KEYS = ('IntType', 'FloatType', 'ComplexType', 'TensorType', 'DeviceObjType',
              'StringType', 'BoolType')


class DictType(Type):
    _kind = 'DictType'

    def __init__(self, arg0, arg1):
        for t in (arg0, arg1):
            _need_type('DictType', t, 'arg0: torch._C.Type, arg1: torch._C.Type')
        if arg0._kind not in _DICT_KEYS and arg0._kind != 'VarType':
            raise RuntimeError(f"Cannot create dict for key type '{_schema_str(arg0)}', only int, "
                               "float, complex, Tensor, device and string keys are supported")
        self._contained = (arg0, arg1)

    def getKeyType(self):
        return self._contained[0]

    def getValueType(self):
        return self._contained[1]

    def str(self):
        return f'Dict[{self._contained[0].str()}, {self._contained[1].str()}]'

    @property
    def annotation_str(self):
        return (f'Dict[{self._contained[0].annotation_str}, '
                f'{self._contained[1].annotation_str}]')


class TupleType(Type):
    _kind = 'TupleType'

    def __init__(self, arg0):
        _need_types('TupleType', arg0)
        self._contained = tuple(arg0)

    def elements(self):
        return list(self._contained)

    def str(self):
        if not self._contained:
            return 'Tuple[()]'
        return 'Tuple[' + ', '.join(t.str() for t in self._contained) + ']'

    @property
    def annotation_str(self):
        if not self._contained:
            return 'Tuple[()]'
        return 'Tuple[' + ', '.join(t.annotation_str for t in self._contained) + ']'


def _order(t):
    return (_KIND_ORDER.index(t._kind) if t._kind in _KIND_ORDER else len(_KIND_ORDER), t.str())


def _union_members(types):
    """torch's Union unification: members flattened, a member subsumed by another dropped,
    int + float + complex become number."""
    flat = []
    for t in types:
        flat.extend(_options(t) or [t])
    kinds = {t._kind for t in flat}
    if {'IntType', 'FloatType', 'ComplexType'} <= kinds:
        flat = [t for t in flat if t._kind not in ('IntType', 'FloatType', 'ComplexType')]
        flat.append(NumberType.get())
    out = []
    for t in flat:
        if any(_subtype(t, u) for u in out):
            continue
        out = [u for u in out if not _subtype(u, t)]
        out.append(t)
    return sorted(out, key=_order)


def _single_type_error(types, got):
    names = ''.join(t.str() + ' ' for t in types)
    return RuntimeError(
        "false INTERNAL ASSERT FAILED at \"../aten/src/ATen/core/union_type.cpp\", please report "
        f"a bug to PyTorch. After type unification was performed, the Union with the original "
        f"types {{{names}}} has the single type {got.str()}. Use the common supertype instead "
        "of creating a Union type")


class UnionType(Type):
    """torch.UnionType: its members unified, sorted as torch sorts them; exactly one other type
    with NoneType prints (and works) as Optional."""
    _kind = 'UnionType'

    def __init__(self, arg0):
        _need_types('UnionType', arg0)
        if not arg0:
            raise RuntimeError("!reference.empty() INTERNAL ASSERT FAILED: Cannot create an "
                               "empty Union")
        members = _union_members(arg0)
        if len(members) == 1 and members[0]._kind != 'NumberType':  # Union[number] stays
            raise _single_type_error(arg0, members[0])
        self._contained = tuple(members)
        none = [t for t in members if t._kind == 'NoneType']
        if len(members) == 2 and none:
            self._kind = 'OptionalType'

    def _optional_of(self):
        return next(t for t in self._contained if t._kind != 'NoneType')

    def str(self):
        if self._kind == 'OptionalType':
            return f'Optional[{self._optional_of().str()}]'
        return 'Union[' + ', '.join(t.str() for t in self._contained) + ']'

    @property
    def annotation_str(self):
        if self._kind == 'OptionalType':
            return f'Optional[{self._optional_of().annotation_str}]'
        return 'Union[' + ', '.join(t.annotation_str for t in self._contained) + ']'

    def containedTypes(self):
        if self._kind == 'OptionalType':
            return [self._optional_of()]
        return list(self._contained)


class OptionalType(Type):
    """torch.OptionalType: T or None (T itself may be a Union)."""
    _kind = 'OptionalType'

    def __init__(self, arg0):
        _need_type('OptionalType', arg0, 'arg0: torch._C.Type')
        if arg0._kind == 'NoneType':
            raise _single_type_error([arg0, arg0], arg0)
        self._elem = arg0
        self._contained = (arg0,)

    @staticmethod
    def ofTensor():
        return OptionalType(TensorType.get())

    def getElementType(self):
        return self._elem

    def str(self):
        return f'Optional[{self._elem.str()}]'

    @property
    def annotation_str(self):
        return f'Optional[{self._elem.annotation_str}]'


def _options(t):
    """The members of an Optional/Union (None included), or None for another type."""
    if isinstance(t, OptionalType):
        inner = _options(t._elem) or [t._elem]
        return inner + [NoneType.get()]
    if isinstance(t, UnionType):
        return list(t._contained)
    return None


def _subtype(a, b):
    if a == b or b._kind == 'AnyType':
        return True
    if a._kind == 'TensorType' and b._kind == 'TensorType':
        return b._key() == _TENSOR._key() or _tensor_sub(a, b)
    ao, bo = _options(a), _options(b)
    if ao is not None:
        return bo is not None and all(any(_subtype(x, y) for y in bo) for x in ao) or \
            bo is None and all(_subtype(x, b) for x in ao)
    if bo is not None:
        return any(_subtype(a, y) for y in bo)
    if b._kind == 'NumberType':
        return a._kind in ('IntType', 'FloatType', 'ComplexType')
    if a._kind != b._kind:
        return False
    if a._kind in ('TupleType', 'FutureType', 'AwaitType', 'RRefType'):
        return len(a._contained) == len(b._contained) and \
            all(_subtype(x, y) for x, y in zip(a._contained, b._contained))
    return False        # List and Dict are invariant: equality was checked above


def _tensor_sub(a, b):
    for f in ('_sizes', '_dtype', '_strides'):
        if getattr(b, f) is not None and getattr(a, f) != getattr(b, f):
            return False
    return True


class _ScriptClassType(Type):
    """ClassType/InterfaceType/EnumType: types of TorchScript classes. ember compiles none, so
    every name is unknown, and torch's constructor fails for an unknown name."""

    def __init__(self, *args):
        raise TypeError("pybind11::init(): factory function returned nullptr")


class ClassType(_ScriptClassType):
    _kind = 'ClassType'

    def name(self):
        return self._name.rpartition('.')[2]

    def qualified_name(self):
        return self._name

    def method_names(self):
        return []


class InterfaceType(_ScriptClassType):
    _kind = 'InterfaceType'

    def is_interface_type(self):
        return True

    def getMethodNames(self):
        return []

    def getMethod(self, name):
        return None


class EnumType(_ScriptClassType):
    _kind = 'EnumType'


class InferredType:
    """torch.InferredType: the result of inferring a value's type: a type, or the reason why
    there is none."""

    def __init__(self, arg0):
        if isinstance(arg0, Type):
            self._type, self._reason = arg0, None
        elif isinstance(arg0, str):
            self._type, self._reason = None, arg0
        else:
            raise TypeError("__init__(): incompatible constructor arguments. The following "
                            "argument types are supported:\n    1. torch._C.InferredType(arg0: "
                            "torch._C.Type)\n    2. torch._C.InferredType(arg0: str)\n\n"
                            f"Invoked with: {arg0!r}")

    def success(self):
        return self._type is not None

    def type(self):
        if self._type is None:
            raise RuntimeError("type_ INTERNAL ASSERT FAILED: Tried to get the type from an "
                               f"InferredType but the type is null. Reason: {self._reason}")
        return self._type

    def reason(self):
        if self._reason is None:
            raise RuntimeError("!type_ INTERNAL ASSERT FAILED: the inference succeeded, there "
                               "is no reason")
        return self._reason


def unify_type_list(types):
    """torch.unify_type_list: the one type all of `types` fit, as TorchScript unifies a list
    literal's elements (None joins as Optional, tuples unify element-wise)."""
    types = list(types)
    if not types:
        raise RuntimeError("Cannot get unified type from empty list")
    got = types[0]
    for i, t in enumerate(types[1:], 1):
        u = _unify(got, t)
        if u is None:
            raise RuntimeError(f"Could not unify type list since element {i} of type {t.str()} "
                               f"did not match the types before it ({got.str()})")
        got = u
    return got


def _unify(a, b):
    if _subtype(a, b):
        return b
    if _subtype(b, a):
        return a
    if a._kind == 'NoneType' and b._kind != 'OptionalType':
        return OptionalType(b)
    if b._kind == 'NoneType' and a._kind != 'OptionalType':
        return OptionalType(a)
    if a._kind == 'OptionalType' and b._kind != 'OptionalType':
        inner = _unify(a.getElementType(), b)
        return None if inner is None else OptionalType(inner)
    if b._kind == 'OptionalType' and a._kind != 'OptionalType':
        return _unify(b, a)
    if a._kind == 'TupleType' and b._kind == 'TupleType' and \
            len(a._contained) == len(b._contained):
        parts = [_unify(x, y) for x, y in zip(a._contained, b._contained)]
        return None if None in parts else TupleType(parts)
    if a._kind == 'TensorType' and b._kind == 'TensorType':
        return TensorType.get()
    return None


# ---- operator schemas -----------------------------------------------------------------------

def _schema_str(t):
    """A type as a schema spells it: int[], Tensor?, Scalar, (int, float), Dict(str, Tensor)."""
    spelled = getattr(t, '_spelled', None)
    if spelled is not None:
        return spelled
    k = t._kind
    if k == 'ListType':
        return _schema_str(t._contained[0]) + '[]'
    if k == 'OptionalType' and isinstance(t, OptionalType):
        return _schema_str(t._elem) + '?'
    if k == 'NumberType':
        return 'Scalar'
    if k == 'TupleType':
        return '(' + ', '.join(_schema_str(x) for x in t._contained) + ')'
    if k == 'DictType':
        return f'Dict({_schema_str(t._contained[0])}, {_schema_str(t._contained[1])})'
    return t.str()


class _AliasInfo:
    """torch._C._AliasInfo: an argument's alias sets before and after the call, and whether the
    op writes to it."""

    def __init__(self, before, after, is_write, contained=None):
        self.before_set = set(before)
        self.after_set = set(after)
        self.is_write = is_write
        self._contained = contained
        self._before = list(before)
        self._after = list(after)

    def _text(self):
        # torch keeps the sets unordered: two names come back in the other order
        s = '|'.join(reversed(self._before))
        if self._after != self._before:
            s += ' -> ' + '|'.join(reversed(self._after))
        if self.is_write:
            s += '!'
        return f'({s})'


class Argument:
    """torch.Argument: one argument or return of a FunctionSchema."""

    def __init__(self, name, type, real_type, N, default, has_default, kwarg_only, alias_info,
                 spelled):
        self.__dict__.update(name=name, type=type, real_type=real_type, N=N,
                             default_value=default, _has_default=has_default,
                             kwarg_only=kwarg_only, alias_info=alias_info, _spelled=spelled)

    def has_default_value(self):
        return self._has_default

    @property
    def is_out(self):
        return bool(self.kwarg_only and self.alias_info is not None and self.alias_info.is_write)

    @property
    def is_write(self):
        return self.alias_info is not None and self.alias_info.is_write

    def _text(self, is_return=False):
        s = self._spelled
        if self.name:
            s += ' ' + self.name
        if self._has_default and not is_return:
            d = self.default_value
            if self.N and self.N > 1 and isinstance(d, list) and d and \
                    self._spelled.startswith('int[') and \
                    all(x == d[0] for x in d):
                d = d[0]        # torch prints int[N] x=1 back as written
            s += '=' + _default_text(d, self._default_kind)
        return s


class FunctionSchema:
    """torch.FunctionSchema: an operator's name, overload, arguments and returns."""

    def __init__(self, name, overload_name, arguments, returns, is_vararg=False,
                 is_varret=False):
        self.__dict__.update(name=name, overload_name=overload_name, arguments=arguments,
                             returns=returns, _vararg=is_vararg, _varret=is_varret)

    @property
    def is_mutable(self):
        return any(a.is_write for a in self.arguments)

    def _is_view_op(self):
        infos = [a.alias_info for a in self.arguments if a.alias_info is not None]
        return any(not info.is_write for info in infos)

    def __str__(self):
        parts = []
        for i, a in enumerate(self.arguments):
            if a.kwarg_only and (i == 0 or not self.arguments[i - 1].kwarg_only):
                parts.append('*')     # where the keyword-only arguments start
            parts.append(a._text())
        if self._vararg:
            parts.append('...')
        head = self.name + ('.' + self.overload_name if self.overload_name else '')
        if self._varret:
            rets = '...'
        elif len(self.returns) == 1 and not self.returns[0]._spelled.startswith('('):
            rets = self.returns[0]._text(True)
        else:
            rets = '(' + ', '.join(r._text(True) for r in self.returns) + ')'
        return f"{head}({', '.join(parts)}) -> {rets}"

    __repr__ = __str__

    def __eq__(self, other):
        return isinstance(other, FunctionSchema) and str(self) == str(other)

    __hash__ = None

    def is_backward_compatible_with(self, old):
        return str(self) == str(old)

    def check_forward_compatible_with(self, old):
        return (str(self) == str(old), '')


def _float_text(v):
    if math.isinf(v) or math.isnan(v):
        return repr(v)
    s = '%.17g' % v
    if not any(c in s for c in '.e'):
        s += '.'
    return s


def _default_text(v, kind):
    if v is None:
        return 'None'
    if kind == 'str':
        return '"' + ''.join(_ESCAPE.get(c, c) for c in v) + '"'
    if kind == 'device':
        return str(v)
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, list):
        return '[' + ', '.join(_default_text(x, kind) for x in v) + ']'
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, complex):
        im = _float_text(v.imag)
        return f"{_float_text(v.real)}{'' if im.startswith('-') else '+'}{im}j"
    return str(v)


_UNESCAPE = {'n': '\n', 't': '\t', 'f': '\f', 'v': '\v', 'r': '\r', 'a': '\a', 'b': '\b',
             '0': '\0'}
_ESCAPE = {'\\': '\\\\', '"': '\\"', "'": "\\'", **{v: '\\' + k for k, v in _UNESCAPE.items()}}


class _SchemaError(RuntimeError):
    pass


def _error(src, pos, msg, width=1):
    line_start = src.rfind('\n', 0, pos) + 1
    line_end = src.find('\n', pos)
    line_end = len(src) if line_end < 0 else line_end
    return _SchemaError(f"\n{msg}:\n{src[line_start:line_end]}\n"
                        f"{' ' * (pos - line_start)}{'~' * max(width, 1)} <--- HERE\n")


_ENUM_DEFAULTS = {
    'ScalarType': {'uint8': 0, 'int8': 1, 'int16': 2, 'short': 2, 'int32': 3, 'int': 3,
                   'int64': 4, 'long': 4, 'float16': 5, 'half': 5, 'float32': 6, 'float': 6,
                   'float64': 7, 'double': 7, 'complex32': 8, 'complex64': 9, 'cfloat': 9,
                   'complex128': 10, 'cdouble': 10, 'bool': 11, 'bfloat16': 15},
    'Layout': {'strided': 0},
    'MemoryFormat': {'contiguous_format': 0},
}
_FAKE = {'ScalarType': 'int', 'Layout': 'int', 'MemoryFormat': 'int', 'SymInt': 'int',
         'SymBool': 'bool', 'Scalar': 'number'}
_BASE = {'Tensor': TensorType.get, 'int': IntType.get, 'float': FloatType.get,
         'bool': BoolType.get, 'str': StringType.get, 'complex': ComplexType.get,
         'Scalar': NumberType.get, 'Device': DeviceObjType.get, 'Stream': StreamObjType.get,
         'Any': AnyType.get, 'SymInt': IntType.get, 'SymBool': BoolType.get,
         'NoneType': NoneType.get}
_NAMED = {'Generator': 'GeneratorType', 'Storage': 'StorageType', 'QScheme': 'QSchemeType',
          'ScalarType': 'ScalarTypeType', 'Layout': 'LayoutType',
          'MemoryFormat': 'MemoryFormatType', 'AnyEnumType': 'AnyEnumType',
          'AnyClassType': 'AnyClassType', 'Capsule': 'CapsuleType',
          'ConstQuantizerPtr': 'QuantizerType'}


class _Parser:
    """A recursive-descent parser of torch's schema grammar (native_functions.yaml's `func:`)."""

    def __init__(self, src):
        self.src = src
        self.i = 0

    # -- lexing helpers
    def ws(self):
        while self.i < len(self.src) and self.src[self.i] in ' \t\n':
            self.i += 1

    def peek(self, s):
        self.ws()
        return self.src.startswith(s, self.i)

    def eat(self, s):
        if self.peek(s):
            self.i += len(s)
            return True
        return False

    def _token_kind(self):
        self.ws()
        if self.i >= len(self.src):
            return "'eof'", 0
        c = self.src[self.i]
        if c.isalpha() or c == '_':
            j = self.i
            while j < len(self.src) and (self.src[j].isalnum() or self.src[j] == '_'):
                j += 1
            return "'ident'", j - self.i
        if c.isdigit():
            return "'number'", 1
        return f"'{c}'", 1

    def expect(self, s):
        if not self.eat(s):
            kind, width = self._token_kind()
            raise _error(self.src, self.i, f"expected {s} but found {kind} here", width)

    def ident(self):
        self.ws()
        j = self.i
        while j < len(self.src) and (self.src[j].isalnum() or self.src[j] in '_'):
            j += 1
        if j == self.i:
            kind, width = self._token_kind()
            raise _error(self.src, self.i, f"expected ident but found {kind} here", width)
        s, self.i = self.src[self.i:j], j
        return s

    # -- the grammar
    def schema(self):
        name = self.ident()
        while self.peek('::') or (self.peek('.') and not self.peek('..')):
            if self.eat('::'):
                name += '::' + self.ident()
            else:
                break
        overload = ''
        if self.eat('.'):
            overload = self.ident()
        self.expect('(')
        args, vararg, kw = [], False, False
        if not self.eat(')'):
            while True:
                if self.eat('...'):
                    vararg = True
                elif self.eat('*'):
                    kw = True
                else:
                    args.append(self.argument(kw, is_return=False))
                if not self.eat(','):
                    self.expect(')')
                    break
        self.expect('->')
        rets, varret = [], False
        if self.eat('...'):
            varret = True
        elif self.peek('(') and not self._tuple_type_ahead():
            self.expect('(')
            while not self.peek(')'):
                if rets:
                    self.expect(',')
                if self.eat('...'):
                    varret = True
                    continue
                rets.append(self.argument(False, is_return=True))
            self.expect(')')
        else:
            rets.append(self.argument(False, is_return=True))
        self.ws()
        if self.i != len(self.src):
            kind, width = self._token_kind()
            raise _error(self.src, self.i, f"expected eof but found {kind} here", width)
        seen_default = False
        for a in args:
            if a._has_default:
                seen_default = True
            elif seen_default and not a.kwarg_only:
                raise RuntimeError(
                    "!seen_default_arg || arg.kwarg_only() INTERNAL ASSERT FAILED: Non-default "
                    f"positional argument follows default argument. Parameter {a.name} in "
                    f"{self.src}")
        return FunctionSchema(name, overload, args, rets, vararg, varret)

    def _tuple_type_ahead(self):
        """`-> (int, float)` is a tuple of returns; `-> (int, float) x` would be one tuple."""
        return False

    def argument(self, kwarg_only, is_return):
        start = self.i
        fake, real, alias, N = self.type()
        self.ws()
        spelled = self.src[start:self.i].strip()
        spelled = _ALIAS_SETS.sub(lambda m: '|'.join(reversed(m.group(0).split('|'))),
                                  _normalise_spelling(spelled))
        name = ''
        if self.src[self.i:self.i + 1].isalpha() or self.src[self.i:self.i + 1] == '_':
            name = self.ident()
        default, has_default, dkind = None, False, None
        if not is_return and self.eat('='):
            default, dkind = self.default(real, N)
            has_default = True
        a = Argument(name, fake, real, N, default, has_default, kwarg_only, alias, spelled)
        a._default_kind = dkind
        return a

    def type_list(self):
        """The fake and the real types of a parenthesised, comma-separated list of types."""
        self.expect('(')
        fs, rs = [], []
        while not self.peek(')'):
            if fs:
                self.expect(',')
            f, r, _, _ = self.type()
            fs.append(f)
            rs.append(r)
        self.expect(')')
        return fs, rs

    def base_type(self):
        """(fake type, real type) of a type without suffixes."""
        self.ws()
        pos = self.i
        if self.peek('('):
            fs, rs = self.type_list()
            return TupleType(fs), TupleType(rs)
        name = self.ident()
        while self.peek('.') and name.startswith('__torch__'):
            self.eat('.')
            name += '.' + self.ident()
        if name in ('Dict', 'Future', 'Await', 'RRef', 'Union') and self.peek('('):
            fs, rs = self.type_list()
            if name == 'Dict':
                return DictType(*fs), DictType(*rs)
            if name == 'Union':
                return UnionType(fs), UnionType(rs)
            cls = {'Future': FutureType, 'Await': AwaitType, 'RRef': RRefType}[name]
            return cls(fs[0]), cls(rs[0])
        if name in _BASE:
            fake = _BASE[name]()
            if name in _NAMED:
                real = _NamedType(name, _NAMED[name])
            elif name == 'SymInt':
                real = IntType.get()
            else:
                real = fake
            return fake, real
        if name in _NAMED:
            real = _NamedType(name, _NAMED[name])
            fake = IntType.get() if name in _FAKE else real
            return fake, real
        if name.startswith('__torch__'):
            t = _NamedType(name, 'ClassType')
            return t, t
        if len(name) <= 4 and name[0] == 't' or name.startswith('t') and name[1:].isdigit():
            t = _NamedType(name, 'VarType')
            return t, t
        if name == 'tVal':
            t = _NamedType(name, 'VarType')
            return t, t
        raise _error(self.src, pos, "unknown type specifier. Common valid schema types include "
                     "Tensor, SymInt, int, float, bool, Scalar; for a full list, please see "
                     "https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/"
                     "README.md#func ", len(name))

    def alias(self):
        """An alias annotation after `Tensor`: (a), (a!), (a -> *), (a|b), (a! -> a|b)."""
        self.expect('(')
        before = [self.alias_set_name()]
        while self.eat('|'):
            before.append(self.alias_set_name())
        write = self.eat('!')
        after = before
        if self.eat('->'):
            after = [self.alias_set_name()]
            while self.eat('|'):
                after.append(self.alias_set_name())
            write = self.eat('!') or write
        self.expect(')')
        return _AliasInfo(before, after, write)

    def alias_set_name(self):
        if self.eat('*'):
            return '*'
        return self.ident()

    def type(self):
        """(fake type, real type, alias info, N) of a type with its suffixes."""
        fake, real = self.base_type()
        alias, N = None, None
        if self.peek('(') and not self.peek('()'):
            alias = self.alias()
        while True:
            if self.eat('?'):
                fake, real = OptionalType(fake), OptionalType(real)
            elif self.peek('['):
                self.expect('[')
                self.ws()
                if self.src[self.i:self.i + 1].isdigit():
                    j = self.i
                    while self.src[j].isdigit():
                        j += 1
                    N, self.i = int(self.src[self.i:j]), j
                self.expect(']')
                fake, real = ListType(fake), ListType(real)
                if alias is not None:   # the elements' annotation: the list holds it
                    alias = _AliasInfo([], [], alias.is_write, contained=alias)
                if self.peek('(') and not self.peek('()'):
                    alias = self.alias()
            else:
                return fake, real, alias, N

    def default(self, real, N):
        """A default value: its Python value and how it prints."""
        self.ws()
        pos = self.i
        base, optional = real, False
        if real._kind == 'OptionalType':
            base, optional = real.getElementType(), True
        if self.src.startswith('None', self.i) and not self.src[self.i + 4:self.i + 5].isalnum():
            self.i += 4
            return None, None
        if base._kind == 'ListType':
            elem = base._contained[0]
            if self.peek('['):
                self.expect('[')
                vals = []
                while not self.peek(']'):
                    if vals:
                        self.expect(',')
                    vals.append(self.scalar_default(elem, pos)[0])
                self.expect(']')
                if elem._kind not in ('IntType', 'FloatType', 'ComplexType', 'BoolType') and vals:
                    raise _error(self.src, pos, "lists are only supported for float, int and "
                                 "complex types")
                if elem._kind not in ('IntType', 'FloatType', 'ComplexType', 'BoolType'):
                    raise _error(self.src, pos, "lists are only supported for float, int and "
                                 "complex types")
                return vals, elem._kind
            v, k = self.scalar_default(elem, pos)
            return [v] * (N or 1), k
        return self.scalar_default(base, pos, optional)

    def scalar_default(self, t, pos, optional=False):
        self.ws()
        k = t._kind
        src = self.src
        if src.startswith(('True', 'False'), self.i):
            v = src.startswith('True', self.i)
            self.i += 4 if v else 5
            return v, 'bool'
        if src[self.i:self.i + 1] in ('"', "'"):
            q = src[self.i]
            j = self.i + 1
            out = []
            while j < len(src) and src[j] != q:
                if src[j] == '\\' and j + 1 < len(src):
                    j += 1
                    out.append(_UNESCAPE.get(src[j], src[j]))
                else:
                    out.append(src[j])
                j += 1
            self.i = j + 1
            s = ''.join(out)
            if k == 'DeviceObjType':
                return _device(s), 'device'
            return s, 'str'
        if k in ('ScalarTypeType', 'LayoutType', 'MemoryFormatType'):
            name = t.str()
            j = self.i
            while j < len(src) and (src[j].isalnum() or src[j] == '_'):
                j += 1
            word = src[self.i:j]
            table = _ENUM_DEFAULTS[name]
            if word.isdigit():
                self.i = j
                return int(word), 'int'
            if word not in table:
                raise _error(src, j, "invalid numeric default value")
            self.i = j
            return table[word], 'int'
        j = self.i
        if j < len(src) and src[j] in '+-':
            j += 1
        while j < len(src) and (src[j].isalnum() or src[j] in '.'):
            j += 1
        if j < len(src) and src[j - 1] in 'eE' and src[j] in '+-':
            j += 1
            while j < len(src) and src[j].isdigit():
                j += 1
        word = src[self.i:j]
        try:
            if word.endswith('j'):
                v = complex(word)
            elif any(c in word for c in '.eE') and not word.startswith(('0x', '0X')):
                v = float(word)
            else:
                v = int(word, 0) if not word.startswith(('0x', '0X')) else 0
        except ValueError:
            if src[self.i:self.i + 1] in '+-':
                self.i += 1
            kind, width = self._token_kind()
            raise _error(src, self.i, f"expected number but found {kind} here",
                         width) from None
        self.i = j
        if optional:        # an optional's default keeps the number as written
            return v, type(v).__name__
        if k == 'FloatType' and not isinstance(v, complex):
            return float(v), 'float'
        if k == 'ComplexType':
            return complex(v), 'complex'
        if k == 'IntType' and isinstance(v, float):
            raise _error(src, pos, "invalid numeric default value")
        return v, type(v).__name__


# an alias annotation's set of two names or more: torch prints it back in the other order
_ALIAS_SETS = re.compile(r'[A-Za-z_*]+(?:\|[A-Za-z_*]+)+')


def _normalise_spelling(s):
    """The written type as torch prints it back (spaces inside as torch puts them)."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == ',':
            out.append(', ')
            i += 1
            while i < len(s) and s[i] == ' ':
                i += 1
            continue
        if c == ' ' and i + 2 < len(s) and s[i + 1:i + 3] == '->':
            out.append(' -> ')
            i += 3
            while i < len(s) and s[i] == ' ':
                i += 1
            continue
        if c == ' ':
            i += 1
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def parse_schema(schema, allow_typevars=True):
    """torch.parse_schema: a FunctionSchema from torch's schema string."""
    if not isinstance(schema, str):
        raise TypeError("parse_schema(): incompatible function arguments. The following "
                        "argument types are supported:\n    1. (schema: str, allow_typevars: "
                        f"bool = True) -> torch._C.FunctionSchema\n\nInvoked with: {schema!r}")
    return _Parser(schema).schema()

