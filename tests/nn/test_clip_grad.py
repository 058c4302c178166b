"""nn.utils gradient helpers against torch: clip_grad_norm_, clip_grad_value_, vector views."""
import numpy as np
import pytest

import ember
from ember.nn import utils as eu

torch = pytest.importorskip("torch")
tu = torch.nn.utils


def _params(lib, dtype='float64', seed=0):
    r = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    ps = []
    for s in shapes:
        p = lib.nn.Parameter(lib.from_numpy(r.standard_normal(s).astype(dtype)))
        p.grad = lib.from_numpy((r.standard_normal(s) * 3).astype(dtype))
        ps.append(p)
    return ps


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('norm_type', [2.0, 1, 3.5, float('inf'), 0])
@pytest.mark.parametrize('max_norm', [0.5, 1e6])
def test_clip_grad_norm(dtype, norm_type, max_norm):
    ep, tp = _params(ember, dtype), _params(torch, dtype)
    en = eu.clip_grad_norm_(ep, max_norm, norm_type)
    tn = tu.clip_grad_norm_(tp, max_norm, norm_type)
    assert str(en.dtype) == str(tn.dtype) and en.shape == tn.shape
    rtol = 1e-5 if dtype == 'float32' else 1e-12
    np.testing.assert_allclose(en.numpy(), tn.numpy(), rtol=rtol)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=rtol)


def test_clip_grad_edge_cases():
    # a single tensor, missing grads, an empty list, non-finite norms
    ep, tp = _params(ember), _params(torch)
    ep[1].grad = None
    tp[1].grad = None
    np.testing.assert_allclose(eu.clip_grad_norm_(ep[0], 1.0).numpy(),
                               tu.clip_grad_norm_(tp[0], 1.0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(eu.clip_grad_norm_(ep, 1.0).numpy(),
                               tu.clip_grad_norm_(tp, 1.0).numpy(), rtol=1e-12)
    e0, t0 = eu.clip_grad_norm_([], 1.0), tu.clip_grad_norm_([], 1.0)
    assert float(e0) == float(t0) == 0.0 and str(e0.dtype) == str(t0.dtype)
    ep[0].grad._data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        eu.clip_grad_norm_(ep, 1.0, error_if_nonfinite=True)
    assert np.isinf(float(eu.clip_grad_norm_(ep, 1.0)))
    with pytest.warns(UserWarning, match="empty generator"):
        eu.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_value():
    ep, tp = _params(ember), _params(torch)
    eu.clip_grad_value_(ep, 1.5)
    tu.clip_grad_value_(tp, 1.5)
    for e, t in zip(ep, tp):
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_and_back():
    ep, tp = _params(ember), _params(torch)
    ev, tv = eu.parameters_to_vector(ep), tu.parameters_to_vector(tp)
    np.testing.assert_array_equal(ev.detach().numpy(), tv.detach().numpy())
    assert ev.requires_grad
    ev.sum().backward()
    new = np.arange(ev.numel(), dtype=np.float64)
    eu.vector_to_parameters(ember.from_numpy(new.copy()), ep)
    tu.vector_to_parameters(torch.from_numpy(new.copy()), tp)
    for e, t in zip(ep, tp):
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        eu.vector_to_parameters([1.0], ep)
