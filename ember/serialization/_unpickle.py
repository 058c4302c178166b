"""Reading data.pkl: the rebuild functions, storages, and two unpicklers.

- ``WeightsOnlyUnpickler`` interprets the protocol-2 opcode subset torch's weights-only loader
  accepts and resolves every GLOBAL through an allow-list (torch 2.13's list, with ember objects
  in place of torch's). Nothing outside the list is ever imported or called.
- ``full_unpickler_class`` builds a ``pickle.Unpickler`` for ``weights_only=False`` that maps
  ``torch.*`` names to ember's counterparts.
"""
import _compat_pickle
import codecs
import pickle
import struct
from collections import Counter, OrderedDict

import numpy as np

from .. import _dtype

UnpicklingError = pickle.UnpicklingError

# ---- dtypes and storage classes ---------------------------------------------------------------

# torch dtype names that can appear in a checkpoint (torch.<name>); ember has a subset of them
_TORCH_DTYPE_NAMES = (
    'float64 float32 float16 bfloat16 int64 int32 int16 int8 uint8 bool complex128 complex64 '
    'qint8 qint32 quint8 quint4x2 quint2x4 uint16 uint32 uint64 complex32 float8_e4m3fn '
    'float8_e4m3fnuz float8_e5m2 float8_e5m2fnuz float8_e8m0fnu float4_e2m1fn_x2 bits8 bits16 '
    'bits1x8 bits2x4 bits4x2 uint1 uint2 uint3 uint4 uint5 uint6 uint7 int1 int2 int3 int4 '
    'int5 int6 int7').split()

# legacy storage class -> dtype name (torch/storage.py::_get_dtype_from_pickle_storage_type)
_STORAGE_DTYPE = {
    'DoubleStorage': 'float64', 'FloatStorage': 'float32', 'HalfStorage': 'float16',
    'BFloat16Storage': 'bfloat16', 'LongStorage': 'int64', 'IntStorage': 'int32',
    'ShortStorage': 'int16', 'CharStorage': 'int8', 'ByteStorage': 'uint8',
    'BoolStorage': 'bool', 'ComplexDoubleStorage': 'complex128',
    'ComplexFloatStorage': 'complex64', 'QInt8Storage': 'qint8', 'QInt32Storage': 'qint32',
    'QUInt8Storage': 'quint8', 'QUInt4x2Storage': 'quint4x2', 'QUInt2x4Storage': 'quint2x4',
}
_ITEMSIZE = {'qint8': 1, 'qint32': 4, 'quint8': 1, 'quint4x2': 1, 'quint2x4': 1,
             'complex32': 4, 'bits16': 2}


class _MissingDtype:
    """A torch dtype ember does not have: loading a tensor of it raises NotImplementedError."""

    def __init__(self, name):
        self.name = name
        self.itemsize = _ITEMSIZE.get(name, 1)
        self._np = None

    def __repr__(self):
        return f"torch.{self.name}"


def _dtype_named(name):
    d = _dtype._BY_NAME.get(name)
    return d if d is not None else _MISSING.setdefault(name, _MissingDtype(name))


_MISSING = {}


class StorageType:
    """What a legacy storage class (torch.FloatStorage) unpickles to: it only carries a dtype."""

    def __init__(self, name):
        self.dtype = _dtype_named(_STORAGE_DTYPE[name])

    def __str__(self):
        return f"StorageType(dtype={self.dtype})"


class _UntypedStorageType:
    """torch.storage.UntypedStorage in a persistent id: bytes, counted in bytes."""
    dtype = _dtype.uint8


class _TypedStorageType:
    """torch.storage.TypedStorage (only a name here; it never carries data in a checkpoint)."""
    dtype = _dtype.uint8


UNTYPED_STORAGE = _UntypedStorageType()
TYPED_STORAGE = _TypedStorageType()


class Storage:
    """A loaded storage: a flat uint8 array (owning its memory, or a slice of a mapped file)
    and the dtype its persistent id declared."""
    __slots__ = ('data', 'dtype')

    def __init__(self, data, dtype):
        self.data, self.dtype = data, dtype

    def nbytes(self):
        return self.data.nbytes

    def size(self):
        return self.data.nbytes // self.dtype.itemsize

    def __len__(self):
        return self.size()

    def __repr__(self):
        return f"<ember storage of {self.size()} x {self.dtype} on cpu>"

    def cpu(self):
        return self

    @property
    def device(self):
        from .._tensor import device
        return device('cpu')


