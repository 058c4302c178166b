"""The operator registry behind torch.library and torch.ops: a dispatcher for operators defined
from Python, on the CPU, eagerly.

ember's own ops are plain functions, not dispatcher entries: `torch.ops.aten.<name>` resolves to
them (`_AtenNamespace`). Operators that programs define (`Library.define`, `custom_op`) live in
`_DEFS` ("ns::name" or "ns::name.overload" -> `_Entry`, with its schema and kernels per dispatch
key) and are called through `OpOverload`s: the call is bound to the schema (torch's argument
errors), then dispatched as torch's dispatcher would for a CPU tensor: an Autograd kernel first,
then a CompositeImplicitAutograd one when there is no backend kernel, else the CPU /
CompositeExplicitAutograd kernel (ops inside it record as usual, as torch's autograd fallback
lets them), else a registered fallback, else torch's NotImplementedError.
"""
import enum
import importlib
import types
import warnings

from . import _schema
from .amp.autocast_mode import is_autocast_enabled
from ._stubs import is_missing
from ._tensor import Tensor

__all__ = ['Tag', 'OpOverload', 'OpOverloadPacket', 'ops', 'DispatchKeySet']


class Tag(enum.IntEnum):
    """torch.Tag: the operator tags of torch's native_functions.yaml."""
    core = 0
    cudagraph_unsafe = 1
    data_dependent_output = 2
    dynamic_output_shape = 3
    flexible_layout = 4
    generated = 5
    inplace = 6
    inplace_view = 7
    maybe_aliasing_or_mutating = 8
    needs_contiguous_strides = 9
    needs_exact_strides = 10
    needs_fixed_stride_order = 11
    nondeterministic_bitwise = 12
    nondeterministic_seeded = 13
    out = 14
    out_variant = 15
    pointwise = 16
    pt2_compliant_tag = 17
    reduction = 18
    view_copy = 19

    def __str__(self):
        return f'Tag.{self.name}'


Tag.__module__ = 'ember'

DISPATCH_KEYS = frozenset((
    'Undefined CompositeExplicitAutogradNonFunctional CompositeExplicitAutograd '
    'CompositeImplicitAutogradNestedTensor CompositeImplicitAutograd AutogradNestedTensor '
    'AutogradOther Autograd Conjugate ZeroTensor Negative BackendSelect ADInplaceOrView '
    'PythonTLSSnapshot Python FuncTorchDynamicLayerFrontMode FuncTorchDynamicLayerBackMode '
    'FuncTorchBatchedDecomposition FuncTorchBatched FuncTorchVmapMode FuncTorchGradWrapper '
    'PythonDispatcher PreDispatch Functionalize AutocastCPU AutocastMPS AutocastXPU '
    'AutocastHPU AutocastIPU AutocastCUDA AutocastPrivateUse1 Dense CPU CUDA HIP XLA MPS IPU '
    'XPU HPU VE Lazy MTIA MAIA PrivateUse1 PrivateUse2 PrivateUse3 Meta Quantized QuantizedCPU '
    'QuantizedCUDA Sparse SparseCPU SparseCUDA SparseMeta SparseCsr SparseCsrCPU SparseCsrCUDA '
    'NestedTensor NestedTensorCPU NestedTensorCUDA AutogradFunctionality AutogradCPU '
    'AutogradCUDA AutogradHIP AutogradXLA AutogradMPS AutogradIPU AutogradXPU AutogradHPU '
    'AutogradVE AutogradLazy AutogradMTIA AutogradMAIA AutogradPrivateUse1 AutogradMeta '
    'Tracer Batched VmapMode').split())

_AUTOGRAD_KEYS = ('AutogradCPU', 'Autograd')
_BACKEND_KEYS = ('CPU', 'CompositeExplicitAutogradNonFunctional', 'CompositeExplicitAutograd')


def fallthrough_kernel():
    """A dummy kernel: registered to a key, the dispatcher skips that key."""
    raise NotImplementedError("fallthrough_kernel() should never be called.")


