"""torch.overrides: the __torch_function__ protocol.

A Tensor subclass (or any type) that defines ``__torch_function__``, and a ``TorchFunctionMode``
that is on, see every overridable call: torch.* functions, Tensor methods and operators,
torch.nn.functional, linalg, fft and special, as torch dispatches them.

ember's ops are plain functions with no per-call wrapper, and plain programs must not pay for
the protocol. So the dispatching wrappers are installed only while something can be dispatched
to (`_arm`: when a Tensor subclass with a __torch_function__ is defined or a mode is entered):
they replace the public functions wherever ember's modules refer to them (so nn layers, which
call their family's functions, dispatch too) and Tensor's methods on the class. `_disarm`
puts the original objects back once no mode is on and no such subclass is alive. A function
imported by the user (`from torch import add`) before the first arming is not wrapped.
"""
import contextlib
import functools
import inspect
import sys
import types
import warnings
import weakref

import numpy as np

from . import _tensor
from . import autograd as _autograd
from .autograd import is_tensor_like  # noqa: F401 (torch.overrides re-exports it)
from .nn import functional as _F
from ._dtype import dtype as _dtype_cls
from ._tensor import Tensor, Size
from ._torch_api import API
from ._torch_function import (State, MODES, DisableTorchFunction, DisableTorchFunctionSubclass,
                              _disabled_torch_function_impl, _is_torch_function_enabled,
                              _is_torch_function_mode_enabled)
from ._ops.index import _getitem

__all__ = [
    'get_ignored_functions', 'get_overridable_functions', 'get_testing_overrides',
    'get_default_nowrap_functions', 'handle_torch_function', 'has_torch_function',
    'has_torch_function_unary', 'has_torch_function_variadic', 'is_tensor_like',
    'is_tensor_method_or_property', 'resolve_name', 'wrap_torch_function',
    'TorchFunctionMode', 'BaseTorchFunctionMode', 'enable_reentrant_dispatch',
    'redispatch_function']