# ---- rebuild functions (torch/_utils.py), producing ember tensors ------------------------------

def _check_int(x, what):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise RuntimeError(f"{what} must be an int, got {type(x).__name__}")
    return int(x)


def _as_array(storage, storage_offset, size, stride, dtype):
    """The ndarray view of `storage` a tensor record describes, with torch's bound checks."""
    if not isinstance(storage, Storage):
        raise RuntimeError(f"expected a storage, got {type(storage).__name__}")
    if dtype._np is None:
        raise NotImplementedError(f"ember has no dtype {dtype!r}: cannot load a tensor of it")
    if not isinstance(size, tuple) or not isinstance(stride, tuple):
        raise RuntimeError("tensor size and stride must be tuples")
    offset = _check_int(storage_offset, "storage offset")
    size = tuple(_check_int(s, "size") for s in size)
    stride = tuple(_check_int(s, "stride") for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} strides "
                           f"for {len(size)} sizes")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    item = dtype._np.itemsize
    nbytes = storage.data.nbytes
    if 0 in size:
        need = 0
    else:
        need = item * (offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)))
    if need > nbytes:
        # torch's set_() would grow the storage, which a loaded one refuses
        raise RuntimeError(
            f"Trying to resize storage that is not resizable: sizes {list(size)}, strides "
            f"{list(stride)}, storage offset {offset} and itemsize {item} need a storage of "
            f"{need} bytes, but it has {nbytes}")
    if need == 0:
        if any(s >= 2 ** 62 for s in size):
            raise RuntimeError(f"tensor size too large: {list(size)}")
        return np.empty(size, dtype._np)
    return np.ndarray(size, dtype._np, buffer=storage.data, offset=offset * item,
                      strides=tuple(s * item for s in stride))


def _finish(arr, requires_grad, metadata=None):
    from .._tensor import _wrap
    if metadata:
        # the conjugate / negative bits of a lazily conjugated tensor: ember materialises them
        if metadata.get('conj'):
            arr = np.conj(arr)
        if metadata.get('neg'):
            arr = np.negative(arr)
    requires_grad = bool(requires_grad)
    if requires_grad and arr.dtype.kind not in 'fcV':
        raise RuntimeError("only Tensors of floating point and complex dtype can require "
                           "gradients")
    return _wrap(arr, requires_grad=requires_grad)


def _rebuild_tensor(storage, storage_offset, size, stride):
    dtype = getattr(storage, 'dtype', None)
    return _finish(_as_array(storage, storage_offset, size, stride, dtype), False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    dtype = getattr(storage, 'dtype', None)
    arr = _as_array(storage, storage_offset, size, stride, dtype)
    return _finish(arr, requires_grad, metadata)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    if not isinstance(dtype, (_dtype.dtype, _MissingDtype)):
        raise RuntimeError(f"expected a dtype, got {type(dtype).__name__}")
    arr = _as_array(storage, storage_offset, size, stride, dtype)
    return _finish(arr, requires_grad, metadata)


def _parameter_class():
    from ..nn.parameter import Parameter
    return Parameter


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _parameter_class()(data, bool(requires_grad))


def _set_obj_state(obj, state):
    if isinstance(state, tuple):
        if len(state) != 2:
            raise RuntimeError(f"Invalid serialized state: {state}")
        dict_state, slots_state = state
    else:
        dict_state, slots_state = state, None
    for part in (dict_state, slots_state):
        if part:
            if not isinstance(part, dict):
                raise RuntimeError(f"Invalid serialized state: {state}")
            for k, v in part.items():
                setattr(obj, k, v)
    return obj


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_obj_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    from .._tensor import Tensor
    ret = func(*args)
    if type(ret) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
            raise RuntimeError(f"cannot rebuild a tensor as {new_type!r}")
        ret.__class__ = new_type
    setstate = getattr(type(ret), '__setstate__', None)
    if setstate is not None and setstate is not Tensor.__setstate__:
        ret.__setstate__(state)
    else:
        ret = _set_obj_state(ret, state)
    return ret


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    from .._tensor import _wrap
    return _wrap(data._data.astype(dtype._np, copy=False), requires_grad=bool(requires_grad))


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    from .._tensor import _wrap
    return _wrap(np.asarray(data).astype(dtype._np, copy=False),
                 requires_grad=bool(requires_grad))


def _unsupported(name, what):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"ember cannot load {what} (torch._utils.{name})")
    fn.__name__ = fn.__qualname__ = name
    return fn


