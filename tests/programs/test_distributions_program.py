"""A training program using torch.distributions, run on both libraries and compared."""
from _run_programs import compare_program


def test_distributions_program(tmp_path):
    # float32 sums in Adam and the linear layers may differ from torch's by an ulp
    out = compare_program('distributions_prog.py', tmp_path, last_digit=1)
    assert 'mdn sample' in out and out.count('flow ') == 5