# torch's get_ignored_functions, by name per namespace: they never dispatch (factories, global
# settings, functions of no tensor)
_IGNORED = {
    'torch': frozenset((
        'arange', 'are_deterministic_algorithms_enabled', 'as_strided', 'as_tensor', 'asarray',
        'autocast_decrement_nesting', 'autocast_increment_nesting', 'bartlett_window',
        'blackman_window', 'broadcast_shapes', 'can_cast', 'clear_autocast_cache', 'compile',
        'cond', 'empty', 'empty_permuted', 'empty_quantized', 'empty_strided', 'eye', 'fill',
        'fork', 'from_file', 'from_numpy', 'frombuffer', 'full', 'get_default_device',
        'get_default_dtype', 'get_deterministic_debug_mode', 'get_device_module',
        'get_float32_matmul_precision', 'get_num_interop_threads', 'get_num_threads',
        'get_rng_state', 'hamming_window', 'hann_window', 'init_num_threads', 'initial_seed',
        'is_anomaly_check_nan_enabled', 'is_anomaly_enabled', 'is_autocast_cache_enabled',
        'is_autocast_cpu_enabled', 'is_autocast_enabled', 'is_autocast_ipu_enabled',
        'is_autocast_xla_enabled', 'is_deterministic_algorithms_warn_only_enabled',
        'is_grad_enabled', 'is_inference_mode_enabled', 'is_storage', 'is_tensor',
        'is_vulkan_available', 'is_warn_always_enabled', 'kaiser_window', 'linspace', 'load',
        'logspace', 'manual_seed', 'normal', 'ones', 'promote_types', 'rand', 'rand_like',
        'randint', 'randint_like', 'randn', 'randn_like', 'randperm', 'range', 'result_type',
        'save', 'scalar_tensor', 'seed', 'set_anomaly_enabled', 'set_default_device',
        'set_default_tensor_type', 'set_deterministic_debug_mode',
        'set_float32_matmul_precision', 'set_flush_denormal', 'set_num_interop_threads',
        'set_num_threads', 'set_printoptions', 'set_rng_state', 'set_warn_always',
        'sparse_bsc_tensor', 'sparse_bsr_tensor', 'sparse_compressed_tensor',
        'sparse_coo_tensor', 'sparse_csc_tensor', 'sparse_csr_tensor', 'tensor', 'tril_indices',
        'triu_indices', 'typename', 'use_deterministic_algorithms', 'vander', 'vmap', 'wait',
        'zeros', 'set_default_dtype', 'from_dlpack', 'get_file_path', 'classproperty',
        'compiled_with_cxx11_abi', 'prepare_multiprocessing_environment',
        'set_autocast_enabled', 'set_autocast_dtype', 'set_autocast_cache_enabled',
        'get_autocast_dtype', 'get_autocast_cpu_dtype', 'set_autocast_cpu_dtype',
        'set_autocast_cpu_enabled', 'zeros_like', 'ones_like', 'empty_like', 'full_like')),
    'torch.nn.functional': frozenset((
        'assert_int_or_pair', 'boolean_dispatch', 'grouped_mm', 'handle_torch_function',
        'hardsigmoid', 'hardswish', 'has_torch_function', 'has_torch_function_unary',
        'has_torch_function_variadic', 'scaled_grouped_mm', 'scaled_mm', 'sigmoid', 'tanh',
        'upsample', 'upsample_bilinear', 'upsample_nearest')),
    'torch.fft': frozenset(('fftfreq', 'rfftfreq')),
    'torch.Tensor': frozenset((
        'as_subclass', 'eig', 'lstsq', 'new', 'new_empty', 'new_empty_strided', 'new_full',
        'new_ones', 'new_tensor', 'new_zeros', 'reinforce', 'solve', 'stride', 'symeig',
        'to_padded_tensor', 'to_sparse_bsc', 'to_sparse_bsr', 'to_sparse_coo', 'to_sparse_csc',
        'to_sparse_csr', 'unflatten')),
}
# zeros_like & co do dispatch in torch (they take a tensor)
_IGNORED['torch'] = _IGNORED['torch'] - {'zeros_like', 'ones_like', 'empty_like', 'full_like'}
# torch's native factories are "ignored" (no subclass overrides them) yet a mode sees them
_MODE_SEES = frozenset((
    'arange', 'as_tensor', 'asarray', 'empty', 'eye', 'full', 'hann_window', 'hamming_window',
    'bartlett_window', 'blackman_window', 'kaiser_window', 'linspace', 'logspace', 'normal',
    'ones', 'rand', 'rand_like', 'randint', 'randint_like', 'randn', 'randn_like', 'randperm',
    'tensor', 'tril_indices', 'triu_indices', 'zeros', 'scalar_tensor', 'empty_strided',
    'empty_permuted', 'promote_types', 'can_cast', 'result_type', 'as_strided', 'vander',
    'fill', 'sparse_coo_tensor', 'sparse_csr_tensor', 'sparse_compressed_tensor'))

_NAMESPACES = ('torch', 'torch.nn.functional', 'torch.linalg', 'torch.fft', 'torch.special')
_PREFIX = {'torch.linalg': 'linalg_', 'torch.fft': 'fft_', 'torch.special': 'special_'}

# Tensor's operators, and the name of the function torch hands to __torch_function__ for each:
# its own name, but for these
_DUNDERS = {
    '__add__': 'add', '__radd__': 'add', '__iadd__': 'add_', '__sub__': 'sub', '__isub__': 'sub_',
    '__mul__': 'mul', '__rmul__': 'mul', '__imul__': 'mul_', '__truediv__': 'div',
    '__rtruediv__': '__rdiv__', '__itruediv__': 'div_', '__matmul__': 'matmul', '__pow__': 'pow',
    '__ipow__': 'pow_', '__mod__': 'remainder', '__neg__': 'neg', '__pos__': 'positive',
    '__abs__': 'abs', '__lt__': 'lt', '__le__': 'le', '__gt__': 'gt', '__ge__': 'ge'}
