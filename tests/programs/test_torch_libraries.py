"""Libraries built on torch, run under `ember run` on ember's models and tensors: what they
print is what they print on torch (see _run_programs.py)."""
import pytest

from _run_programs import compare_program

pytest.importorskip("einops")
pytest.importorskip("torchinfo")


def test_einops(tmp_path):
    # rearrange/reduce/repeat/einsum/pack, einops.layers.torch inside nn.Sequential, gradients
    out = compare_program('einops_prog.py', tmp_path)
    assert 'Rearrange' in out and 'Reduce' in out and 'EinMix' in out


def test_torchinfo_summary(tmp_path):
    # summary tables: shapes, parameter counts (tied, frozen), mult-adds, sizes in MB
    out = compare_program('torchinfo_prog.py', tmp_path)
    assert out.count('Total params') == 6 and 'Estimated Total Size (MB)' in out
