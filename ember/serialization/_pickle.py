"""Writing data.pkl: a protocol-2 pickle whose tensors reference storages, as torch.save does.

Tensors are reduced to ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, OrderedDict())`` where ``storage`` is a persistent id
``('storage', torch.FloatStorage, key, 'cpu', numel)``. Names are written as torch's, so
torch.load(weights_only=True) accepts the file; ember never imports torch to do it.

A storage is the whole memory of a NumPy root buffer (the array at the end of the ``.base``
chain), written once however many tensors view it: views stay views after loading.
"""
import io
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np

from .. import _dtype, _tensor
from .._tensor import Size, Tensor, _wrap, device
from ..nn.parameter import Parameter

# dtype name -> legacy storage class (torch/storage.py::_dtype_to_storage_type_map). Dtypes that
# are missing here (uint16/32/64) go through UntypedStorage and _rebuild_tensor_v3.
STORAGE_CLASS = {
    'float64': 'DoubleStorage', 'float32': 'FloatStorage', 'float16': 'HalfStorage',
    'bfloat16': 'BFloat16Storage', 'int64': 'LongStorage', 'int32': 'IntStorage',
    'int16': 'ShortStorage', 'int8': 'CharStorage', 'uint8': 'ByteStorage', 'bool': 'BoolStorage',
    'complex128': 'ComplexDoubleStorage', 'complex64': 'ComplexFloatStorage',
}


class TorchGlobal:
    """A name written as a pickle GLOBAL (``torch._utils _rebuild_tensor_v2``) and nothing else."""
    __slots__ = ('module', 'name')

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __repr__(self):
        return f"{self.module}.{self.name}"

    def __call__(self, *args):
        # pickle's save_reduce insists on a callable; this one is only ever written by name
        raise TypeError(f"{self!r} is a pickle name placeholder, not callable")


_G = {}


def _g(module, name):
    key = (module, name)
    if key not in _G:
        _G[key] = TorchGlobal(module, name)
    return _G[key]


_REBUILD_V2 = _g('torch._utils', '_rebuild_tensor_v2')
_REBUILD_V3 = _g('torch._utils', '_rebuild_tensor_v3')
_REBUILD_PARAM = _g('torch._utils', '_rebuild_parameter')
_REBUILD_PARAM_STATE = _g('torch._utils', '_rebuild_parameter_with_state')
_REBUILD_FROM_TYPE = _g('torch._tensor', '_rebuild_from_type_v2')
_TORCH_TENSOR = _g('torch', 'Tensor')
_TORCH_SIZE = _g('torch', 'Size')
_TORCH_DEVICE = _g('torch', 'device')
_UNTYPED = _g('torch.storage', 'UntypedStorage')


class _StorageRef:
    """Stands for one storage in the pickle; the pickler turns it into a persistent id."""
    __slots__ = ('pid',)

    def __init__(self, pid):
        self.pid = pid


class _DataOf:
    """The plain-tensor part of a Parameter (``param.data``), reduced without requires_grad."""
    __slots__ = ('t',)

    def __init__(self, t):
        self.t = t


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _addr(a):
    return a.__array_interface__['data'][0]


def _contiguous_strides(shape):
    st, acc = [], 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st))


