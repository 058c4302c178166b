"""ember/_tensor.pyi (tools/gen_tensor_stub.py) shows every Tensor method to readers, editors and
type checkers; it is regenerated here from the live class and must equal the committed file."""
import ast
import os
import subprocess
import sys

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None


import ember

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, 'ember', '_tensor.pyi')


def _generated():
    # a fresh interpreter: methods other tests attach or patch must not leak into the stub
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'gen_tensor_stub.py'),
                        '--print'], capture_output=True, text=True, env=env, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _stub_tree():
    with open(STUB, encoding='utf-8') as f:
        return ast.parse(f.read(), STUB)


def test_committed_stub_is_up_to_date():
    with open(STUB, encoding='utf-8') as f:
        committed = f.read()
    assert committed == _generated(), \
        'ember/_tensor.pyi is out of date: run python tools/gen_tensor_stub.py'


def _stub_class(name):
    return next(n for n in _stub_tree().body if isinstance(n, ast.ClassDef) and n.name == name)


def test_stub_declares_every_public_and_dunder_member():
    declared = set()
    for node in _stub_class('Tensor').body:
        if isinstance(node, ast.FunctionDef):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            declared.add(node.target.id)
    runtime = {n for n in dir(ember.Tensor)
               if (not n.startswith('_') or n.startswith('__')) and n in ember.Tensor.__dict__}
    runtime -= {'__module__', '__doc__', '__slots__', '__dict__', '__weakref__'}
    assert runtime <= declared, sorted(runtime - declared)
    # the ops' methods are there, with their signatures
    add = next(n for n in _stub_class('Tensor').body
               if isinstance(n, ast.FunctionDef) and n.name == 'add')
    assert [a.arg for a in add.args.kwonlyargs] == ['alpha', 'out']


def test_stub_declares_the_module_names_other_files_import():
    names = set()
    for node in _stub_tree().body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split('.')[0] for a in node.names)
    from ember import _tensor
    public = {n for n in vars(_tensor) if not n.startswith('__')}
    assert public <= names, sorted(public - names)


def test_stub_ships_with_the_package_and_is_never_imported():
    if tomllib is not None:
        with open(os.path.join(ROOT, 'pyproject.toml'), 'rb') as f:
            data = tomllib.load(f)['tool']['setuptools']['package-data']['ember']
        assert '*.pyi' in data and 'py.typed' in data
    assert os.path.exists(os.path.join(ROOT, 'ember', 'py.typed'))
    # the runtime module is still the .py file
    assert ember._tensor.__file__.endswith('_tensor.py')
