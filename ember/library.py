"""torch.library: defining operators from Python (custom_op, Library, define/impl) and
registering their kernels, fake impls and autograd formulas.

The operators live in `_oplib`'s registry and are called through `torch.ops.<ns>.<name>`.
ember has no fake tensors or compiler: a fake impl is run on the real inputs by `opcheck` (its
outputs' metadata compared with the real ones), `register_vmap` rules are kept but ember's vmap
runs the op per sample, and torch_dispatch rules (there are no dispatch modes) are refused.
"""
import contextlib
import enum
import functools
import inspect
import re
import sys
import typing
import warnings
import weakref
from collections.abc import Sequence as _AbcSequence
from types import GenericAlias

import numpy as np

from . import _oplib, _schema
from ._oplib import OpOverload, OpOverloadPacket, Tag, fallthrough_kernel
from ._dtype import dtype as _dtype_cls
from ._tensor import Tensor, device as _device_cls
from .autograd import grad as _autograd_grad
from .autograd.function import Function
from .autograd.graph import increment_version
from .autograd.grad_mode import _State
from .types import Number

__all__ = ['Library', 'impl', 'define', 'fallthrough_kernel', 'impl_abstract',
           'register_autocast', 'register_fake', 'register_torch_dispatch', 'register_vmap',
           'get_ctx', 'get_kernel', 'custom_op', 'triton_op', 'wrap_triton', 'infer_schema',
           'register_autograd', 'register_kernel', 'opcheck', 'CustomOpDef', 'EffectType',
           'OpOverload']

class EffectType(enum.Enum):
    """The side effect kind of an effectful operator."""
    ORDERED = 'Ordered'


_reserved_namespaces = ['prim']
_impls = set()        # 'ns/name/key' registered from Python (allow_override=False checks)
_keep_alive = []      # Libraries made by define()/impl() without lib=
_DEF_LIBS = {}        # namespace -> where its DEF library was made


def _where():
    f = sys._getframe(2)
    return f'{f.f_code.co_filename}:{f.f_lineno}'


def _del_library(ns, kind, defs, impls):
    for q in defs:
        _oplib.undefine(q)
    for qualname, key, fn in impls:
        _oplib.unregister_kernel(qualname, key, fn)
        _impls.discard(f"{qualname.replace('::', '/')}/{key}")
    if kind == 'DEF':
        _DEF_LIBS.pop(ns, None)


