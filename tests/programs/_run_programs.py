"""Run a whole program file as its user would, on torch and on ember, and compare the output.

torch: `python prog.py`. ember: `python -m ember run prog.py` (the import hook answers every
`torch` / `torch.*` import with ember; the file is not rewritten). Both run as subprocesses,
concurrently, in an empty scratch directory, with the program's own argv.

The torch run sets TORCHDYNAMO_DISABLE=1, which makes `torch.compile(model)` return the model
itself: with it on, Inductor spends ~30 s compiling C++ for these tiny models and fuses float32
reductions in its own order, so the reference would no longer be eager torch's arithmetic.
The program text is unchanged either way.
"""
import os
import re
import subprocess
import sys

import pytest

from _harness import _ADDR, _NUM, assert_same_output

pytest.importorskip("torch")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'modern')
TIMEOUT = 600


def _env(lib):
    env = dict(os.environ, PYTHONHASHSEED='0', PYTHONWARNINGS='ignore')
    if lib == 'torch':
        env['TORCHDYNAMO_DISABLE'] = '1'
    else:
        # the worktree's ember, whatever is installed in the environment
        env['PYTHONPATH'] = os.pathsep.join(p for p in (ROOT, env.get('PYTHONPATH')) if p)
    return env


# Until `ember run` (ember/__main__.py) is on this branch, the ember run aliases every torch*
# module to ember's in sys.modules and runs the script with runpy: the same program text, the
# same __main__ and argv. The real command is used as soon as it exists.
_ALIAS_BOOT = """
import importlib, pkgutil, runpy, sys
import ember
for info in pkgutil.walk_packages(ember.__path__, 'ember.'):
    try:
        importlib.import_module(info.name)
    except Exception:
        pass
for name, mod in list(sys.modules.items()):
    if name == 'ember' or name.startswith('ember.'):
        sys.modules['torch' + name[len('ember'):]] = mod
sys.argv = sys.argv[1:]
sys.path.insert(0, __import__('os').path.dirname(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def _command(lib, script, args):
    if lib == 'torch':
        return [sys.executable, script, *args]
    if os.path.exists(os.path.join(ROOT, 'ember', '__main__.py')):
        return [sys.executable, '-m', 'ember', 'run', script, *args]
    return [sys.executable, '-c', _ALIAS_BOOT, script, *args]


def run_both(name, tmp_path, args=()):
    """Start `name` on torch and on ember at once, each in its own empty directory under
    tmp_path; return {lib: {'returncode', 'stdout', 'stderr'}}."""
    script = os.path.join(PROGRAMS, name)
    cwd = {}
    for lib in ('torch', 'ember'):
        cwd[lib] = tmp_path / lib
        cwd[lib].mkdir()
    procs = {lib: subprocess.Popen(_command(lib, script, args), cwd=cwd[lib], env=_env(lib),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for lib in ('torch', 'ember')}
    results = {}
    for lib, p in procs.items():
        try:
            out, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        results[lib] = {'returncode': p.returncode, 'stdout': out, 'stderr': err}
    return results


def assert_same_to_last_digit(e_out, t_out, units=1):
    """Equal line by line, except that a printed float may differ from torch's by `units` in
    its last printed digit (0.06256 for 0.06257; 1.2346e-03 for 1.2345e-03).

    For programs whose float32 sums ember accumulates in another order than torch (about
    1 ulp per reduction, see the stop notes) and whose training carries that into the printed
    digits. Text, integers and the count of printed digits must still match exactly.
    """
    e_out, t_out = _ADDR.sub(' at 0x?', e_out), _ADDR.sub(' at 0x?', t_out)
    e_lines, t_lines = e_out.splitlines(), t_out.splitlines()
    assert len(e_lines) == len(t_lines), (e_out, t_out)
    for el, tl in zip(e_lines, t_lines):
        if el == tl:
            continue
        assert _NUM.sub('#', el) == _NUM.sub('#', tl), (el, tl)
        for a, b in zip(_NUM.findall(el), _NUM.findall(tl)):
            if a == b:
                continue
            mant, mant_e = (re.match(r'[-+]?\d*\.(\d+)', v) for v in (b, a))
            # a tensor of whole numbers prints them as "1.", one with a value an ulp away as
            # "1.0000": the two agree to the decimals of the side that prints them
            if mant is None and re.fullmatch(r'[-+]?\d+\.', b):
                mant = mant_e
            if mant_e is None and re.fullmatch(r'[-+]?\d+\.', a):
                mant_e = mant
            # only floats printed with the same number of decimals
            assert mant and mant_e and len(mant.group(1)) == len(mant_e.group(1)), (el, tl)
            exp = re.search(r'[eE]([-+]?\d+)$', b)
            unit = 10.0 ** (-len(mant.group(1)) + (int(exp.group(1)) if exp else 0))
            assert abs(float(a) - float(b)) <= units * unit * (1 + 1e-9), (el, tl)


def compare_program(name, tmp_path, args=(), rtol=0.0, atol=0.0, last_digit=0,
                    returncode=0):
    """Both runs exit with `returncode` and print the same lines; returns the ember stdout.

    With rtol/atol > 0 a line may differ only in its numbers, each within the tolerance; with
    last_digit=k a printed float may differ by k units in its last digit. Both are used only
    where float32 sums are accumulated in a different order; each test says why.
    """
    res = run_both(name, tmp_path, args)
    t, e = res['torch'], res['ember']
    assert t['returncode'] == returncode, t['stderr']
    assert e['returncode'] == returncode, e['stderr']
    assert t['stdout'].strip(), 'the program printed nothing on torch'
    if last_digit:
        assert_same_to_last_digit(e['stdout'], t['stdout'], last_digit)
    else:
        assert_same_output(e['stdout'], t['stdout'], rtol=rtol, atol=atol)
    return e['stdout']
