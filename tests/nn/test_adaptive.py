"""nn.AdaptiveLogSoftmaxWithLoss against torch: weights from the same seed, forward output and
loss, gradients, log_prob, predict, state_dict keys, repr and errors."""
import numpy as np
import pytest
import torch

import ember


def _build(lib, **kw):
    lib.manual_seed(0)
    return lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 6, 9], div_value=2.0, **kw)


@pytest.mark.parametrize('head_bias', [False, True])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_matches_torch(head_bias, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 8))
    target = np.array([0, 4, 11, 2, 7, 8, 10])
    res = []
    for lib in (ember, torch):
        m = _build(lib, head_bias=head_bias).to(getattr(lib, dtype))
        xt = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
        out = m(xt, lib.tensor(target))
        out.loss.backward()
        res.append([repr(m), list(m.state_dict()), type(out).__name__, out._fields,
                    out.output.detach().numpy(), out.loss.item(), xt.grad.numpy()] +
                   [p.grad.numpy() for p in m.parameters()] +
                   [m.log_prob(xt).detach().numpy(), m.predict(xt).numpy()])
        # an unbatched sample
        single = m(xt[2], lib.tensor(target[2]))
        res[-1] += [single.output.detach().numpy(), single.loss.item()]
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-12)
    for a, b in zip(*res):
        if isinstance(a, np.ndarray):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_allclose(a, b, **tol)
        elif isinstance(a, float):
            assert a == pytest.approx(b, rel=1e-6)
        else:
            assert a == b


def test_predict_mixed_rows_and_module_path():
    m = _build(ember)
    x = ember.randn(40, 8) * 3
    assert m.predict(x).tolist() == m.log_prob(x).argmax(1).tolist()
    assert type(m).__module__ == 'ember.nn.modules.adaptive'
    assert m(ember.randn(2, 8), ember.tensor([1, 2])).__class__.__module__ == \
        'ember.nn.modules.adaptive'


def test_errors_as_torch():
    for lib in (ember, torch):
        nn = lib.nn
        for cutoffs in ([], [3, 2], [0, 3], [3, 12], [3, 3]):
            with pytest.raises(ValueError, match='cutoffs should be a sequence'):
                nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs)
        m = nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3])
        with pytest.raises(RuntimeError, match=r'Target values should be in \[0, 11\], but '
                                               r'values in range \[0, 12\] were found'):
            m(lib.zeros(2, 8), lib.tensor([0, 12]))
        with pytest.raises(RuntimeError, match='same size in the batch dimension'):
            m(lib.zeros(3, 8), lib.tensor([0, 1]))
        with pytest.raises(RuntimeError, match='0D or 1D target tensor expected'):
            m(lib.zeros(2, 8), lib.zeros(2, 1, dtype=lib.long))
        with pytest.raises(RuntimeError, match='0D target tensor expects 1D input tensors'):
            m(lib.zeros(2, 8), lib.tensor(1))
