"""Running ember's command and programs as real subprocesses, as a user runs them."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env(**extra):
    e = dict(os.environ)
    e['PYTHONPATH'] = ROOT + (os.pathsep + e['PYTHONPATH'] if e.get('PYTHONPATH') else '')
    e.pop('PYTHONSTARTUP', None)
    e.update(extra)
    return e


def write(tmp_path, name, source):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(source))
    return p


def run_ember(*args, cwd, timeout=120, **kw):
    """``python -m ember args...`` with this checkout's ember."""
    return subprocess.run([sys.executable, '-m', 'ember', *map(str, args)], cwd=str(cwd),
                          env=env(), capture_output=True, text=True, timeout=timeout, **kw)


def python(*args, cwd, timeout=120, extra_env=None):
    return subprocess.run([sys.executable, *map(str, args)], cwd=str(cwd),
                          env=env(**(extra_env or {})), capture_output=True, text=True,
                          timeout=timeout)
