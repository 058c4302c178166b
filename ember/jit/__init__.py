"""torch.jit: scripting and tracing give back something that computes the same, eagerly.

`script(module)` / `trace(module, inputs)` return a ScriptModule sharing the original
module's state (same parameters, same state_dict keys, as torch's); `script(fn)` /
`trace(fn, inputs)` return a ScriptFunction calling fn. The decorators (`ignore`, `unused`,
`export`, ...) return their function. What needs a real TorchScript artefact (saving,
loading, `.code`, `.graph`, freezing) raises NotImplementedError naming it.
"""
import contextlib
import functools
import inspect
import warnings
from typing import Final  # noqa: F401  (torch.jit.Final is typing.Final)

from ..nn.modules.module import Module
from ..autograd.grad_mode import no_grad
from .._tensor import Tensor
from ..futures import Future, _fork  # noqa: F401  (torch.jit.Future)
from .._stubs import unimplemented as _unimplemented
from ..utils._swap import set_module  # noqa: F401 (torch.jit.set_module is torch.utils')

__all__ = ['Attribute', 'CompilationUnit', 'Error', 'Final', 'ScriptFunction', 'ScriptModule',
           'RecursiveScriptModule', 'TopLevelTracedModule', 'annotate', 'enable_onednn_fusion',
           'export', 'export_opnames', 'fork', 'freeze', 'ignore', 'interface', 'is_scripting',
           'is_tracing', 'isinstance', 'load', 'onednn_fusion_enabled', 'optimize_for_inference',
           'save', 'script', 'script_if_tracing', 'set_fusion_strategy', 'strict_fusion',
           'trace', 'trace_module', 'unused', 'wait', 'TracedModule', 'RecursiveScriptClass',
           'ONNXTracedModule', 'annotations', 'frontend', 'fuser', 'optimized_execution',
           'last_executed_optimized_graph', 'run_frozen_optimizations', 'script_method',
           'set_module', 'jit_module_from_flatbuffer', 'save_jit_module_to_flatbuffer']

_builtin_isinstance = isinstance


def _no_torchscript(what):
    raise NotImplementedError(
        f'{what}: TorchScript artefacts are not supported by ember (scripted and traced '
        'modules run eagerly). Save the weights with torch.save(model.state_dict(), path) '
        'instead.')


class Error(RuntimeError):
    pass


class ScriptModule(Module):
    """Base class of scripted and traced modules."""