_DUNDERS.update((n, n) for n in """
    __rsub__ __rmatmul__ __rpow__ __floordiv__ __rfloordiv__ __ifloordiv__ __rmod__ __imod__
    __invert__ __and__ __rand__ __iand__ __or__ __ror__ __ior__ __xor__ __rxor__ __ixor__
    __lshift__ __rlshift__ __ilshift__ __rshift__ __rrshift__ __irshift__ __eq__ __ne__
    __getitem__ __setitem__ __len__ __bool__ __float__ __int__ __index__ __complex__
    __contains__ __repr__ __format__ __reversed__ __array__ __deepcopy__ __reduce_ex__
    __setstate__ __dlpack__ __dlpack_device__""".split())

_PLAIN = frozenset((int, float, bool, complex, str, type(None), slice, type(Ellipsis), Size,
                    _dtype_cls, np.ndarray))


# ---- finding what to dispatch to -------------------------------------------------------------

def _dispatches(tp):
    """Whether arguments of type tp take part in dispatch: every Tensor subclass does, as in
    torch, but Parameter-like classes with the disabled implementation. A plain
    `class T(Tensor): pass` keeps Tensor's own handler, which gives the results of its ops as
    T; defining it arms the protocol (the dispatching wrappers), as it costs torch a Python
    call per op."""
    tf = getattr(tp, '__torch_function__', None)
    if tf is None or tp is Tensor:
        return False
    return getattr(tf, '__func__', tf) is not _disabled_torch_function_impl


def _add_overloaded(found, arg):
    tp = type(arg)
    if found is None:
        return [arg]
    if any(type(a) is tp for a in found):
        return found
    for i, old in enumerate(found):  # a subclass goes before its superclasses (NEP 18)
        if issubclass(tp, type(old)):
            found.insert(i, arg)
            return found
    found.append(arg)
    return found


def _scan(values, found):
    for a in values:
        tp = type(a)
        if tp is Tensor or tp in _PLAIN:
            continue
        if tp is list or tp is tuple:
            for b in a:
                tb = type(b)
                if tb is not Tensor and tb not in _PLAIN and _dispatches(tb):
                    found = _add_overloaded(found, b)
        elif _dispatches(tp):
            found = _add_overloaded(found, a)
    return found


def _get_overloaded_args(relevant_args, get_type_fn=None):
    """The arguments whose __torch_function__ is called, in calling order."""
    if not _is_torch_function_enabled():
        return []
    if get_type_fn is None:
        return _scan(relevant_args, None) or []
    found = []
    seen = set()
    for arg in relevant_args:
        tp = get_type_fn(arg)
        if tp in seen or not _dispatches(tp):
            continue
        seen.add(tp)
        index = len(found)
        for i, old in enumerate(found):
            if issubclass(tp, get_type_fn(old)):
                index = i
                break
        found.insert(index, arg)
    return found


def has_torch_function(relevant_args):
    """Whether a call with these arguments dispatches: one of them has a __torch_function__
    (exact Tensors and Parameters do not count) or a TorchFunctionMode is on."""
    if State.skip_one:
        State.skip_one = False
        return False
    if State.all_off:
        return False
    if MODES:
        return True
    return not State.subclass_off and _scan(relevant_args, None) is not None


def has_torch_function_unary(arg):
    return has_torch_function((arg,))


