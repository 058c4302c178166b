"""The README's commands, as written, in a fresh virtual environment: the README cannot drift
from what works.

Every ```bash block of README.md runs, in order, in one shell, in a copy of this checkout (pip
may take packages from its cache or local wheels). The one exception is the test suite itself:
inside this test it only collects (PYTEST_ADDOPTS=--collect-only, so every test module imports
in the fresh install); .ci/run runs the same command for real, in a fresh environment too, and
the last test here checks that it does. The README's Python example then runs on that install
and on torch, and both must print the output the README shows.

Creating the environment and installing torch take minutes, so this runs where CI=true (CI
sets it; .ci/run also sets EMBER_TEST_README=1) or EMBER_TEST_README=1 is set.
"""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, 'README.md')

needs_opt_in = pytest.mark.skipif(
    not (os.environ.get('CI') or os.environ.get('EMBER_TEST_README')),
    reason='builds a fresh virtual environment (minutes): runs in CI, or with '
           'EMBER_TEST_README=1')


def _blocks(lang):
    text = open(README, encoding='utf-8').read()
    return [m.group(1) for m in re.finditer(rf'^```{lang}\n(.*?)^```$', text, re.M | re.S)]


def _copy_checkout(dest):
    ignore = shutil.ignore_patterns('.git', '.venv*', '__pycache__', '*.egg-info', 'build',
                                    'ember-demo', '.pytest_cache', '.hypothesis')
    shutil.copytree(ROOT, dest, ignore=ignore)


def _clean_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV', 'CI', 'EMBER_TEST_README',
                        'PYTEST_XDIST_WORKER', 'PYTEST_XDIST_WORKER_COUNT', 'PYTEST_ADDOPTS')}
    # leave out any virtual environment this test runs in: the README makes its own
    active = os.environ.get('VIRTUAL_ENV')
    if active:
        env['PATH'] = os.pathsep.join(p for p in env['PATH'].split(os.pathsep)
                                      if not p.startswith(active))
    return env


def test_readme_has_the_commands():
    bash = '\n'.join(_blocks('bash'))
    for command in ('pip install ".[demo]"', 'ember demo', 'pip install -e ".[test]"',
                    'python -m pytest -n 2 tests'):
        assert command in bash
    assert 'manual_seed' in _blocks('python')[0]
    assert any(b.startswith('tensor(') for b in _blocks('text'))


@needs_opt_in
def test_readme_commands_in_a_fresh_venv(tmp_path):
    repo = tmp_path / 'checkout'
    _copy_checkout(repo)
    script = 'set -eo pipefail\n' + '\n'.join(_blocks('bash'))
    env = _clean_env()
    env['PYTEST_ADDOPTS'] = '--collect-only'
    proc = subprocess.run(['bash', '-c', script], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=1500)
    log = proc.stdout[-4000:] + proc.stderr[-4000:]
    assert proc.returncode == 0, log

    # `ember demo` learned the digits and left what it says it left
    final = re.search(r'^held-out accuracy: ([\d.]+)%', proc.stdout, re.M)
    assert final and float(final.group(1)) >= 97.0, log
    assert (repo / 'ember-demo' / 'lenet_digits_ember.pt').is_file()
    assert (repo / 'ember-demo' / 'curves_ember.png').is_file()
    # the suite collected in the fresh install (a collection error fails the script above)
    assert re.search(r'^\d+ tests collected', proc.stdout, re.M), log

    # the README's first Python example prints, on ember and on torch, what the README shows
    python = str(repo / '.venv' / 'bin' / 'python')
    example = _blocks('python')[0]
    on_torch = (example.replace('import ember as torch', 'import torch')
                .replace('from ember import nn', 'from torch import nn'))
    assert 'ember' not in on_torch
    shown = next(b for b in _blocks('text') if b.startswith('tensor('))
    elsewhere = tmp_path / 'elsewhere'  # not the checkout: `import ember` finds the install
    elsewhere.mkdir()
    for source in (example, on_torch):
        run = subprocess.run([python, '-c', source], cwd=elsewhere, env=_clean_env(),
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        assert run.stdout == shown


def test_ci_runs_the_readme_test_command():
    ci = open(os.path.join(ROOT, '.ci', 'run'), encoding='utf-8').read()
    bash = '\n'.join(_blocks('bash'))
    command = 'python -m pytest -n 2 tests'
    assert command in bash and command in ci
    assert re.search(r"pip install .*-e '\.\[test\]'", ci)