class RecursiveScriptModule(ScriptModule):
    """A scripted/traced module: a copy of the original's structure sharing its parameters and
    buffers (the same tensors, as torch's), with its own training flag; submodules are wrapped
    the same way, and the original class's methods run with the copy as `self`."""

    __slots__ = ('_orig', '_repr_name')

    def __init__(self, *args, **kwargs):
        raise RuntimeError('ScriptModule is not constructed directly in ember; use '
                           'torch.jit.script(module)')

    @classmethod
    def _wrap(cls, mod, repr_name=None):
        self = object.__new__(cls)
        state = dict(mod.__dict__)
        for key in ('_parameters', '_buffers'):
            state[key] = dict(state[key])
        state['_non_persistent_buffers_set'] = set(state['_non_persistent_buffers_set'])
        state['_modules'] = {k: None if m is None else
                             RecursiveScriptModule._wrap(m, type(m).__name__ if repr_name else None)
                             for k, m in state['_modules'].items()}
        object.__setattr__(self, '__dict__', state)
        object.__setattr__(self, '_orig', mod)
        object.__setattr__(self, '_repr_name', repr_name)
        return self

    @property
    def original_name(self):
        return type(self._orig).__name__

    def forward(self, *args, **kwargs):
        return type(self._orig).forward(self, *args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            pass
        attr = getattr(type(self._orig), name)
        if hasattr(attr, '__get__'):
            return attr.__get__(self, type(self))
        return attr

    def _get_name(self):
        return self._repr_name or 'RecursiveScriptModule'

    def extra_repr(self):
        return f'original_name={self.original_name}'

    def save(self, f, **kwargs):
        _no_torchscript('ScriptModule.save (TorchScript serialization)')

    def save_to_buffer(self, *args, **kwargs):
        _no_torchscript('ScriptModule.save_to_buffer (TorchScript serialization)')

    @property
    def code(self):
        _no_torchscript('ScriptModule.code')

    @property
    def graph(self):
        _no_torchscript('ScriptModule.graph')

    @property
    def inlined_graph(self):
        _no_torchscript('ScriptModule.inlined_graph')

    @property
    def code_with_constants(self):
        _no_torchscript('ScriptModule.code_with_constants')

    def __reduce__(self):
        raise NotImplementedError('pickling a ScriptModule is not supported by ember (nor by '
                                  'torch: use torch.jit.save); pickle the original module')


class TracedModule(RecursiveScriptModule):
    """A traced module (torch.jit.trace of an nn.Module gives its TopLevelTracedModule)."""
    __slots__ = ()


class TopLevelTracedModule(TracedModule):
    __slots__ = ()


class RecursiveScriptClass:
    """An instance of a TorchScript class, made from its compiled object; ember compiles no
    classes (torch.jit.script of a class raises NotImplementedError), so none is ever made."""

    def __init__(self, cpp_class):
        self.__dict__['_initializing'] = True
        self._c = cpp_class
        self._props = {}
        self.__dict__['_initializing'] = False


class ONNXTracedModule(Module):
    """The module torch's ONNX exporter traces through: calling it records a TorchScript
    graph, which ember does not build."""

    def __init__(self, inner, strict=True, force_outplace=False, return_inputs=False,
                 return_inputs_states=False):
        super().__init__()
        self.inner, self.strict = inner, strict
        self._force_outplace, self._return_inputs, self._return_inputs_states = \
            force_outplace, return_inputs, return_inputs_states

    def forward(self, *args):
        raise NotImplementedError('torch.jit.ONNXTracedModule.forward: recording a TorchScript '
                                  'graph is not supported by ember')


class ScriptFunction:
    """A scripted or traced function: calls the original."""

    def __init__(self, fn):
        functools.update_wrapper(self, fn)
        self._fn = fn

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def save(self, f, **kwargs):
        _no_torchscript('ScriptFunction.save (TorchScript serialization)')

    @property
    def code(self):
        _no_torchscript('ScriptFunction.code')

    @property
    def graph(self):
        _no_torchscript('ScriptFunction.graph')


def _deprecated(name, to='`torch.compile` or `torch.export`'):
    warnings.warn(f'`torch.jit.{name}` is deprecated. Please switch to {to}.',
                  DeprecationWarning, stacklevel=3)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """torch.jit.script: the module or function, to run eagerly."""
    _deprecated('script')
    if _builtin_isinstance(obj, ScriptModule) or _builtin_isinstance(obj, ScriptFunction):
        return obj
    if _builtin_isinstance(obj, Module):
        return RecursiveScriptModule._wrap(obj)
    if _builtin_isinstance(obj, type):
        raise NotImplementedError(f'torch.jit.script of a class ({obj.__name__}): TorchScript '
                                  'classes are not supported by ember')
    if callable(obj):
        return ScriptFunction(obj)
    raise RuntimeError(f'Type {type(obj)} cannot be compiled')


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """torch.jit.trace: runs func once on the example inputs (as tracing does) and returns
    something that computes the same, eagerly."""
    _deprecated('trace')
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError('example_kwarg_inputs or example_inputs must be provided')
    if _builtin_isinstance(func, ScriptModule) or _builtin_isinstance(func, ScriptFunction):
        warnings.warn('The input to trace is already a ScriptModule, tracing it is a no-op. '
                      'Returning the object as is.', stacklevel=2)
        return func
    args = (example_inputs,) if _builtin_isinstance(example_inputs, Tensor) else \
        tuple(example_inputs or ())
    with no_grad():
        if example_kwarg_inputs is not None:
            func(**example_kwarg_inputs)
        else:
            func(*args)
    if _builtin_isinstance(func, Module):
        return TopLevelTracedModule._wrap(func, type(func).__name__)
    return ScriptFunction(func)


def trace_module(mod, inputs, *args, **kwargs):
    _deprecated('trace_module')
    for method, example in inputs.items():
        example = (example,) if _builtin_isinstance(example, Tensor) else tuple(example)
        with no_grad():
            getattr(mod, method)(*example)
    return TopLevelTracedModule._wrap(mod, type(mod).__name__)


def script_if_tracing(fn):
    return fn


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    if not _builtin_isinstance(drop, bool):
        raise RuntimeError('Argument to @torch.jit.ignore must be a bool or a function but got '
                           f'{drop}')
    if drop:
        warnings.warn('ignore(True) has been deprecated. TorchScript will now drop the function '
                      'call on compilation. Use torch.jit.unused now. {}', FutureWarning,
                      stacklevel=2)
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    return obj


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def isinstance(obj, target_type):
    return _builtin_isinstance(obj, target_type)


class Attribute:
    """torch.jit.Attribute(value, type): outside TorchScript it is just the value."""

    def __new__(cls, value, type=None):
        return value


def fork(func, *args, **kwargs):
    """Runs func now (outside TorchScript torch runs it eagerly too) and returns a completed
    future of its result."""
    return _fork(func, *args, **kwargs)


def wait(future):
    """The result of a future returned by fork."""
    return future.wait()


def save(m, f, _extra_files=None):
    _no_torchscript('torch.jit.save (TorchScript serialization)')


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    _no_torchscript('torch.jit.load (TorchScript deserialization)')


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    _no_torchscript('torch.jit.freeze')


def optimize_for_inference(mod, other_methods=None):
    _no_torchscript('torch.jit.optimize_for_inference')


def export_opnames(m):
    _no_torchscript('torch.jit.export_opnames')


class CompilationUnit:
    def __init__(self, *args, **kwargs):
        _no_torchscript('torch.jit.CompilationUnit')


def set_fusion_strategy(strategy):
    return []


_onednn = [False]


def enable_onednn_fusion(enabled):
    _onednn[0] = bool(enabled)


def onednn_fusion_enabled():
    return _onednn[0]


class strict_fusion:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def script_method(fn):
    """Mark a method of a ScriptModule subclass for compilation (legacy API): the method runs
    eagerly; as torch, its source must be reachable."""
    try:
        inspect.getsource(fn)
    except (OSError, TypeError):
        raise OSError(f"Can't get source for {fn}. TorchScript requires source access in order "
                      "to carry out compilation, make sure original .py files are "
                      "available.") from None
    return fn


_FUSERS = ('fuser0', 'fuser1', 'fuser2', 'fuser3', 'none')


@contextlib.contextmanager
def fuser(name):
    """Choose TorchScript's fusion backend for a block (ember runs no fuser)."""
    if name not in _FUSERS:
        raise Exception(f'unrecognized fuser option (name: {name})')  # noqa: TRY002 (torch's)
    yield


@contextlib.contextmanager
def optimized_execution(should_optimize):
    """Turn TorchScript's graph optimisations on or off for a block (nothing to do here)."""
    yield


def last_executed_optimized_graph():
    """The optimised graph of the last TorchScript call: None, as before any such call."""
    return None


def run_frozen_optimizations(mod, optimize_numerics=True, preserved_methods=None):
    if not _builtin_isinstance(mod, ScriptModule):
        raise AttributeError(f"'{type(mod).__name__}' object has no attribute '_c'")
    _no_torchscript('torch.jit.run_frozen_optimizations')


@_unimplemented('torch.jit.save_jit_module_to_flatbuffer')
def save_jit_module_to_flatbuffer(m, f, _extra_files=None):
    _no_torchscript('torch.jit.save_jit_module_to_flatbuffer (TorchScript serialization)')


@_unimplemented('torch.jit.jit_module_from_flatbuffer')
def jit_module_from_flatbuffer(f):
    _no_torchscript('torch.jit.jit_module_from_flatbuffer (TorchScript deserialization)')


from . import annotations, frontend  # noqa: E402,F401
