"""Reading data.pkl: the rebuild functions, storages, and two unpicklers.

- ``WeightsOnlyUnpickler`` interprets the protocol-2 opcode subset torch's weights-only loader
  accepts and resolves every GLOBAL through an allow-list (torch 2.13's list, with ember objects
  in place of torch's). Nothing outside the list is ever imported or called.
- ``full_unpickler_class`` builds a ``pickle.Unpickler`` for ``weights_only=False`` that maps
  ``torch.*`` names to ember's counterparts.
"""
import _compat_pickle
import codecs
import importlib
import pickle
import reprlib
import struct
import threading
import warnings
from collections import Counter, OrderedDict

import numpy as np

from .. import _dtype, _values
from .._ops import creation as _creation
from .._tensor import Size, Tensor, _wrap, device, device as _device
from ..nn.parameter import Parameter

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


def is_storage_type(obj):
    """Whether `obj` is what a storage class name unpickles to."""
    return type(obj) in (StorageType, _UntypedStorageType, _TypedStorageType)


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
        return device('cpu')


# ---- what a load may allocate ----------------------------------------------------------------

_ctx = threading.local()


class Budget:
    """Bytes a weights-only load may allocate beyond the storages it reads from the archive
    (whose sizes are checked against the archive itself): tensors built by an allow-listed
    constructor, materialised conjugate/negative views, dtype conversions. It is sized from
    the file, so a small file cannot ask for gigabytes."""

    def __init__(self, nbytes):
        self.left = int(nbytes)

    def charge(self, n, what):
        if n > self.left:
            raise UnpicklingError(
                f"{what} would allocate {n} bytes, more than this checkpoint's size allows "
                f"({self.left} bytes left); the file is corrupted or malicious")
        self.left -= n


def budget_for(nbytes):
    """The allowance of a load whose input holds `nbytes` bytes."""
    return Budget((1 << 20) + 2 * max(int(nbytes), 0))


def _charge(n, what):
    budget = getattr(_ctx, 'budget', None)
    if budget is not None:
        budget.charge(n, what)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlevel = 3


def _short(obj):
    """A bounded repr of data from the file, for messages (a crafted object can have an
    enormous repr)."""
    try:
        return _SHORT.repr(obj)
    except Exception:
        return f"<{type(obj).__name__}>"


def _refuse(what, args=None):
    msg = f"Refusing {what}"
    if args is not None:
        msg += f" with arguments {_short(args)}"
    return UnpicklingError(msg + ": a weights-only checkpoint never needs this")


# ---- rebuild functions (torch/_utils.py), producing ember tensors ------------------------------

def _check_int(x, what):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise RuntimeError(f"{what} must be an int, got {type(x).__name__}")
    return int(x)


def _check_bool(x, what):
    if not isinstance(x, (bool, np.bool_)):
        raise UnpicklingError(f"{what} must be a bool, got {type(x).__name__}")
    return bool(x)


def _check_hooks(hooks):
    # torch never serializes hooks (an empty OrderedDict stands in their place); hooks from a
    # file would be callables run at backward time, so anything else is refused
    if hooks is None or (type(hooks) in (dict, OrderedDict) and not hooks):
        return
    raise UnpicklingError(f"backward hooks in a checkpoint must be an empty OrderedDict, got "
                          f"{_short(hooks)}")


_MAX_DIMS = 64


def _as_array(storage, storage_offset, size, stride, dtype):
    """The ndarray view of `storage` a tensor record describes, with torch's bound checks."""
    if not isinstance(storage, Storage):
        raise RuntimeError(f"expected a storage, got {type(storage).__name__}")
    if not isinstance(dtype, (_dtype.dtype, _MissingDtype)):
        raise RuntimeError(f"expected a dtype, got {type(dtype).__name__}")
    if dtype._np is None:
        raise NotImplementedError(f"ember has no dtype {dtype!r}: cannot load a tensor of it")
    if type(size) not in (tuple, Size) or type(stride) not in (tuple, Size):
        raise RuntimeError("tensor size and stride must be tuples")
    if len(size) > _MAX_DIMS:
        raise RuntimeError(f"tensor has too many dimensions ({len(size)}; at most "
                           f"{_MAX_DIMS} are supported)")
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
    if any(s >= 2 ** 62 for s in size):
        raise RuntimeError(f"tensor size too large: {list(size)}")
    if need == 0:
        return np.empty(size, dtype._np)
    return np.ndarray(size, dtype._np, buffer=storage.data, offset=offset * item,
                      strides=tuple(s * item for s in stride))


