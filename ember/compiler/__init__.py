"""torch.compiler: ember has no graph compiler and runs everything eagerly, so these functions
keep torch's checks and return values while leaving the computation as written (no code is
ever being compiled or exported, and nothing is ever cached)."""
import dataclasses
import functools
import inspect
import typing
from collections import defaultdict

import numpy as np

from .. import _compile
from .._tensor import Tensor, _wrap
from ..nn.parameter import Parameter
from .._compile import compile
from . import config

__all__ = [
    'compile', 'config', 'assume_constant_result', 'reset', 'allow_in_graph',
    'substitute_in_graph', 'list_backends', 'disable', 'set_default_backend',
    'get_default_backend', 'set_stance', 'set_enable_guard_collectives',
    'cudagraph_mark_step_begin', 'load_compiled_function', 'wrap_numpy', 'is_compiling',
    'is_dynamo_compiling', 'is_exporting', 'save_cache_artifacts', 'load_cache_artifacts',
    'keep_portable_guards_unsafe', 'skip_guard_on_inbuilt_nn_modules_unsafe',
    'skip_guard_on_all_nn_modules_unsafe', 'keep_tensor_guards_unsafe',
    'skip_guard_on_globals_unsafe', 'skip_all_guards_unsafe', 'nested_compile_region',
]

F = typing.TypeVar('F', bound=typing.Callable[..., typing.Any])


def reset():
    """Clear compilation caches: ember keeps none."""


def allow_in_graph(fn):
    """Mark fn to be kept whole in a compiled graph; returns fn itself."""
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(x) for x in fn]
    if not callable(fn):
        raise TypeError(f"allow_in_graph expects a callable, but got {type(fn)}")
    return fn


def assume_constant_result(fn):
    """Mark fn's result as a compile-time constant; returns fn itself."""
    fn._dynamo_marked_constant = True
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through=False,
                        skip_signature_check=False):
    """Register a Python stand-in for a C function inside compiled graphs. The decorator
    checks the stand-in's signature against the original's (as torch's does) and returns the
    original, which is what runs eagerly."""
    if not inspect.isfunction(original_fn) and not inspect.isbuiltin(original_fn):
        raise TypeError(f"substitute_in_graph expects a function but got {type(original_fn)!r}")

    def wrapper(traceable_fn):
        if not inspect.isfunction(traceable_fn):
            raise TypeError(
                f"@substitute_in_graph(...) expects a function but got {type(traceable_fn)!r}")
        if not skip_signature_check:
            try:
                original_sig = inspect.signature(original_fn)
            except ValueError:
                pass
            else:
                traceable_sig = inspect.signature(traceable_fn)
                if _sig_shape(original_sig) != _sig_shape(traceable_sig):
                    raise TypeError(f"Signature mismatch between {original_fn} and "
                                    f"{traceable_fn}: {original_sig} != {traceable_sig}")
        return original_fn
    return wrapper


def _sig_shape(sig):
    """What torch compares between two signatures: each parameter's name, kind and default."""
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def list_backends(exclude_tags=('debug', 'experimental')):
    """The backend names torch.compile accepts (torch's registry on a CPU-only machine)."""
    if exclude_tags is None:
        exclude_tags = ()
    return sorted(_compile._LISTED_BACKENDS if exclude_tags else _compile._BACKENDS)


def set_default_backend(backend):
    """The backend torch.compile uses when none is given (None restores 'inductor')."""
    if backend is None:
        _compile._default_backend = 'inductor'
        return
    if not isinstance(backend, str) and not callable(backend):
        raise TypeError(f"backend must be a string or callable, got {type(backend)}")
    _compile._default_backend = backend


def get_default_backend():
    return _compile._default_backend


def disable(fn=None, recursive=True, *, reason=None):
    """Exclude fn from compilation: a wrapper (with __wrapped__) that runs fn; without fn, a
    decorator."""
    if fn is None:
        def wrap(fn):
            return disable(fn, recursive, reason=reason)
        return wrap
    return _compile._eager_wrapper(fn)


class set_stance:
    """Set how compiled functions behave ('default', 'force_eager', 'eager_on_recompile',
    'fail_on_recompile', ...): as a call, a `with` block or a decorator. Running eagerly,
    ember behaves the same under every stance."""
    _current = ('default', False, None)

    def __init__(self, stance='default', *, skip_guard_eval_unsafe=False, force_backend=None):
        if force_backend is not None and stance != 'default':
            raise RuntimeError("non-default stance cannot have force_backend set")
        self.stance = (stance, skip_guard_eval_unsafe, force_backend)
        self.prev = set_stance._current
        set_stance._current = self.stance

    def __call__(self, fn):
        set_stance._current = self.prev
        stance = self.stance
        if not callable(fn):
            raise RuntimeError("set_stance must be used as a decorator, context manager, or "
                               "function call")

        @functools.wraps(fn)
        def _fn(*args, **kwargs):
            prev, set_stance._current = set_stance._current, stance
            try:
                return fn(*args, **kwargs)
            finally:
                set_stance._current = prev
        return _fn

    def __enter__(self):
        set_stance._current = self.stance

    def __exit__(self, exc_type, exc_val, exc_tb):
        set_stance._current = self.prev

    def clone(self):
        return set_stance(*self.stance[:1], skip_guard_eval_unsafe=self.stance[1],
                          force_backend=self.stance[2])