def has_torch_function_variadic(*args):
    return has_torch_function(args)


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the __torch_function__ of the innermost mode, then of each overloaded argument,
    until one does not return NotImplemented."""
    overloaded = _get_overloaded_args(relevant_args)
    return _handle(public_api, overloaded, args, kwargs)


def _handle(public_api, overloaded, args, kwargs, native=None):
    """Dispatch one call. `native` is the name torch's C++ binding reports for a function it
    implements natively (its message differs from the Python handler's); _OPERATOR for a
    binary operator, which gives Python's NotImplemented back."""
    types_ = tuple(type(a) for a in overloaded)
    if MODES and not State.all_off:
        with _pop_mode_temporarily() as mode:
            result = mode.__torch_function__(public_api, types_, args, kwargs)
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        method = arg.__torch_function__
        if getattr(method, '__self__', None) is arg:
            warnings.warn("Defining your `__torch_function__ as a plain method is deprecated and "
                          "will be an error in future, please define it as a classmethod.",
                          DeprecationWarning, stacklevel=3)
        result = method(public_api, types_, args, kwargs)
        if result is not NotImplemented:
            return result
    if native is _OPERATOR:
        return NotImplemented
    if native is not None:
        lines = [f"Multiple dispatch failed for '{native}'; all __torch_function__ handlers "
                 "returned NotImplemented:", ""]
        if _is_torch_function_mode_enabled():
            lines.append(f"  - mode object {_get_current_function_mode()}")
        lines += [f"  - tensor subclass {type(a)}" for a in overloaded]
        lines += ["", "For more information, try re-running with TORCH_LOGS=not_implemented"]
        raise TypeError("\n".join(lines))
    name = f"{getattr(public_api, '__module__', None)}.{getattr(public_api, '__name__', '?')}"
    msg = (f"no implementation found for '{name}' on types that implement __torch_function__: "
           f"{[type(a) for a in overloaded]}")
    if _is_torch_function_mode_enabled():
        msg += f" nor in mode {_get_current_function_mode()}"
    raise TypeError(msg)


_OPERATOR = object()
_BINARY = frozenset(n for n in ('__add__', '__radd__', '__sub__', '__rsub__', '__mul__',
                                '__rmul__', '__truediv__', '__rtruediv__', '__matmul__',
                                '__rmatmul__', '__pow__', '__rpow__', '__floordiv__',
                                '__rfloordiv__', '__mod__', '__rmod__', '__and__', '__rand__',
                                '__or__', '__ror__', '__xor__', '__rxor__', '__lshift__',
                                '__rlshift__', '__rshift__', '__rrshift__', '__eq__', '__ne__',
                                '__lt__', '__le__', '__gt__', '__ge__'))


# ---- the dispatching wrappers ----------------------------------------------------------------

def _dispatcher(orig, name, qualname, module, native=None):
    """A function that calls orig, or dispatches when an argument or a mode asks for it."""
    def wrapper(*args, **kwargs):
        if State.all_off:
            return orig(*args, **kwargs)
        if State.skip_one:
            State.skip_one = False
            return orig(*args, **kwargs)
        found = None if State.subclass_off else _scan(kwargs.values(), _scan(args, None)) \
            if kwargs else _scan(args, None)
        if found is None and not MODES:
            return orig(*args, **kwargs)
        return _handle(wrapper, found or [], args, kwargs or None, native)
    wrapper.__name__ = name
    wrapper.__qualname__ = qualname
    wrapper.__module__ = module
    wrapper.__doc__ = getattr(orig, '__doc__', None)
    wrapper.__wrapped__ = orig
    wrapper._ember_dispatch = orig
    return wrapper


_PATCHES = []  # (owner, attribute, original object), to undo
_SUBCLASSES = weakref.WeakSet()  # live Tensor subclasses that dispatch


def _public_functions():
    """{function: (torch's qualified name, module, name)} of every overridable function ember
    has, from torch's API table."""
    out = {}
    for ns in _NAMESPACES:
        mod = sys.modules.get('ember' + ns[5:])
        if mod is None:
            continue
        ignored = _IGNORED.get(ns, frozenset())
        for name in API[ns].get('f', ()):
            if name in ignored and not (ns == 'torch' and name in _MODE_SEES):
                continue
            f = mod.__dict__.get(name)
            if isinstance(f, types.FunctionType) and not getattr(f, '_ember_missing', False) \
                    and f not in out:
                out[f] = (f'{ns}.{name}', ns, name)
    return out


# torch lists these among the functions it ignores, yet they dispatch: on a dispatching
# subclass they give that subclass (on Parameter, a plain tensor)
_NEW_METHODS = frozenset({'new', 'new_empty', 'new_zeros', 'new_ones', 'new_full',
                          'new_tensor'})


def _tensor_methods():
    """{name: (attached object, the name torch gives it)} of Tensor's overridable methods."""
    out = {}
    ignored = _IGNORED['torch.Tensor'] - _NEW_METHODS
    names = [n for n in API['torch.Tensor'].get('f', ()) if n not in ignored]
    for n in names + list(_DUNDERS):
        f = Tensor.__dict__.get(n)
        if isinstance(f, types.FunctionType) and not getattr(f, '_ember_missing', False):
            out[n] = (f, _DUNDERS.get(n, n))
    return out


def _arm():
    """Install the dispatching wrappers (once; see the module's docstring)."""
    if State.armed:
        return
    State.armed = True
    by_id = {}
    for f, (qual, ns, name) in _public_functions().items():
        module = 'torch' if ns == 'torch' else ns
        # torch's C++ names for its sub-namespaces' functions: linalg_norm, special_expit
        torch_name = _PREFIX.get(ns, '') + name
        native = None if ns == 'torch.nn.functional' else f'{ns}.{torch_name}'
        by_id[id(f)] = (f, _dispatcher(f, torch_name, torch_name, module, native))
    for modname, mod in list(sys.modules.items()):
        if mod is None or not (modname == 'ember' or modname.startswith('ember.')) or \
                modname in (__name__, 'ember._torch_function'):
            continue
        d = getattr(mod, '__dict__', None)
        if not isinstance(d, dict):
            continue
        for k, v in list(d.items()):
            hit = by_id.get(id(v))
            if hit is not None and hit[0] is v:
                _PATCHES.append((mod, k, v))
                d[k] = hit[1]
            elif isinstance(v, type) and v.__module__ == modname and v is not Tensor:
                _patch_class(v, by_id)  # a layer keeps its function: `_fn = F.relu`
    for n, (f, torch_name) in _tensor_methods().items():
        native = _OPERATOR if n in _BINARY else f'torch.Tensor.{torch_name}'
        w = _dispatcher(f, torch_name, 'Tensor.' + torch_name, 'torch', native)
        _PATCHES.append((Tensor, n, f))
        type.__setattr__(Tensor, n, w)
    for n in _PROPERTIES:
        p = Tensor.__dict__.get(n)
        if isinstance(p, property):
            _PATCHES.append((Tensor, n, p))
            type.__setattr__(Tensor, n, _dispatching_property(p, n))


# properties dispatch too: torch hands their getter (`Tensor.shape.__get__`) to the handlers
_PROPERTIES = tuple(API['torch.Tensor'].get('v', ())) + ('_base', '_grad')


def _dispatching_property(prop, name):
    fget = prop.fget

    def getter(self):
        if State.all_off:
            return fget(self)
        tp = type(self)
        found = None if State.subclass_off or tp is Tensor or not _dispatches(tp) else [self]
        if found is None and not MODES:
            return fget(self)
        return _handle(new.__get__, found or [], (self,), None, native)
    native = f'torch.Tensor.{name}.__get__'
    new = property(getter, prop.fset, prop.fdel, prop.__doc__)
    return new


def _patch_class(cls, by_id):
    for k, v in list(cls.__dict__.items()):
        f = v.__func__ if isinstance(v, staticmethod) else v
        hit = by_id.get(id(f))
        if hit is not None and hit[0] is f:
            _PATCHES.append((cls, k, v))
            type.__setattr__(cls, k, staticmethod(hit[1]) if f is not v else hit[1])


def _disarm():
    """Put every original object back."""
    if not State.armed:
        return
    while _PATCHES:
        owner, k, v = _PATCHES.pop()
        if isinstance(owner, type):
            type.__setattr__(owner, k, v)
        else:
            owner.__dict__[k] = v
    State.armed = False


def _maybe_disarm(*_):
    # iterate: a class being collected may still be counted by len() in its own callback
    if not MODES and not any(True for _ in _SUBCLASSES):
        _disarm()


def _on_subclass(cls):
    if _dispatches(cls):
        _SUBCLASSES.add(cls)
        weakref.finalize(cls, _maybe_disarm)
        _arm()


State.on_subclass = _on_subclass


State.arm, State.disarm = _arm, _disarm


# ---- Tensor's side of the protocol -----------------------------------------------------------

def _convert(ret, cls):
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor) and not isinstance(ret, cls):
        return ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)):
        items = [_convert(r, cls) for r in ret]
        if hasattr(type(ret), '_fields'):  # a named tuple (torch.return_types)
            return type(ret)(*items)
        return type(ret)(items)
    return ret