class Library:
    """A set of operator definitions and kernel registrations of one namespace; its
    registrations last as long as the object."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if ns in _reserved_namespaces and kind in ("DEF", "FRAGMENT"):
            raise ValueError(f"{ns} is a reserved namespace. Please try creating a library "
                             "with another name.")
        where = _where()
        if kind == 'DEF':
            if ns == 'aten' or ns in _DEF_LIBS:
                prev = _DEF_LIBS.get(ns, 'ember (its built-in operators)')
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; "
                    "please put all of your definitions in a single TORCH_LIBRARY block.  If "
                    "you were trying to specify implementations, consider using "
                    "TORCH_LIBRARY_IMPL (which can be duplicated).  If you really intended to "
                    "define operators for a single namespace in a distributed way, you can use "
                    "TORCH_LIBRARY_FRAGMENT to explicitly indicate this.  Previous registration "
                    f"of TORCH_LIBRARY was registered at {prev}; latest registration was "
                    f"registered at {where}")
            _DEF_LIBS[ns] = where
        self._where = where
        self.ns = ns
        self.kind = kind
        self.dispatch_key = dispatch_key
        self.m = self  # torch keeps its C++ library handle here; None once destroyed
        self._op_defs = set()
        self._op_impls = set()
        self._kernels = []
        self._finalizer = weakref.finalize(self, _del_library, ns, kind, self._op_defs,
                                           self._kernels)

    def __repr__(self):
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema, alias_analysis="", *, tags=()):
        """Define an operator of this namespace from its schema; returns its name."""
        if alias_analysis not in ["", "FROM_SCHEMA", "CONSERVATIVE"]:
            raise RuntimeError(f"Invalid alias_analysis type {alias_analysis}")
        if self.m is None:
            raise AssertionError("Library object has been destroyed")
        if isinstance(tags, Tag):
            tags = (tags,)
        qualname = _oplib.define(self.ns, schema, tags, self._where)
        self._op_defs.add(qualname)
        return qualname.split('::', 1)[1]

    def _qualname(self, op_name, api_name):
        if isinstance(op_name, OpOverload):
            return op_name._name
        if not isinstance(op_name, str):
            raise RuntimeError(f"{api_name} should be passed either a name or an OpOverload "
                               f"object as the first argument, got {type(op_name)}")
        return op_name if '::' in op_name else f'{self.ns}::{op_name}'

    def _register(self, qualname, key, fn, with_keyset=False):
        if qualname.startswith('aten::'):
            raise NotImplementedError(
                f"ember does not implement overriding its built-in operators "
                f"(torch.library registration of {qualname} for {key})")
        _oplib.register_kernel(qualname, key, fn, with_keyset)
        self._kernels.append((qualname, key, fn))

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False, allow_override=True):
        """Register fn as op_name's kernel for a dispatch key (CompositeImplicitAutograd by
        default)."""
        if not callable(fn):
            raise TypeError(
                f"Input function is required to be a callable but found type {type(fn)}")
        if dispatch_key == "":
            dispatch_key = self.dispatch_key
        qualname = self._qualname(op_name, "impl")
        key = f"{self.ns}/{qualname.split('::')[-1]}/{dispatch_key}"
        if not allow_override and key in _impls:
            raise RuntimeError(
                "This is not allowed since there's already a kernel registered from python "
                f"overriding {qualname.split('::')[-1]}'s behavior for {dispatch_key} dispatch "
                f"key and {self.ns} namespace.")
        if dispatch_key == 'Meta' and _oplib._live(_oplib.kernels(qualname),
                                                  'CompositeImplicitAutograd'):
            raise RuntimeError(
                f"We should not register a meta kernel directly to the operator "
                f"'{qualname.split('::')[-1]}', because it has a CompositeImplicitAutograd "
                "kernel in core. Instead we should let the operator decompose, and ensure that "
                "we have meta kernels for the base ops that it decomposes into.")
        if self.m is None:
            raise AssertionError("Library object has been destroyed")
        self._register(qualname, dispatch_key or 'CompositeImplicitAutograd', fn, with_keyset)
        _impls.add(key)
        self._op_impls.add(key)

    def fallback(self, fn, dispatch_key="", *, with_keyset=False):
        """Register fn as the fallback kernel of a dispatch key for every operator (only in the
        global namespace "_")."""
        if dispatch_key == "":
            dispatch_key = self.dispatch_key
        if self.ns != "_":
            raise RuntimeError(
                'Fallback can only be registered using library fragment on the global '
                f'namespace "_" but it is {self.ns}')
        if dispatch_key == "":
            raise AssertionError("dispatch_key must not be empty for fallback")
        if dispatch_key not in _oplib.DISPATCH_KEYS:
            raise RuntimeError(f"could not parse dispatch key: {dispatch_key}")
        _oplib._FALLBACKS[dispatch_key] = (fn, with_keyset)
        weakref.finalize(self, _oplib._FALLBACKS.pop, dispatch_key, None)

    def _register_fake(self, op_name, fn, _stacklevel=1, *, allow_override=True):
        qualname = self._qualname(op_name, "register_fake")
        entry = _lookup_entry(qualname)
        if entry.opdef is not None:
            entry.opdef._abstract_fn = fn
            return
        if entry.fake is not None and not allow_override:
            raise RuntimeError(f"register_fake(...): the operator {qualname} already has a "
                               "fake impl registered")
        entry.fake = fn
        weakref.finalize(self, _clear_fake, entry, fn)

    def _register_torch_dispatch_rule(self, op_name, torch_dispatch_class, fn):
        raise NotImplementedError(
            "ember does not implement torch.library.register_torch_dispatch (it has no "
            "__torch_dispatch__ subclasses or modes)")

    def _destroy(self):
        self.m = None
        self._finalizer()


def _clear_fake(entry, fn):
    if entry.fake is fn:
        entry.fake = None


def _parse_namespace(qualname):
    splits = qualname.split("::")
    if len(splits) != 2:
        raise ValueError(
            f'Expected `qualname` to be of the form "namespace::name", but got {qualname}. '
            "The qualname passed to the torch.library APIs must consist of a namespace and a "
            "name, e.g. aten::sin")
    return splits[0], splits[1]


def _lookup_entry(qualname):
    _parse_namespace(qualname)
    if qualname.endswith('.default'):  # "ns::op.default" is the overload named ''
        qualname = qualname[:-len('.default')]
    entry = _oplib._DEFS.get(qualname)
    if entry is None:
        raise RuntimeError(f"Could not find schema for {qualname}")
    return entry


def lookup_op(qualname):
    """The OpOverload of "ns::name[.overload]"."""
    ns, name = _parse_namespace(qualname)
    opname, _, overload = name.partition('.')
    packet = getattr(getattr(_oplib.ops, ns), opname)
    return getattr(packet, overload or 'default')


def _library_for(namespace, lib):
    if lib is not None:
        return lib
    use_lib = Library(namespace, "FRAGMENT")
    _keep_alive.append(use_lib)
    return use_lib


_NAMELESS_SCHEMA = re.compile(r"\(.*\) -> .*")


@functools.singledispatch
def define(qualname, schema, *, lib=None, tags=()):
    """Define an operator "ns::name" with schema "(Tensor x) -> Tensor"."""
    if not isinstance(qualname, str):
        raise ValueError(f"define(qualname, schema): expected qualname to be instance of str, "
                         f"got {type(qualname)}")
    namespace, name = _parse_namespace(qualname)
    lib = _library_for(namespace, lib)
    if not _NAMELESS_SCHEMA.fullmatch(schema):
        raise ValueError(f'define(qualname, schema, ...): expected schema to look like e.g. '
                         f'"(Tensor x) -> Tensor" but got "{schema}"')
    lib.define(name + schema, alias_analysis="", tags=tags)


@define.register
def _(lib: Library, schema, alias_analysis=""):
    """The old torch.library.define(lib, schema): a decorator registering the function."""
    def wrap(f):
        name = lib.define(schema, alias_analysis)
        lib.impl(name, f)
        return f
    return wrap


_DEVICE_KEYS = {'cpu': 'CPU', 'cuda': 'CUDA', 'meta': 'Meta', 'mps': 'MPS', 'xpu': 'XPU',
                'xla': 'XLA', 'hpu': 'HPU', 'ipu': 'IPU', 'mtia': 'MTIA', 'lazy': 'Lazy',
                'privateuseone': 'PrivateUse1'}


def _device_type_to_key(device_type):
    if device_type == "default":
        return "CompositeExplicitAutograd"
    key = _DEVICE_KEYS.get(device_type)
    if key is None:
        raise RuntimeError(f"Expected one of cpu, cuda, ... device type at start of device "
                           f"string: {device_type}")
    return key


def _impl(qualname, types, func=None, *, lib=None):
    if isinstance(types, str):
        types = (types,)
    keys = {t if t in _oplib.DISPATCH_KEYS else _device_type_to_key(t) for t in types}

    def register_(func):
        namespace, _ = _parse_namespace(qualname)
        use_lib = _library_for(namespace, lib)
        for key in keys:
            use_lib.impl(qualname, func, key)
    if func is None:
        return register_
    register_(func)
    return None


@functools.singledispatch
def impl(qualname, types, func=None, *, lib=None):
    """Register func as "ns::name"'s implementation for device types ("cpu", "default")."""
    return _impl(qualname, types, func, lib=lib)


@impl.register
def _(lib: Library, name: str, dispatch_key: str = ""):
    """The old torch.library.impl(lib, name, dispatch_key) decorator."""
    def wrap(f):
        lib.impl(name, f, dispatch_key)
        return f
    return wrap


def _resolve_op(op, registration_name):
    if not isinstance(op, (str, OpOverload, CustomOpDef)):
        raise ValueError(f"{registration_name}({op}): got unexpected type for op: {type(op)}")
    if isinstance(op, OpOverload):
        op = op._name
    if isinstance(op, str):
        entry = _oplib._DEFS.get(op)
        if entry is not None and entry.opdef is not None:
            return entry.opdef
    return op


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """Register an implementation of op for device types (None: all of them)."""
    op = _resolve_op(op, "register_kernel")
    if isinstance(op, CustomOpDef):
        return op.register_kernel(device_types, func)
    if device_types is None:
        device_types = "CompositeExplicitAutograd"
    return _impl(op, device_types, func, lib=lib)


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1, allow_override=True):
    """Register op's FakeTensor implementation (its outputs' metadata from its inputs')."""
    op = _resolve_op(op, "register_fake")
    if isinstance(op, CustomOpDef):
        return op.register_fake if func is None else op.register_fake(func)

    def register(func):
        namespace, op_name = _parse_namespace(op)
        _library_for(namespace, lib)._register_fake(op_name, func,
                                                    allow_override=allow_override)
        return func
    return register if func is None else register(func)


