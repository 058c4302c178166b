"""Programs in the style of today's PyTorch code (tests/programs/modern/*.py), each run unchanged
as a user would: `python prog.py` on torch and `python -m ember run prog.py` on ember, compared
line by line (see _run_programs.py)."""
import pytest

from _run_programs import assert_same_to_last_digit, compare_program


def test_gpt_char(tmp_path):
    # every printed value is reproduced exactly: weights, dropout masks, batches, AdamW groups,
    # the cosine schedule, clipped norms, the resumed run and multinomial samples
    out = compare_program('gpt_char.py', tmp_path)
    assert 'iter 11: loss' in out and 'resumed at 6' in out
    assert '<All keys matched successfully>' in out


def test_siamese(tmp_path):
    # SGD training over BatchNorm: the per-batch float32 sums (BN statistics, the triplet
    # distances) drift by an ulp from torch's order and reach the 5th printed digit by the
    # last epoch, so floats may differ by one unit in their last printed digit
    out = compare_program('siamese.py', tmp_path, last_digit=1)
    assert 'nearest-neighbour accuracy' in out and 'contrastive epoch 1' in out


def test_dcgan(tmp_path):
    # the float32 BatchNorm running means sum in another order than torch's: one unit in the
    # last printed digit (the inputs, from linspace, are torch's to the bit)
    out = compare_program('dcgan.py', tmp_path, args=['--niter', '2'], last_digit=1)
    assert '[1/2][3/4] Loss_D' in out and 'logits step 2' in out


def test_word_lm(tmp_path):
    out = compare_program('word_lm.py', tmp_path, args=['--epochs', '3'])
    assert 'Transformer best valid ppl' in out and 'small valid loss' in out


def test_accelerator_program(tmp_path):
    # a small CNN with BatchNorm trained in float32: the convolutions' sums in another order
    # than torch's drift by an ulp and reach the 6th printed digit of the validation loss, and
    # whether the softmax rows sum to exactly 1 (printed "1." rather than "1.0000")
    out = compare_program('accelerator_prog.py', tmp_path, last_digit=1)
    assert 'Using cpu device' in out and 'best: accuracy' in out


def test_last_digit_tolerance_is_one_printed_unit():
    assert_same_to_last_digit('loss 0.06256 lr [0.025]\n', 'loss 0.06257 lr [0.025]\n')
    assert_same_to_last_digit('x 1.2346e-03\n', 'x 1.2345e-03\n')
    for e_line, t_line in [('loss 0.06255\n', 'loss 0.06257\n'),  # two units
                           ('loss 0.0626\n', 'loss 0.06257\n'),  # fewer digits
                           ('step 3 0.5\n', 'step 4 0.5\n'),  # an integer
                           ('val 0.5\n', 'train 0.5\n'),  # the text
                           ('x 1.2346e-02\n', 'x 1.2345e-03\n'),  # the exponent
                           ('a\nb\n', 'a\n')]:
        with pytest.raises(AssertionError):
            assert_same_to_last_digit(e_line, t_line)