class StorageTable:
    """Numbers root buffers in first-seen order and keeps their bytes for the zip records."""

    def __init__(self):
        self._by_root = {}   # id(root) -> [key, root, storage dtype name, nbytes]
        self.records = []    # (key, uint8 view of the root's memory), in key order

    def _storage(self, root, tag):
        entry = self._by_root.get(id(root))
        if entry is None:
            key = str(len(self.records))
            flat = root.reshape(-1, order='F' if not root.flags.c_contiguous else 'C')
            raw = flat.view(np.uint8) if flat.size else np.empty(0, np.uint8)
            entry = self._by_root[id(root)] = [key, root, tag, raw.nbytes]
            self.records.append((key, raw))
        elif entry[2] != tag:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same "
                               "data as different types")
        return entry

    def add(self, a, dt):
        """(persistent id, offset, size, stride) of ndarray `a` holding ember dtype `dt`."""
        item = a.itemsize
        untyped = dt.name not in STORAGE_CLASS
        size = tuple(int(s) for s in a.shape)
        placed = self._place(a, item)
        if placed is None:
            # not expressible on its root (negative strides, odd byte offsets...): copy it
            a = np.ascontiguousarray(a)
            root, offset, stride = a, 0, _contiguous_strides(size)
        else:
            root, offset, stride = placed
        entry = self._storage(root, 'uint8' if untyped else dt.name)
        nbytes = entry[3]
        if untyped:
            pid = ('storage', _UNTYPED, entry[0], 'cpu', nbytes)
        else:
            pid = ('storage', _g('torch', STORAGE_CLASS[dt.name]), entry[0], 'cpu',
                   nbytes // item)
        return _StorageRef(pid), offset, size, stride

    def _place(self, a, item):
        root = _root(a)
        if not (root.flags.c_contiguous or root.flags.f_contiguous) or root.nbytes % item:
            return None
        byte_off = _addr(a) - _addr(root)
        if a.size == 0:
            ok = 0 <= byte_off <= root.nbytes and byte_off % item == 0
            return (root, byte_off // item, _contiguous_strides(a.shape)) if ok else None
        stride = []
        for n, s in zip(a.shape, a.strides):
            if n == 1:
                s = 0  # any stride works for a dimension of size 1; keep it valid
            if s < 0 or s % item:
                return None
            stride.append(s // item)
        if byte_off < 0 or byte_off % item:
            return None
        if a.ndim:
            cs = _contiguous_strides(a.shape)
            stride = [cs[i] if a.shape[i] == 1 else stride[i] for i in range(a.ndim)]
        end = byte_off + item * (1 + sum((n - 1) * s for n, s in zip(a.shape, stride)))
        if end > root.nbytes:
            return None
        return root, byte_off // item, tuple(stride)


# ember's public namespaces, searched in this order for an object that ember defines in a private
# module (ember._ops.activation.relu is torch.nn.functional.relu; ember._tensor.Size is torch.Size)
_PUBLIC = ('ember.nn.functional', 'ember', 'ember.nn', 'ember.nn.init', 'ember.nn.utils',
           'ember.optim', 'ember.optim.lr_scheduler', 'ember.utils.data', 'ember.autograd',
           'ember.linalg', 'ember.functional', 'ember.random', 'ember.distributions')
_public_index = None


def _public_names():
    global _public_index
    if _public_index is None:
        index = {}
        for ns in _PUBLIC:
            mod = sys.modules.get(ns)
            if mod is None:
                continue
            for attr, obj in list(vars(mod).items()):
                if attr.startswith('_') or not isinstance(obj, (type, types.FunctionType)):
                    continue
                index.setdefault(id(obj), ('torch' + ns[5:], attr, obj))
        _public_index = index
    return _public_index


def _is_private(module):
    return any(p.startswith('_') for p in module.split('.')[1:])


def torch_name(obj, name=None):
    """(module, qualname) torch keeps ember object `obj` under, or None for a non-ember object.

    An ember object whose ``__module__`` is a public ember module has torch's path by
    construction (ember.nn.modules.linear.Linear -> torch.nn.modules.linear.Linear); one defined
    in a private module is named where ember exports it publicly."""
    module = getattr(obj, '__module__', None)
    if not isinstance(module, str) or not (module == 'ember' or module.startswith('ember.')):
        return None
    qualname = name if name is not None else getattr(obj, '__qualname__', None)
    if qualname is None or '<' in qualname:
        return None
    if not _is_private(module):
        return 'torch' + module[5:], qualname
    hit = _public_names().get(id(obj))
    if hit is not None and hit[2] is obj:
        return hit[0], hit[1]
    return 'torch' + module[5:], qualname


def _tensor_types():
    return Tensor, Parameter, Size, device


class Pickler(pickle._Pickler):
    """The pure-Python pickler with torch's reductions for tensors, dtypes, Size and device.

    The pure-Python class is used because it lets a GLOBAL be written by name (torch.float32)
    without importing the module the name lives in.
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, storages):
        super().__init__(file, protocol)
        self.storages = storages
        self._types = _tensor_types()

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            return obj.pid
        return None

    def save_torch_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode('utf-8'))
        self.memoize(obj)

    dispatch[TorchGlobal] = save_torch_global

    def save_global(self, obj, name=None):
        # ember's classes and functions are written under torch's names, so that torch loads
        # a whole pickled model (torch.nn.modules.linear.Linear, torch.nn.functional.relu);
        # anything else (the user's own classes, in __main__ or their modules) keeps its name
        tname = torch_name(obj, name) if self.proto < 4 else None
        if tname is None:
            return super().save_global(obj, name)
        module, qualname = tname
        self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode('utf-8'))
        self.memoize(obj)

    dispatch[type] = save_global
    dispatch[types.FunctionType] = save_global

    def save_dtype(self, obj):
        # through save() so that a second use of the dtype is a memo reference
        self.save(_g('torch', obj.name))

    dispatch[_dtype.dtype] = save_dtype

    def reducer_override(self, obj):
        Tensor, Parameter, Size, device = self._types
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj, Parameter)
        t = type(obj)
        if t is _DataOf:
            return _reduce_plain(obj.t, self.storages, False)
        if t is Size:
            return (_TORCH_SIZE, (tuple(obj),))
        if t is device:
            return (_TORCH_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def _reduce_tensor(self, t, Parameter):
        state = _user_state(t)
        if Parameter is not None and isinstance(t, Parameter):
            if type(t) is Parameter:
                if state:
                    return (_REBUILD_PARAM_STATE,
                            (_DataOf(t), t.requires_grad, OrderedDict(), state))
                return (_REBUILD_PARAM, (_DataOf(t), t.requires_grad, OrderedDict()))
        plain = _reduce_plain(t, self.storages, t.requires_grad)
        if type(t) is self._types[0] and not state:
            return plain
        new_type = _TORCH_TENSOR if type(t) is self._types[0] else type(t)
        return (_REBUILD_FROM_TYPE, (plain[0], new_type, plain[1], state))


def _user_state(t):
    d = getattr(t, '__dict__', None)
    return dict(d) if d else {}


def _reduce_plain(t, storages, requires_grad):
    a = t._data
    dt = _dtype.from_numpy(a.dtype)
    ref, offset, size, stride = storages.add(a, dt)
    if dt.name in STORAGE_CLASS:
        return (_REBUILD_V2, (ref, offset, size, stride, bool(requires_grad), OrderedDict()))
    return (_REBUILD_V3, (ref, offset, size, stride, bool(requires_grad), OrderedDict(),
                          _g('torch', dt.name)))


def dumps(obj, protocol=2):
    """(data.pkl bytes, StorageTable) for `obj`."""
    buf = io.BytesIO()
    storages = StorageTable()
    Pickler(buf, protocol, storages).dump(obj)
    return buf.getvalue(), storages


# ---- plain pickle.dumps(tensor) / copy: Tensor.__reduce_ex__ lands here ----------------------

def _rebuild_pickled(cls, data, requires_grad, state):
    t = _wrap(data, requires_grad=requires_grad)
    if cls is not Tensor:
        if issubclass(cls, Parameter):
            t = cls(t, requires_grad)
        else:
            t.__class__ = cls
    if state:
        for k, v in state.items():
            setattr(t, k, v)
    return t


def reduce_tensor(t, protocol):
    """Tensor.__reduce_ex__ for ordinary pickling: the array travels as NumPy pickles it."""
    return (_rebuild_pickled, (type(t), t._data, t.requires_grad, _user_state(t) or None))


_tensor._reduce_ex = reduce_tensor  # Tensor.__reduce_ex__ (in layer 1) pickles through this