def impl_abstract(qualname, func=None, *, lib=None, _stacklevel=1):
    """The old name of register_fake."""
    warnings.warn("`torch.library.impl_abstract` was renamed to `torch.library.register_fake`. "
                  "Please use that instead; we will remove `torch.library.impl_abstract` in a "
                  "future version of PyTorch.", FutureWarning, stacklevel=2)
    return register_fake(qualname, func, lib=lib)


def _is_functional(schema):
    return not schema.is_mutable and not schema._is_view_op() and len(schema.returns) > 0


def _is_out(entry):
    return Tag.out in entry.tags


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    """Register op's backward formula (and the setup_context saving what it needs)."""
    op = _resolve_op(op, "register_autograd")
    if isinstance(op, CustomOpDef):
        op.register_autograd(backward, setup_context=setup_context)
        return
    overload = lookup_op(op)
    schema = overload._schema
    if _is_out(overload._entry):
        raise RuntimeError(f"Cannot register autograd formula for operator tagged with "
                           f"torch.Tag.out: {overload}. Out variants do not support autograd.")
    if not _is_functional(schema):
        raise RuntimeError(
            f"Cannot register autograd formula for non-functional operator {overload} with "
            f"schema {schema}. Please create a functional operator and register an autograd "
            "formula for that.")
    if any(a.kwarg_only and a._type.is_tensor_like() for a in schema.arguments):
        raise NotImplementedError(
            "register_autograd with kwarg-only Tensor args. In the original definition of the "
            f"op, please make your tensors not kwarg-only. Got: {schema}")
    info = _Info(backward, setup_context)
    namespace, opname = _parse_namespace(op)
    _library_for(namespace, lib).impl(opname, _make_autograd_impl(overload, info), "Autograd",
                                      with_keyset=True)


def register_torch_dispatch(op, torch_dispatch_class, func=None, /, *, lib=None):
    """Refused: ember has no __torch_dispatch__."""
    raise NotImplementedError(
        "ember does not implement torch.library.register_torch_dispatch (it has no "
        "__torch_dispatch__ subclasses or modes)")


def register_vmap(op, func=None, /, *, lib=None):
    """Register op's vmap rule. Kept, not used: ember's vmap runs the op once per sample."""
    op = _resolve_op(op, "register_vmap")
    if isinstance(op, CustomOpDef):
        return op.register_vmap(func)
    overload = lookup_op(op)
    if any(a.kwarg_only and a._type.is_tensor_like() for a in overload._schema.arguments):
        raise NotImplementedError(
            "register_vmap with kwarg-only Tensor args. In the original definition of the op, "
            f"please make your tensors not kwarg-only. Got: {overload._schema}")

    def register(func):
        overload._entry.vmap = func
        return func
    return register if func is None else register(func)


def _autocast_kernel(op_call, device_type, cast_inputs):
    def kernel(_, *args, **kwargs):
        if kwargs:
            raise AssertionError("Custom ops do not support kwargs yet.")
        return op_call(*_cast(args, device_type, cast_inputs))
    return kernel


