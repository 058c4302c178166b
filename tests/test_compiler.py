"""torch.compiler and torch.compile on ember (eager) answer as torch 2.13 does on the CPU."""
import subprocess
import sys

import numpy as np
import pytest

import ember
from _oracle import assert_same

torch = pytest.importorskip('torch')


def _f(x):
    return x * 2 + 1


def _value(L, fn):
    return fn(L.tensor([1.0, 2.0])).tolist()


CASES = {
    'list_backends': lambda L: L.compiler.list_backends(),
    'list_backends_all': lambda L: L.compiler.list_backends(exclude_tags=()),
    'default_backend': lambda L: L.compiler.get_default_backend(),
    'flags': lambda L: (L.compiler.is_compiling(), L.compiler.is_dynamo_compiling(),
                        L.compiler.is_exporting()),
    'reset': lambda L: (L.compiler.reset(), L.compiler.cudagraph_mark_step_begin()),
    'load_cache_garbage': lambda L: L.compiler.load_cache_artifacts(b'abc'),
    'allow_in_graph': lambda L: L.compiler.allow_in_graph(_f) is _f,
    'assume_constant': lambda L: L.compiler.assume_constant_result(_f) is _f,
    'disable': lambda L: (L.compiler.disable(_f).__wrapped__ is _f,
                          _value(L, L.compiler.disable(_f)),
                          _value(L, L.compiler.disable(recursive=False)(_f))),
    'nested_region': lambda L: (_value(L, L.compiler.nested_compile_region(_f)),
                                L.compiler.nested_compile_region(_f).__name__,
                                _value(L, L.compiler.nested_compile_region()(_f))),
    'substitute_ok': lambda L: L.compiler.substitute_in_graph(len)(lambda obj, /: 5)([1]),
    'substitute_mismatch': lambda L: L.compiler.substitute_in_graph(len)(lambda x: 5),
    'substitute_ufunc': lambda L: L.compiler.substitute_in_graph(np.add),
    'stance_backend': lambda L: L.compiler.set_stance('force_eager', force_backend='eager'),
    'set_default_bad': lambda L: L.compiler.set_default_backend(3),
    'guard_collectives': lambda L: (L.compiler.set_enable_guard_collectives(True),
                                    L.compiler.set_enable_guard_collectives(False)),
    'guards_empty': lambda L: [getattr(L.compiler, n)([]) for n in (
        'keep_portable_guards_unsafe', 'keep_tensor_guards_unsafe', 'skip_all_guards_unsafe',
        'skip_guard_on_globals_unsafe', 'skip_guard_on_all_nn_modules_unsafe',
        'skip_guard_on_inbuilt_nn_modules_unsafe')],
    'config': lambda L: [getattr(L.compiler.config, n) for n in L.compiler.config.__all__],
    'compile_bad_backend': lambda L: L.compile(_f, backend='nope'),
    'compile_bad_mode': lambda L: L.compile(_f, mode='fastest'),
    'compile_mode_and_options': lambda L: L.compile(_f, mode='default', options={}),
    'compile_not_callable': lambda L: L.compile(3),
    'compile_eager': lambda L: _value(L, L.compile(_f, backend='eager', fullgraph=True,
                                                   dynamic=True)),
    'compile_decorator': lambda L: _value(L, L.compile(backend='aot_eager')(_f)),
    'compile_disable': lambda L: L.compile(_f, disable=True) is _f,
    'compile_via_compiler': lambda L: _value(L, L.compiler.compile(_f, backend='eager')),
    'compile_inductor_modes': lambda L: [callable(L.compile(_f, mode=m)) for m in (
        'default', 'reduce-overhead', 'max-autotune', 'max-autotune-no-cudagraphs')],
    'compile_none': lambda L: L.compile(None)(None),
    'wrap_numpy': lambda L: L.compiler.wrap_numpy(
        lambda a, b=2: (a * b, [a.sum()], {'k': a.shape}, 3))(L.arange(3), b=L.tensor(3)),
}


def _plain(v):
    """Tensors compared by value and dtype (ember's and torch's types differ)."""
    if hasattr(v, 'tolist') and hasattr(v, 'dtype') and not isinstance(v, (np.ndarray, np.generic)):
        return ('tensor', str(v.dtype), v.tolist())
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


@pytest.mark.parametrize('case', sorted(CASES))
def test_compiler_as_torch(case):
    assert_same(lambda L: _plain(CASES[case](L)), torch)


def test_default_backend_round_trip():
    for L in (torch, ember):
        L.compiler.set_default_backend('eager')
        assert L.compiler.get_default_backend() == 'eager'
        L.compiler.set_default_backend(None)
        assert L.compiler.get_default_backend() == 'inductor'


def test_set_stance_forms():
    calls = []

    @ember.compiler.set_stance('force_eager')
    def g(x):
        calls.append(x)
        return x
    assert g(3) == 3 and calls == [3]
    with ember.compiler.set_stance('eager_on_recompile'):
        assert ember.compiler.set_stance._current[0] == 'eager_on_recompile'
    assert ember.compiler.set_stance._current[0] == 'default'


def test_compiled_module_trains_like_the_original():
    ember.manual_seed(0)
    m = ember.nn.Linear(3, 2)
    cm = ember.compile(m, backend='eager')
    x = ember.randn(4, 3)
    assert ember.equal(cm(x), m(x))
    assert list(cm.state_dict()) == ['_orig_mod.weight', '_orig_mod.bias']
    cm(x).sum().backward()
    assert m.weight.grad is not None


def test_nothing_cached_until_something_compiled():
    # torch's answer in a fresh process (this one may have compiled functions already)
    code = 'import torch; print(torch.compiler.save_cache_artifacts())'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == repr(ember.compiler.save_cache_artifacts())


def test_cache_info():
    for L in (torch, ember):
        info = L.compiler.CacheInfo()
        assert info.empty() and info.inductor_artifacts == [] and info.pgo_artifacts == []