class DispatchKeySet:
    """The set of dispatch keys a with_keyset kernel receives (for `op.redispatch`)."""

    def __init__(self, keys=()):
        self._keys = frozenset([keys] if isinstance(keys, str) else keys)

    def __and__(self, other):
        return DispatchKeySet(self._keys & other._keys)

    def __or__(self, other):
        return DispatchKeySet(self._keys | other._keys)

    def __sub__(self, other):
        return DispatchKeySet(self._keys - other._keys)

    def has(self, key):
        return str(key) in self._keys

    def remove(self, key):
        return DispatchKeySet(self._keys - {str(key)})

    def add(self, key):
        return DispatchKeySet(self._keys | {str(key)})

    def __repr__(self):
        return f"DispatchKeySet({', '.join(sorted(self._keys))})"


_ALL_KEYS = DispatchKeySet(DISPATCH_KEYS)
_AFTER_AUTOGRAD = DispatchKeySet(DISPATCH_KEYS - set(_AUTOGRAD_KEYS) - {'ADInplaceOrView'})


class _Entry:
    """One operator overload: schema, tags, kernels by dispatch key, fake impl."""

    def __init__(self, schema, qualname, tags):
        self.schema = schema
        self.qualname = qualname  # 'ns::name' or 'ns::name.overload'
        self.tags = tuple(tags)
        self.fake = None
        self.opdef = None  # the CustomOpDef of a custom_op


_DEFS = {}      # 'ns::name[.overload]' -> _Entry
_KERNELS = {}   # 'ns::name[.overload]' -> {dispatch key: (fn, with_keyset)}
_FALLBACKS = {}  # dispatch key -> (fn, with_keyset)


def defined(qualname):
    return qualname in _DEFS


def define(ns, schema_text, tags=(), where=''):
    """Add an operator to the registry; returns its name as given in the schema."""
    schema = _schema.parse_schema(schema_text)
    if '::' in schema.name:
        raise RuntimeError(f"Library.define: the schema's name must not have a namespace "
                           f"(got {schema.name!r})")
    schema.name = f'{ns}::{schema.name}'
    qualname = schema.name + (f'.{schema.overload_name}' if schema.overload_name else '')
    if qualname in _DEFS:
        raise RuntimeError(
            f"Tried to register an operator ({schema}) with the same name and overload name "
            f"multiple times. Each overload's schema should only be registered with a single "
            f"call to def(). Duplicate registration: registered at {where}. Original "
            f"registration: registered at {_DEFS[qualname].where}")
    _DEFS[qualname] = _Entry(schema, qualname, tags)
    _DEFS[qualname].where = where
    return qualname


def _packet_name(qualname):
    return qualname.split('.')[0]


def undefine(qualname):
    """Remove an operator (its Library was destroyed); torch.ops forgets its packet once no
    overload of it is left."""
    _DEFS.pop(qualname, None)
    ns, _, rest = _packet_name(qualname).partition('::')
    space = ops.__dict__.get(ns)
    if space is not None and not any(_packet_name(q) == _packet_name(qualname) for q in _DEFS):
        space.__dict__.pop(rest, None)


def register_kernel(qualname, key, fn, with_keyset=False):
    if key not in DISPATCH_KEYS:
        raise RuntimeError(f"could not parse dispatch key: {key}")
    _KERNELS.setdefault(qualname, {})[key] = (fn, with_keyset)


def unregister_kernel(qualname, key, fn):
    k = _KERNELS.get(qualname, {})
    if key in k and k[key][0] is fn:
        del k[key]


def kernels(qualname):
    return _KERNELS.get(qualname, {})


def _live(k, key):
    v = k.get(key)
    return v if v is not None and v[0] is not fallthrough_kernel else None


def _invoke(kernel, keyset, args, kwargs):
    fn, with_keyset = kernel
    return fn(keyset, *args, **kwargs) if with_keyset else fn(*args, **kwargs)