def _check_autocast_device(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in ('cpu', 'cuda', 'xpu', 'mps', 'hpu', 'mtia', 'maia', 'xla', 'ipu'):
        raise ValueError(f"Device type '{device_type}' does not support autocast.")


def register_autocast(op, device_type, cast_inputs, /, *, lib=None):
    """Under autocast on device_type, cast op's floating inputs to cast_inputs and run it
    with autocast off."""
    op = _resolve_op(op, "register_autocast")
    if isinstance(op, CustomOpDef):
        return op.register_autocast(device_type, cast_inputs)
    _check_autocast_device(device_type)
    overload = lookup_op(op)
    namespace, opname = _parse_namespace(op)
    _library_for(namespace, lib).impl(
        opname, _autocast_kernel(overload.redispatch_below_autocast, device_type, cast_inputs),
        'Autocast' + _device_type_to_key(device_type), with_keyset=True)


def _cast(value, device_type, dtype):
    if isinstance(value, Tensor):
        ok = value.is_floating_point() and value.device.type == device_type and \
            value.dtype.name != 'float64'
        return value.to(dtype) if ok else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    return value


class FakeImplCtx:
    """What a fake impl may ask for (get_ctx()): new data-dependent sizes."""

    def __init__(self, op):
        self._op = op
        self._dynamic = False

    def new_dynamic_size(self, *, min=0, max=None):
        """A size that depends on the data. ember runs fake impls on real inputs, so the size
        is unknown here: opcheck then compares everything but the shapes."""
        if min < 0:
            raise ValueError(f"ctx.new_dynamic_size(min={min}, ...): expected min to be "
                             "greater than or equal to 0")
        self._dynamic = True
        return min

    new_data_dependent_symint = new_dynamic_size
    create_unbacked_symint = new_dynamic_size


_CTX = [None]


def get_ctx():
    """The context of the running fake impl (None outside one)."""
    return _CTX[0]


class _SafeKernelFunction:
    def __init__(self, kernel, qualname, key):
        self._kernel = kernel
        self._debug = f"registered for {qualname} at {key}"

    def call_boxed(self, keyset, *args, **kwargs):
        fn, with_keyset = self._kernel
        return fn(keyset, *args, **kwargs) if with_keyset else fn(*args, **kwargs)

    def __repr__(self):
        return f"SafeKernelFunction(debug='{self._debug}')"


def get_kernel(op, dispatch_key):
    """The kernel op runs for a dispatch key (call it with `.call_boxed(keyset, *args)`)."""
    if not isinstance(op, (str, OpOverload)):
        raise ValueError(f"get_kernel({op}): got unexpected type for op: {type(op)}")
    if isinstance(op, OpOverload):
        op = op._name
    dispatch_key = str(dispatch_key)
    if dispatch_key not in _oplib.DISPATCH_KEYS:
        raise ValueError(f"Invalid dispatch key: {dispatch_key}") from None
    k = _oplib.kernels(op)
    order = {'CPU': ('CPU', 'CompositeExplicitAutograd', 'CompositeImplicitAutograd'),
             'AutogradCPU': ('AutogradCPU', 'Autograd', 'CompositeImplicitAutograd'),
             'Autograd': ('Autograd', 'CompositeImplicitAutograd')}.get(dispatch_key,
                                                                          (dispatch_key,))
    for key in order:
        if _oplib._live(k, key):
            return _SafeKernelFunction(k[key], op, key)
    raise RuntimeError(f"get_kernel: operator {op} has no kernel for dispatch key "
                       f"{dispatch_key}")


# ---- custom_op ---------------------------------------------------------------------------------

def _normalize_tags(tags):
    if tags is None:
        return ()
    if isinstance(tags, Tag):
        tags = (tags,)
    return tuple(dict.fromkeys(tags))


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
    """Wrap a type-annotated function into the operator `name` ("ns::opname")."""
    def inner(fn):
        normalized_tags = _normalize_tags(tags)
        schema_str = infer_schema(fn, mutates_args=mutates_args, tags=normalized_tags) \
            if schema is None else schema
        namespace, opname = name.split("::")
        result = CustomOpDef(namespace, opname, schema_str, fn, normalized_tags)
        if schema is not None:
            expected = {a.name for a in result._opoverload._schema.arguments
                        if a.alias_info is not None and a.alias_info.is_write}
            if expected != set(mutates_args):
                raise ValueError(
                    f"Attempted to create a custom op with `mutates_args={mutates_args}` and "
                    f"`schema={schema}. The schema suggests that the op mutates {expected}"
                    "which is different from what was provided to us in `mutates_args`. "
                    "Please make these consistent.")
        result.register_kernel(device_types)(fn)
        return result
    return inner if fn is None else inner(fn)


_OPDEF_TO_LIB = {}


def _library_allowing_overwrite(namespace, name):
    qualname = f"{namespace}::{name}"
    if qualname in _OPDEF_TO_LIB:
        _OPDEF_TO_LIB.pop(qualname)._destroy()
    lib = Library(namespace, "FRAGMENT")
    _OPDEF_TO_LIB[qualname] = lib
    return lib


def _tensors_of(v):
    if isinstance(v, Tensor):
        return [v]
    if isinstance(v, (list, tuple)):
        return [t for t in v if isinstance(t, Tensor)]
    return []


def _root(t):
    a = t._data
    while isinstance(a.base, type(a)):
        a = a.base
    return a


def _check_aliasing(name, args, kwargs, result, module):
    inputs = [t for v in (*args, *kwargs.values()) for t in _tensors_of(v)]
    outs = _tensors_of(result) if not isinstance(result, Tensor) else [result]
    if isinstance(result, tuple):
        outs = [t for v in result for t in _tensors_of(v)]
    roots = [_root(t) for t in inputs]
    seen = []
    for o in outs:
        r = _root(o)
        if o._data.size and (any(r is x for x in roots) or any(r is x for x in seen)):
            raise RuntimeError(
                f"{name} (with implementation in {module}): The output of this custom "
                "operator (1) must not also be an input to this custom operator and (2) may "
                "not alias any inputs to this custom operator or other returns. The most "
                "common way to trigger this error is if we have y = custom_op(x) and y and x "
                "are the same Tensor. Please instead return a clone of the offending output "
                "tensor(s) (e.g. return x.clone()) or refactor the custom operator to not "
                "return y.")
        seen.append(r)


class CustomOpDef:
    """A function turned into a custom operator by custom_op: call it, and register its
    kernels, fake impl and autograd formula."""

    def __init__(self, namespace, name, schema, fn, tags=None):
        self._namespace = namespace
        self._name = name
        self._schema = schema
        self._tags = _normalize_tags(tags)
        self._init_fn = fn
        self._backend_fns = {}
        self._abstract_fn = None
        self._setup_context_fn = None
        self._backward_fn = None
        self._torch_dispatch_fns = {}
        self._vmap_fn = None
        self._autocast_dtype = {}
        self._disabled_kernel = set()
        self._lib = _library_allowing_overwrite(namespace, name)
        self._register_to_dispatcher(self._tags)

    @property
    def _qualname(self):
        return f"{self._namespace}::{self._name}"

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    def _register_to_dispatcher(self, tags):
        schema_str = self._name + self._schema
        parsed = _schema.parse_schema(schema_str)
        if any(a.kwarg_only and a._type.is_tensor_like() for a in parsed.arguments) and \
                Tag.out not in self._tags:
            raise NotImplementedError(
                "custom_op with kwarg-only Tensor args. Please make your tensors not "
                f"kwarg-only. Got: {schema_str}")
        self._lib.define(schema_str, tags=[Tag.pt2_compliant_tag,
                                           *(t for t in tags if t != Tag.pt2_compliant_tag)])
        self._opoverload = lookup_op(self._qualname)
        self._opoverload._entry.opdef = self
        schema = self._opoverload._schema
        self._is_inplace = Tag.inplace in tags
        self._is_out = Tag.out in tags
        self._out_kwarg_names = tuple(a.name for a in schema.arguments if a.kwarg_only and
                                      a.alias_info is not None and a.alias_info.is_write)
        self._lib.impl(self._name, _make_autograd_impl(self._opoverload, self), "Autograd",
                       with_keyset=True)

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type, enabled=True):
        """Disable (or re-enable) the kernel registered for device_type for a while."""
        was = device_type in self._disabled_kernel
        if enabled:
            self._disabled_kernel.discard(device_type)
        else:
            self._disabled_kernel.add(device_type)
        try:
            yield
        finally:
            if was:
                self._disabled_kernel.add(device_type)
            else:
                self._disabled_kernel.discard(device_type)

    def register_kernel(self, device_types, fn=None, /):
        """Register fn as the implementation for device_types (None: every device)."""
        def inner(fn):
            dtypes = [device_types] if device_types is None or isinstance(device_types, str) \
                else list(device_types)
            for device_type in dtypes:
                if device_type not in self._backend_fns:
                    self._lib.impl(self._name, self._backend_impl(device_type),
                                   "CompositeExplicitAutograd" if device_type is None
                                   else _device_type_to_key(device_type))

                def wrapped_fn(*args, _dt=device_type, _fn=fn, **kwargs):
                    if _dt in self._disabled_kernel:
                        return self._init_fn(*args, **kwargs)
                    return _fn(*args, **kwargs)
                self._backend_fns[device_type] = wrapped_fn
            return fn
        if device_types is not None and not any(
                a._type.is_tensor_like() for a in self._opoverload._schema.arguments):
            if not any(a._type.base == 'Device' for a in self._opoverload._schema.arguments):
                raise ValueError("Functions without tensor inputs are required to have a "
                                 "`device: torch.device` argument")
        return inner if fn is None else inner(fn)

    def _backend_impl(self, device_type):
        def backend_impl(*args, **kwargs):
            result = self._backend_fns[device_type](*args, **kwargs)
            module = inspect.getmodule(self._backend_fns[device_type])
            if self._is_inplace:
                if result is not args[0]:
                    raise RuntimeError(
                        f"{self._name} (with implementation in {module}): An operator tagged "
                        "with torch.Tag.inplace must return its first argument.")
            elif self._is_out:
                names = self._out_kwarg_names
                ok = result is kwargs.get(names[0]) if len(names) == 1 else (
                    isinstance(result, tuple) and len(result) == len(names) and
                    all(r is kwargs.get(n) for r, n in zip(result, names)))
                if not ok:
                    raise RuntimeError(
                        f"{self._name} (with implementation in {module}): An operator tagged "
                        "with torch.Tag.out must return its mutable keyword-only arguments.")
            elif not self._opoverload._schema._is_view_op():
                _check_aliasing(self._name, args, kwargs, result, module)
            return result
        return backend_impl

    def register_fake(self, fn, /):
        """Register the FakeTensor implementation (run by opcheck on the real inputs)."""
        if self._is_inplace or self._is_out:
            tag = "torch.Tag.inplace" if self._is_inplace else "torch.Tag.out"
            warnings.warn(f"The fake registration for {self} is unnecessary. Custom ops tagged "
                          f"with {tag} already get an autogenerated fake kernel. The provided "
                          "fake impl will be used instead.", stacklevel=2)
        self._abstract_fn = fn
        return fn

    def register_effect(self, effect):
        self._effect = effect

    def register_torch_dispatch(self, torch_dispatch_class, fn=None, /):
        raise NotImplementedError(
            "ember does not implement torch.library.register_torch_dispatch (it has no "
            "__torch_dispatch__ subclasses or modes)")

    def register_autograd(self, backward, /, *, setup_context=None):
        """Register the backward formula (and setup_context, run after the forward)."""
        schema = self._opoverload._schema
        if self._is_out:
            raise RuntimeError(f"Cannot register autograd formula for operator tagged with "
                               f"torch.Tag.out: {self}. Out variants do not support autograd.")
        if schema.is_mutable or len(schema.returns) == 0:
            raise RuntimeError(
                f"Cannot register autograd formula for non-functional operator {self} with "
                f"schema {schema}. Please create a functional operator and register an "
                "autograd formula for that.")
        self._backward_fn = backward
        self._setup_context_fn = setup_context

    def register_vmap(self, func=None):
        """Register the vmap rule. Kept, not used: ember's vmap runs the op per sample."""
        def register(func):
            self._vmap_fn = func
            return func
        return register if func is None else register(func)

    def register_autocast(self, device_type, cast_inputs):
        """Under autocast on device_type, cast the floating inputs to cast_inputs."""
        _check_autocast_device(device_type)
        need = self._autocast_dtype.get(device_type) is None
        if need:
            self._autocast_dtype[device_type] = cast_inputs
        kernel = _autocast_kernel(self._opoverload.redispatch_below_autocast, device_type,
                                  cast_inputs)
        if need:
            self._lib.impl(self._name, kernel, 'Autocast' + _device_type_to_key(device_type),
                           with_keyset=True)
        return kernel

    def __call__(self, *args, **kwargs):
        return self._opoverload(*args, **kwargs)


