"""torch.compiler.config: the compiler's cross-cutting settings. ember runs eagerly, so they
are plain values that code may read and set (as it does on torch)."""
import contextlib
import os
import sys

__all__ = [
    'job_id', 'dynamic_shapes', 'assume_static_by_default', 'automatic_dynamic_shapes',
    'recompile_limit', 'accumulated_recompile_limit', 'verbose', 'capture_scalar_outputs',
    'capture_dynamic_output_shape_ops', 'log_file_name', 'fail_on_recompile_limit_hit',
    'allow_unspec_int_on_nn_module', 'skip_tensor_guards_with_matching_dict_tags',
    'enable_cpp_symbolic_shape_guards', 'wrap_top_frame', 'reorderable_logging_functions',
    'force_disable_caches',
]

job_id = os.environ.get('TORCH_COMPILE_JOB_ID') or os.environ.get('TORCH_COMPILE_STICKY_PGO_KEY')
pgo_extra_read_key = os.environ.get('TORCH_COMPILE_STICKY_PGO_READ')
pgo_extra_write_key = os.environ.get('TORCH_COMPILE_STICKY_PGO_WRITE')
cache_key_tag = os.environ.get('TORCH_COMPILE_CACHE_KEY_TAG', '')
force_disable_caches = os.environ.get('TORCHINDUCTOR_FORCE_DISABLE_CACHES', '0') == '1'
dynamic_sources = os.environ.get('TORCH_COMPILE_DYNAMIC_SOURCES', '')
dynamic_values = ''
unbacked_sources = os.environ.get('TORCH_COMPILE_UNBACKED_SOURCES', '')
force_cudagraph_gc = False
dynamic_shapes = True
assume_static_by_default = True
automatic_dynamic_shapes = True
recompile_limit = 8
accumulated_recompile_limit = 256
verbose = False
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
log_file_name = None
fail_on_recompile_limit_hit = False
allow_unspec_int_on_nn_module = False
skip_tensor_guards_with_matching_dict_tags = True
enable_cpp_symbolic_shape_guards = False
wrap_top_frame = False
reorderable_logging_functions = set()

_CONFIG_KEYS = ('job_id', 'pgo_extra_read_key', 'pgo_extra_write_key', 'cache_key_tag',
                'force_disable_caches', 'dynamic_sources', 'dynamic_values', 'unbacked_sources',
                'force_cudagraph_gc')


def get_config_copy():
    """The module's own settings, as a dict (torch's config modules have it)."""
    mod = sys.modules[__name__]
    return {k: getattr(mod, k) for k in _CONFIG_KEYS}


@contextlib.contextmanager
def _patch_cm(changes):
    mod = sys.modules[__name__]
    old = {}
    for k, v in changes.items():
        if not hasattr(mod, k) or k.startswith('_'):
            raise AttributeError(f"{__name__}.{k} does not exist")
        old[k] = getattr(mod, k)
    try:
        for k, v in changes.items():
            setattr(mod, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(mod, k, v)


def patch(arg1=None, arg2=None, **kwargs):
    """Set some settings for a `with` block (or a decorated function), then restore them:
    patch('verbose', True), patch({'verbose': True}) or patch(verbose=True)."""
    if isinstance(arg1, str):
        changes = {arg1: arg2}
    elif isinstance(arg1, dict):
        changes = dict(arg1)
    else:
        changes = {}
    changes.update(kwargs)
    return _patch_cm(changes)