_guard_collectives = False


def set_enable_guard_collectives(enabled):
    """Whether compiled code synchronises guard results across ranks; returns the previous
    setting."""
    global _guard_collectives
    prev, _guard_collectives = _guard_collectives, bool(enabled)
    return prev


def cudagraph_mark_step_begin():
    """Mark the start of an iteration for CUDA graphs: nothing to do without CUDA graphs."""


def load_compiled_function(file, *, f_globals=None, external_data=None):
    raise NotImplementedError("ember does not implement torch.compiler.load_compiled_function: "
                              "it has no compiled artifacts to load (everything runs eagerly)")


def wrap_numpy(fn):
    """Let a function written for NumPy arrays take and return tensors: tensor arguments (also
    inside lists, tuples and dicts) reach fn as ndarrays, ndarrays in its result come back as
    tensors (sharing memory, as torch.from_numpy does)."""
    def convert(x, test, conv):
        if test(x):
            return conv(x)
        if isinstance(x, (list, tuple)):
            return type(x)(convert(v, test, conv) for v in x)
        if isinstance(x, dict):
            return {k: convert(v, test, conv) for k, v in x.items()}
        return x

    def to_np(t):
        return t.numpy(force=True)

    def to_tensor(a):
        return _wrap(np.asarray(a))

    is_t = lambda x: isinstance(x, Tensor)  # noqa: E731
    is_a = lambda x: isinstance(x, np.ndarray)  # noqa: E731

    @functools.wraps(fn)
    def wrap(*args, **kwargs):
        args = convert(args, is_t, to_np)
        kwargs = convert(kwargs, is_t, to_np)
        return convert(fn(*args, **kwargs), is_a, to_tensor)
    return wrap


def is_compiling():
    """False: ember never traces code (torch answers True only inside a compiled region)."""
    return False


def is_dynamo_compiling():
    return False


def is_exporting():
    return False


def _artifacts_of(kind):
    """A CacheInfo property: the keys of the artifacts of one kind."""
    return property(lambda self: self.artifacts[kind])


@dataclasses.dataclass
class CacheInfo:
    """What save_cache_artifacts/load_cache_artifacts report: artifact keys by kind."""
    artifacts: defaultdict = dataclasses.field(default_factory=lambda: defaultdict(list))

    inductor_artifacts = _artifacts_of('inductor')
    autotune_artifacts = _artifacts_of('autotune')
    aot_autograd_artifacts = _artifacts_of('aot_autograd')
    pgo_artifacts = _artifacts_of('pgo')
    precompile_artifacts = _artifacts_of('precompile')

    def add(self, artifact):
        self.artifacts[artifact.type()].append(artifact.key)

    def clear(self):
        self.artifacts.clear()

    def empty(self):
        return not self.artifacts


CacheInfo.__module__ = 'torch.compiler._cache'


def save_cache_artifacts():
    """The compilation caches as bytes: None, since nothing was ever compiled."""
    return None


def load_cache_artifacts(serialized_artifacts):
    """Load artifacts saved by save_cache_artifacts: ember compiles nothing, so there is never
    anything to load; torch answers None (with a logged warning) for bytes it cannot read."""
    return None


def _guard_flags(guard_entries, keep):
    return [keep(e) for e in guard_entries]


def keep_portable_guards_unsafe(guard_entries):
    return _guard_flags(guard_entries, lambda e: e.guard_type in ('GLOBAL_STATE', 'SHAPE_ENV') or (
        e.guard_type == 'TENSOR_MATCH' and not e.is_global))


def skip_guard_on_inbuilt_nn_modules_unsafe(guard_entries):
    return _guard_flags(
        guard_entries, lambda e: not e.orig_guard.source.is_unspecialized_builtin_nn_module())


def skip_guard_on_all_nn_modules_unsafe(guard_entries):
    return _guard_flags(
        guard_entries, lambda e: not e.orig_guard.source.is_unspecialized_nn_module())


def keep_tensor_guards_unsafe(guard_entries, keep_parameters=False):
    def keep(e):
        if e.guard_type == 'TENSOR_MATCH':
            return keep_parameters or not isinstance(e.value, Parameter)
        return False
    return _guard_flags(guard_entries, keep)


def skip_guard_on_globals_unsafe(guard_entries):
    return _guard_flags(guard_entries, lambda e: not e.is_global)


def skip_all_guards_unsafe(guard_entries):
    return _guard_flags(guard_entries, lambda e: False)


@dataclasses.dataclass
class NestedCompileRegionOptions:
    """Per-region compiler settings for nested_compile_region."""
    fw_compiler: typing.Optional[typing.Callable] = None
    bw_compiler: typing.Optional[typing.Callable] = None
    partitioner: typing.Any = None
    decompositions: typing.Optional[dict] = None


NestedCompileRegionOptions.__module__ = 'torch._higher_order_ops.invoke_subgraph'


def nested_compile_region(fn=None, *, options=None, max_reuse_entries=8, reuse_hash_fn=None):
    """Mark fn as a region to compile once and reuse: eagerly, a wrapper that calls it."""
    def wrap(func):
        def inner(*args, **kwargs):
            return func(*args, **kwargs)
        inner.__name__ = 'inner'
        return inner
    if fn is None:
        return wrap
    return wrap(fn)

from .._stubs import hook  # noqa: E402
hook(__name__)
