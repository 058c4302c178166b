"""`import ember` leaves the heavier namespaces for first use; they must behave as if loaded.

Each check runs in a fresh interpreter, as a user's program starts.
"""
import subprocess
import sys
import textwrap

import pytest

from _subproc import env

LAZY = ['ember.distributions', 'ember.distributed', 'ember.serialization', 'ember.cuda',
        'ember.jit', 'ember.onnx', 'ember.utils.data', 'ember.func', 'ember.nn.parallel',
        'ember._hook', 'ctypes.util', 'ember.library', 'ember.nested', 'ember.return_types']


def _run(source):
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(source)], env=env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_import_ember_leaves_heavy_namespaces_unloaded():
    out = _run(f'''
        import sys, ember
        print(sorted(m for m in {LAZY!r} if m in sys.modules))
    ''')
    assert out.strip() == '[]'


@pytest.mark.parametrize('access', [
    'ember.distributions.Normal(0., 1.).mean',
    'ember.utils.data.DataLoader',
    'ember.cuda.is_available()',
    'ember.vmap is ember.func.vmap',
    'ember.save.__module__',
    'ember.nn.parallel.DistributedDataParallel',
    'ember.library.custom_op',
    'ember.nested.nested_tensor([ember.ones(2)])',
    'ember.return_types.max',
])
def test_lazy_namespaces_load_on_first_attribute(access):
    out = _run(f'''
        import ember
        print(repr({access}))
    ''')
    assert out.strip() and 'Error' not in out


@pytest.mark.parametrize('how', ['attribute', 'import'])
def test_lazily_loaded_namespace_keeps_the_missing_name_fallback(how):
    # torch.onnx's names that ember lacks resolve to stubs (NotImplementedError when used),
    # whether the namespace is reached as an attribute or imported after `import ember`
    out = _run(f'''
        import ember
        from ember import _stubs
        {'import ember.onnx as ns' if how == 'import' else 'ns = ember.onnx'}
        names = sorted(_stubs.kinds('torch.onnx'))
        got = [getattr(ns, n) for n in names]
        missing = [n for n, o in zip(names, got) if _stubs.is_missing(o)]
        assert missing, 'expected some torch.onnx names ember lacks'
        try:
            getattr(ns, missing[0])()
        except NotImplementedError as e:
            print('NotImplementedError', e)
    ''')
    assert out.startswith('NotImplementedError ember does not implement torch.onnx.')


def test_pickling_a_tensor_loads_the_serializer():
    out = _run('''
        import pickle, sys, ember
        t = pickle.loads(pickle.dumps(ember.arange(3.)))
        print(t.tolist(), 'ember.serialization' in sys.modules)
    ''')
    assert out.split() == ['[0.0,', '1.0,', '2.0]', 'True']