def _get_layout(name):
    import ember
    layout = getattr(ember, str(name).replace('torch.', ''), None)
    if layout is None:
        if name == 'torch.strided':
            return name
        raise NotImplementedError(f"ember has no layout {name}")
    return layout


class _Placeholder:
    """An allow-listed torch name ember has nothing for (torch.cuda.FloatTensor, qschemes):
    loading it succeeds, using it raises."""

    def __init__(self, full_name):
        self.full_name = full_name

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"ember does not support {self.full_name}")

    def __repr__(self):
        return self.full_name


# ---- the allow-list ---------------------------------------------------------------------------

BLOCKLISTED_MODULES = ('sys', 'os', 'posix', 'nt')

_REBUILD_FUNCTIONS = {
    '_rebuild_parameter': _rebuild_parameter,
    '_rebuild_parameter_with_state': _rebuild_parameter_with_state,
    '_rebuild_qtensor': _unsupported('_rebuild_qtensor', 'quantized tensors'),
    '_rebuild_tensor': _rebuild_tensor,
    '_rebuild_tensor_v2': _rebuild_tensor_v2,
    '_rebuild_tensor_v3': _rebuild_tensor_v3,
    '_rebuild_sparse_tensor': _unsupported('_rebuild_sparse_tensor', 'sparse tensors'),
    '_rebuild_meta_tensor_no_storage': _unsupported('_rebuild_meta_tensor_no_storage',
                                                    'meta tensors'),
    '_rebuild_nested_tensor': _unsupported('_rebuild_nested_tensor', 'nested tensors'),
    '_rebuild_wrapper_subclass': _unsupported('_rebuild_wrapper_subclass',
                                              'wrapper tensor subclasses'),
    '_rebuild_device_tensor_from_numpy': _rebuild_device_tensor_from_numpy,
    '_rebuild_device_tensor_from_cpu_tensor': _rebuild_device_tensor_from_cpu_tensor,
}

_LEGACY_TENSORS = ('Double Float Half BFloat16 Long Int Short Char Byte Bool').split()

_allowed = None


def allowed_globals():
    """torch 2.13's default weights-only allow-list, as full name -> ember object."""
    global _allowed
    if _allowed is not None:
        return _allowed
    import ember
    from .._tensor import Tensor, Size, device
    rc = {
        'collections.OrderedDict': OrderedDict,
        'collections.Counter': Counter,
        'torch.nn.parameter.Parameter': _parameter_class(),
        'torch.serialization._get_layout': _get_layout,
        'torch.Size': Size,
        'torch.Tensor': Tensor,
        'torch.device': device,
        '_codecs.encode': codecs.encode,
        'builtins.bytearray': bytearray,
        'builtins.set': set,
        'builtins.complex': complex,
    }
    for name in _TORCH_DTYPE_NAMES:
        rc['torch.' + name] = _dtype_named(name)
    for prefix in ('torch.', 'torch.cuda.', 'torch.sparse.', 'torch.cuda.sparse.'):
        for kind in _LEGACY_TENSORS:
            full = f"{prefix}{kind}Tensor"
            rc[full] = getattr(ember, f"{kind}Tensor", None) if prefix == 'torch.' else None
            if rc[full] is None:
                rc[full] = _Placeholder(full)
    for prefix in ('torch.', 'torch.cuda.'):
        for name in _STORAGE_DTYPE:
            if prefix == 'torch.cuda.' and name.startswith('Q'):
                continue
            rc[prefix + name] = StorageType(name)
    rc['torch.storage.TypedStorage'] = TYPED_STORAGE
    rc['torch.storage.UntypedStorage'] = UNTYPED_STORAGE
    for q in ('per_tensor_affine', 'per_tensor_symmetric', 'per_channel_affine',
              'per_channel_symmetric', 'per_channel_affine_float_qparams'):
        rc['torch.' + q] = _Placeholder('torch.' + q)
    for name, fn in _REBUILD_FUNCTIONS.items():
        rc['torch._utils.' + name] = fn
    rc['torch._tensor._rebuild_from_type_v2'] = _rebuild_from_type_v2
    _allowed = rc
    return rc


