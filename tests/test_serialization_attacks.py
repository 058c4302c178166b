"""Loading a checkpoint as an attacker would write it (ember/serialization/): crafted pickles
for every allow-listed global, memory bombs, fuzzed real checkpoints, interrupted saves.

A load may build tensors, containers and allow-listed objects, and nothing else: every test
that feeds a hostile file checks that the load was refused and that nothing ran (no file
written, the seed and the default dtype unchanged)."""
import collections
import io
import os
import pickle
import struct
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import ember
import ember.serialization as es
from ember.serialization import _unpickle

torch = pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN = (RuntimeError, ValueError, pickle.UnpicklingError, EOFError, NotImplementedError)


# ---- a small pickle assembler (protocol 2, the opcodes torch's weights-only loader takes) ---

def G(module, name):
    return b'c' + f'{module}\n{name}\n'.encode()


def S(s):
    b = s.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def I(n):  # noqa: E743
    if 0 <= n < 2 ** 31:
        return b'J' + struct.pack('<i', n)
    body = n.to_bytes((n.bit_length() + 8) // 8, 'little', signed=True)
    return b'\x8a' + bytes([len(body)]) + body


def F(x):
    return b'G' + struct.pack('>d', x)


def T(*parts):
    return b'(' + b''.join(parts) + b't'


def L(*parts):
    return b'](' + b''.join(parts) + b'e' if parts else b']'


def D(*pairs):
    return b'}(' + b''.join(k + v for k, v in pairs) + b'u' if pairs else b'}'


def R(func, *args):
    """func(*args) through REDUCE."""
    return func + T(*args) + b'R'


def NEW(cls, *args):
    """cls.__new__(cls, *args) through NEWOBJ."""
    return cls + T(*args) + b'\x81'


def BUILD(obj, state):
    return obj + state + b'b'


NONE, TRUE, FALSE = b'N', b'\x88', b'\x89'
ODICT = R(G('collections', 'OrderedDict'))


def PID(storage_cls, key, numel):
    """A storage reference, as torch.save writes it."""
    return T(S('storage'), G('torch', storage_cls), S(key), S('cpu'), I(numel)) + b'Q'


def pkl(body):
    return b'\x80\x02' + body + b'.'


def zipped(body, records=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('archive/data.pkl', pkl(body))
        for name, data in records:
            z.writestr('archive/' + name, data)
        z.writestr('archive/version', '3\n')
    return buf.getvalue()


def legacy(body):
    """The same object in the legacy (non-zip) format: magic, version, sys_info, object,
    storage keys."""
    head = pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2) + \
        pickle.dumps({'protocol_version': 1001, 'little_endian': True}, 2)
    return head + pkl(body) + pickle.dumps([], 2)


FLOATS4 = [('data/0', np.arange(4, dtype=np.float32).tobytes())]


def tensor4(requires_grad=FALSE):
    """_rebuild_tensor_v2 of the four floats of storage 0."""
    return R(G('torch._utils', '_rebuild_tensor_v2'), PID('FloatStorage', '0', 4), I(0),
             T(I(4)), T(I(1)), requires_grad, ODICT)


# ---- "nothing ran" ------------------------------------------------------------------------

@pytest.fixture
def world(tmp_path):
    """What an attack would change: a file it would write, the seed, the default dtype."""
    ember.manual_seed(1234)
    seed, dtype = ember.initial_seed(), ember.get_default_dtype()
    target = tmp_path / 'written_by_attack.pt'
    yield target
    assert not target.exists(), "the checkpoint wrote a file"
    assert ember.initial_seed() == seed, "the checkpoint changed the seed"
    assert ember.get_default_dtype() == dtype, "the checkpoint changed the default dtype"
    assert es.get_safe_globals() == []


def assert_refused(raw, match=None, kind=pickle.UnpicklingError, **kw):
    with pytest.raises(kind, match=match) as e:
        ember.load(io.BytesIO(raw), **kw)
    return e.value


def both_formats(body, records=FLOATS4):
    yield zipped(body, records)
    if not records:
        yield legacy(body)


# ---- the hole of issue 10: _get_layout hands out any function, _rebuild_from_type_v2 calls it

def _door(name, *args):
    return R(G('torch._tensor', '_rebuild_from_type_v2'),
             R(G('torch.serialization', '_get_layout'), S(name)), G('torch', 'Tensor'),
             T(*args), D())


@pytest.mark.parametrize('name,args', [
    ('manual_seed', lambda p: (I(77),)),
    ('set_default_dtype', lambda p: (G('torch', 'float64'),)),
    ('save', lambda p: (L(), S(str(p)))),
    ('torch.save', lambda p: (L(), S(str(p)))),
])
def test_get_layout_is_no_door_to_other_functions(world, name, args):
    raw = zipped(_door(name, *args(world)))
    err = assert_refused(raw, "is not a torch layout")
    assert "Weights only load failed" in str(err)
    # the same file under weights_only=False: ember's _get_layout still only gives layouts
    assert_refused(raw, "is not a torch layout", weights_only=False)


def test_get_layout_gives_layouts_like_torch():
    raw = zipped(L(R(G('torch.serialization', '_get_layout'), S('torch.strided')),
                   R(G('torch.serialization', '_get_layout'), S('torch.sparse_coo'))))
    assert ember.load(io.BytesIO(raw)) == [ember.strided, ember.sparse_coo]
    assert torch.load(io.BytesIO(raw)) == [torch.strided, torch.sparse_coo]
    for bad in (I(3), S('strided'), S('torch.Tensor'), S('torch.strided\n')):
        assert_refused(zipped(R(G('torch.serialization', '_get_layout'), bad)), "not a torch layout")


# ---- _rebuild_from_type_v2: only torch's rebuild functions, only Tensor subclasses ---------

@pytest.mark.parametrize('func', [
    G('torch', 'Tensor'), G('collections', 'OrderedDict'), G('builtins', 'set'),
    G('_codecs', 'encode'), G('torch.serialization', '_get_layout'),
    G('torch._tensor', '_rebuild_from_type_v2'), G('torch', 'float32'),
    G('torch.nn.parameter', 'Parameter'), G('torch', 'FloatStorage'),
])
def test_rebuild_from_type_v2_calls_only_rebuild_functions(world, func):
    body = R(G('torch._tensor', '_rebuild_from_type_v2'), func, G('torch', 'Tensor'), T(I(8)),
             D())
    assert_refused(zipped(body), "can only call torch's tensor rebuild functions")


@pytest.mark.parametrize('new_type', [G('collections', 'OrderedDict'), G('torch', 'float32'),
                                      G('builtins', 'set'), G('torch', 'FloatTensor'),
                                      G('torch.serialization', '_get_layout'), NONE])
def test_rebuild_from_type_v2_builds_only_tensor_subclasses(world, new_type):
    body = R(G('torch._tensor', '_rebuild_from_type_v2'), G('torch._utils', '_rebuild_tensor_v2'),
             new_type, T(PID('FloatStorage', '0', 4), I(0), T(I(4)), T(I(1)), FALSE, ODICT), D())
    assert_refused(zipped(body, FLOATS4), "can only rebuild a Tensor subclass")


def test_rebuild_from_type_v2_legit_tensor_with_attributes_both_ways():
    t = torch.arange(4.0)
    t.note = 'hi'
    t._is_hf_initialized = True
    buf = io.BytesIO()
    torch.save({'t': t}, buf)
    got = ember.load(io.BytesIO(buf.getvalue()))['t']
    assert got.note == 'hi' and got._is_hf_initialized is True
    assert got._data.tolist() == [0.0, 1.0, 2.0, 3.0]
    out = io.BytesIO()
    ember.save({'t': got}, out)
    back = torch.load(io.BytesIO(out.getvalue()))['t']
    assert back.note == 'hi' and torch.equal(back, t)


# ---- state: never a slot, property, method, dunder or hook list of the object ---------------

BAD_STATE_KEYS = ['_data', 'data', 'grad', '_grad', 'requires_grad', '_requires_grad',
                  'grad_fn', '_hooks', '_vc', '_base', '__class__', '__dict__', '__setstate__',
                  '_post_acc_hooks', '_backward_hooks', 'register_hook', 'shape', 'dtype']


@pytest.mark.parametrize('key', BAD_STATE_KEYS)
def test_state_cannot_set_internals(world, key):
    value = R(G('torch', 'Tensor'))
    param_state = R(G('torch._utils', '_rebuild_parameter_with_state'), tensor4(), TRUE, ODICT,
                    D((S(key), value)))
    from_type = R(G('torch._tensor', '_rebuild_from_type_v2'),
                  G('torch._utils', '_rebuild_tensor_v2'), G('torch', 'Tensor'),
                  T(PID('FloatStorage', '0', 4), I(0), T(I(4)), T(I(1)), FALSE, ODICT),
                  D((S(key), value)))
    slots = R(G('torch._utils', '_rebuild_parameter_with_state'), tensor4(), TRUE, ODICT,
              T(NONE, D((S(key), value))))
    build = BUILD(R(G('torch.nn.parameter', 'Parameter'), tensor4()), D((S(key), value)))
    for body in (param_state, from_type, slots, build):
        assert_refused(zipped(body, FLOATS4), "Invalid serialized state")


def test_state_shapes_are_checked(world):
    for state in (I(1), L(), T(D(), D(), D()), T(L(), NONE), D((I(1), I(2)))):
        body = R(G('torch._utils', '_rebuild_parameter_with_state'), tensor4(), TRUE, ODICT,
                 state)
        assert_refused(zipped(body, FLOATS4), "Invalid serialized state")


def test_legit_parameter_state_loads_like_torch():
    p = torch.nn.Parameter(torch.ones(2))
    p.tag = 3
    buf = io.BytesIO()
    torch.save([p], buf)
    got = ember.load(io.BytesIO(buf.getvalue()))[0]
    assert isinstance(got, ember.nn.Parameter) and got.tag == 3 and got.requires_grad


# ---- the rebuild functions: their arguments -------------------------------------------------

def test_rebuild_parameter_arguments(world):
    reb = G('torch._utils', '_rebuild_parameter')
    hook = D((I(0), G('torch._utils', '_rebuild_tensor')))
    for body, match in [(R(reb, L(), TRUE, ODICT), "must be built from a tensor"),
                        (R(reb, tensor4(), S('yes'), ODICT), "requires_grad must be a bool"),
                        (R(reb, tensor4(), TRUE, hook), "backward hooks"),
                        (R(reb, tensor4(), TRUE, L()), "backward hooks")]:
        assert_refused(zipped(body, FLOATS4), match)


def test_rebuild_tensor_arguments(world):
    v2 = G('torch._utils', '_rebuild_tensor_v2')
    pid = PID('FloatStorage', '0', 4)
    cases = [
        (R(v2, L(), I(0), T(I(4)), T(I(1)), FALSE, ODICT), RuntimeError, "expected a storage"),
        (R(v2, pid, I(0), T(I(4)), T(I(1)), S('x'), ODICT), pickle.UnpicklingError,
         "requires_grad must be a bool"),
        (R(v2, pid, I(0), T(I(4)), T(I(1)), FALSE, D((I(0), G('torch', 'Tensor')))),
         pickle.UnpicklingError, "backward hooks"),
        (R(v2, pid, I(0), T(I(4)), T(I(1)), FALSE, ODICT, D((S('evil'), TRUE))),
         pickle.UnpicklingError, "invalid tensor metadata"),
        (R(v2, pid, I(0), L(I(4)), T(I(1)), FALSE, ODICT), RuntimeError, "must be tuples"),
        (R(v2, pid, I(3), T(I(4)), T(I(1)), FALSE, ODICT), RuntimeError, "not resizable"),
        (R(v2, pid, I(0), T(*[I(1)] * 65), T(*[I(1)] * 65), FALSE, ODICT), RuntimeError,
         "too many dimensions"),
        (R(G('torch._utils', '_rebuild_tensor_v3'), pid, I(0), T(I(4)), T(I(1)), FALSE, ODICT,
           G('torch', 'FloatStorage')), RuntimeError, "expected a dtype"),
    ]
    for body, kind, match in cases:
        assert_refused(zipped(body, FLOATS4), match, kind)


def test_device_rebuild_functions_arguments(world):
    np_fn = G('torch._utils', '_rebuild_device_tensor_from_numpy')
    cpu_fn = G('torch._utils', '_rebuild_device_tensor_from_cpu_tensor')
    for body in (R(np_fn, L(I(1)), G('torch', 'float32'), S('cpu'), FALSE),
                 R(cpu_fn, L(I(1)), G('torch', 'float32'), S('cpu'), FALSE),
                 R(cpu_fn, tensor4(), G('torch', 'FloatStorage'), S('cpu'), FALSE),
                 R(cpu_fn, tensor4(), G('torch', 'float64'), L(), FALSE)):
        assert_refused(zipped(body, FLOATS4))
    got = ember.load(io.BytesIO(zipped(R(cpu_fn, tensor4(), G('torch', 'float64'), S('cuda:0'),
                                         FALSE), FLOATS4)))
    assert got.dtype == ember.float64 and got._data.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize('name', ['_rebuild_qtensor', '_rebuild_sparse_tensor',
                                  '_rebuild_meta_tensor_no_storage', '_rebuild_nested_tensor',
                                  '_rebuild_wrapper_subclass'])
def test_unsupported_rebuild_functions_raise_before_running(world, name):
    assert_refused(zipped(R(G('torch._utils', name), S(str(world)))), "ember cannot load",
            NotImplementedError)


# ---- the builtins and classes of the list: what they can be handed -------------------------

@pytest.mark.parametrize('body,match', [
    (R(G('builtins', 'bytearray'), I(2 ** 31)), "Refusing bytearray"),
    (R(G('_codecs', 'encode'), S('x'), S('zlib')), "Refusing _codecs.encode"),
    (R(G('_codecs', 'encode'), S('x'), S('rot13')), "Refusing _codecs.encode"),
    (R(G('_codecs', 'encode'), I(5)), "Refusing _codecs.encode"),
    (R(G('_codecs', 'encode'), S('x'), S('latin1'), S('ignore')), "Refusing _codecs.encode"),
    (R(G('builtins', 'set'), R(G('torch', 'Tensor'), I(3))), "Refusing set"),
    (R(G('collections', 'Counter'), R(G('torch', 'Tensor'), I(3))), "Refusing Counter"),
    (R(G('collections', 'OrderedDict'), S('ab')), "Refusing OrderedDict"),
    (R(G('builtins', 'complex'), S('1+2j')), "Refusing complex"),
    (R(G('torch', 'Size'), R(G('torch', 'Tensor'), I(3))), "Refusing torch.Size"),
    (R(G('torch', 'Size'), L(S('a'))), "Refusing torch.Size"),
    (R(G('torch', 'device'), L()), "Refusing torch.device"),
    (R(G('torch', 'Tensor'), S('abc')), "Refusing Tensor"),
    (R(G('torch', 'Tensor'), I(-1)), "Refusing Tensor"),
    (R(G('torch.nn.parameter', 'Parameter'), I(5)), "Refusing Parameter"),
    (R(G('torch.nn.parameter', 'Parameter'), tensor4(), S('yes')), "must be a bool"),
    (NEW(G('collections', 'OrderedDict'), L(T(I(1), I(2)))), "Refusing OrderedDict"),
    (NEW(G('builtins', 'bytearray'), I(2 ** 31)), "Refusing bytearray"),
    (NEW(G('torch', 'Size'), R(G('torch', 'Tensor'), I(3))), "Refusing torch.Size"),
    (NEW(G('torch', 'float32')), "Can only create new object"),
    (NEW(G('torch.serialization', '_get_layout')), "Can only create new object"),
    (NEW(G('torch._utils', '_rebuild_tensor_v2')), "Can only create new object"),
    (R(G('torch', 'float32'), I(1)), "Trying to call reduce"),
    (R(G('torch', 'FloatStorage'), I(2 ** 40)), "Trying to call reduce"),
    (R(G('torch.storage', 'UntypedStorage'), I(2 ** 40)), "Trying to call reduce"),
    (BUILD(R(G('builtins', 'set')), D((S('x'), I(1)))), "Can only build"),
    (BUILD(R(G('torch', 'device'), S('cpu')), T(NONE, D((S('type'), S('cuda'))))),
     "Can only build"),
    (BUILD(R(G('torch', 'Size')), D()), "Can only build"),
    (BUILD(ODICT, D((S('__class__'), G('collections', 'Counter')))), "state must be a dict"),
    (BUILD(ODICT, L()), "state must be a dict"),
    (BUILD(R(G('torch.serialization', '_get_layout'), S('torch.strided')),
           D((S('name'), S('x')))), "Can only build"),
])
def test_allowed_globals_refuse_hostile_arguments(world, body, match):
    assert_refused(zipped(body, FLOATS4), match)


def test_allowed_globals_legit_arguments_agree_with_torch():
    body = L(R(G('builtins', 'bytearray'), R(G('_codecs', 'encode'), S('ab'), S('latin1'))),
             R(G('builtins', 'set'), L(I(1), I(2))),
             R(G('builtins', 'complex'), F(1.0), F(2.0)),
             R(G('collections', 'Counter'), D((S('a'), I(2)))),
             R(G('collections', 'OrderedDict'), L(T(S('k'), I(1)))),
             R(G('torch', 'Size'), L(I(2), I(3))),
             R(G('torch', 'device'), S('cuda'), I(1)),
             R(G('torch', 'device'), S('cpu')),
             BUILD(ODICT, D((S('_metadata'), D((S(''), D((S('version'), I(1)))))))))
    raw = zipped(body)
    ours, theirs = ember.load(io.BytesIO(raw)), torch.load(io.BytesIO(raw))
    assert ours[:6] == theirs[:6]
    assert list(ours[5]) == [2, 3] and str(ours[6]) == str(theirs[6]) == 'cuda:1'
    assert ours[8]._metadata == theirs[8]._metadata == {'': {'version': 1}}


def test_placeholders_raise_not_implemented(world):
    for name in ('cuda.FloatTensor', 'sparse.FloatTensor', 'per_tensor_affine'):
        module, _, attr = ('torch.' + name).rpartition('.')
        assert_refused(zipped(R(G(module, attr), I(3))), "ember does not support", NotImplementedError)


# ---- user allow-lists ----------------------------------------------------------------------

class Point:
    __slots__ = ('x', 'y')

    def __init__(self, x=0, y=0):
        self.x, self.y = x, y


def test_user_allowed_class_builds_as_in_torch(world):
    body = BUILD(NEW(G(__name__, 'Point')), T(NONE, D((S('x'), I(3)), (S('y'), I(4)))))
    raw = zipped(body)
    assert_refused(raw, "was not an allowed global")
    for load, ctx in ((ember.load, es.safe_globals),
                      (torch.load, torch.serialization.safe_globals)):
        with ctx([Point]):
            p = load(io.BytesIO(raw))
        assert (p.x, p.y) == (3, 4)


def test_user_allowing_a_default_global_does_not_widen_it(world):
    with es.safe_globals([ember.Tensor, ember.serialization._unpickle._get_layout]):
        assert_refused(zipped(R(G('torch', 'Tensor'), I(2 ** 29))), "would allocate")
        assert_refused(zipped(_door('manual_seed', I(3))), "not a torch layout")


# ---- every global of the list, handed hostile arguments --------------------------------------

HOSTILE_ARGS = [(), (I(2 ** 29),), (I(2 ** 40),), (I(-1),), (S('manual_seed'),),
                (S('torch.save'), S('/tmp/x')), (R(G('torch', 'Tensor'), I(3)),),
                (L(I(1)), L(I(1)), L(I(1)), L(I(1))), (NONE,) * 4, (D(),) * 4,
                (T(I(2 ** 40)), T(I(0)), T(I(0))), (G('torch.serialization', '_get_layout'),)]


@pytest.mark.parametrize('name', sorted(_unpickle.allowed_globals()))
def test_every_allowed_global_with_hostile_arguments(world, name):
    """REDUCE and NEWOBJ of each global with hostile arguments, then BUILD on what came out:
    a clean error or a small object, never an action or a large allocation."""
    module, _, attr = name.rpartition('.')
    g = G(module, attr)
    tracemalloc.start()
    try:
        for args in HOSTILE_ARGS:
            for body in (R(g, *args), NEW(g, *args),
                         BUILD(R(g, *args), D((S('_data'), I(1)))),
                         BUILD(R(g, *args), T(NONE, D((S('type'), S('x'))))),
                         R(R(g, *args), S('save'))):
                try:
                    got = ember.load(io.BytesIO(zipped(body, FLOATS4)))
                except CLEAN:
                    continue
                assert not callable(got) or got in _unpickle.allowed_globals().values() \
                    or isinstance(got, type)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{name}: loading peaked at {peak} bytes"


# ---- what the tuple-hash and repr machinery could be made to do ------------------------------

def test_deeply_nested_tuples_are_refused_without_crashing():
    # 200000 nested tuples used as a dict key: hashing them recursively overflows the C stack
    code = (
        "import io, zipfile, ember\n"
        "body = b'\\x80\\x02}' + b')' + b'\\x85' * 200000 + b'K\\x01s.'\n"
        "buf = io.BytesIO()\n"
        "with zipfile.ZipFile(buf, 'w') as z:\n"
        "    z.writestr('archive/data.pkl', body); z.writestr('archive/version', '3\\n')\n"
        "try:\n"
        "    ember.load(io.BytesIO(buf.getvalue()))\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, 'nest too deeply' in str(e))\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env={**os.environ, 'PYTHONPATH': ROOT}, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ['UnpicklingError', 'True']


def test_exponentially_shared_tuples_are_refused_quickly(world):
    # t_{k+1} = (t_k, t_k): 60 levels are 2**60 tuples to hash
    body = b')' + b'q\x00' + b''.join(b'h\x00h\x00\x86q\x00' for _ in range(60))
    assert_refused(zipped(D((body, I(1)))), "nest too deeply")


def test_shared_lists_cannot_make_a_huge_tensor(world):
    # [[x]*1000]*1000 through memo references: 10**6 elements from a few kB
    row = b'](' + b'K\x01' * 1000 + b'eq\x01'
    rows = b'](' + row + b'h\x01' * 999 + b'eq\x02'
    table = b'](' + rows + b'h\x02' * 999 + b'e'
    assert_refused(zipped(R(G('torch', 'Tensor'), table)), "would allocate")
    assert_refused(zipped(R(G('torch', 'LongTensor'), table)), "would allocate")


def test_messages_of_refusals_are_bounded(world):
    # a refused argument whose repr would be gigantic (a list holding itself a million times)
    big = b']q\x03(' + b'h\x03' * 100000 + b'e'
    err = assert_refused(zipped(R(G('builtins', 'complex'), big)), "Refusing complex")
    assert len(str(err)) < 5000


def test_persistent_ids_must_name_storage_classes(world):
    for storage_cls in (G('torch', 'Tensor'), R(G('torch', 'Tensor'), I(1)), G('torch', 'float32'),
                        S('FloatStorage')):
        pid = T(S('storage'), storage_cls, S('0'), S('cpu'), I(4)) + b'Q'
        body = R(G('torch._utils', '_rebuild_tensor_v2'), pid, I(0), T(I(4)), T(I(1)), FALSE,
                 ODICT)
        assert_refused(zipped(body, FLOATS4), "invalid storage type", RuntimeError)
    for key in (I(0), L(), T()):
        pid = T(S('storage'), G('torch', 'FloatStorage'), key, S('cpu'), I(4)) + b'Q'
        assert_refused(zipped(pid, FLOATS4), "invalid storage key", RuntimeError)


# ---- the default and weights_only=False --------------------------------------------------------

def test_default_is_weights_only_as_in_torch_2_13(world, monkeypatch):
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', raising=False)
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)
    raw = zipped(R(G('builtins', 'len'), L(I(1), I(2))))
    assert_refused(raw, "GLOBAL len was not an allowed global")
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL len was not an allowed global"):
        torch.load(io.BytesIO(raw))
    # weights_only=False is full pickle, as in torch: it may call what the file names
    assert ember.load(io.BytesIO(raw), weights_only=False) == 2
    assert torch.load(io.BytesIO(raw), weights_only=False) == 2


# ---- memory bombs --------------------------------------------------------------------------

_MEASURE = """
import gc, resource, sys
import ember
for path in sys.argv[1:]:
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        obj = ember.load(path)
        outcome = 'loaded'
    except Exception as e:
        outcome = type(e).__name__
    obj = None
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(outcome, grown * 1024)
"""


def _peak_growth(paths):
    """(outcome, growth of the peak RSS in bytes) of loading each file in turn, in a fresh
    process (the files go from small to large, so each growth is that load's own)."""
    out = subprocess.run([sys.executable, '-c', _MEASURE, *map(str, paths)],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, 'PYTHONPATH': ROOT})
    assert out.returncode == 0, out.stderr[-3000:]
    return [(line.split()[0], int(line.split()[1])) for line in out.stdout.splitlines()]