def _finish(arr, requires_grad, metadata=None):
    requires_grad = _check_bool(requires_grad, "requires_grad")
    if metadata is not None:
        if type(metadata) not in (dict, OrderedDict) or not set(metadata) <= {'conj', 'neg'} \
                or not all(isinstance(v, (bool, np.bool_)) for v in metadata.values()):
            raise UnpicklingError(f"invalid tensor metadata {_short(metadata)}")
        # the conjugate / negative bits of a lazily conjugated tensor: ember materialises them
        if metadata.get('conj') or metadata.get('neg'):
            _charge(arr.nbytes, "materialising a conjugated or negated tensor")
        if metadata.get('conj'):
            arr = np.conj(arr)
        if metadata.get('neg'):
            arr = np.negative(arr)
    if requires_grad and arr.dtype.kind not in 'fcV':
        raise RuntimeError("only Tensors of floating point and complex dtype can require "
                           "gradients")
    return _wrap(arr, requires_grad=requires_grad)


def _rebuild_tensor(storage, storage_offset, size, stride):
    dtype = getattr(storage, 'dtype', None) if isinstance(storage, Storage) else None
    return _finish(_as_array(storage, storage_offset, size, stride, dtype), False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    _check_hooks(backward_hooks)
    dtype = getattr(storage, 'dtype', None) if isinstance(storage, Storage) else None
    arr = _as_array(storage, storage_offset, size, stride, dtype)
    return _finish(arr, requires_grad, metadata)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    _check_hooks(backward_hooks)
    arr = _as_array(storage, storage_offset, size, stride, dtype)
    return _finish(arr, requires_grad, metadata)


def _parameter_class():
    return Parameter


def _tensor_class():
    return Tensor


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, _tensor_class()):
        raise UnpicklingError(f"a Parameter must be built from a tensor, got "
                              f"{type(data).__name__}")
    requires_grad = _check_bool(requires_grad, "requires_grad")
    _check_hooks(backward_hooks)
    return _parameter_class()(data, requires_grad)


def _user_slots(cls):
    """Slot names declared by classes of cls's MRO that are not ember's own."""
    names = set()
    for c in cls.__mro__:
        if (c.__module__ or '').split('.')[0] in ('ember', 'builtins'):
            continue
        slots = c.__dict__.get('__slots__', ())
        names.update((slots,) if isinstance(slots, str) else slots)
    return names


# attributes ember keeps in a tensor's __dict__ and calls at backward time
_INTERNAL_ATTRS = frozenset(('_post_acc_hooks', '_backward_hooks'))