# ---- the autograd kernel of an operator with a Python backward ---------------------------------

class _Info:
    def __init__(self, backward, setup_context):
        self._backward_fn = backward
        self._setup_context_fn = setup_context


def _fill_defaults(schema, args, kwargs):
    positional = [a for a in schema.arguments if not a.kwarg_only]
    new_args = list(args) + [a.default_value for a in positional[len(args):]]
    new_kwargs = {a.name: kwargs.get(a.name, a.default_value) for a in schema.arguments
                  if a.kwarg_only}
    return tuple(new_args), new_kwargs


def _make_autograd_impl(op, info):
    """The Autograd-key kernel: an autograd.Function (named as torch's) around the op's
    kernels below autograd, with info's backward and setup_context."""
    name = f"GeneratedBackwardFor_{op._namespace}_{op._opname}_{op._overloadname}"
    schema = op._schema
    kwarg_only = any(a.kwarg_only for a in schema.arguments)
    mutated = [(i, a) for i, a in enumerate(schema.arguments)
               if a.alias_info is not None and a.alias_info.is_write]

    def run(keyset, args, kwargs):
        result = op.redispatch(keyset & _oplib._AFTER_AUTOGRAD, *args, **kwargs)
        if mutated:  # torch's ADInplaceOrView kernel: mutated inputs' versions bumped
            values = dict(zip([a.name for a in schema.arguments if not a.kwarg_only], args))
            values.update(kwargs)
            for _, a in mutated:
                v = values.get(a.name)
                if v is not None:
                    increment_version(_tensors_of(v))
        return result

    def forward(*flat):
        keyset, spec, kwargs = flat[-1]
        return run(keyset, _unflatten(flat[:-1], spec), kwargs)

    def setup_context(ctx, flat, output):
        if info._setup_context_fn:
            keyset, spec, kwargs = flat[-1]
            args, kwargs = _fill_defaults(schema, _unflatten(flat[:-1], spec), kwargs)
            if kwarg_only:
                info._setup_context_fn(ctx=ctx, inputs=args, keyword_only_inputs=kwargs,
                                       output=output)
            else:
                info._setup_context_fn(ctx=ctx, inputs=args, output=output)
        ctx._pt_spec = flat[-1][1]

    def backward(ctx, *grads):
        if not info._backward_fn:
            raise RuntimeError(f"Trying to backward through {op} but no autograd formula was "
                               "registered. Please use register_autograd to add one.")
        spec = ctx._pt_spec
        prev = ctx.needs_input_grad
        ctx.needs_input_grad = tuple(_unflatten(prev[:-1], spec))
        try:
            result = info._backward_fn(ctx, *grads)
        finally:
            ctx.needs_input_grad = prev
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) > len(spec) and all(r is None for r in result[len(spec):]):
            result = result[:len(spec)]  # Nones for arguments left at their defaults
        flat = []
        for r, s in zip(result, spec):
            if s is None:
                flat.append(r)
            else:
                r = list(r) if r is not None else [None] * s
                if len(r) != s:
                    raise RuntimeError(
                        "Expected the return from backward to be of the same structure as the "
                        f"inputs. Got a list of {len(r)} gradients for a list of {s} tensors")
                flat.extend(r)
        if len(result) != len(spec):
            raise RuntimeError(f"function {name}Backward returned an incorrect number of "
                               f"gradients (expected {len(spec)}, got {len(result)})")
        return (*flat, None)

    generated = type(name, (Function,), {'forward': staticmethod(forward),
                                         'setup_context': staticmethod(setup_context),
                                         'backward': staticmethod(backward)})

    def autograd_impl(keyset, *args, **kwargs):
        if Tag.out in op._entry.tags:
            if _State.enabled and any(t.requires_grad for v in (*args, *kwargs.values())
                                      for t in _tensors_of(v)):
                raise RuntimeError(
                    f"{op._opname}(): functions with out=... arguments don't support "
                    "automatic differentiation, but one of the arguments requires grad.")
            return run(keyset, args, kwargs)
        if _State.enabled and any(t.requires_grad for v in args for t in _tensors_of(v)):
            flat, spec = _flatten(args)
            out = generated.apply(*flat, (keyset, spec, kwargs))
            return list(out) if _returns_list(schema) else out
        return run(keyset, args, kwargs)
    return autograd_impl


