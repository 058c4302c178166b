"""torch.__version__ and torch.torch_version.TorchVersion, compared with torch's own."""
import operator
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.torch_version import TorchVersion as TorchTV

import ember
from ember.torch_version import TorchVersion

OPS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]

VERSIONS = ['2.13.0+cpu', '2.13.0', '2.13', '2', '2.0', '1.13.1', '2.13.1', '2.13.0a0',
            '2.13.0rc1', '2.13.0.dev20260101', '2.13.0.post1', '2.14.0.dev0+git1234',
            '2.13.0+cu121', '2.13.0+cpu.1', '10.0', 'v2.13.0', 'parrot', '', '2.13.0-1']
OTHERS = VERSIONS + [(2, 0), (2, 13), (2, 13, 0), (1,), (3, 0, 0), [2, 13, 1], 5, None, 2.0]


def _outcome(op, a, b):
    try:
        return op(a, b)
    except TypeError:
        return TypeError


def test_version_is_torchs():
    assert str(ember.__version__) == str(torch.__version__)
    assert str(ember.version.__version__) == str(torch.version.__version__)
    assert isinstance(ember.__version__, str) and isinstance(ember.__version__, TorchVersion)


@pytest.mark.parametrize('op', OPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize('mine', VERSIONS)
def test_comparisons_as_torch(mine, op):
    for other in OTHERS:
        assert _outcome(op, TorchVersion(mine), other) == _outcome(op, TorchTV(mine), other), \
            (mine, op.__name__, other)


_segment = st.one_of(
    st.just(''), st.sampled_from(['a', 'b', 'rc']).map(lambda p: p + '1'),
    st.sampled_from(['.post1', '.dev0', '.dev3', '.post2.dev1']))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=4), _segment,
       st.sampled_from(['', '+cpu', '+cu118', '+cpu.2', '+1']),
       st.lists(st.integers(0, 12), min_size=1, max_size=4), _segment,
       st.sampled_from(['', '+cpu', '+cu118']))
def test_generated_versions_order_as_torch(rel_a, seg_a, loc_a, rel_b, seg_b, loc_b):
    a = '.'.join(map(str, rel_a)) + seg_a + loc_a
    b = '.'.join(map(str, rel_b)) + seg_b + loc_b
    for op in OPS:
        assert op(TorchVersion(a), b) == op(TorchTV(a), b), (a, op.__name__, b)


def test_hashes_as_a_string():
    assert {TorchVersion('2.13.0+cpu'): 1}['2.13.0+cpu'] == 1


def test_version_gate_under_the_hook(tmp_path):
    prog = tmp_path / 'gate.py'
    prog.write_text('import torch\n'
                    'from torch.torch_version import TorchVersion\n'
                    'assert torch.__version__ >= (2, 0) and torch.__version__ >= "1.9"\n'
                    'print(torch.__version__, torch.version.__version__)\n')
    r = subprocess.run([sys.executable, '-m', 'ember', 'run', str(prog)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(torch.__version__)] * 2