@classmethod
def __torch_function__(cls, func, types, args=(), kwargs=None):
    """Tensor's handler: run func with subclass dispatch off and give results as cls."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        ret = func(*args, **kwargs)
        if func in _nowrap():
            return ret
        return _convert(ret, cls)


def as_subclass(self, cls):
    """A `cls` instance sharing self's data and autograd history (an alias of self)."""
    with DisableTorchFunction():
        r = _getitem(self, Ellipsis)
    if type(r) is cls:
        return r
    try:
        r.__class__ = cls
        return r
    except TypeError:  # a subclass with slots of its own: a fresh object with r's fields
        out = object.__new__(cls)
        for slot in _tensor._FIELDS:
            setattr(out, slot, getattr(r, slot))
        return out


def _make_subclass(cls, data, require_grad=False, **kwargs):
    """A `cls` instance sharing data's memory, a leaf (torch's Tensor._make_subclass)."""
    out = object.__new__(cls)
    d = data.detach()
    for slot in _tensor._FIELDS:
        setattr(out, slot, getattr(d, slot))
    out._requires_grad = bool(require_grad)
    return out


_tensor._register_methods(__name__, {
    '__torch_function__': __torch_function__, 'as_subclass': as_subclass,
    '_make_subclass': staticmethod(_make_subclass)})


