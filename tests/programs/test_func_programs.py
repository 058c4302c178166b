"""torch.func programs run unchanged on both libraries and compared line by line."""
from _run_programs import compare_program


def test_per_sample_grads(tmp_path):
    out = compare_program('per_sample_grads.py', tmp_path, last_digit=1)
    assert out.count("equals the batch gradient True") == 4
    assert 'forward AD' in out