def _not_available(qualname):
    return NotImplementedError(
        f"Could not run '{qualname}' with arguments from the 'CPU' backend. This could be "
        f"because the operator doesn't exist for this backend, or was omitted during the "
        f"selective/custom build process (if using custom build).")


def dispatch(op, args, kwargs, keyset=None):
    """Run op's kernels for a CPU call (args already normalised as Python kernels get them)."""
    qualname = op._name
    k = kernels(qualname)
    below_autograd = keyset is not None and not any(keyset.has(a) for a in _AUTOGRAD_KEYS)
    keyset = keyset or _ALL_KEYS
    if _live(k, 'AutocastCPU') and keyset.has('AutocastCPU') and is_autocast_enabled('cpu'):
        return _invoke(k['AutocastCPU'], keyset.remove('AutocastCPU'), args, kwargs)
    backend = next((_live(k, key) for key in _BACKEND_KEYS if _live(k, key)), None)
    if not below_autograd:
        for key in _AUTOGRAD_KEYS:
            if _live(k, key):
                return _invoke(k[key], keyset, args, kwargs)
        if _live(k, 'CompositeImplicitAutograd') and backend is None:
            return _invoke(k['CompositeImplicitAutograd'], keyset, args, kwargs)
    if backend is None:
        backend = _live(k, 'CompositeImplicitAutograd')
    if backend is not None:
        result = _invoke(backend, keyset, args, kwargs)
        if not below_autograd and not any(key in k for key in _AUTOGRAD_KEYS):
            _warn_on_backward(qualname, result, args, kwargs)
        return result
    fb = _FALLBACKS.get('CPU') or _FALLBACKS.get('CompositeExplicitAutograd')
    if fb is not None and fb[0] is not fallthrough_kernel:
        fn, with_keyset = fb
        return fn(keyset, op, *args, **kwargs) if with_keyset else fn(op, *args, **kwargs)
    raise _not_available(qualname)


_NO_AUTOGRAD = (
    "{}: an autograd kernel was not registered to the Autograd key(s) but we are trying to "
    "backprop through it. This may lead to silently incorrect behavior. This behavior is "
    "deprecated and will be removed in a future version of PyTorch. If your operator is "
    "differentiable, please ensure you have registered an autograd kernel to the correct "
    "Autograd key (e.g. DispatchKey::Autograd, DispatchKey::CompositeImplicitAutograd). If your "
    "operator is not differentiable, or to squash this warning and use the previous behavior, "
    "please register torch::CppFunction::makeFallthrough() to DispatchKey::Autograd.")


def _warn_on_backward(qualname, result, args, kwargs):
    """torch's autograd fallback for an op with no autograd kernel: the ops inside its kernel
    recorded as usual, and backprop through its outputs warns."""
    outs = result if isinstance(result, (tuple, list)) else (result,)
    inputs = {id(v) for v in (*args, *kwargs.values())}

    def hook(grad):
        warnings.warn(_NO_AUTOGRAD.format(qualname), UserWarning, stacklevel=2)
    for t in outs:
        if isinstance(t, Tensor) and t.grad_fn is not None and id(t) not in inputs:
            t.register_hook(hook)


