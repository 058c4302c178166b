"""TorchScript type objects and operator schemas (torch.IntType, torch.parse_schema, ...) against
torch."""
import pytest
import torch

import ember
from tests._oracle import assert_same

SINGLETONS = ('IntType FloatType BoolType StringType NoneType NumberType ComplexType AnyType '
              'DeviceObjType StreamObjType PyObjectType SymIntType SymBoolType TensorType').split()


def _types(lib):
    I, F, S = lib.IntType.get(), lib.FloatType.get(), lib.StringType.get()
    N, Te, Nu = lib.NoneType.get(), lib.TensorType.get(), lib.NumberType.get()
    return {
        'int': I, 'float': F, 'str': S, 'none': N, 'tensor': Te, 'number': Nu,
        'bool': lib.BoolType.get(), 'complex': lib.ComplexType.get(), 'any': lib.AnyType.get(),
        'symint': lib.SymIntType.get(), 'device': lib.DeviceObjType.get(),
        'list_int': lib.ListType(I), 'list_num': lib.ListType(Nu),
        'list_tensors': lib.ListType.ofTensors(), 'dict': lib.DictType(S, Te),
        'dict_num': lib.DictType(S, Nu), 'dict_int': lib.DictType(S, I),
        'tuple': lib.TupleType([I, F]), 'tuple_num': lib.TupleType([Nu, Nu]),
        'empty_tuple': lib.TupleType([]), 'opt_int': lib.OptionalType(I),
        'opt_num': lib.OptionalType(Nu), 'union': lib.UnionType([I, S]),
        'union3': lib.UnionType([S, I, F]), 'union_none': lib.UnionType([I, N]),
        'future': lib.FutureType(I), 'future_num': lib.FutureType(Nu), 'await': lib.AwaitType(I),
        'rref': lib.RRefType(I), 'list_opt': lib.ListType(lib.OptionalType(Te)),
        'opt_union': lib.OptionalType(lib.UnionType([I, S])),
    }


NAMES = list(_types(ember))


@pytest.mark.parametrize('name', SINGLETONS)
def test_singletons(name):
    assert_same(lambda lib: (str(getattr(lib, name).get()), repr(getattr(lib, name).get()),
                      getattr(lib, name).get().kind(),
                      getattr(lib, name).get().annotation_str,
                      getattr(lib, name).get() is getattr(lib, name).get()), torch)
    assert_same(lambda lib: getattr(lib, name)(), torch)


@pytest.mark.parametrize('name', NAMES)
def test_type_text_and_structure(name):
    assert_same(lambda lib: (str(_types(lib)[name]), _types(lib)[name].annotation_str,
                      _types(lib)[name].kind(),
                      [str(t) for t in _types(lib)[name].containedTypes()],
                      _types(lib)[name].is_interface_type()), torch)


@pytest.mark.parametrize('a', NAMES)
def test_is_subtype_of(a):
    assert_same(lambda lib: [(b, _types(lib)[a].isSubtypeOf(_types(lib)[b])) for b in NAMES], torch)
    assert_same(lambda lib: [(b, _types(lib)[a] == _types(lib)[b]) for b in NAMES], torch)


def test_unhashable_and_accessors():
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            hash(lib.IntType.get())
    assert_same(lambda lib: [str(t) for t in lib.TupleType([lib.IntType.get(),
                                                      lib.FloatType.get()]).elements()], torch)
    assert_same(lambda lib: (str(lib.DictType(lib.StringType.get(), lib.IntType.get()).getKeyType()),
                      str(lib.DictType(lib.StringType.get(), lib.IntType.get()).getValueType()),
                      str(lib.ListType(lib.IntType.get()).getElementType()),
                      str(lib.OptionalType.ofTensor()), str(lib.ListType.ofInts()),
                      str(lib.ListType.ofFloats()), str(lib.ListType.ofBools()),
                      str(lib.ListType.ofStrings()), str(lib.ListType.ofComplexDoubles())), torch)


@pytest.mark.parametrize('members', [['int', 'float'], ['bool', 'int'], ['tensor', 'none'],
                                     ['str', 'bool', 'none'], ['list_int', 'int'],
                                     ['int', 'float', 'complex'], ['int', 'number'],
                                     ['opt_int', 'str'], ['union', 'float'], ['int'],
                                     ['int', 'int'], ['any', 'int'], [], ['device', 'str']])