# user additions (torch.serialization.add_safe_globals)
_marked_safe_globals = set()


def user_allowed_globals():
    rc = {}
    for f in _marked_safe_globals:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full "
                                 f"path), but got tuple of length: {len(f)}")
            if type(f[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full "
                                f"path, but got: {type(f[1])}")
            f, name = f
            rc[name] = f
        else:
            module, name = f.__module__, f.__qualname__
            rc[f"{module}.{name}"] = f
            # an ember object also answers to its torch name, as `import ember as torch` expects
            if module == 'ember' or module.startswith('ember.'):
                rc[f"torch{module[5:]}.{name}"] = f
    return rc


_allowed_ids = None


def _is_allowed_value(obj):
    """Whether `obj` came from the allow-list (by identity: dtypes and storage markers must
    not be compared by value)."""
    global _allowed_ids
    if _allowed_ids is None:
        _allowed_ids = {id(v) for v in allowed_globals().values()}
    if id(obj) in _allowed_ids:
        return True
    return any(v is obj for v in user_allowed_globals().values())


# ---- the weights-only unpickler ---------------------------------------------------------------

class WeightsOnlyUnpickler:
    """An interpreter of torch's weights-only opcode subset; never imports anything."""

    def __init__(self, file, *, encoding='bytes', persistent_load=None):
        self.encoding = encoding
        self._read = file.read
        self._readline = file.readline
        self.memo = {}
        self.persistent_load = persistent_load
        self.proto = -1

    def read(self, n):
        data = self._read(n)
        if len(data) != n:
            raise UnpicklingError("pickle data was truncated")
        return data

    def readline(self):
        line = self._readline()
        if not line.endswith(b'\n'):
            raise UnpicklingError("pickle data was truncated")
        return line[:-1]

    def load(self):
        self.metastack = []
        self.stack = []
        try:
            return self._run()
        except (UnpicklingError, RuntimeError, NotImplementedError, MemoryError):
            raise
        except (IndexError, KeyError) as e:
            raise UnpicklingError(f"malformed pickle data ({type(e).__name__}: {e})") from None
        except Exception as e:  # a bad argument to an allow-listed callable, bad UTF-8 ...
            raise UnpicklingError(f"{type(e).__name__}: {e}") from None

    def _global(self):
        module = self.readline().decode('utf-8')
        name = self.readline().decode('utf-8')
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full_path = f"{module}.{name}"
        if module in BLOCKLISTED_MODULES:
            raise UnpicklingError(f"Trying to load unsupported GLOBAL {full_path} whose module "
                                  f"{module} is blocked.")
        allowed = allowed_globals()
        if full_path in allowed:
            return allowed[full_path]
        user = user_allowed_globals()
        if full_path in user:
            return user[full_path]
        if full_path.startswith('torch.nested._internal.') or full_path == \
                'torch._dynamo.decorators._DimRange':
            raise UnpicklingError("``torch.nested`` and ``torch._dynamo`` must be imported to "
                                  "load nested jagged tensors (NJTs)")
        if full_path.startswith('torch.distributed.'):
            raise UnpicklingError("``torch.distributed.tensor`` must be imported to load "
                                  "DTensors")
        shown = full_path
        if shown.startswith('builtins'):
            rest = shown[len('builtins'):]
            shown = rest[1:] if rest.startswith('.') else 'builtins' + rest
        raise UnpicklingError(
            f"Unsupported global: GLOBAL {shown} was not an allowed global by default. "
            f"Please use `torch.serialization.add_safe_globals([{shown}])` or the "
            f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist this "
            "global if you trust this class/function.")

    def _pop_mark(self):
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def _check_set_item_target(self, opcode):
        if type(self.stack[-1]) not in (dict, OrderedDict, Counter):
            raise UnpicklingError(f"Can only {opcode} for dict, collections.OrderedDict, "
                                  f"collections.Counter, but got {type(self.stack[-1])}")

    def _run(self):
        read = self.read
        unpack = struct.unpack
        while True:
            key = self._read(1)
            if not key:
                raise EOFError("Ran out of input")
            op = key[0]
            stack = self.stack
            if op == 0x63:    # GLOBAL
                stack.append(self._global())
            elif op == 0x81:  # NEWOBJ
                args = stack.pop()
                cls = stack.pop()
                Parameter = _parameter_class()
                if cls is Parameter:
                    stack.append(Parameter(*args))
                elif _is_allowed_value(cls) and isinstance(cls, type):
                    stack.append(cls.__new__(cls, *args))
                else:
                    raise UnpicklingError(
                        "Can only create new object for nn.Parameter or classes allowlisted "
                        f"via `add_safe_globals` but got {cls}")
            elif op == 0x52:  # REDUCE
                args = stack.pop()
                func = stack[-1]
                if not _is_allowed_value(func):
                    msg = f"Trying to call reduce for unrecognized function {func}"
                    if hasattr(func, '__self__'):
                        msg += f" which belongs to {func.__self__}"
                    raise UnpicklingError(msg)
                if not isinstance(args, tuple):
                    raise UnpicklingError("REDUCE arguments must be a tuple")
                stack[-1] = func(*args)
            elif op == 0x62:  # BUILD
                state = stack.pop()
                inst = stack[-1]
                self._build(inst, state)
            elif op == 0x61:  # APPEND
                item = stack.pop()
                if type(stack[-1]) is not list:
                    raise UnpicklingError(f"Can only append to lists, but got {type(stack[-1])}")
                stack[-1].append(item)
            elif op == 0x65:  # APPENDS
                items = self._pop_mark()
                if type(self.stack[-1]) is not list:
                    raise UnpicklingError(
                        f"Can only extend lists, but got {type(self.stack[-1])}")
                self.stack[-1].extend(items)
            elif op == 0x73:  # SETITEM
                v = stack.pop()
                k = stack.pop()
                self._check_set_item_target("SETITEM")
                stack[-1][k] = v
            elif op == 0x75:  # SETITEMS
                items = self._pop_mark()
                self._check_set_item_target("SETITEMS")
                if len(items) % 2:
                    raise UnpicklingError("odd number of items for SETITEMS")
                target = self.stack[-1]
                for i in range(0, len(items), 2):
                    target[items[i]] = items[i + 1]
            elif op == 0x28:  # MARK
                self.metastack.append(stack)
                self.stack = []
            elif op == 0x74:  # TUPLE
                items = self._pop_mark()
                self.stack.append(tuple(items))
            elif op == 0x85:  # TUPLE1
                stack[-1] = (stack[-1],)
            elif op == 0x86:  # TUPLE2
                if len(stack) < 2:
                    raise UnpicklingError("stack underflow")
                stack[-2:] = [(stack[-2], stack[-1])]
            elif op == 0x87:  # TUPLE3
                if len(stack) < 3:
                    raise UnpicklingError("stack underflow")
                stack[-3:] = [(stack[-3], stack[-2], stack[-1])]
            elif op == 0x4e:  # NONE
                stack.append(None)
            elif op == 0x89:  # NEWFALSE
                stack.append(False)
            elif op == 0x88:  # NEWTRUE
                stack.append(True)
            elif op == 0x29:  # EMPTY_TUPLE
                stack.append(())
            elif op == 0x5d:  # EMPTY_LIST
                stack.append([])
            elif op == 0x7d:  # EMPTY_DICT
                stack.append({})
            elif op == 0x8f:  # EMPTY_SET
                stack.append(set())
            elif op == 0x4a:  # BININT
                stack.append(unpack('<i', read(4))[0])
            elif op == 0x4b:  # BININT1
                stack.append(read(1)[0])
            elif op == 0x4d:  # BININT2
                stack.append(unpack('<H', read(2))[0])
            elif op == 0x47:  # BINFLOAT
                stack.append(unpack('>d', read(8))[0])
            elif op == 0x58:  # BINUNICODE
                n = unpack('<I', read(4))[0]
                stack.append(str(read(n), 'utf-8', 'surrogatepass'))
            elif op == 0x55:  # SHORT_BINSTRING
                data = read(read(1)[0])
                if self.encoding != 'bytes':
                    data = data.decode(self.encoding, 'strict')
                stack.append(data)
            elif op == 0x51:  # BINPERSID
                pid = stack.pop()
                if type(pid) is not tuple and type(pid) is not int:
                    raise UnpicklingError(
                        f"persistent_load id must be tuple or int, but got {type(pid)}")
                if type(pid) is tuple and len(pid) > 0 and _decode_ascii(pid[0]) != 'storage':
                    raise UnpicklingError("Only persistent_load of storage is allowed, but got "
                                          f"{type(pid[0])}")
                if self.persistent_load is None:
                    raise UnpicklingError("unsupported persistent id encountered")
                stack.append(self.persistent_load(pid))
            elif op == 0x68:  # BINGET
                stack.append(self._memo_get(read(1)[0]))
            elif op == 0x6a:  # LONG_BINGET
                stack.append(self._memo_get(unpack('<I', read(4))[0]))
            elif op == 0x71:  # BINPUT
                self.memo[read(1)[0]] = stack[-1]
            elif op == 0x72:  # LONG_BINPUT
                self.memo[unpack('<I', read(4))[0]] = stack[-1]
            elif op == 0x8a:  # LONG1
                stack.append(pickle.decode_long(read(read(1)[0])))
            elif op == 0x80:  # PROTO
                self.proto = read(1)[0]
                if self.proto != 2:
                    import warnings
                    warnings.warn(
                        f"Detected pickle protocol {self.proto} in the checkpoint, which was "
                        "not the default pickle protocol used by `torch.load` (2). The "
                        "weights_only Unpickler might not support all instructions implemented "
                        "by this protocol, please file an issue for adding support if you "
                        "encounter this.", stacklevel=4)
            elif op == 0x2e:  # STOP
                if self.metastack:
                    raise UnpicklingError("unbalanced MARK in pickle data")
                return stack.pop()
            else:
                raise UnpicklingError(f"Unsupported operand {op}")

    def _memo_get(self, i):
        try:
            return self.memo[i]
        except KeyError:
            raise UnpicklingError(f"Memo value not found at index {i}") from None

    def _build(self, inst, state):
        from .._tensor import Tensor
        t = type(inst)
        if t is Tensor:
            raise NotImplementedError("ember cannot load legacy tensor pickles (Tensor.set_ "
                                      "state)")
        if t is _parameter_class():
            _set_obj_state(inst, state)
        elif t is OrderedDict:
            if not isinstance(state, dict):
                raise UnpicklingError("OrderedDict state must be a dict")
            inst.__dict__.update(state)
        elif _is_allowed_value(t):
            if hasattr(inst, '__setstate__'):
                inst.__setstate__(state)
            else:
                slotstate = None
                if isinstance(state, tuple) and len(state) == 2:
                    state, slotstate = state
                if state:
                    inst.__dict__.update(state)
                if slotstate:
                    for k, v in slotstate.items():
                        setattr(inst, k, v)
        else:
            raise UnpicklingError(
                "Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                f"`add_safe_globals`, but got {t}")


def _decode_ascii(s):
    return s.decode('ascii') if isinstance(s, bytes) else s


# ---- weights_only=False: the standard unpickler with torch names mapped -----------------------

def resolve_torch_name(module, name):
    """The ember object for a torch GLOBAL, or None when ember has none."""
    if module == 'torch.tensor':
        module = 'torch._tensor'
    if 'Storage' in name:
        if name in _STORAGE_DTYPE:
            return StorageType(name)
        if name == 'UntypedStorage':
            return UNTYPED_STORAGE
        if name == 'TypedStorage':
            return TYPED_STORAGE
    full = f"{module}.{name}"
    allowed = allowed_globals()
    if full in allowed:
        return allowed[full]
    if module == 'torch' or module.startswith('torch.'):
        # the same path under ember, then its parent packages (ember may define a class in a
        # different file than torch does, but exports it from the package all the same)
        import importlib
        parts = ('ember' + module[5:]).split('.')
        for n in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module('.'.join(parts[:n]))
                for attr in name.split('.'):
                    obj = getattr(obj, attr)
                return obj
            except (ImportError, AttributeError):
                continue
    return None


def full_unpickler_class(pickle_module):
    class _Unpickler(pickle_module.Unpickler):
        def find_class(self, module, name):
            if module == 'torch' or module.startswith('torch.') or 'Storage' in name:
                obj = resolve_torch_name(module, name)
                if obj is not None:
                    return obj
                if module == 'torch' or module.startswith('torch.'):
                    raise UnpicklingError(
                        f"ember has no counterpart of {module}.{name}, which this checkpoint "
                        "needs")
            return super().find_class(module, name)
    return _Unpickler


def _maybe_byteswap(arr, dtype):
    item = dtype.itemsize
    if item > 1 and arr.nbytes % item == 0:
        if dtype._np is not None and dtype._np.kind == 'c':
            item //= 2
        arr.view(f'u{item}').byteswap(inplace=True)
