"""examples/demo.py (ember's main job) prints exactly what the same program prints on torch."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

DEMO = os.path.join(os.path.dirname(__file__), '..', '..', 'examples', 'demo.py')


def _run(framework):
    env = dict(os.environ, EMBER_DEMO_FRAMEWORK=framework)
    p = subprocess.run([sys.executable, DEMO], capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_demo_output_identical_to_torch():
    ember_out = _run('ember')
    torch_out = _run('torch')
    assert 'Training Loss' in ember_out
    assert ember_out == torch_out