def test_union_unification_and_order(members):
    def run(lib):
        try:
            return str(lib.UnionType([_types(lib)[m] for m in members]))
        except RuntimeError as e:   # torch's internal assertions: compare their first words
            return 'RuntimeError: ' + str(e).split(' INTERNAL')[0]
    assert_same(run, torch)


def test_constructor_errors():
    assert_same(lambda lib: lib.ListType(3), torch)
    assert_same(lambda lib: lib.TupleType(lib.IntType.get()), torch)
    assert_same(lambda lib: str(lib.DictType(lib.ListType(lib.IntType.get()), lib.IntType.get())),
         torch)
    assert_same(lambda lib: lib.Type(), torch)
    assert_same(lambda lib: lib.ClassType('__torch__.Foo'), torch)
    assert_same(lambda lib: lib.InterfaceType('__torch__.Foo'), torch)
    assert_same(lambda lib: str(lib.DictType(lib.BoolType.get(), lib.IntType.get())), torch)


def test_tensor_types():
    def run(lib):
        t = lib.TensorType.create_from_tensor(lib.zeros(2, 3))
        g = lib.TensorType.get()
        return (str(t), t.sizes(), t.dim(), repr(t.dtype()), t.scalarType(), repr(t.device()),
                t.requires_grad(), t.strides(), t.undefined(), t == g, t.isSubtypeOf(g),
                g.isSubtypeOf(t), g.sizes(), g.dim(), g.dtype(), g.requires_grad(),
                g.undefined(), str(lib.TensorType.getInferred()))
    assert_same(run, torch)


def test_inferred_type():
    assert_same(lambda lib: (lib.InferredType(lib.IntType.get()).success(),
                      str(lib.InferredType(lib.IntType.get()).type()),
                      lib.InferredType('bad').success(), lib.InferredType('bad').reason()), torch)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match='Reason: bad'):
            lib.InferredType('bad').type()


@pytest.mark.parametrize('types', [['int', 'int'], ['int', 'float'], ['int', 'none'],
                                   ['none', 'int'], ['opt_int', 'int'], ['list_int', 'list_int'],
                                   ['tensor', 'tensor'], []])
def test_unify_type_list(types):
    assert_same(lambda lib: str(lib.unify_type_list([_types(lib)[t] for t in types])), torch)


def test_every_registered_schema_parses_as_torch_parses_it():
    """torch's own operator schemas (4000+) parse to the same names, types, defaults, alias
    annotations and printed form."""
    def desc(s):
        return (str(s), s.name, s.overload_name, s.is_mutable,
                [(a.name, str(a.type), str(a.real_type), a.N, repr(a.default_value),
                  a.kwarg_only, a.is_out, a.has_default_value(), a.alias_info is None,
                  a.alias_info and (a.alias_info.is_write, a.alias_info.before_set,
                                    a.alias_info.after_set))
                 for a in s.arguments],
                [(a.name, str(a.type)) for a in s.returns])
    schemas = torch._C._jit_get_all_schemas()
    assert len(schemas) > 1000
    for s in schemas:
        src = str(s)
        try:
            want = desc(torch.parse_schema(src))
        except RuntimeError:    # registered from Python with a type the parser refuses
            with pytest.raises(RuntimeError):
                ember.parse_schema(src)
            continue
        assert desc(ember.parse_schema(src)) == want, src


@pytest.mark.parametrize('src', [
    "aten::bad(Tensor x",
    "f(Tensor x) -> Tensor y z",
    "f(Dimname d) -> ()",
    "f(str[] ss=['a']) -> ()",
    "f(MemoryFormat m=channels_last) -> ()",
    "f(int x=-1, float y=-inf) -> int",
    "f(int x=1, int y) -> int",
])
def test_schema_errors(src):
    def run(lib):
        try:
            lib.parse_schema(src)
        except RuntimeError as e:
            return str(e).split(' INTERNAL')[0].strip().split('\n')[0]
        return 'parsed'
    assert_same(run, torch)


def test_schema_fields():
    def run(lib):
        s = lib.parse_schema("aten::add_.Tensor(Tensor(a!) self, Tensor other, *, "
                             "Scalar alpha=1) -> Tensor(a!)")
        a = s.arguments[0]
        return (s.name, s.overload_name, s.is_mutable, str(s), a.name, a.is_write, a.kwarg_only,
                a.alias_info.is_write, a.alias_info.before_set, s.arguments[2].kwarg_only,
                s.arguments[2].default_value, str(s.returns[0].type))
    assert_same(run, torch)
