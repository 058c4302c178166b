"""``ember run``: unmodified programs with torch imports answered by ember, end to end."""
import os
import subprocess
import sys

import pytest

from _subproc import ROOT, env, python, run_ember, write

PROBE = '''
    import os, sys
    import torch
    import ember
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.nn.modules.linear
    from torch.utils.data import DataLoader
    from torch import optim
    print('name', __name__)
    print('argv', sys.argv)
    print('path0', sys.path[0])
    print('file', __file__)
    print('same', sys.modules['torch'] is ember, torch.nn is ember.nn, nn is ember.nn,
          F is ember.nn.functional, optim is ember.optim, DataLoader is ember.utils.data.DataLoader,
          torch.nn.modules.linear is ember.nn.modules.linear,
          sys.modules['torch.nn.functional'] is sys.modules['ember.nn.functional'])
    # one module object per file: no ember module was imported twice under another name
    files = {}
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, '__file__', None)
        if f and os.path.abspath(f).startswith(os.path.dirname(ember.__file__)):
            files.setdefault(os.path.abspath(f), set()).add(id(mod))
    print('dups', sorted(f for f, ids in files.items() if len(ids) > 1))
    print('ember', os.path.dirname(ember.__file__))
    x = torch.ones(2, 3)
    print(type(x).__module__, nn.Linear(3, 1)(x).shape)
'''


def _lines(out):
    return dict(line.split(' ', 1) for line in out.splitlines() if ' ' in line)