def _returns_list(schema):
    return len(schema.returns) == 1 and schema.returns[0]._type.is_list


def _flatten(args):
    flat, spec = [], []
    for a in args:
        if isinstance(a, (list, tuple)) and a and all(isinstance(t, Tensor) for t in a):
            flat.extend(a)
            spec.append(len(a))
        else:
            flat.append(a)
            spec.append(None)
    return flat, spec


def _unflatten(flat, spec):
    out, i = [], 0
    for s in spec:
        if s is None:
            out.append(flat[i])
            i += 1
        else:
            out.append(list(flat[i:i + s]))
            i += s
    return tuple(out)


# ---- triton: not on a CPU-only install ---------------------------------------------------------

def triton_op(name, fn=None, /, *, mutates_args, schema=None):
    """A custom op whose implementation calls triton kernels (through wrap_triton). On the CPU
    it is an ordinary custom op; the kernels themselves need triton."""
    def dec(fn):
        result = custom_op(name, fn, mutates_args=mutates_args, schema=schema)
        result._used_triton_kernels = []
        return result
    return dec if fn is None else dec(fn)


def wrap_triton(triton_kernel, /):
    """Make a triton kernel callable from a triton_op: needs triton, which a CPU install lacks."""
    raise ModuleNotFoundError("No module named 'triton'", name='triton')


# ---- infer_schema ----------------------------------------------------------------------------

def _derived(base, cpp, list_base, optional_base_list, optional_list_base):
    result = [(base, cpp), (typing.Optional[base], f"{cpp}?")]

    def seqs(t):
        return (typing.Sequence[t], typing.List[t], GenericAlias(_AbcSequence, (t,)),
                GenericAlias(list, (t,)))
    if list_base:
        result += [(s, f"{cpp}[]") for s in seqs(base)]
    if optional_base_list:
        result += [(s, f"{cpp}?[]") for s in seqs(typing.Optional[base])]
    if optional_list_base:
        result += [(typing.Optional[s], f"{cpp}[]?") for s in seqs(base)]
    return result


_SUPPORTED_PARAM_TYPES = dict(p for line in (
    (Tensor, "Tensor", True, True, False), (int, "SymInt", True, False, True),
    (float, "float", True, False, True), (bool, "bool", True, False, True),
    (str, "str", False, False, False), (Number, "Scalar", True, False, False),
    (_dtype_cls, "ScalarType", False, False, False),
    (_device_cls, "Device", False, False, False)) for p in _derived(*line))

_SUPPORTED_RETURN_TYPES = {Tensor: "Tensor", typing.List[Tensor]: "Tensor[]",
                           list[Tensor]: "Tensor[]", int: "SymInt", float: "float",
                           bool: "bool", Number: "Scalar"}


def _parse_return(annotation, error_fn):
    if annotation is None:
        return "()"
    if annotation is inspect.Parameter.empty:
        error_fn("No return type annotation was provided. Please add one.")
    if typing.get_origin(annotation) is not tuple:
        if annotation not in _SUPPORTED_RETURN_TYPES:
            error_fn(f"Return has unsupported type {annotation}. The valid types are: "
                     f"{_SUPPORTED_RETURN_TYPES}.")
        return _SUPPORTED_RETURN_TYPES[annotation]
    args = typing.get_args(annotation)
    for arg in args:
        if arg not in _SUPPORTED_RETURN_TYPES:
            error_fn(f"Return has unsupported type {annotation}. The valid types are: "
                     f"{_SUPPORTED_RETURN_TYPES}.")
    out = ", ".join(_SUPPORTED_RETURN_TYPES[a] for a in args)
    if len(args) == 1:
        out = "(" + out + ")"
    return "(" + out + ")"


def _default_repr(name, default, error_fn):
    if default is None or isinstance(default, (int, float, bool)):
        return str(default)
    if isinstance(default, (str, _device_cls)):
        return f'"{default}"'
    if isinstance(default, _dtype_cls):
        return str(default)[len('torch.'):]
    error_fn(f"Parameter {name} has an unsupported default value type {type(default)}. "
             "Please file an issue on GitHub so we can prioritize this.")


