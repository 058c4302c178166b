"""examples/demo.py (ember's main job) prints exactly what the same program prints on torch."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, 'examples', 'demo.py')


def _run(framework):
    # this checkout's ember, not whichever one is installed
    extra = os.environ.get('PYTHONPATH')
    pythonpath = ROOT + (os.pathsep + extra if extra else '')
    env = dict(os.environ, EMBER_DEMO_FRAMEWORK=framework, PYTHONPATH=pythonpath)
    p = subprocess.run([sys.executable, DEMO], capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_demo_output_identical_to_torch():
    ember_out = _run('ember')
    torch_out = _run('torch')
    assert 'Training Loss' in ember_out
    assert ember_out == torch_out