def _legacy_with_storage(numel, data=b''):
    head = pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2) + \
        pickle.dumps({'protocol_version': 1001, 'little_endian': True}, 2)
    pid = T(S('storage'), G('torch', 'FloatStorage'), S('0'), S('cpu'), I(numel), NONE) + b'Q'
    body = R(G('torch._utils', '_rebuild_tensor_v2'), pid, I(0), T(I(numel)), T(I(1)), FALSE,
             ODICT)
    return head + pkl(body) + pickle.dumps(['0'], 2) + struct.pack('<q', numel) + data


def test_memory_bombs_touch_little_memory(tmp_path):
    """Small files asking for gigabytes are refused before allocating; a deflated record is
    inflated straight into its final buffer. (torch 2.13 grows the peak RSS by about 3-7 MB
    on the small files, and by the record's size on the deflated one.)"""
    files = {
        'tensor': zipped(R(G('torch', 'Tensor'), I(2 ** 29))),
        'legacy_tensor': legacy(R(G('torch', 'FloatTensor'), I(2 ** 29))),
        'new_tensor': zipped(NEW(G('torch', 'Tensor'), T(I(2 ** 15), I(2 ** 14)))),
        'list_tensor': zipped(R(G('torch', 'Tensor'), b'](' + b'](' + b'](' + b'K\x01' * 100 +
                                b'eq\x01' + b'h\x01' * 99 + b'eq\x02' + b'h\x02' * 99 + b'e')),
        'storage': zipped(R(G('torch._utils', '_rebuild_tensor_v2'),
                            PID('FloatStorage', '0', 2 ** 29), I(0), T(I(2 ** 29)), T(I(1)),
                            FALSE, ODICT), FLOATS4),
        'legacy_storage': _legacy_with_storage(2 ** 29, b'\0' * 16),
        'conj_view': zipped(R(G('torch._utils', '_rebuild_tensor_v2'),
                              PID('ComplexFloatStorage', '0', 1), I(0), T(I(2 ** 28)),
                              T(I(0)), FALSE, ODICT, D((S('conj'), TRUE))),
                            [('data/0', b'\0' * 8)]),
        'bytearray': zipped(R(G('builtins', 'bytearray'), I(2 ** 31))),
    }
    paths = []
    for name, raw in files.items():
        assert len(raw) < 1000
        (tmp_path / name).write_bytes(raw)
        paths.append(tmp_path / name)
    # 64 MB of zeros, deflated to a few hundred kB (the last file: the largest load)
    plain = tmp_path / 'plain.pt'
    ember.save({'w': ember.zeros(16 << 20)}, plain)
    deflated = tmp_path / 'deflated.pt'
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(deflated, 'w',
                                                        zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    assert os.path.getsize(deflated) < 1 << 20
    paths.append(deflated)
    results = _peak_growth(paths)
    for (name, _), (outcome, grown) in zip(files.items(), results):
        assert outcome in ('UnpicklingError', 'RuntimeError'), (name, outcome)
        assert grown < 7 << 20, f"{name}: the peak RSS grew by {grown} bytes"
    outcome, grown = results[-1]
    assert outcome == 'loaded'
    assert grown < (64 << 20) * 1.25 + (8 << 20), f"deflated record: peak grew by {grown}"


def test_deflated_records_load_like_torch(tmp_path):
    sd = {'w': ember.randn(300, 7), 'b': ember.arange(5), 'x': [1, 'a']}
    plain = tmp_path / 'plain.pt'
    ember.save(sd, plain)
    deflated = tmp_path / 'deflated.pt'
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(deflated, 'w',
                                                        zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    ours, theirs = ember.load(deflated), torch.load(deflated)
    for k in ('w', 'b'):
        assert ours[k]._data.tobytes() == theirs[k].numpy().tobytes()
    assert ours['x'] == theirs['x'] == [1, 'a']
    assert ember.load(deflated, mmap=True)['w']._data.tobytes() == ours['w']._data.tobytes()


def test_declared_sizes_are_checked_before_allocating():
    tracemalloc.start()
    try:
        # a stored record that declares more bytes than it holds
        raw = bytearray(zipped(tensor4(), FLOATS4))
        z = zipfile.ZipFile(io.BytesIO(bytes(raw)))
        info = z.getinfo('archive/data/0')
        cd = raw.rindex(b'PK\x01\x02' + raw[raw.index(b'PK\x01\x02') + 4:][:0])
        at = bytes(raw).find(b'archive/data/0', raw.index(b'PK\x01\x02')) - 46
        assert raw[at:at + 4] == b'PK\x01\x02' and info.file_size == 16 and cd
        raw[at + 24:at + 28] = struct.pack('<I', 2 ** 31)  # uncompressed size
        with pytest.raises(RuntimeError, match="is stored but declares"):
            ember.load(io.BytesIO(bytes(raw)))
        # a deflated record that declares more than deflate can expand to
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
            z.writestr('archive/data.pkl', pkl(tensor4()))
            z.writestr('archive/data/0', np.arange(4, dtype=np.float32).tobytes())
            z.writestr('archive/version', '3\n')
        raw = bytearray(buf.getvalue())
        at = bytes(raw).find(b'archive/data/0', raw.index(b'PK\x01\x02')) - 46
        raw[at + 24:at + 28] = struct.pack('<I', 2 ** 31)
        with pytest.raises(RuntimeError, match="more than its .* deflated bytes can hold"):
            ember.load(io.BytesIO(bytes(raw)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


# ---- fuzzing real checkpoints ----------------------------------------------------------------

def _torch_objects():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    lin = torch.nn.Linear(3, 2)
    sd = lin.state_dict()
    return {'sd': sd, 'base': base, 'view': base[1:, 1:], 'T': base.t(),
            'i': torch.arange(5), 'b': torch.tensor([True, False]),
            'h': torch.ones(3, dtype=torch.float16), 'c': torch.tensor([1 + 2j]),
            'p': torch.nn.Parameter(torch.ones(2)), 'n': torch.tensor(7.5),
            'e': torch.zeros(0, 3), 'x': [1, 'two', 3.0, None, (4, 5)], 'size': torch.Size([2]),
            'dt': torch.float64}


def _ember_objects():
    sd = ember.nn.Linear(3, 2).state_dict()
    base = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    return {'sd': sd, 'base': base, 'view': base[1:, 1:], 'T': base.t(),
            'i': ember.arange(5), 'u16': ember.arange(3).to(ember.uint16),
            'p': ember.nn.Parameter(ember.ones(2)), 'x': [1, 'a', {'k': (2, 3)}]}


def _fingerprint(obj):
    """Everything a load produced, in a comparable form (tensors as dtype, shape, strides
    and bytes; torch and ember tensors alike)."""
    if hasattr(obj, '_data') or isinstance(obj, torch.Tensor):
        a = obj._data if hasattr(obj, '_data') else obj.detach().resolve_conj().numpy()
        return ('T', type(obj).__name__ in ('Parameter',), str(a.dtype), a.shape,
                a.tobytes(), bool(obj.requires_grad))
    if isinstance(obj, dict):
        return ('D', type(obj).__name__, tuple((k, _fingerprint(v)) for k, v in obj.items()),
                _fingerprint(getattr(obj, '_metadata', None)))
    if isinstance(obj, (list, tuple)):
        return ('L', type(obj).__name__ if type(obj) in (list, tuple) else 'Size',
                tuple(_fingerprint(v) for v in obj))
    if type(obj).__name__ == 'dtype':
        return ('dtype', str(obj).replace('torch.', ''))
    return ('V', repr(obj))


def _mutants(raw, rng, n):
    """n damaged copies of raw: bit flips, byte overwrites, truncations, cut-out spans."""
    for i in range(n):
        data = bytearray(raw)
        kind = i % 4
        if kind == 0:
            data[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
        elif kind == 1:
            for pos in rng.integers(0, len(data), int(rng.integers(1, 5))):
                data[pos] = int(rng.integers(256))
        elif kind == 2:
            del data[rng.integers(len(data)):]
        else:
            at = int(rng.integers(len(data)))
            del data[at:at + int(rng.integers(1, 64))]
        yield bytes(data)


def _fuzz(raw, n, seed, reference=None):
    """Load n mutants of raw: each must raise a clean error or load exactly what
    `reference(mutant)` gives (the original's data, or torch's result for the same bytes).
    Returns how many raised."""
    want = _fingerprint(ember.load(io.BytesIO(raw)))
    rng = np.random.default_rng(seed)
    errors = 0
    tracemalloc.start()
    try:
        for i, data in enumerate(_mutants(raw, rng, n)):
            tracemalloc.reset_peak()
            try:
                got = ember.load(io.BytesIO(data))
            except CLEAN:
                errors += 1
                got = None
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < 32 << 20, f"mutant {i} allocated {peak} bytes"
            if got is None:
                continue
            expect = want if reference is None else reference(data)
            assert expect is not None, f"mutant {i} loads in ember but not in torch"
            assert _fingerprint(got) == expect, f"mutant {i} loaded different data"
    finally:
        tracemalloc.stop()
    return errors


def _torch_fingerprint(data):
    try:
        return _fingerprint(torch.load(io.BytesIO(data)))
    except Exception:
        return None


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize('maker', ['ember', 'torch'])
def test_fuzz_zip_checkpoints(maker):
    """The zip format carries a CRC-32 per record: a damaged file raises or, when the damage
    hit bytes that carry nothing (padding, unread header fields), loads the original data."""
    buf = io.BytesIO()
    if maker == 'torch':
        torch.save(_torch_objects(), buf)
    else:
        ember.save(_ember_objects(), buf)
    errors = _fuzz(buf.getvalue(), 1000, seed=7 if maker == 'torch' else 8)
    assert errors > 500


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_fuzz_legacy_checkpoints():
    """The legacy format has no checksum, so damage can change values in torch as in ember:
    a damaged file raises, or loads exactly what torch loads from the same bytes."""
    buf = io.BytesIO()
    torch.save(_torch_objects(), buf, _use_new_zipfile_serialization=False)
    errors = _fuzz(buf.getvalue(), 1000, seed=9, reference=_torch_fingerprint)
    assert errors > 300


# ---- interrupted saves leave nothing behind ---------------------------------------------------

_KILLED_SAVE = """
import os, sys, time
import ember
from ember.serialization import _zip
real = _zip.ZipWriter.write_record

def stalls(self, name, data):
    if name.startswith('data/'):
        self._f.write(b'partial')
        self._f.flush()
        open(sys.argv[2], 'w').close()   # the save is under way: kill me now
        time.sleep(120)
    return real(self, name, data)

_zip.ZipWriter.write_record = stalls
ember.save({'w': ember.ones(1000)}, sys.argv[1])
"""


def test_killed_save_leaves_no_temporary_file_after_the_next_save(tmp_path):
    import signal
    import time
    target = tmp_path / 'ckpt.pt'
    ember.save({'w': ember.zeros(3)}, target)
    before = target.read_bytes()
    ready = tmp_path.parent / (tmp_path.name + '.ready')
    child = subprocess.Popen([sys.executable, '-c', _KILLED_SAVE, str(target), str(ready)],
                             env={**os.environ, 'PYTHONPATH': ROOT})
    try:
        for _ in range(1200):
            if ready.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), "the child never started writing"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and left[0].startswith('.ckpt.pt.ember-'), left
    assert target.read_bytes() == before   # the interrupted save changed nothing
    # files that are not a dead save's: other programs' temporaries, a live process's
    foreign = ['.ckpt.pt.abcdefgh.tmp', 'notes.tmp', '.ckpt.pt.ember-otherhost-1-abcdefgh.tmp']
    live = f".other.pt.ember-{es._host_tag()}-{os.getppid()}-abcdefgh.tmp"
    for name in foreign + [live]:
        (tmp_path / name).write_bytes(b'x')
    os.symlink(tmp_path / 'notes.tmp',
               tmp_path / f".l.pt.ember-{es._host_tag()}-{child.pid}-abcdefgh.tmp")
    # the next successful save in the folder, to another file, clears the dead save's file
    ember.save({'w': ember.ones(2)}, tmp_path / 'other.pt')
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not [n for n in left if n.startswith('.ckpt.pt.ember-') and 'otherhost' not in n]
    assert set(foreign + [live]) <= set(left)
    assert len(left) == len(foreign) + 4   # + ckpt.pt, other.pt, the symlink
    assert ember.load(target)['w']._data.tolist() == [0.0, 0.0, 0.0]


def test_save_failing_midway_leaves_no_temporary_file(tmp_path, monkeypatch):
    from ember.serialization import _zip
    real = _zip.ZipWriter.write_record

    def fails(self, name, data):
        if name.startswith('data/'):
            raise OSError("disk full")
        return real(self, name, data)
    monkeypatch.setattr(_zip.ZipWriter, 'write_record', fails)
    with pytest.raises(OSError, match="disk full"):
        ember.save([ember.ones(3)], tmp_path / 'a.pt')
    assert list(tmp_path.iterdir()) == []