def _nowrap():
    # the getters as installed now (wrapping properties while armed)
    d = Tensor.__dict__
    return {d[n].__get__ for n in ('_base', 'grad', '_grad') if isinstance(d.get(n), property)}


def get_default_nowrap_functions():
    """The functions whose results Tensor's handler returns without converting them."""
    return _nowrap()


# ---- modes ---------------------------------------------------------------------------------

class TorchFunctionMode:
    """A context manager that sees every overridable call inside it (its __torch_function__).
    While it handles a call it is off, so the calls it makes go to the modes below it."""
    inner = None

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        _push_mode(self)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _pop_mode()

    @classmethod
    def push(cls, *args, **kwargs):
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just "
                      "`with Mode()`", stacklevel=2)
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs every call unchanged: subclass it and override what you need."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if kwargs is None:
            kwargs = {}
        return func(*args, **kwargs)


def _get_current_function_mode():
    return MODES[-1] if MODES else None


def _get_current_function_mode_stack():
    return list(MODES)


def _push_mode(mode):
    MODES.append(mode)
    _arm()


def _pop_mode():
    old = MODES.pop()
    _maybe_disarm()
    return old


@contextlib.contextmanager
def _pop_mode_temporarily():
    old = MODES.pop()
    try:
        yield old
    finally:
        MODES.append(old)


@contextlib.contextmanager
def enable_reentrant_dispatch():
    """torch restores its Python dispatch state here; ember has no __torch_dispatch__ level,
    so there is nothing to restore."""
    yield