def test_script_sees_python_main_environment(tmp_path):
    script = write(tmp_path, 'sub/prog.py', PROBE)
    r = run_ember('run', 'sub/prog.py', 'a', '--flag', '-x', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = _lines(r.stdout)
    assert out['name'] == '__main__'
    assert out['argv'] == repr(['sub/prog.py', 'a', '--flag', '-x'])
    assert out['path0'] == os.path.realpath(tmp_path / 'sub')
    assert out['file'] == str(script)
    assert out['same'] == 'True True True True True True True True'
    assert out['dups'] == '[]'
    assert out['ember'] == os.path.join(ROOT, 'ember')
    # the same program under plain python with the real torch: the same argv and path0
    r2 = python('sub/prog.py', 'a', '--flag', '-x', cwd=tmp_path,
                extra_env={'PYTHONPATH': ROOT})
    if r2.returncode == 0:
        out2 = _lines(r2.stdout)
        for k in ('name', 'argv', 'path0', 'file'):
            assert out2[k] == out[k]


def test_module_mode(tmp_path):
    write(tmp_path, 'pkg/__init__.py', '')
    write(tmp_path, 'pkg/train.py', '''
        import sys, torch
        print('name', __name__)
        print('pkg', __package__)
        print('argv0', sys.argv[0])
        print('args', sys.argv[1:])
        print('path0', sys.path[0])
        print('torch', torch.__name__)
    ''')
    write(tmp_path, 'pkg/__main__.py', 'import sys\nprint("main", __name__, sys.argv[1:])\n')
    r = run_ember('run', '-m', 'pkg.train', '-v', '--lr', '3', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = _lines(r.stdout)
    assert out['name'] == '__main__' and out['pkg'] == 'pkg'
    assert out['argv0'] == str(tmp_path / 'pkg' / 'train.py')
    assert out['args'] == repr(['-v', '--lr', '3'])
    assert out['path0'] == str(tmp_path)
    assert out['torch'] == 'ember'
    r = run_ember('run', '-m', 'pkg', 'z', cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "main __main__ ['z']", r.stderr
    r = run_ember('run', '-m', 'no_such_mod_xyz', cwd=tmp_path)
    assert r.returncode == 1 and 'No module named no_such_mod_xyz' in r.stderr


@pytest.mark.parametrize('code,expected,stderr', [
    ('pass', 0, ''),
    ('import sys; sys.exit(3)', 3, ''),
    ('import sys; sys.exit()', 0, ''),
    ("import sys; sys.exit('stopped early')", 1, 'stopped early'),
    ('raise SystemExit(4)', 4, ''),
    ('import os; os._exit(5)', 5, ''),
])
def test_exit_codes(tmp_path, code, expected, stderr):
    write(tmp_path, 'p.py', 'import torch\n' + code + '\n')
    r = run_ember('run', 'p.py', cwd=tmp_path)
    assert r.returncode == expected
    assert stderr in r.stderr
    ref = python('p.py', cwd=tmp_path)   # python itself (torch installed) agrees
    assert ref.returncode == expected


def test_exception_traceback_shows_user_frames_only(tmp_path):
    write(tmp_path, 'crash.py', '''
        import torch

        def inner(t):
            return t.view(7, 7)   # a shape error raised inside the library

        def outer():
            return inner(torch.ones(2, 3))

        outer()
    ''')
    r = run_ember('run', 'crash.py', cwd=tmp_path)
    assert r.returncode == 1
    err = r.stderr
    assert err.startswith('Traceback (most recent call last):\n'), err
    first = err.splitlines()[1]
    assert first.startswith(f'  File "{tmp_path / "crash.py"}", line 10, in <module>'), err
    assert 'in outer' in err and 'in inner' in err
    assert 'RuntimeError' in err.splitlines()[-1]
    for runner in ('_runner.py', '_cli.py', 'runpy.py', 'ember/__main__.py', '<frozen'):
        assert runner not in err, err


def test_chained_exception_and_excepthook(tmp_path):
    write(tmp_path, 'hook.py', '''
        import sys
        def hook(t, v, tb):
            print('HOOK', t.__name__, v, tb.tb_frame.f_code.co_filename.endswith('hook.py'),
                  file=sys.stderr)
        sys.excepthook = hook
        try:
            {}['k']
        except KeyError as e:
            raise ValueError('wrapped') from e
    ''')
    r = run_ember('run', 'hook.py', cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == 'HOOK ValueError wrapped True'


def test_syntax_error_and_missing_file(tmp_path):
    write(tmp_path, 'bad.py', 'x = (\n')
    r = run_ember('run', 'bad.py', cwd=tmp_path)
    assert r.returncode == 1 and 'SyntaxError' in r.stderr and 'bad.py' in r.stderr
    r = run_ember('run', 'missing.py', cwd=tmp_path)
    assert r.returncode == 2 and "can't open file" in r.stderr
    r = run_ember('run', cwd=tmp_path)
    assert r.returncode == 2


def test_missing_torch_submodule_is_clear(tmp_path):
    write(tmp_path, 'p.py', '''
        import torch
        try:
            import torch._no_such_submodule_xyz
        except ImportError as e:
            print(type(e).__name__, isinstance(e, ModuleNotFoundError),
                  isinstance(e, NotImplementedError), e.name)
        import torch._no_such_submodule_xyz.deeper
    ''')
    r = run_ember('run', 'p.py', cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.split() == ['TorchModuleNotImplementedError', 'True', 'True',
                                'torch._no_such_submodule_xyz']
    last = r.stderr.strip().splitlines()[-1]
    assert 'ember does not implement torch._no_such_submodule_xyz' in last, r.stderr
    assert f'File "{tmp_path / "p.py"}", line 8' in r.stderr
    assert "_hook.py" not in r.stderr and "<frozen" not in r.stderr


def test_pickle_of_user_class_under_run(tmp_path):
    # classes defined in the script live in __main__, as under python
    write(tmp_path, 'p.py', '''
        import pickle, torch
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = torch.nn.Linear(2, 1)
        n = pickle.loads(pickle.dumps(Net()))
        print(type(n).__module__, type(n).__qualname__, type(n.fc).__name__)
    ''')
    r = run_ember('run', 'p.py', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['__main__', 'Net', 'Linear']


def test_run_without_torch_installed(tmp_path):
    # a program run by ember never needs the real torch: hide it and run anyway
    write(tmp_path, 'block/sitecustomize.py', '''
        import sys
        class _Block:
            def find_spec(self, name, path=None, target=None):
                if name == 'torch' or name.startswith('torch.'):
                    raise ImportError('real torch is blocked in this test')
        sys.meta_path.insert(0, _Block())
    ''')
    write(tmp_path, 'p.py', '''
        import torch, torch.nn as nn, torch.optim as optim
        torch.manual_seed(0)
        m = nn.Linear(3, 2)
        opt = optim.SGD(m.parameters(), lr=0.1)
        m(torch.ones(4, 3)).sum().backward()
        opt.step()
        print(type(m.weight).__module__)
    ''')
    e = env()
    e['PYTHONPATH'] = os.pathsep.join([str(tmp_path / 'block'), ROOT])
    check = subprocess.run([sys.executable, '-c', 'import torch'], cwd=tmp_path, env=e,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode != 0 and 'blocked' in check.stderr
    r = subprocess.run([sys.executable, '-m', 'ember', 'run', 'p.py'], cwd=tmp_path, env=e,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'ember.nn.parameter'


def test_install_as_torch_in_process_subprocess(tmp_path):
    write(tmp_path, 'nb.py', '''
        import sys
        import ember
        assert ember.install_as_torch() is ember
        ember.install_as_torch()   # idempotent
        assert sum(type(f).__name__ == 'TorchFinder' for f in sys.meta_path) == 1
        import torch, torch.nn as nn
        import torch.nn.functional as F
        from torch.optim.adam import Adam
        print(sys.modules['torch'] is ember, nn is ember.nn, F is ember.nn.functional,
              Adam is ember.optim.Adam)
    ''')
    r = python('nb.py', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['True'] * 4


def test_install_as_torch_refuses_after_real_torch(tmp_path):
    pytest.importorskip('torch')
    write(tmp_path, 'nb.py', '''
        import torch
        import ember
        try:
            ember.install_as_torch()
        except RuntimeError as e:
            print('refused', 'real torch is already imported' in str(e))
        import sys
        print(sys.modules['torch'] is torch)
    ''')
    r = python('nb.py', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['refused', 'True', 'True']


def test_importing_a_module_keeps_the_function_of_the_same_name(tmp_path):
    """torch.nn.utils.weight_norm is a function and a module of that name; importing the
    module must not rebind the function (as in torch, where the package binds it last)."""
    write(tmp_path, 'shadow.py', '''
        import torch.nn.utils.weight_norm
        import torch.autograd.gradcheck
        import torch
        print(type(torch.nn.utils.weight_norm).__name__, type(torch.autograd.gradcheck).__name__)
    ''')
    r = run_ember('run', 'shadow.py', cwd=tmp_path)
    t = python('shadow.py', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == t.stdout.split() == ['function', 'function']