def infer_schema(prototype_function, /, *, mutates_args, op_name=None, tags=()):
    """The schema string of a type-annotated function ("(Tensor x, float y) -> Tensor")."""
    sig = inspect.signature(prototype_function)
    tags = () if tags is None else (tags,) if isinstance(tags, Tag) else tuple(tags)
    is_inplace, is_out = Tag.inplace in tags, Tag.out in tags
    if is_inplace and is_out:
        raise AssertionError("torch.Tag.inplace and torch.Tag.out are mutually exclusive")
    if type(mutates_args) is not str:
        mutates_args = tuple(mutates_args)

    def error_fn(what):
        raise ValueError(f"infer_schema(func): {what} Got func with signature {sig})")

    def unstring(ty):
        if isinstance(ty, str):
            try:
                return eval(ty, prototype_function.__globals__)
            except Exception as e:
                error_fn(f"Unsupported type annotation {ty}. It is not a type. "
                         f"({type(e).__name__}: {e})")
        origin = typing.get_origin(ty)
        if origin is not None and any(isinstance(a, str) for a in typing.get_args(ty)):
            return GenericAlias(origin, tuple(unstring(a) for a in typing.get_args(ty)))
        return ty

    params, seen, saw_kw = [], set(), False
    first_name = first_type = first_alias = None
    out_aliases, out_names = [], []
    for idx, (name, param) in enumerate(sig.parameters.items()):
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            error_fn("We do not support positional-only args, varargs, or varkwargs.")
        if param.kind == param.KEYWORD_ONLY and not saw_kw:
            params.append("*")
            saw_kw = True
        if param.annotation is inspect.Parameter.empty:
            error_fn(f"Parameter {name} must have a type annotation.")
        ann = unstring(param.annotation)
        if ann not in _SUPPORTED_PARAM_TYPES:
            if typing.get_origin(ann) is tuple:
                error_fn(f"Parameter {name} has unsupported type {param.annotation}. We do not "
                         "support Tuple inputs in schema. As a workaround, please try to use "
                         f"List instead. The valid types are: {_SUPPORTED_PARAM_TYPES.keys()}.")
            error_fn(f"Parameter {name} has unsupported type {param.annotation}. "
                     f"The valid types are: {_SUPPORTED_PARAM_TYPES.keys()}.")
        schema_type = _SUPPORTED_PARAM_TYPES[ann]
        if param.kind == param.POSITIONAL_OR_KEYWORD and first_name is None:
            first_name, first_type, first_alias = name, schema_type, f"a{idx}"
        is_mutated = False
        if type(mutates_args) is str:
            if mutates_args != "unknown":
                raise ValueError("mutates_args must either be a sequence of the names of the "
                                 "arguments that are mutated or the string 'unknown'. ")
            if schema_type.startswith("Tensor"):
                is_mutated = True
                schema_type = f"Tensor(a{idx}!){schema_type[len('Tensor'):]}"
        elif name in mutates_args:
            is_mutated = True
            if not schema_type.startswith("Tensor"):
                error_fn(f"Parameter {name} is in mutable_args but only Tensors or collections "
                         "of Tensors can be mutated")
            schema_type = f"Tensor(a{idx}!){schema_type[len('Tensor'):]}"
        if is_out and is_mutated:
            if param.kind != param.KEYWORD_ONLY:
                error_fn("torch.Tag.out requires mutable arguments to be keyword-only.")
            if schema_type != f"Tensor(a{idx}!)":
                error_fn("torch.Tag.out only supports mutable keyword-only Tensor arguments.")
            out_aliases.append(f"a{idx}")
            out_names.append(name)
        seen.add(name)
        if param.default is inspect.Parameter.empty:
            params.append(f"{schema_type} {name}")
        else:
            params.append(f"{schema_type} {name}={_default_repr(name, param.default, error_fn)}")
    if mutates_args != "unknown":
        not_seen = set(mutates_args) - seen
        if not_seen:
            error_fn(f"{not_seen} in mutates_args were not found in the custom op's signature. "
                     "mutates_args should contain the names of all args that the custom op "
                     "mutates, or just the string 'unknown' if you don't know.")
    if is_inplace:
        if first_name is None:
            error_fn("torch.Tag.inplace requires a positional Tensor argument.")
        if first_type != "Tensor":
            error_fn("torch.Tag.inplace requires the first positional argument to be a "
                     "Tensor.")
        if type(mutates_args) is str or set(mutates_args) != {first_name}:
            error_fn("torch.Tag.inplace requires mutates_args to contain exactly the first "
                     f"positional argument, got {mutates_args}.")
    if is_out and not out_aliases:
        error_fn("torch.Tag.out requires at least one mutable keyword-only Tensor argument.")
    ret_ann = unstring(sig.return_annotation)
    if is_out:
        ok = ret_ann is Tensor if len(out_aliases) == 1 else (
            typing.get_origin(ret_ann) is tuple and
            typing.get_args(ret_ann) == (Tensor,) * len(out_aliases))
        if not ok:
            error_fn("torch.Tag.out requires the return annotation to match the mutable "
                     f"keyword-only Tensor arguments {tuple(out_names)}.")
        rets = [f"Tensor({a}!)" for a in out_aliases]
        ret = rets[0] if len(rets) == 1 else f"({', '.join(rets)})"
    else:
        ret = _parse_return(ret_ann, error_fn)
    if is_inplace:
        if ret != "Tensor":
            error_fn("torch.Tag.inplace requires the return annotation to be torch.Tensor.")
        ret = f"Tensor({first_alias}!)"
    if op_name is not None:
        return f"{op_name}({', '.join(params)}) -> {ret}"
    return f"({', '.join(params)}) -> {ret}"


# ---- opcheck ---------------------------------------------------------------------------------

_ALL_TEST_UTILS = ('test_schema', 'test_autograd_registration', 'test_faketensor',
                   'test_aot_dispatch_static', 'test_aot_dispatch_dynamic')
_DEFAULT_TEST_UTILS = ('test_schema', 'test_autograd_registration', 'test_faketensor',
                       'test_aot_dispatch_dynamic')


class OpCheckError(Exception):
    pass


def _copy_args(args, kwargs):
    def cp(v):
        if isinstance(v, Tensor):
            c = v.detach().clone()
            c.requires_grad_(v.requires_grad)
            return c
        if isinstance(v, (list, tuple)):
            return type(v)(cp(x) for x in v)
        return v
    return cp(args), {k: cp(v) for k, v in kwargs.items()}


def _schema_check(op, args, kwargs):
    args, kwargs = _copy_args(args, kwargs)
    values = _schema.bind(op._schema, op._name, args, kwargs)
    before = {n: [t.detach().clone() for t in _tensors_of(v)] for n, v in values.items()}
    result = op(*args, **kwargs)
    for a in op._schema.arguments:
        mutable = a.alias_info is not None and a.alias_info.is_write
        now = _tensors_of(values[a.name])
        if not mutable and any(not _same(b, t) for b, t in zip(before[a.name], now)):
            raise RuntimeError(f"Argument {a.name} is not defined as mutable but was mutated")
    return result


def _same(a, b):
    """Same shape and values (NaN equal to NaN)."""
    return a.shape == b.shape and np.array_equal(a._data, b.detach()._data,
                                                 equal_nan=a._data.dtype.kind in 'fc')


def _autograd_registration_check(op, args, kwargs):
    args, kwargs = _copy_args(args, kwargs)
    flat = [t for v in (*args, *kwargs.values()) for t in _tensors_of(v)]
    if not any(t.requires_grad for t in flat):
        return
    k = _oplib.kernels(op._name)
    if any(_oplib._live(k, key) for key in ('AutogradCPU', 'Autograd',
                                            'CompositeImplicitAutograd')):
        return
    out = op(*args, **kwargs)
    ids = {id(t) for t in flat}
    if any(t.requires_grad and id(t) not in ids for t in _tensors_of(out)):
        raise AssertionError(
            f"{op.name()}: at least one output of this operator has requires_grad=True but the "
            "operator does not have an autograd kernel defined at an autograd key (e.g. "
            "DispatchKey::Autograd). This could mean that you have incorrectly registered an "
            "autograd kernel to a non-Autograd DispatchKey, which may lead to silently "
            "incorrect results. If your operator consists of regular PyTorch operations, "
            "consider not using an operator at all or registering your operator as "
            "CompositeImplicitAutograd. If you have an autograd.Function registered to a "
            "backend (CPU/CUDA/XPU) key, the correct location for it is the Autograd key.")