def redispatch_function(func, types, args, kwargs):
    """Call func skipping one level of __torch_function__ dispatch (its own check)."""
    if kwargs is None:
        kwargs = {}
    inner = getattr(func, '_ember_dispatch', None)
    if inner is not None:
        return inner(*args, **kwargs)
    State.skip_one = True
    try:
        return func(*args, **kwargs)
    finally:
        State.skip_one = False


# ---- tables ----------------------------------------------------------------------------------

def _namespace_module(ns):
    return sys.modules.get('ember' + ns[5:])


def get_ignored_functions():
    """The public functions that never dispatch (factories, settings), as ember has them."""
    out = set()
    for ns, names in _IGNORED.items():
        owner = Tensor if ns == 'torch.Tensor' else _namespace_module(ns)
        if owner is None:
            continue
        for n in names:
            f = (owner.__dict__ if ns != 'torch' else vars(owner)).get(n)
            if callable(f) and not getattr(f, '_ember_missing', False):
                out.add(f)
    return out


def _overridable():
    """({namespace object: [functions]}, {function: qualified name}) as the namespaces hold
    them now."""
    table = {}
    names = {}
    for ns in _NAMESPACES:
        mod = _namespace_module(ns)
        if mod is None:
            continue
        ignored = _IGNORED.get(ns, frozenset())
        for n in API[ns].get('f', ()):
            f = mod.__dict__.get(n)
            if n in ignored or not callable(f) or isinstance(f, type) or \
                    getattr(f, '_ember_missing', False):
                continue
            table.setdefault(mod, []).append(f)
            names.setdefault(f, f'{ns}.{n}')
    ignored = _IGNORED['torch.Tensor']
    for n in list(API['torch.Tensor'].get('f', ())) + list(_DUNDERS):
        f = Tensor.__dict__.get(n)
        if n in ignored or f is None or getattr(f, '_ember_missing', False):
            continue
        if isinstance(f, property):
            f = f.__get__
        elif not callable(f):
            continue
        table.setdefault(Tensor, []).append(f)
        names.setdefault(f, f'torch.Tensor.{n}')
    for n in API['torch.Tensor'].get('v', ()):
        p = Tensor.__dict__.get(n)
        if isinstance(p, property):
            table.setdefault(Tensor, []).append(p.__get__)
            names.setdefault(p.__get__, f'torch.Tensor.{n}.__get__')
    return table, names


def get_overridable_functions():
    """{namespace: [functions]} of every function __torch_function__ can override."""
    return _overridable()[0]


def resolve_name(f):
    """The qualified name of a function handed to __torch_function__ ('torch.add',
    'torch.Tensor.add', ...), or None."""
    return _overridable()[1].get(f)


def is_tensor_method_or_property(func):
    """Whether func, handed to __torch_function__, is a Tensor method or a property getter."""
    if getattr(func, '__name__', None) == '__get__':
        return True
    return func in set(_overridable()[0].get(Tensor, ()))


def get_testing_overrides():
    """{function: a dummy taking the same arguments and returning -1}, for every overridable
    function (torch's table for testing __torch_function__ implementations)."""
    out = {}
    for fs in _overridable()[0].values():
        for f in fs:
            out[f] = _dummy(f)
    return out


def _dummy(f):
    def dummy(*args, **kwargs):
        return -1
    try:
        dummy.__signature__ = inspect.signature(f)
    except (TypeError, ValueError):
        pass
    dummy.__name__ = getattr(f, '__name__', 'dummy')
    return dummy


def wrap_torch_function(dispatcher):
    """Decorator: make func dispatch on the Tensor-likes dispatcher(*args, **kwargs) returns."""
    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return inner



# the names torch re-exports in torch.nn.functional and torch.autograd: set from here, the
# layer that defines them
for _n in ('has_torch_function', 'has_torch_function_unary', 'has_torch_function_variadic',
           'handle_torch_function'):
    setattr(_F, _n, globals()[_n])
_autograd.has_torch_function = has_torch_function
_autograd.handle_torch_function = handle_torch_function
