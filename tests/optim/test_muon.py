"""torch.optim.Muon on ember against torch 2.13: the trajectory (momentum, the bfloat16
Newton-Schulz iteration, decoupled weight decay, the learning-rate adjustments), the state and
the errors."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')
pytest.importorskip('ml_dtypes')   # Muon's iteration runs in bfloat16 (ember's optional extra)


def _train(lib, w0, x, steps=4, **kw):
    w = lib.nn.Parameter(lib.tensor(w0))
    opt = lib.optim.Muon([w], lr=0.02, **kw)
    for _ in range(steps):
        opt.zero_grad()
        (lib.tensor(x) @ w.t()).pow(2).sum().backward()
        opt.step()
    return w, opt


@pytest.mark.parametrize('shape', [(16, 8), (8, 16), (12, 12)])
@pytest.mark.parametrize('kw', [{}, dict(nesterov=False), dict(momentum=0.5),
                                dict(adjust_lr_fn='match_rms_adamw', weight_decay=0.0),
                                dict(ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5))])
def test_muon_follows_torch(shape, kw):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(shape).astype(np.float32)
    x = rng.standard_normal((5, shape[1])).astype(np.float32)
    (tw, topt), (ew, eopt) = _train(torch, w0, x, **kw), _train(ember, w0, x, **kw)
    assert ew.dtype == ember.float32
    # the iteration rounds each product to bfloat16: a float32 sum that lands near a rounding
    # tie can round the other way when the BLAS adds in another order (one bfloat16 unit of an
    # update entry, 2**-7 times lr), so the parameters agree to a few such units
    moved = np.abs(tw.detach().numpy() - w0).max()
    np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), rtol=0,
                               atol=0.02 * moved)
    np.testing.assert_allclose(eopt.state[ew]['momentum_buffer'].numpy(),
                               topt.state[tw]['momentum_buffer'].numpy(), rtol=2e-3, atol=1e-3)
    te, ee = topt.state_dict(), eopt.state_dict()
    assert ee['param_groups'] == te['param_groups']
    assert set(ee['state'][0]) == set(te['state'][0]) == {'momentum_buffer'}


@pytest.mark.parametrize('args,kw', [((), dict(lr=-1.0)), ((), dict(momentum=-0.1)),
                                      ((), dict(weight_decay=-1.0)),
                                      ((), dict(adjust_lr_fn='other'))])
def test_muon_argument_errors_as_torch(args, kw):
    msgs = []
    for lib in (torch, ember):
        with pytest.raises(ValueError) as e:
            lib.optim.Muon([lib.nn.Parameter(lib.ones(2, 2))], *args, **kw)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_muon_refuses_non_matrix_parameters_as_torch():
    msgs = []
    for lib in (torch, ember):
        with pytest.raises(ValueError) as e:
            lib.optim.Muon([lib.nn.Parameter(lib.ones(3))])
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
