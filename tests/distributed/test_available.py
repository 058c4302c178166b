"""ember.distributed with and without its extra (no process is launched here)."""
import subprocess
import sys
import textwrap

import pytest

from _subproc import env


def test_nccl_is_refused_clearly():
    import ember.distributed as dist
    with pytest.raises(RuntimeError, match="doesn't have NCCL built in"):
        dist.init_process_group('nccl')
    assert not dist.is_initialized()


def test_without_the_extra(tmp_path):
    """mpi4py hidden: is_available() is False and starting a group names the extra."""
    prog = tmp_path / 'noextra.py'
    prog.write_text(textwrap.dedent('''
        import sys
        sys.modules['mpi4py'] = None   # as if it were not installed
        import ember.distributed as dist
        print(dist.is_available(), dist.is_mpi_available(), dist.is_gloo_available())
        try:
            dist.init_process_group('gloo')
        except RuntimeError as e:
            print(e)
    '''))
    p = subprocess.run([sys.executable, str(prog)], env=env(), capture_output=True, text=True,
                       timeout=60)
    lines = p.stdout.splitlines()
    assert lines[0] == 'False False False', p.stderr
    assert 'pip install "ember[distributed]"' in lines[1]
