"""svd / eigh / cholesky (torch.linalg and the legacy torch.svd, Tensor.svd/qr/cholesky) against
torch: values, shapes, grad_fn names and gradients of sign-invariant losses (singular and eigen
vectors are defined up to sign, so losses use squared entries or reconstructions)."""
import numpy as np
import pytest
import torch

import ember


def _w(L, shape, seed=5):
    return L.tensor(np.random.default_rng(seed).standard_normal(shape))


def _svd_loss(L, x, which, full):
    r = L.linalg.svd(x, full_matrices=full)
    k = min(x.shape[-2:])
    U, S, Vh = r.U[..., :k], r.S, r.Vh[..., :k, :]
    if which == 'S':
        return (S * L.arange(1., k + 1, dtype=x.dtype)).sum()
    if which == 'U':
        return (U ** 2 * _w(L, U.shape).to(x.dtype)).sum()
    if which == 'Vh':
        return (Vh ** 2 * _w(L, Vh.shape).to(x.dtype)).sum()
    return ((U * S.unsqueeze(-2)) @ Vh * _w(L, x.shape).to(x.dtype)).sum() + S.pow(2).sum()


def _run(L, a, f):
    x = L.tensor(a, requires_grad=True)
    y = f(L, x)
    y.backward()
    return y.detach().numpy(), x.grad.numpy()


def _compare(a, f, tol):
    (ye, ge), (yt, gt) = _run(ember, a, f), _run(torch, a, f)
    np.testing.assert_allclose(ye, yt, rtol=tol, atol=tol)
    np.testing.assert_allclose(ge, gt, rtol=tol, atol=tol)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape', [(4, 3), (3, 5), (3, 3), (2, 4, 3)])
@pytest.mark.parametrize('which', ['S', 'U', 'Vh', 'all'])
@pytest.mark.parametrize('full', [False, True])
def test_svd_gradients(shape, which, full, dtype):
    a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    _compare(a, lambda L, x: _svd_loss(L, x, which, full), 2e-3 if dtype == np.float32 else 1e-9)


@pytest.mark.parametrize('shape', [(3, 3), (2, 4, 4)])
def test_eigh_and_cholesky_gradients(shape):
    a = np.random.default_rng(2).standard_normal(shape)
    n = shape[-1]

    def eigh_loss(L, x):
        r = L.linalg.eigh(x @ x.mT)
        return (r.eigenvalues * L.arange(1., n + 1)).sum() + \
            (r.eigenvectors ** 2 * _w(L, x.shape)).sum()

    def chol_loss(L, x, upper):
        spd = x.mT @ x + L.eye(n, dtype=x.dtype)
        return (L.linalg.cholesky(spd, upper=upper) * _w(L, x.shape)).sum()

    _compare(a, eigh_loss, 1e-9)
    _compare(a, lambda L, x: chol_loss(L, x, False), 1e-9)
    _compare(a, lambda L, x: chol_loss(L, x, True), 1e-9)


def test_legacy_forms_and_names():
    a = np.random.default_rng(3).standard_normal((4, 3))
    e, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for fe, ft in ((lambda x: x.svd(), lambda x: x.svd()),
                   (lambda x: ember.svd(x, some=False), lambda x: torch.svd(x, some=False)),
                   (lambda x: ember.svd(x, compute_uv=False),
                    lambda x: torch.svd(x, compute_uv=False))):
        re, rt = fe(e), ft(t)
        assert [tuple(v.shape) for v in re] == [tuple(v.shape) for v in rt]
        np.testing.assert_allclose(re.S.detach().numpy(), rt.S.detach().numpy(), atol=1e-12)
    assert ember.linalg.svd(e).U.grad_fn.name() == torch.linalg.svd(t).U.grad_fn.name()
    assert ember.linalg.eigh(e[:3] @ e[:3].T).eigenvalues.grad_fn.name() == \
        torch.linalg.eigh(t[:3] @ t[:3].T).eigenvalues.grad_fn.name()
    assert ember.linalg.cholesky(e.T @ e).grad_fn.name() == \
        torch.linalg.cholesky(t.T @ t).grad_fn.name()
    assert repr(ember.linalg.svd(ember.tensor(a))).startswith('torch.return_types.linalg_svd(')
    q, r = ember.tensor(a).qr()
    qt, rt_ = torch.tensor(a).qr()
    assert q.shape == qt.shape and r.shape == rt_.shape
    np.testing.assert_allclose(np.abs(r.numpy()), np.abs(rt_.numpy()), atol=1e-12)


@pytest.mark.parametrize('shape', [(4, 3), (3, 3), (2, 5, 3)])
def test_qr_gradients(shape):
    a = np.random.default_rng(9).standard_normal(shape)
    k = shape[-1]
    _compare(a, lambda L, x: (L.linalg.qr(x).Q * _w(L, x.shape)).sum(), 1e-9)
    _compare(a, lambda L, x: (L.linalg.qr(x).R * _w(L, x.shape[:-2] + (k, k))).sum(), 1e-9)
    _compare(a, lambda L, x: (x.qr()[0] * _w(L, x.shape)).sum() + (x.qr()[1] ** 2).sum(), 1e-9)


def test_qr_without_a_gradient_raises_at_backward():
    for shape, mode, msg in (((4, 3), 'complete', 'not differentiable when'),
                             ((3, 4), 'reduced', 'more columns than rows')):
        x = ember.randn(*shape, requires_grad=True)
        q, r = ember.linalg.qr(x, mode=mode)   # the forward runs, as in torch
        with pytest.raises(NotImplementedError, match=msg):
            (q.sum() + r.sum()).backward()


def test_svd_double_backward_is_refused():
    x = ember.randn(3, 3, requires_grad=True)
    g, = ember.autograd.grad(ember.linalg.svd(x).S.sum(), x, create_graph=False)
    assert g.shape == (3, 3)
    with pytest.raises(NotImplementedError, match='double backward through LinalgSvdBackward0'):
        ember.autograd.grad(ember.linalg.svd(x).S.sum(), x, create_graph=True)


@pytest.mark.parametrize('shape', [(4, 3), (3, 5), (2, 3, 3)])
def test_pinv_and_pinverse_gradients(shape):
    a = np.random.default_rng(4).standard_normal(shape)
    _compare(a, lambda L, x: (L.linalg.pinv(x) * _w(L, x.mT.shape)).sum(), 1e-8)
    _compare(a, lambda L, x: (L.pinverse(x) ** 2).sum(), 1e-8)
    # rank-deficient: the cut singular value takes no part, in the value or the gradient
    r = np.random.default_rng(6).standard_normal((4, 2)) @ np.random.default_rng(7).standard_normal((2, 3))
    _compare(r, lambda L, x: (L.linalg.pinv(x, rtol=1e-8) * _w(L, (3, 4))).sum(), 1e-7)


def test_block_diag_and_frexp_gradients():
    a = np.random.default_rng(8).standard_normal((2, 3))
    _compare(a, lambda L, x: (L.block_diag(x, x[0], x[:, :1].T * 2) * _w(L, (4, 8))).sum(), 1e-12)
    _compare(a * 37, lambda L, x: (L.frexp(x).mantissa * _w(L, (2, 3))).sum(), 1e-12)


def test_i0_refuses_to_drop_its_gradient():
    with pytest.raises(NotImplementedError, match='gradient of torch.i0'):
        ember.i0(ember.ones(2, requires_grad=True))