class OpOverload:
    """One overload of an operator (`torch.ops.mylib.foo.default`): callable."""

    def __init__(self, packet, entry):
        self._entry = entry
        self._schema = entry.schema
        self.overloadpacket = packet
        self._op = self.__call__
        self._overloadname = entry.schema.overload_name or 'default'
        self._name = entry.qualname
        self._namespace = self.namespace = packet._namespace
        self._opname = packet._opname
        self.__name__ = f'{self._opname}.{self._overloadname}'
        self.__qualname__ = self._name

    @property
    def tags(self):
        return list(self._entry.tags)

    def name(self):
        return self._name

    def __repr__(self):
        return (f"<OpOverload(op='{self._namespace}.{self._opname}', "
                f"overload='{self._overloadname}')>")

    def __str__(self):
        return f'{self._namespace}.{self._opname}.{self._overloadname}'

    def __call__(self, /, *args, **kwargs):
        values = _schema.bind(self._schema, self._name, args, kwargs)
        pargs, pkw = _schema.python_args(self._schema, values)
        return dispatch(self, pargs, pkw)

    def redispatch(self, /, keyset, *args, **kwargs):
        return dispatch(self, args, kwargs, keyset)

    def redispatch_below_autocast(self, *args, **kwargs):
        return dispatch(self, args, kwargs, _ALL_KEYS.remove('AutocastCPU'))

    def has_kernel_for_dispatch_key(self, key):
        return _live(kernels(self._name), str(key)) is not None

    def decompose(self, *args, **kwargs):
        k = _live(kernels(self._name), 'CompositeImplicitAutograd')
        if k is None:
            return NotImplemented
        return _invoke(k, _ALL_KEYS, args, kwargs)

    def __hash__(self):
        return hash(self._name)

    def __eq__(self, other):
        return isinstance(other, OpOverload) and other._name == self._name


class OpOverloadPacket:
    """All overloads of one operator name (`torch.ops.mylib.foo`); calling it picks the
    overload whose schema the arguments fit."""

    def __init__(self, namespace, opname):
        self._namespace = namespace
        self._opname = self.__name__ = opname
        self._qualified_op_name = f'{namespace}::{opname}'
        self._cache = {}

    def _entries(self):
        q = self._qualified_op_name
        return [e for name, e in _DEFS.items() if name == q or name.startswith(q + '.')]

    def overloads(self):
        return [e.schema.overload_name or 'default' for e in self._entries()]

    @property
    def _overload_names(self):
        return [e.schema.overload_name for e in self._entries()]

    @property
    def _schemas(self):
        return {e.schema.overload_name: e.schema for e in self._entries()}

    def __getattr__(self, key):
        if key.startswith('__') or key.startswith('_ember'):
            raise AttributeError(key)
        for e in self._entries():
            if (e.schema.overload_name or 'default') == key:
                op = self._cache.get(key)
                if op is None or op._entry is not e:
                    op = self._cache[key] = OpOverload(self, e)
                return op
        raise AttributeError(f"The underlying op of '{self}' has no overload name '{key}'")

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self._namespace}.{self._opname}')>"

    def __str__(self):
        return f'{self._namespace}.{self._opname}'

    def __call__(self, /, *args, **kwargs):
        entries = self._entries()
        errors = []
        for e in entries:
            op = getattr(self, e.schema.overload_name or 'default')
            try:
                values = _schema.bind(e.schema, op._name, args, kwargs)
            except RuntimeError as err:
                errors.append((e.schema, err))
                continue
            return dispatch(op, *_schema.python_args(e.schema, values))
        if len(errors) == 1:
            raise errors[0][1]
        lines = '\n'.join(f'{s}:\n{err}\n' for s, err in errors)
        raise RuntimeError(f"Overloaded torch operator invoked from Python failed to match "
                           f"any schema:\n{lines}")


class _OpNamespace(types.ModuleType):
    """torch.ops.<ns>: its operators as attributes (made on first access)."""

    def __init__(self, name):
        super().__init__('ember.ops.' + name)
        self.name = name
        self.__file__ = 'torch.ops'

    def __repr__(self):
        return f"<module 'torch.ops.{self.name}' from 'torch.ops'>"

    def __getattr__(self, op_name):
        if op_name.startswith('__') or op_name.startswith('_ember'):
            raise AttributeError(op_name)
        q = f'{self.name}::{op_name}'
        if not any(n == q or n.startswith(q + '.') for n in _DEFS):
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute "
                                 f"'{op_name}'")
        packet = OpOverloadPacket(self.name, op_name)
        setattr(self, op_name, packet)
        return packet

    def __iter__(self):
        return iter(sorted({n.split('::')[1].split('.')[0] for n in _DEFS
                            if n.startswith(self.name + '::')}))