def _set_obj_state(obj, state):
    """torch._utils._set_obj_state, limited to what ``_get_obj_state`` can have saved: the
    instance's own attributes (never a slot, property or method of the class, never a dunder)
    and the slots of a user subclass. Nothing is set through a class's ``__setattr__``."""
    if state is None:
        return obj
    if type(state) is tuple:
        if len(state) != 2:
            raise UnpicklingError(f"Invalid serialized state: a tuple of {len(state)} items")
        dict_state, slots_state = state
    else:
        dict_state, slots_state = state, None
    for part in (dict_state, slots_state):
        if part is not None and type(part) not in (dict, OrderedDict):
            raise UnpicklingError(f"Invalid serialized state of type {type(part).__name__}")
    cls = type(obj)
    if dict_state:
        for k in dict_state:
            if type(k) is not str or (k.startswith('__') and k.endswith('__')) \
                    or k in _INTERNAL_ATTRS or hasattr(cls, k):
                raise UnpicklingError(f"Invalid serialized state: cannot set attribute "
                                      f"{_short(k)} of {cls.__name__}")
        d = getattr(obj, '__dict__', None)
        if d is None:
            raise UnpicklingError(f"Invalid serialized state: {cls.__name__} has no __dict__")
        d.update(dict_state)
    if slots_state:
        allowed = _user_slots(cls)
        for k in slots_state:
            if type(k) is not str or k not in allowed:
                raise UnpicklingError(f"Invalid serialized state: {_short(k)} is not a slot of "
                                      f"{cls.__name__} that a checkpoint may set")
        for k, v in slots_state.items():
            object.__setattr__(obj, k, v)
    return obj


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_obj_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass (or a tensor with attributes): `func` is one of torch's rebuild
    functions and nothing else, `new_type` a Tensor subclass."""
    Tensor = _tensor_class()
    if not any(func is f for f in _REBUILD_FUNCTIONS.values()):
        raise UnpicklingError(f"_rebuild_from_type_v2 can only call torch's tensor rebuild "
                              f"functions, not {_short(func)}")
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise UnpicklingError(f"_rebuild_from_type_v2 can only rebuild a Tensor subclass, "
                              f"not {_short(new_type)}")
    if type(args) is not tuple:
        raise UnpicklingError("_rebuild_from_type_v2 arguments must be a tuple")
    ret = func(*args)
    if type(ret) is not new_type:
        ret.__class__ = new_type
    setstate = getattr(type(ret), '__setstate__', None)
    if setstate is not None and setstate is not Tensor.__setstate__:
        ret.__setstate__(state)  # a user class allow-listed with add_safe_globals
    else:
        ret = _set_obj_state(ret, state)
    return ret


def _check_device_arg(device):
    if not isinstance(device, (str, _device)):
        raise UnpicklingError(f"invalid device {_short(device)}")


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    if not isinstance(data, _tensor_class()) or not isinstance(dtype, _dtype.dtype):
        raise UnpicklingError("_rebuild_device_tensor_from_cpu_tensor needs a tensor and a "
                              "dtype")
    _check_device_arg(device)
    requires_grad = _check_bool(requires_grad, "requires_grad")
    if data._data.dtype != dtype._np:
        _charge(data._data.size * dtype._np.itemsize, "converting a tensor's dtype")
    return _wrap(data._data.astype(dtype._np, copy=False), requires_grad=requires_grad)


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    if not isinstance(data, np.ndarray) or not isinstance(dtype, _dtype.dtype) \
            or data.dtype.kind not in 'biufc':
        raise UnpicklingError("_rebuild_device_tensor_from_numpy needs a numeric ndarray and a "
                              "dtype")
    _check_device_arg(device)
    requires_grad = _check_bool(requires_grad, "requires_grad")
    if data.dtype != dtype._np:
        _charge(data.size * dtype._np.itemsize, "converting an array's dtype")
    return _wrap(data.astype(dtype._np, copy=False), requires_grad=requires_grad)


def _unsupported(name, what):
    def fn(*args, **kwargs):
        raise NotImplementedError(f"ember cannot load {what} (torch._utils.{name})")
    fn.__name__ = fn.__qualname__ = name
    return fn


class _Placeholder:
    """An allow-listed torch name ember has nothing for (torch.cuda.FloatTensor, qschemes,
    sparse layouts): loading it succeeds, using it raises."""

    def __init__(self, full_name):
        self.full_name = full_name

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"ember does not support {self.full_name}")

    def __repr__(self):
        return self.full_name


_TORCH_LAYOUTS = ('strided', 'sparse_coo', 'sparse_csr', 'sparse_csc', 'sparse_bsr',
                  'sparse_bsc', '_mkldnn', 'jagged')
_layouts = {}


def _get_layout(name):
    """torch.serialization._get_layout: a layout object from its name, and nothing else."""
    if not _layouts:
        for n in _TORCH_LAYOUTS:
            layout = getattr(_values, n, None)
            _layouts['torch.' + n] = layout if isinstance(layout, _values.layout) else \
                _Placeholder('torch.' + n)
    if type(name) is not str or name not in _layouts:
        raise UnpicklingError(f"_get_layout: {_short(name)} is not a torch layout")
    return _layouts[name]


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
            rc[full] = getattr(_creation, f"{kind}Tensor", None) if prefix == 'torch.' else None
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


# ---- what each default global may be called with (REDUCE, NEWOBJ) --------------------------

_TEXT_CODECS = {'latin1', 'latin-1', 'latin_1', 'iso-8859-1', 'utf-8', 'utf8', 'ascii'}
_NUMBER = (bool, int, float, complex, np.number, np.bool_)


def _w_encode(*args):
    # protocol-2 pickles write bytes as _codecs.encode('<latin-1 text>', 'latin1')
    if not 1 <= len(args) <= 3 or type(args[0]) is not str \
            or (len(args) > 1 and (type(args[1]) is not str or args[1].lower() not in
                                   _TEXT_CODECS)) \
            or (len(args) > 2 and args[2] != 'strict'):
        raise _refuse("_codecs.encode", args)
    return codecs.encode(*args)


def _w_bytearray(*args):
    if not args:
        return bytearray()
    if len(args) == 1 and type(args[0]) in (bytes, bytearray):
        return bytearray(args[0])
    if len(args) == 2 and type(args[0]) is str and type(args[1]) is str \
            and args[1].lower() in _TEXT_CODECS:
        return bytearray(*args)
    raise _refuse("bytearray", args)  # bytearray(n) would zero-fill n bytes


def _w_set(*args):
    if not args or (len(args) == 1 and type(args[0]) in (list, tuple, set)):
        return set(*args)
    raise _refuse("set", args)


def _w_complex(*args):
    if len(args) <= 2 and all(type(a) in (int, float) for a in args):
        return complex(*args)
    raise _refuse("complex", args)


def _w_mapping(cls):
    def make(*args):
        if not args or (len(args) == 1 and type(args[0]) in (dict, OrderedDict, Counter, list,
                                                             tuple)):
            return cls(*args)
        raise _refuse(cls.__name__, args)
    return make


def _w_size(*args):
    if not args:
        return Size()
    if len(args) == 1 and type(args[0]) in (list, tuple, Size) and all(
            type(s) is int for s in args[0]):
        return Size(args[0])
    raise _refuse("torch.Size", args)


def _w_device(*args):
    if len(args) == 1 and type(args[0]) in (str, int, device):
        return device(*args)
    if len(args) == 2 and type(args[0]) is str and (args[1] is None or type(args[1]) is int):
        return device(*args)
    raise _refuse("torch.device", args)


def _count_nested(data, limit):
    """Elements and lists of a nested list of numbers, giving up past `limit` (a list may
    hold the same list many times: its size can be exponential in the pickle's)."""
    count = 0
    todo = [(data, 0)]
    while todo:
        x, depth = todo.pop()
        count += 1
        if count > limit:
            return count
        if type(x) in (list, tuple):
            if depth >= _MAX_DIMS:
                raise UnpicklingError("tensor data is nested too deeply")
            todo.extend((y, depth + 1) for y in x)
        elif not isinstance(x, _NUMBER):
            raise UnpicklingError(f"tensor data must be numbers, got {type(x).__name__}")
    return count


def _w_tensor(cls, dtype):
    """torch.Tensor / torch.FloatTensor ... called by a pickle: sizes and data are checked
    against the load's budget before anything is allocated."""
    def make(*args):
        Tensor = _tensor_class()
        d = dtype or _dtype.get_default_dtype()
        item = d._np.itemsize
        budget = getattr(_ctx, 'budget', None)
        shape = args[0] if len(args) == 1 and type(args[0]) in (tuple, Size) else args
        if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
            if len(shape) > _MAX_DIMS or any(s < 0 for s in shape):
                raise _refuse(f"{cls.__name__} of size", args)
            n = 1
            for s in shape:
                n *= int(s)
            _charge(n * item, f"{cls.__name__}{_short(tuple(shape))}")
            return cls(*args)
        if len(args) == 1 and isinstance(args[0], Tensor):
            return cls(*args)
        if len(args) == 1 and type(args[0]) in (list, tuple):
            limit = budget.left // item + 1 if budget is not None else float('inf')
            n = _count_nested(args[0], limit)
            _charge(n * item, f"{cls.__name__} from a list")
            return cls(*args)
        raise _refuse(cls.__name__, args)
    return make


def _w_parameter(data=None, requires_grad=True):
    if data is not None and not isinstance(data, _tensor_class()):
        raise _refuse("Parameter", (data,))
    return _parameter_class()(data, _check_bool(requires_grad, "requires_grad"))


def _w_placeholder(p):
    def make(*args):
        raise NotImplementedError(f"ember does not support {p.full_name}")
    return make


_calls = None
_news = None


def _weights_only_tables():
    """id -> (object, handler) for REDUCE and for NEWOBJ on the default allow-list."""
    global _calls, _news
    if _calls is not None:
        return _calls, _news
    Tensor, Parameter = _tensor_class(), _parameter_class()
    calls = {}
    news = {}

    def add(table, obj, fn):
        table[id(obj)] = (obj, fn)

    for cls in (OrderedDict, Counter):
        add(calls, cls, _w_mapping(cls))
        add(news, cls, lambda *a, _c=cls: _c() if not a else _refuse(_c.__name__, a))
    add(calls, codecs.encode, _w_encode)
    add(calls, bytearray, _w_bytearray)
    add(calls, set, _w_set)
    add(calls, complex, _w_complex)
    add(news, complex, _w_complex)
    add(calls, Size, _w_size)
    add(news, Size, _w_size)
    add(calls, device, _w_device)
    add(news, device, _w_device)
    add(calls, Tensor, _w_tensor(Tensor, None))
    add(news, Tensor, _w_tensor(Tensor, None))
    add(calls, Parameter, _w_parameter)
    add(news, Parameter, _w_parameter)
    add(calls, _get_layout, _get_layout)
    for name, obj in allowed_globals().items():
        if isinstance(obj, _Placeholder):
            add(calls, obj, _w_placeholder(obj))
        elif name.startswith('torch.') and name.endswith('Tensor') and isinstance(obj, type) \
                and getattr(obj, '_legacy_dtype', None) is not None:
            add(calls, obj, _w_tensor(obj, obj._legacy_dtype))
            add(news, obj, _w_tensor(obj, obj._legacy_dtype))
    for fn in _REBUILD_FUNCTIONS.values():
        add(calls, fn, fn)
    add(calls, _rebuild_from_type_v2, _rebuild_from_type_v2)
    # the news tables of set and bytearray: only the empty object (their __new__ ignores data)
    add(news, set, lambda *a: set() if not a else _refuse("set", a))
    add(news, bytearray, lambda *a: bytearray() if not a else _refuse("bytearray", a))
    _calls, _news = calls, news
    return calls, news


def _lookup(table, obj):
    hit = table.get(id(obj))
    return hit[1] if hit is not None and hit[0] is obj else None


# ---- the weights-only unpickler ---------------------------------------------------------------

_MAX_LINE = 1 << 16        # a GLOBAL's module or name
_MAX_TUPLE_DEPTH = 1000    # hashing deeper tuples overflows the C stack
_MAX_TUPLE_WEIGHT = 1 << 22  # tuples reachable from one tuple (hash and == walk all of them)


class WeightsOnlyUnpickler:
    """An interpreter of torch's weights-only opcode subset; never imports anything, and calls
    only the allow-listed globals, each with the arguments a checkpoint can legitimately hand
    it (see the handlers above), or the user's add_safe_globals as torch does."""

    def __init__(self, file, *, encoding='bytes', persistent_load=None, budget=None):
        self.encoding = encoding
        self._read = file.read
        self._readline = file.readline
        self.memo = {}
        self.persistent_load = persistent_load
        self.proto = -1
        self.budget = budget
        try:  # never ask the file for more than it holds (a length field may say 4 GB)
            pos = file.tell()
            self._left = file.seek(0, 2) - pos
            file.seek(pos)
        except (AttributeError, OSError, ValueError):
            self._left = None
        if self.budget is None:
            self.budget = budget_for(self._left or 0)

    def read(self, n):
        if self._left is not None:
            if n > self._left:
                raise UnpicklingError("pickle data was truncated")
            self._left -= n
        data = self._read(n)
        if len(data) != n:
            raise UnpicklingError("pickle data was truncated")
        return data

    def readline(self):
        line = self._readline(_MAX_LINE)
        if self._left is not None:
            self._left -= len(line)
        if not line.endswith(b'\n'):
            raise UnpicklingError("pickle data was truncated")
        return line[:-1]

    def load(self):
        self.metastack = []
        self.stack = []
        self._tuples = {}
        user = user_allowed_globals()
        self._user = {id(v): v for v in user.values()}
        saved = getattr(_ctx, 'budget', None)
        _ctx.budget = self.budget
        try:
            return self._run()
        except (UnpicklingError, RuntimeError, NotImplementedError, EOFError):
            raise
        except MemoryError:
            raise RuntimeError("out of memory while loading the checkpoint") from None
        except (IndexError, KeyError) as e:
            raise UnpicklingError(f"malformed pickle data ({type(e).__name__}: "
                                  f"{_short(e)})") from None
        except Exception as e:  # a bad argument to an allow-listed callable, bad UTF-8 ...
            raise UnpicklingError(f"{type(e).__name__}: {_short(str(e))}") from None
        finally:
            _ctx.budget = saved
            self._tuples = None

    def _user_allowed(self, obj):
        v = self._user.get(id(obj))
        return v is not None and v is obj

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

    def _tuple(self, items):
        """A tuple, refused when it nests too deeply or reaches too many tuples (shared
        references make that exponential in the pickle's size): hashing it, as a dict key
        does, would crash or never end."""
        depth, weight = 1, 1
        for x in items:
            if type(x) is tuple and x:
                d, w = self._tuples.get(id(x), (1, 1))
                depth = max(depth, d + 1)
                weight += w
        if depth > _MAX_TUPLE_DEPTH or weight > _MAX_TUPLE_WEIGHT:
            raise UnpicklingError("tuples in the pickle nest too deeply")
        t = tuple(items)
        if depth > 1 or weight > 1:
            self._tuples[id(t)] = (depth, weight)
            self._keep.append(t)  # ids stay valid while the load runs
        return t

    def _run(self):
        read = self.read
        unpack = struct.unpack
        self._keep = []
        calls, news = _weights_only_tables()
        Parameter = _parameter_class()
        while True:
            if self._left is not None:
                if self._left <= 0:
                    raise EOFError("Ran out of input")
                self._left -= 1
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
                if type(args) is not tuple:
                    raise UnpicklingError("NEWOBJ arguments must be a tuple")
                handler = _lookup(news, cls)
                if cls is Parameter:
                    stack.append(_w_parameter(*args))
                elif handler is not None:
                    r = handler(*args)
                    if isinstance(r, UnpicklingError):
                        raise r
                    stack.append(r)
                elif self._user_allowed(cls) and isinstance(cls, type):
                    stack.append(cls.__new__(cls, *args))
                else:
                    raise UnpicklingError(
                        "Can only create new object for nn.Parameter or classes allowlisted "
                        f"via `add_safe_globals` but got {_short(cls)}")
            elif op == 0x52:  # REDUCE
                args = stack.pop()
                func = stack[-1]
                handler = _lookup(calls, func)
                if handler is None and not self._user_allowed(func):
                    msg = f"Trying to call reduce for unrecognized function {_short(func)}"
                    if hasattr(func, '__self__'):
                        msg += f" which belongs to {_short(func.__self__)}"
                    raise UnpicklingError(msg)
                if type(args) is not tuple:
                    raise UnpicklingError("REDUCE arguments must be a tuple")
                stack[-1] = (handler or func)(*args)
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
                self.stack.append(self._tuple(items))
            elif op == 0x85:  # TUPLE1
                stack[-1] = self._tuple(stack[-1:])
            elif op == 0x86:  # TUPLE2
                if len(stack) < 2:
                    raise UnpicklingError("stack underflow")
                stack[-2:] = [self._tuple(stack[-2:])]
            elif op == 0x87:  # TUPLE3
                if len(stack) < 3:
                    raise UnpicklingError("stack underflow")
                stack[-3:] = [self._tuple(stack[-3:])]
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
        t = type(inst)
        if t is _tensor_class():
            raise NotImplementedError("ember cannot load legacy tensor pickles (Tensor.set_ "
                                      "state)")
        if t is _parameter_class():
            self._build_parameter(inst, state)
        elif t is OrderedDict or t is Counter:
            # a state_dict's _metadata: plain attributes, never a dunder
            if type(state) is not dict or not all(
                    type(k) is str and not k.startswith('__') for k in state):
                raise UnpicklingError(f"{t.__name__} state must be a dict of attribute names")
            inst.__dict__.update(state)
        elif self._user_allowed(t):
            # a class the user allow-listed: torch's BUILD, which trusts it
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

    @staticmethod
    def _build_parameter(inst, state):
        # torch: Parameter.__setstate__ (Tensor.__setstate__): the legacy tuples carry
        # requires_grad and (always empty) hooks
        if type(state) is tuple and len(state) in (3, 5):
            if len(state) == 5:
                data = state[0]
                if not isinstance(data, _tensor_class()):
                    raise UnpicklingError("Parameter state must hold a tensor")
                inst._data = data._data
                state = (state[3], state[4], state[2])
            requires_grad = _check_bool(state[0], "requires_grad")
            _check_hooks(state[2])
            inst.requires_grad_(requires_grad)
        elif type(state) is tuple and len(state) == 4:
            raise NotImplementedError("ember cannot load legacy tensor pickles (Tensor.set_ "
                                      "state)")
        else:
            _set_obj_state(inst, state)


def _decode_ascii(s):
    return s.decode('ascii') if isinstance(s, bytes) else s


# ---- weights_only=False: the standard unpickler with torch names mapped -----------------------

_C_HOMES = {'torch._C._nn': 'torch.nn.functional', 'torch._C._VariableFunctions': 'torch',
            'torch._C._linalg': 'torch.linalg', 'torch._C._special': 'torch.special',
            'torch._C._fft': 'torch.fft'}


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
    # torch's builtins live in its C extension (F.gelu is torch._C._nn.gelu); ember keeps them
    # where torch exports them
    module = _C_HOMES.get(module, module)
    if module == 'torch' or module.startswith('torch.'):
        # the same path under ember, then its parent packages (ember may define a class in a
        # different file than torch does, but exports it from the package all the same)
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
