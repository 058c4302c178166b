"""Tensor: a NumPy array plus the metadata reverse-mode autograd needs.

The math of every op lives in ``ember/_ops/`` (one module per op family); those modules attach
the ops to ``Tensor`` as methods and operators when they are imported.
"""
import copy
import importlib
import sys
import warnings
import weakref

import numpy as np

from . import _dtype, _kernels, _shm, _tensor_str, _torch_function
from ._dtype import from_numpy as _dtype_of_np
from ._values import memory_format, strided

__all__ = ['Tensor', 'Size', 'device']


class _VersionCounter:
    """Counts in-place writes; shared by a tensor and every view of it."""
    # a class default instead of __init__: every new tensor makes one, and creating it then
    # runs no Python code; the first write gives the instance its own value
    value = 0


class Size(tuple):
    """torch.Size: a tuple of ints that prints as ``torch.Size([2, 3])``."""
    __slots__ = ()

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


# the name of torch's PrivateUse1 device (torch.utils.rename_privateuse1_backend renames it)
_PRIVATEUSE1 = ['privateuseone']


class device:
    """torch.device. ember computes on the CPU only; accelerator devices raise at use."""
    __slots__ = ('type', 'index')

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):
            type, index = 'cuda', type
        elif ':' in type:
            text = type
            type, idx = type.split(':', 1)
            # torch accepts a plain decimal index: no sign, no leading zero
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == '0'):
                raise RuntimeError(f"Invalid device string: '{text}'")
            index = int(idx)
        if type not in ('cpu', 'cuda', 'mps', 'xpu', 'meta', 'mtia', 'ipu', 'hpu', 'xla') \
                and type not in _PRIVATEUSE1:
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, "
                "fpga, maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type "
                f"at start of device string: {type}")
        self.type = type
        self.index = index

    def __repr__(self):
        idx = f", index={self.index}" if self.index is not None else ""
        return f"device(type='{self.type}'{idx})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return (isinstance(other, device) and self.type == other.type
                and self.index == other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


_CPU = device('cpu')


_NO_ACCELERATOR = 'Cannot access accelerator device when none is available.'


def _check_device(d, to=False):
    """Accept the CPU; for any other device raise what a CPU-only torch raises (a factory
    call and a `.to()` differ for the backends torch does not link: `to=True` for the latter).
    """
    if d is None:
        return
    if isinstance(d, int) and not isinstance(d, bool):
        raise RuntimeError(_NO_ACCELERATOR)  # a bare index means "the current accelerator"
    if not isinstance(d, device):
        d = device(d)
    kind = d.type
    if kind == 'cpu':
        return
    if kind in ('cuda', 'xpu'):
        raise AssertionError(f"Torch not compiled with {kind.upper()} enabled")
    if kind == 'mtia':
        raise AssertionError('Torch not compiled with MTIA enabled. Ensure you have `import '
                             'mtia.host_runtime.torch_mtia.dynamic_library` in your python src '
                             'file and include `//mtia/host_runtime/torch_mtia:torch_mtia` as '
                             'your target dependency!')
    if kind == 'meta':
        raise NotImplementedError("meta tensors (device='meta') are not supported by ember")
    if to:
        raise RuntimeError(f"PyTorch is not linked with support for {kind} devices")
    raise NotImplementedError(
        f"Could not run 'aten::empty.memory_format' with arguments from the '{kind.upper()}' "
        "backend. This could be because the operator doesn't exist for this backend, or was "
        "omitted during the selective/custom build process (if using custom build).")


def _wrap(data, requires_grad=False):
    """A Tensor around an ndarray, without copying. The one constructor every op uses."""
    t = _new(Tensor)
    t._data = data
    t._requires_grad = requires_grad
    t._grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._vc = _VersionCounter()
    t._base = None
    t._grad_acc = None
    t._hooks = None
    return t


_new = object.__new__
_FIELDS = ('_data', '_requires_grad', '_grad', 'grad_fn', '_output_nr', '_vc', '_base',
           '_grad_acc', '_hooks')


def _alias(t, /):
    """A plain tensor over t's array sharing its version counter: no history, no base (a
    saved output, detach()). Spelled out: _wrap would make a counter only to drop it."""
    a = _new(Tensor)
    a._data, a._requires_grad, a._grad, a.grad_fn = t._data, False, None, None
    a._output_nr, a._vc, a._base, a._grad_acc, a._hooks = 0, t._vc, None, None, None
    return a