class _AtenCallable:
    """Calls ember's function for an aten op (a packet or one of its overloads)."""

    def __call__(self, /, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __str__(self):
        return 'aten.' + self._dotted


class _AtenOverload(_AtenCallable):
    """torch.ops.aten.<op>.<overload>: ember's function for the op (one per name)."""

    def __init__(self, packet, overload):
        self._fn = packet._fn
        self.overloadpacket = packet
        self._overloadname = overload
        self._opname = packet._opname
        self._dotted = f'{self._opname}.{overload}'
        self.namespace = self._namespace = 'aten'
        self._name = f'aten::{self._opname}' + ('' if overload == 'default' else
                                                 f'.{overload}')

    def name(self):
        return self._name

    @property
    def _schema(self):
        raise NotImplementedError(f"ember does not implement the schema of aten::"
                                  f"{self._opname} (torch.ops.aten's schemas)")

    def __repr__(self):
        return f"<OpOverload(op='aten.{self._opname}', overload='{self._overloadname}')>"


class _AtenPacket(_AtenCallable):
    def __init__(self, opname, fn):
        self._opname = self.__name__ = self._dotted = opname
        self._fn = fn
        self._namespace = 'aten'
        self._qualified_op_name = f'aten::{opname}'

    def __getattr__(self, key):
        if key.startswith('_'):
            raise AttributeError(key)
        ov = _AtenOverload(self, key)
        setattr(self, key, ov)
        return ov

    def __repr__(self):
        return f"<OpOverloadPacket(op='aten.{self._opname}')>"


_ATEN_HOMES = (('linalg_', 'ember.linalg'), ('special_', 'ember.special'),
               ('fft_', 'ember.fft'))


def _aten_function(name):
    """ember's function for aten::<name>, or None."""
    for prefix, mod in _ATEN_HOMES:
        if name.startswith(prefix):
            fn = getattr(importlib.import_module(mod), name[len(prefix):], None)
            return None if fn is None or is_missing(fn) else fn
    for mod in ('ember', 'ember.nn.functional'):
        m = importlib.import_module(mod)
        fn = m.__dict__.get(name)
        if callable(fn) and not isinstance(fn, type) and not is_missing(fn):
            return fn
    meth = Tensor.__dict__.get(name)
    if callable(meth) and not is_missing(meth):
        return meth
    return None


class _AtenNamespace(_OpNamespace):
    def __getattr__(self, op_name):
        if op_name.startswith('__') or op_name.startswith('_ember'):
            raise AttributeError(op_name)
        if any(n.startswith(f'aten::{op_name}') for n in _DEFS):
            return _OpNamespace.__getattr__(self, op_name)
        fn = _aten_function(op_name)
        if fn is None:
            raise AttributeError(f"'_OpNamespace' 'aten' object has no attribute '{op_name}'")
        packet = _AtenPacket(op_name, fn)
        setattr(self, op_name, packet)
        return packet


class _Ops(types.ModuleType):
    """torch.ops: one `_OpNamespace` per namespace, made on first access."""
    __file__ = '_ops.py'

    def __init__(self):
        super().__init__('ember.ops')
        self.loaded_libraries = set()

    def __repr__(self):
        return "<module 'torch.ops' from '_ops.py'>"

    def __getattr__(self, name):
        if name.startswith('__') or name.startswith('_ember'):
            raise AttributeError(name)
        space = _AtenNamespace(name) if name == 'aten' else _OpNamespace(name)
        setattr(self, name, space)
        return space

    def __iter__(self):
        return iter(sorted({n.split('::')[0] for n in _DEFS}))

    def import_module(self, module):
        importlib.import_module(module)

    def load_library(self, path):
        raise NotImplementedError(
            f"ember cannot load compiled operator libraries (torch.ops.load_library({path!r})): "
            f"it has no C++ dispatcher; define the operators from Python with torch.library")


ops = _Ops()