def _fake_impl(op):
    entry = op._entry
    opdef = entry.opdef
    if opdef is not None:
        if opdef._abstract_fn is not None:
            return opdef._abstract_fn
        schema = op._schema
        if len(schema.returns) == 0 or opdef._is_inplace or opdef._is_out:
            return None  # torch generates the trivial one
        raise RuntimeError(
            f"There was no fake impl registered for {opdef}. This is necessary for "
            "torch.compile/export/fx tracing to work. Please use "
            f"`{opdef._init_fn.__name__}.register_fake` to add an fake impl.")
    if entry.fake is not None:
        return entry.fake
    if _oplib._live(_oplib.kernels(op._name), 'CompositeImplicitAutograd') or \
            _oplib._live(_oplib.kernels(op._name), 'Meta'):
        return None
    raise UnsupportedOperatorException(str(op))


class UnsupportedOperatorException(RuntimeError):
    """An operator with no fake impl met where one is needed (torch's FakeTensor error)."""


def _fake_check(op, args, kwargs):
    fake = _fake_impl(op)
    real_args, real_kwargs = _copy_args(args, kwargs)
    with _grad_off():
        real = op(*real_args, **real_kwargs)
    if fake is None:
        return
    args, kwargs = _copy_args(args, kwargs)
    fake_args, fake_kwargs = _schema.python_args(
        op._schema, _schema.bind(op._schema, op._name, args, kwargs))
    ctx = FakeImplCtx(op)
    prev, _CTX[0] = _CTX[0], ctx
    try:
        with _grad_off():
            fake_out = fake(*fake_args, **fake_kwargs)
    finally:
        _CTX[0] = prev
    fo = [fake_out] if isinstance(fake_out, Tensor) else _tensors_of(list(fake_out)) \
        if isinstance(fake_out, (list, tuple)) else []
    ro = [real] if isinstance(real, Tensor) else _tensors_of(list(real)) \
        if isinstance(real, (list, tuple)) else []
    if len(fo) != len(ro):
        raise RuntimeError(f"When comparing the output of {op} on FakeTensor and concrete "
                           f"Tensors, found mismatched number of outputs: {len(fo)} and "
                           f"{len(ro)}")
    for f, r in zip(fo, ro):
        bad = None
        if f.dtype != r.dtype:
            bad = f"Dtypes {r.dtype} and {f.dtype} are not equal!"
        elif not ctx._dynamic and f.shape != r.shape:
            bad = f"Shapes {r.shape} and {f.shape} are not equal!"
        elif not ctx._dynamic and f.shape == r.shape and r.numel() > 1 and \
                f.stride() != r.stride():
            bad = f"Strides {r.stride()} and {f.stride()} are not equal!"
        if bad:
            raise RuntimeError(f"When comparing the output of {op} on FakeTensor and concrete "
                               f"Tensors, found mismatched tensor metadata: {bad}")


@contextlib.contextmanager
def _grad_off():
    prev = _State.enabled
    _State.enabled = False
    try:
        yield
    finally:
        _State.enabled = prev


def _aot_check(op, args, kwargs):
    """ember has no AOT compiler: the op runs eagerly twice (the results must agree) and, where
    inputs require grad, backward runs through it."""
    a1, k1 = _copy_args(args, kwargs)
    a2, k2 = _copy_args(args, kwargs)
    out1 = op(*a1, **k1)
    out2 = op(*a2, **k2)
    o1, o2 = _tensors_of(out1 if isinstance(out1, (list, tuple)) else [out1]), \
        _tensors_of(out2 if isinstance(out2, (list, tuple)) else [out2])
    for x, y in zip(o1, o2):
        if x.dtype.is_floating_point and not _same(x, y):
            raise AssertionError(f"{op}: the operator gave different results for the same "
                                 "inputs")
    inputs = [t for v in (*a1, *k1.values()) for t in _tensors_of(v) if t.requires_grad]
    outs = [o for o in o1 if o.requires_grad]
    if inputs and outs:
        _autograd_grad([o.sum() for o in outs], inputs, allow_unused=True)
    _fake_impl(op)  # then torch traces it for the compiler, which needs the fake impl


_TESTERS = {'test_schema': _schema_check, 'test_autograd_registration':
            _autograd_registration_check, 'test_faketensor': _fake_check,
            'test_aot_dispatch_static': _aot_check, 'test_aot_dispatch_dynamic': _aot_check}


def opcheck(op, args, kwargs=None, *, test_utils=_DEFAULT_TEST_UTILS, raise_exception=True,
            atol=None, rtol=None):
    """Check a custom op's registrations on sample inputs: the schema's mutation claims, the
    autograd registration, the fake impl's output metadata, and a forward/backward run."""
    if (rtol is None) ^ (atol is None):
        raise ValueError("opcheck(op, ...): if you specify one of rtol/atol, you must specify "
                         "both")
    kwargs = {} if kwargs is None else kwargs
    if isinstance(op, CustomOpDef):
        op = op._opoverload
    if isinstance(op, OpOverloadPacket):
        names = op.overloads()
        if len(names) != 1:
            raise ValueError(f"opcheck(op, ...): op must be an OpOverload with a single "
                             f"overload, got {op} with overloads {names}")
        op = getattr(op, names[0])
    if not isinstance(op, OpOverload):
        raise ValueError("opcheck(op, ...): op must be instance of torch._ops.OpOverload, e.g. "
                         f"torch.ops.aten.sin.default, got {type(op)}")
    if test_utils == "ALL":
        test_utils = _ALL_TEST_UTILS
    if isinstance(test_utils, str):
        test_utils = (test_utils,)
    if not isinstance(test_utils, (tuple, list)) or not set(test_utils) <= set(_ALL_TEST_UTILS):
        raise ValueError(f"opcheck(op, ..., test_utils={test_utils}), expected test_utils to be "
                         f"subset of {_ALL_TEST_UTILS} but it was not")
    results = {}
    for name in test_utils:
        try:
            _TESTERS[name](op, args, kwargs)
            results[name] = "SUCCESS"
        except Exception as ex:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {ex} (scroll up for "
                                   "stack trace)") from ex
            results[name] = ex
    return results



from . import _stubs  # noqa: E402
_stubs.hook(__name__)
