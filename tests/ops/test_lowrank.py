"""torch.svd_lowrank and torch.pca_lowrank against torch for the same seed: the random basis is
torch's (one randn of torch's shape), so S agrees to rounding and U, V up to the sign of each
singular pair (ember's linalg.svd may choose the other sign for a wide matrix)."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _aligned(e, t):
    """e's columns flipped to t's signs."""
    s = np.sign((e * t).sum(-2, keepdims=True))
    s[s == 0] = 1
    return e * s


@pytest.mark.parametrize('shape', [(8, 5), (5, 8), (2, 6, 4), (10, 3)])
@pytest.mark.parametrize('fn,kw', [('svd_lowrank', dict(q=3)), ('svd_lowrank', dict(q=2, niter=0)),
                                   ('pca_lowrank', dict()),
                                   ('pca_lowrank', dict(q=2, center=False, niter=1))])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_lowrank_matches_torch(shape, fn, kw, dtype):
    a = np.random.default_rng(0).normal(size=shape).astype(dtype)
    kw = dict(kw)
    if 'q' in kw:
        kw['q'] = min(kw['q'], *shape[-2:])
    torch.manual_seed(0)
    ember.manual_seed(0)
    t = getattr(torch, fn)(torch.tensor(a), **kw)
    e = getattr(ember, fn)(ember.tensor(a), **kw)
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == 'float32' else dict(atol=1e-10, rtol=1e-10)
    eu, es, ev = (x.numpy() for x in e)
    tu, ts, tv = (x.numpy() for x in t)
    assert es.dtype == ts.dtype and eu.shape == tu.shape and ev.shape == tv.shape
    np.testing.assert_allclose(es, ts, **tol)
    # a null direction (centring removes one) has no defined vector
    keep = ts > 1e-3 * ts.max(-1, keepdims=True)
    keep = np.broadcast_to(keep[..., None, :], tu.shape), np.broadcast_to(keep[..., None, :],
                                                                            tv.shape)
    np.testing.assert_allclose(_aligned(eu, tu)[keep[0]], tu[keep[0]], **tol)
    np.testing.assert_allclose(_aligned(ev, tv)[keep[1]], tv[keep[1]], **tol)
    # the generator is left where torch leaves it
    assert float(ember.rand(1)) == float(torch.rand(1))


def test_lowrank_gradients_and_errors():
    a = np.random.default_rng(1).normal(size=(6, 4))
    grads = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        x = lib.tensor(a, requires_grad=True)
        u, s, v = lib.svd_lowrank(x, q=3)
        s.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-10)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match='must be non-negative integer and not greater'):
            lib.pca_lowrank(lib.ones(3, 4), q=5)
        with pytest.raises(ValueError, match='niter'):
            lib.pca_lowrank(lib.ones(3, 4), niter=-1)