def _view_of(base, data):
    """A tensor sharing `base`'s memory (and version counter) without autograd history."""
    return _link_view(_wrap(data), base)


def _link_view(out, base):
    """Make `out` a view of `base`: the same version counter, base's base. As in torch, a view
    made with grad mode off of a tensor that requires grad requires grad too, and it (and any
    view of it) refuses an in-place change with grad mode on (CreationMeta::NO_GRAD_MODE; see
    _ops/_util._check_inplace)."""
    out._vc = base._vc
    out._base = base if base._base is None else base._base
    if base._no_grad_view or (base._requires_grad and not _State.enabled):
        out._requires_grad = True
        out._no_grad_view = True
    return out


class _TensorMeta(type):
    """Prints ember's Tensor class under torch's name (`type(x)` shows `torch.Tensor`).

    Only the repr changes: __module__ stays ember's, so pickling by reference still works.
    """

    def __repr__(cls):
        if cls.__module__ == __name__ and cls.__qualname__ == 'Tensor' or \
                cls.__dict__.get('_prints_as_tensor'):  # the sparse layouts' class
            return "<class 'torch.Tensor'>"
        return super().__repr__()

    def __setattr__(cls, name, value):
        # The op modules install Tensor's operators by assignment; those that torch's Tensor
        # refuses a NumPy array in get the refusal here, in one place.
        if name in _NDARRAY_REFUSED and callable(value) and \
                not getattr(value, '_refuses_ndarray', False):
            value = _refuse_ndarray(value, name)
        super().__setattr__(name, value)


# NumPy arrays as operands, as torch's Tensor takes them: its operators (all but ==) return
# NotImplemented for an ndarray. So `t + a` falls to NumPy's reflected op, which computes on
# np.asarray(t) and wraps the result back (__array_wrap__), and `a + t` first defers to Tensor
# (__array_priority__) and then raises TypeError (`a != t` is Python's identity fallback,
# True). `a / t` is t.reciprocal() * a.
_NDARRAY_REFUSED = frozenset(
    f'__{p}{op}__' for op in ('add', 'sub', 'mul', 'truediv', 'floordiv', 'mod', 'pow',
                              'matmul', 'and', 'or', 'xor', 'lshift', 'rshift')
    for p in ('', 'r', 'i')) | {'__ne__', '__lt__', '__le__', '__gt__', '__ge__'}


def _refuse_ndarray(fn, name):
    if name == '__rtruediv__':
        def op(self, other, *args, **kwargs):
            if isinstance(other, np.ndarray):
                return self.reciprocal() * other
            return fn(self, other, *args, **kwargs)
    else:
        def op(self, other, *args, **kwargs):
            if isinstance(other, np.ndarray):
                return NotImplemented
            if args or kwargs:
                return fn(self, other, *args, **kwargs)
            return fn(self, other)  # an operator's own call: a plain call is cheaper
    op.__name__ = name
    op.__qualname__ = 'Tensor.' + name
    op.__doc__ = getattr(fn, '__doc__', None)
    return op


def _cast_method(name, dtype_name):
    """Tensor.float & co: `self.to(dtype)` (the dtype looked up at the call: bfloat16 exists
    only with ml_dtypes)."""
    def method(self, memory_format=None):
        return self.to(getattr(_dtype, dtype_name))
    method.__name__ = name
    method.__qualname__ = 'Tensor.' + name
    return method


