"""torch.compile: ember runs eagerly, so compiling keeps the computation and torch's structure.

A compiled module is an `OptimizedModule` wrapping the original as its child `_orig_mod`
(so its state_dict keys gain the `_orig_mod.` prefix, exactly as torch's do), reading and
writing every other attribute through to the original. A compiled function is a thin wrapper
with `__wrapped__` pointing at the original, as torch's is.
"""
import functools

from .nn.modules.module import Module

__all__ = ['compile', 'OptimizedModule', 'InvalidBackend']

_MODES = (None, 'default', 'lite', 'reduce-overhead', 'max-autotune-no-cudagraphs',
          'max-autotune')


class OptimizedModule(Module):
    """The module torch.compile(model) returns (torch._dynamo.eval_frame.OptimizedModule)."""

    _opt_mod_attributes = {'_orig_mod', 'dynamo_ctx', '_torchdynamo_orig_callable',
                           'get_compiler_config', 'forward', '_forward', '__dict__',
                           '_super_module_initialized'}

    def __init__(self, mod, dynamo_ctx=None):
        object.__setattr__(self, '_orig_mod', mod)
        self._super_module_initialized = False
        super().__init__()
        self._super_module_initialized = True
        self._orig_mod = mod  # registers the child: state_dict keys become '_orig_mod.*'
        self.dynamo_ctx = dynamo_ctx
        self._initialize()

    def _initialize(self):
        self.forward = self._orig_mod.__call__

    def __len__(self):
        if hasattr(type(self._orig_mod), '__len__'):
            return len(self._orig_mod)
        raise TypeError(f'{type(self._orig_mod).__name__} does not support len()')

    @property
    def training(self):
        return self._orig_mod.training

    @training.setter
    def training(self, value):
        if self.__dict__.get('_super_module_initialized'):
            self._orig_mod.training = value

    def __getattr__(self, name):
        if name == '_orig_mod':
            return self._modules['_orig_mod']
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __reduce__(self):
        return (self.__class__, (self._orig_mod, self.dynamo_ctx))

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop('forward', None)
        return state

    def __setstate__(self, state):
        self.__dict__ = state
        self._initialize()

    def __dir__(self):
        own = self._orig_mod.__dir__()
        return own + [a for a in super().__dir__() if a not in own]


# torch's backend registry on a CPU-only machine (list_backends(exclude_tags=())); the
# experimental and debug ones are those list_backends() leaves out by default
_BACKENDS = ('aot_eager', 'aot_eager_decomp_partition', 'aot_eager_decomp_partition_crossref',
             'aot_eager_decomp_partition_with_mode', 'aot_eager_default_partitioner', 'aot_ts',
             'cudagraphs', 'dynamo_accuracy_minifier_backend', 'dynamo_minifier_backend',
             'eager', 'eager_debug', 'eager_noexcept', 'inductor', 'invoke_subgraph',
             'non_leaf_compile_error_TESTING_ONLY', 'openxla', 'openxla_eval',
             'pre_dispatch_eager', 'relu_accuracy_error_TESTING_ONLY',
             'relu_compile_error_TESTING_ONLY', 'relu_runtime_error_TESTING_ONLY', 'ts', 'tvm')
_LISTED_BACKENDS = ('cudagraphs', 'inductor', 'openxla', 'tvm')

_default_backend = 'inductor'


class InvalidBackend(RuntimeError):
    """torch._dynamo.exc.InvalidBackend (a RuntimeError)."""

    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for "
                         "available backends.")


def _check_args(backend, mode, options):
    if mode is not None and options is not None:
        raise RuntimeError('Either mode or options can be specified, but both can\'t be '
                           'specified at the same time.')
    if isinstance(backend, str):
        if backend not in _BACKENDS:
            raise InvalidBackend(backend)
        if backend == 'inductor' and mode not in _MODES:
            raise RuntimeError(f'Unrecognized mode={mode}, should be one of: '
                               + ', '.join(m for m in _MODES if m))


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """torch.compile: returns something that computes the same, eagerly (ember has no graph
    compiler; every backend name torch knows is accepted and runs the model as written)."""
    if backend is None:
        backend = _default_backend
    if model is None:
        def fn(model):
            if model is None:
                raise RuntimeError('Model can\'t be None')
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                           mode=mode, options=options, name=name, disable=disable,
                           recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
        return fn
    _check_args(backend, mode, options)
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model)
    return _eager_wrapper(model)


def _eager_wrapper(fn):
    """What compiling or disabling a function gives when everything runs eagerly: a wrapper
    (with `__wrapped__`) that calls it."""
    if not callable(fn):
        raise AssertionError(f'A callable function is expected, but {type(fn)} is provided.')

    @functools.wraps(fn)
    def compile_wrapper(*args, **kw):
        return fn(*args, **kw)
    return compile_wrapper