class Tensor(metaclass=_TensorMeta):
    """A multi-dimensional array with reverse-mode automatic differentiation."""
    __slots__ = _FIELDS + ('__dict__', '__weakref__')
    _no_grad_view = False  # _link_view: a view made without grad mode of one requiring grad
    # As torch's Tensor: no __array_ufunc__, so a NumPy ufunc converts through __array__ and
    # wraps its result back (__array_wrap__), while the high priority makes ndarray and NumPy
    # scalar operators defer to Tensor's reflected ones.
    __array_priority__ = 1000
    _sparse = False  # True on the sparse layouts' subclass (ember/_ops/sparse.py)

    def __init_subclass__(cls, **kwargs):
        # a subclass with a __torch_function__ arms the protocol (ember.overrides)
        super().__init_subclass__(**kwargs)
        if _torch_function.State.on_subclass is not None:
            _torch_function.State.on_subclass(cls)

    def __init__(self, *args, dtype=None, device=None):
        # the legacy constructor: Tensor(2, 3) is uninitialised, Tensor([1, 2]) copies data
        _check_device(device)
        d = dtype or _dtype.get_default_dtype()
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = args[0]
            if isinstance(data, Tensor):
                arr = data._data
            else:
                arr = np.asarray(data, dtype=_dtype.to_numpy(d))
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
            arr = np.empty(tuple(int(s) for s in shape), dtype=_dtype.to_numpy(d))
            if arr.dtype.kind == 'f':
                arr.fill(0)  # deterministic "uninitialised" memory
        fresh = _wrap(arr)  # the fields every tensor starts with
        for slot in _FIELDS:
            setattr(self, slot, getattr(fresh, slot))

    @classmethod
    def _from_array(cls, data):
        return _wrap(data)

    # ---- metadata --------------------------------------------------------------------------

    @property
    def dtype(self):
        return _dtype_of_np(self._data.dtype)

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def device(self):
        return _CPU

    @property
    def is_cuda(self):
        return False

    @property
    def is_cpu(self):
        return True

    @property
    def is_meta(self):
        return False

    @property
    def is_sparse(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def layout(self):
        return strided

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        item = self._data.itemsize
        st = tuple(s // item for s in self._data.strides)
        if self._data.size == 0 or self._data.ndim and 0 in self._data.shape:
            st = _contiguous_strides(self._data.shape)
        if dim is None:
            return st
        return st[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def storage_offset(self):
        root = self._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        off = (self._data.__array_interface__['data'][0]
               - root.__array_interface__['data'][0])
        return off // self._data.itemsize

    def data_ptr(self):
        return self._data.__array_interface__['data'][0]

    def untyped_storage(self):
        return _storage.UntypedStorage._of(self)

    def is_floating_point(self):
        return self._data.dtype.kind == 'f' or self._data.dtype.name in _dtype._ML_FLOATS

    def is_complex(self):
        return self._data.dtype.kind == 'c'

    def is_signed(self):
        return self.dtype.is_signed

    def get_device(self):
        return -1

    @property
    def grad_dtype(self):
        """The dtype gradients of this tensor take (its own dtype unless set)."""
        gd = self.__dict__.get('_grad_dtype')
        return self.dtype if gd is None else gd

    @grad_dtype.setter
    def grad_dtype(self, value):
        self.__dict__['_grad_dtype'] = value

    @property
    def _version(self):
        return self._vc.value

    # ---- autograd metadata -----------------------------------------------------------------

    @property
    def requires_grad(self):
        if self._requires_grad and _Forward.used:
            # recorded from dual tensors only, for their tangents: not for the caller
            return _Forward.real(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in 'fc' and \
                self._data.dtype.name not in _dtype._ML_FLOATS:
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients")
        if _Forward.duals and self.__dict__.get('_fw_leaf'):
            if value:  # the dual now requires grad for the caller too
                del self.__dict__['_fw_leaf']
            return
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind not in 'fc' and \
                self._data.dtype.name not in _dtype._ML_FLOATS:
            # torch words this one differently from the attribute setter
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        # shares memory, but not the version counter: changes made through .data are
        # invisible to autograd, as in torch
        return _wrap(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def retains_grad(self):
        fn = self.grad_fn
        return bool(fn is not None and fn._retains and
                    any(r() is self for r in fn._retains))

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        graph.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        return _alias(self)  # shares the counter: in-place writes to it are seen by autograd

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        fn = self.grad_fn
        if fn is None:
            return
        if fn._retains is None:
            fn._retains = []
        if not any(r() is self for r in fn._retains):
            fn._retains.append(weakref.ref(self))

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return graph._Handle(self._hooks, hook)
        nr = self._output_nr

        def prehook(grads):
            if grads[nr] is None:
                return None
            new = hook(grads[nr])
            if new is None:
                return None
            grads = list(grads)
            grads[nr] = new
            return grads
        return self.grad_fn.register_prehook(prehook)

    # ---- conversion ------------------------------------------------------------------------

    def numpy(self, *, force=False):
        # as torch's: refused only while grad mode is on (a kernel below autograd may read it)
        if self._requires_grad and not force and _State.enabled and self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        if self._data.dtype.name in _dtype._ML_TYPES and not force:
            raise TypeError(f"Got unsupported ScalarType {_dtype._cname(self.dtype)}")
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        v = self._data.reshape(()).item() if self._data.ndim else self._data.item()
        if self._data.dtype.name in _dtype._ML_TYPES:
            v = complex(v) if self._data.dtype.kind == 'c' else float(v)
        return v

    def tolist(self):
        d = self._data
        if d.dtype.name in _dtype._ML_TYPES:
            d = d.astype(np.complex64 if d.dtype.kind == 'c' else np.float32)
        return d.tolist()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        if not self._requires_grad or not _State.enabled:
            # fast path: views of the rows, as unbind would give (0-d views for a 1-d tensor)
            d = self._data
            return iter([_view_of(self, d[i, ...]) for i in range(d.shape[0])])
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self._data.reshape(()))

    def __int__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self._data.reshape(()))

    def __complex__(self):
        return complex(self._data.reshape(()))

    def __index__(self):
        if self._data.dtype.kind not in 'iub' or self._data.size != 1:
            raise TypeError(
                "only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __array__(self, dtype=None, copy=None):
        # torch goes through .numpy(): a tensor that requires grad refuses, as there
        d = self.numpy()
        if dtype is not None and d.dtype != dtype:
            if copy is False:
                raise ValueError('Unable to avoid copy while creating an array as requested.')
            return d.astype(dtype)
        return d.copy() if copy else d

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """A NumPy ufunc's result on a tensor comes back as a tensor (bool as uint8, as
        torch's does)."""
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return _wrap(np.ascontiguousarray(array) if array.ndim else np.asarray(array))

    def __hash__(self):
        return id(self)

    def __repr__(self, *, tensor_contents=None):
        return _tensor_str._tensor_repr(self)

    def __format__(self, spec):
        # torch: a 0-d plain tensor formats as its Python number, whatever the spec
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return _reduce_ex(self, protocol)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        t = type(self).__new__(type(self))
        Tensor.__init__(t, 0)
        t._data = self._data.copy()
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        if getattr(self, '__dict__', None):
            t.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = t
        return t

    def __setstate__(self, state):
        # pickles made by ember's own reduce (weights_only=False path)
        Tensor.__init__(self, 0)
        self._data, self._requires_grad = state[0], state[1]

    # ---- dtype and device conversion -------------------------------------------------------

    def to(self, *args, **kwargs):
        dev, dtype, _, copy, _ = _parse_to(args, kwargs)
        _check_device(dev, to=True)
        if dtype is None or dtype._np == self._data.dtype:
            return self.clone() if copy else self
        return self._to_dtype(dtype)  # ember/_ops/creation.py: a copy with its gradient

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None:
            return 'torch.' + (self.dtype._legacy or self.dtype.name)
        if isinstance(dtype, str):
            dtype = _LEGACY_NAMES[dtype.replace('torch.', '')]
        elif isinstance(dtype, type) and getattr(dtype, '_legacy_dtype', None) is not None:
            dtype = dtype._legacy_dtype  # torch.FloatTensor and friends
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        if isinstance(device, int) and not isinstance(device, bool):
            raise RuntimeError(_NO_ACCELERATOR)
        raise AssertionError('Torch not compiled with CUDA enabled')

    def xpu(self, device=None, non_blocking=False, memory_format=None):
        raise AssertionError('Torch not compiled with XPU enabled')

    # dtype shorthands: x.float() is x.to(torch.float32), ...
    float = _cast_method('float', 'float32')
    double = _cast_method('double', 'float64')
    half = _cast_method('half', 'float16')
    bfloat16 = _cast_method('bfloat16', 'bfloat16')
    int = _cast_method('int', 'int32')
    long = _cast_method('long', 'int64')
    short = _cast_method('short', 'int16')
    char = _cast_method('char', 'int8')
    byte = _cast_method('byte', 'uint8')
    bool = _cast_method('bool', 'bool')
    cfloat = _cast_method('cfloat', 'complex64')
    cdouble = _cast_method('cdouble', 'complex128')

    def pin_memory(self, device=None):
        if device is not None:
            _warn_pin_device('pin_memory')
            if _device_type(device) == 'cpu':
                raise RuntimeError('CPU device type not an accelerator.')
        raise RuntimeError(_NO_ACCELERATOR)

    def is_pinned(self, device=None):
        if device is not None:
            _warn_pin_device('is_pinned')
        return False

    def share_memory_(self):
        """Move the values into shared memory (a block other processes can map: see
        torch.multiprocessing). Views taken before keep the old memory."""
        if type(self._data) is np.ndarray and not _shm.is_shared(self._data):
            self._data = _shm.share(self._data)
        return self

    def is_shared(self):
        return _shm.is_shared(self._data)


def _device_type(d):
    return d.type if isinstance(d, device) else device(d).type


def _warn_pin_device(name):
    warnings.warn(f"The argument 'device' of Tensor.{name}() is deprecated. Please do not pass "
                  "this argument.", DeprecationWarning, stacklevel=3)


def _contiguous_strides(shape):
    st = []
    acc = 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st))


def _wrap_dim(dim, ndim):
    """torch's dim wrapping with its IndexError message."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim else 0


_TO_OVERLOADS = (('device', 'dtype', 'non_blocking', 'copy'), ('dtype', 'non_blocking', 'copy'),
                 ('tensor', 'non_blocking', 'copy'))
_TO_EXPECTED = (
    ' * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, '
    'bool copy = False, *, torch.memory_format memory_format = None)\n'
    ' * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, '
    'torch.memory_format memory_format = None)\n'
    ' * (Tensor tensor, bool non_blocking = False, bool copy = False, *, '
    'torch.memory_format memory_format = None)\n')


def _to_type_name(a):
    for cls, name in ((Tensor, 'Tensor'), (_dtype.dtype, 'torch.dtype'), (device, 'torch.device'),
                      (memory_format, 'torch.memory_format')):
        if isinstance(a, cls):
            return name
    return type(a).__name__


def _to_accepts(param, a):
    if param == 'device':
        return a is None or isinstance(a, (str, device, int)) and not isinstance(a, bool)
    if param == 'dtype':
        return a is None or isinstance(a, _dtype.dtype)
    if param == 'tensor':
        return isinstance(a, Tensor)
    if param == 'memory_format':
        return a is None or isinstance(a, memory_format)
    return isinstance(a, bool)


def _parse_to(args, kwargs):
    """Tensor.to's and Module.to's arguments read by torch's three overloads, (device=None,
    dtype=None, non_blocking=False, copy=False), (dtype, non_blocking=False, copy=False) and
    (tensor, non_blocking=False, copy=False), each with a keyword memory_format=None: returns
    (device, dtype, non_blocking, copy, memory_format), copy None when not given; torch's
    TypeError for anything else."""
    if len(args) > 4:
        raise TypeError(f'to() takes from 0 to 4 positional arguments but {len(args)} were given')
    for names in _TO_OVERLOADS:
        if len(args) > len(names):
            continue
        bound = dict(zip(names, args))
        if any(k in bound or (k not in names and k != 'memory_format') for k in kwargs):
            continue
        bound.update(kwargs)
        if names[0] != 'device' and bound.get(names[0]) is None:
            continue  # the dtype or tensor these overloads start with is required
        if not all(_to_accepts(k, v) for k, v in bound.items()):
            continue
        if names[0] == 'tensor':
            bound['device'], bound['dtype'] = bound['tensor'].device, bound['tensor'].dtype
        return (bound.get('device'), bound.get('dtype'), bound.get('non_blocking', False),
                bound.get('copy'), bound.get('memory_format'))
    # torch lists the keywords last to first
    got = [_to_type_name(a) + ', ' for a in args] + [f'{k}={_to_type_name(v)}, '
                                                     for k, v in reversed(kwargs.items())]
    got = ''.join(got)[:-2] if args else ''.join(got)
    raise TypeError(f'to() received an invalid combination of arguments - got ({got}), but '
                    f'expected one of:\n{_TO_EXPECTED}')


_LEGACY_NAMES = {d._legacy: d for d in _dtype._ALL if d._legacy}
_LEGACY_NAMES.update({d.name: d for d in _dtype._ALL})


# ---- Tensor's methods declared by the op modules -------------------------------------------
# An op module declares which Tensor names each of its functions takes, beside the function
# (`@tensor_op`, `_tensor_method`, `_register_method`); every declaration lands in _DECLARED
# and is attached here, in one place. tools/gen_tensor_stub.py reads the registry, and
# tests/test_tensor_methods.py checks that every declared name is on Tensor, declared once.
_DECLARED = {}  # Tensor attribute name -> (the module that declared it, the attached object)


def _register_method(name, fn, module=None):
    """Attach fn (a function, property or plain value) to Tensor as `name`."""
    if module is None:
        module = getattr(fn.fget if isinstance(fn, property) else fn, '__module__', None)
    if name in _DECLARED and _DECLARED[name][0] != 'ember._stubs':  # a stub gives way
        raise RuntimeError(f"Tensor.{name} is declared twice: by {_DECLARED[name][0]} and "
                           f"{module}")
    setattr(Tensor, name, fn)
    _DECLARED[name] = (module, Tensor.__dict__[name])  # as attached (operators: see _TensorMeta)


def tensor_op(fn=None, *, method=True, name=None, aliases=(), dunder=(), dunder_wrap=None,
              inplace=None, idunder=()):
    """Declare the Tensor names of an op function, beside its def:

        @tensor_op(aliases=('subtract',), dunder=('__sub__',),
                   inplace=_binary_inplace(np.subtract), idunder=('__isub__',))
        def sub(input, other, *, alpha=1, out=None): ...

    - `method`: fn is the method `name` (default fn.__name__); `aliases` are more names for it.
    - `dunder`: operator names bound to fn (to `dunder_wrap(fn)` when given, e.g. comparisons).
    - `inplace`: a maker, `inplace(fn) -> method`, that chooses the in-place implementation;
      its method is `<name>_` for the name and each alias, and `idunder` (`__iadd__`, ...).
    The function objects themselves are attached (no wrapper per call); fn is returned as is.
    """
    if fn is None:
        return lambda f: tensor_op(f, method=method, name=name, aliases=aliases, dunder=dunder,
                                   dunder_wrap=dunder_wrap, inplace=inplace, idunder=idunder)
    module = fn.__module__
    names = ((name or fn.__name__,) if method else ()) + tuple(aliases)
    for n in names:
        _register_method(n, fn, module)
    op = fn if dunder_wrap is None else dunder_wrap(fn)
    for n in dunder:
        _register_method(n, op, module)
    if inplace is not None:
        ip = inplace(fn)
        for n in names:
            _register_method(n + '_', ip, module)
        for n in idunder:
            _register_method(n, ip, module)
    return fn


class _LazyMethod:
    """Tensor.<name> of an op family that `import ember` leaves for first use (the rarer ones:
    special functions, quantized tensors, ...; see ember/_ops/_lazy_ops.py). The first lookup
    imports the family, whose declarations replace this placeholder on the class; every later
    lookup is a plain attribute read."""
    __slots__ = ('_name', '_module')

    def __init__(self, name, module):
        self._name, self._module = name, module

    def __get__(self, obj, cls=None):
        importlib.import_module(self._module)
        if Tensor.__dict__.get(self._name) is self:  # an error in ember's table itself
            raise AttributeError(f"{self._module} did not declare Tensor.{self._name}")
        _torch_function._loaded()
        return getattr(obj if obj is not None else (cls or Tensor), self._name)

    def __repr__(self):
        return f'<Tensor.{self._name}, loaded from {self._module} on first use>'


def _lazy_methods(table):
    """Put a placeholder on Tensor for each name of `table` {name: module} not yet declared."""
    for name, module in table.items():
        if name not in _DECLARED:
            setattr(Tensor, name, _LazyMethod(name, module))


def _has_attribute(name):
    """hasattr(Tensor, name), without loading the family behind a placeholder."""
    return any(name in c.__dict__ for c in Tensor.__mro__)


def _register_methods(module, table):
    """Attach a table {name: function, property or value} declared by `module`."""
    for name, fn in table.items():
        _register_method(name, fn, module)


def _tensor_method(fn):
    """Decorator: fn is the Tensor method of its own name."""
    return tensor_op(fn)


def _reduce_ex(t, protocol):
    # ember.serialization (an upper layer, loaded on first use) replaces this function
    importlib.import_module('ember.serialization')
    return _reduce_ex(t, protocol)


_tensor_str._TENSOR_CLASSES['Tensor'] = Tensor

def _compiled():
    """_wrap and _alias compiled (ember._kernels.cgraph()) when they are built, else the Python
    functions: every op makes its result with _wrap. The Python ones stay as _py_wrap and
    _py_alias (the tests compare the two)."""
    c = _kernels.cgraph()
    if c is None:
        return _wrap, _alias
    try:
        c.bind_tensor(Tensor, _VersionCounter, _FIELDS)
    except (TypeError, ValueError):  # a build from other sources than these: not used
        return _wrap, _alias
    return c.wrap, c.alias


_py_wrap, _py_alias = _wrap, _alias
_wrap, _alias = _compiled()

# Modules that import Tensor themselves: imported last, once everything above exists (the
# autograd package's modules, the storages).
from . import _storage  # noqa: E402
from .autograd import graph  # noqa: E402
from .autograd.grad_mode import _State, _Forward  # noqa: E402

graph._bind_tensor(sys.modules[__name__])
