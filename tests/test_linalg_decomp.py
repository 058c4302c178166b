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


def test_i0_has_its_gradient():  # I0' = I1 (tests/test_special_functions.py tests it further)
    x = ember.tensor([0.5, 2.0], requires_grad=True)
    ember.i0(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), torch.special.i1(torch.tensor([0.5, 2.0])).numpy(),
                               rtol=1e-6)


# ---- the composite torch.linalg functions ---------------------------------------------------

def _spd(L, x):
    return x.mT @ x + L.eye(x.shape[-1], dtype=x.dtype)


COMPOSITES = {
    'solve_triangular_lower': lambda L, x: (L.linalg.solve_triangular(
        x + 3 * L.eye(3, dtype=x.dtype), x.mT @ x, upper=False) * _w(L, (3, 3))).sum(),
    'solve_triangular_upper_right_unit': lambda L, x: (L.linalg.solve_triangular(
        x, x @ x, upper=True, left=False, unitriangular=True) * _w(L, (3, 3))).sum(),
    'multi_dot': lambda L, x: (L.linalg.multi_dot([x[0], x, x.mT, x[:, 1]])),
    'multi_dot_mats': lambda L, x: (L.linalg.multi_dot([x, x.mT, x]) * _w(L, (3, 3))).sum(),
    'vecdot': lambda L, x: (L.linalg.vecdot(x, x * 2, dim=0) * _w(L, (3,))).sum(),
    'vander': lambda L, x: (L.linalg.vander(x[0], N=4) * _w(L, (3, 4))).sum(),
    'diagonal': lambda L, x: (L.linalg.diagonal(x, offset=1) * _w(L, (2,))).sum(),
    'matrix_power': lambda L, x: (L.linalg.matrix_power(x, 3) * _w(L, (3, 3))).sum(),
    'cond': lambda L, x: L.linalg.cond(x + 3 * L.eye(3, dtype=x.dtype)),
    'solve_right': lambda L, x: (L.linalg.solve(x + 3 * L.eye(3, dtype=x.dtype), x.mT,
                                                left=False) * _w(L, (3, 3))).sum(),
    'inv_ex': lambda L, x: (L.linalg.inv_ex(_spd(L, x)).inverse * _w(L, (3, 3))).sum(),
    'solve_ex': lambda L, x: (L.linalg.solve_ex(_spd(L, x), x).result * _w(L, (3, 3))).sum(),
    'cholesky_ex': lambda L, x: (L.linalg.cholesky_ex(_spd(L, x)).L * _w(L, (3, 3))).sum(),
    'lstsq': lambda L, x: (L.linalg.lstsq(L.cat([x, x ** 2]), _w(L, (6, 2))).solution
                           * _w(L, (3, 2))).sum(),
    'matrix_exp': lambda L, x: (L.linalg.matrix_exp(x) * _w(L, (3, 3))).sum(),
    'matrix_exp_big': lambda L, x: (L.linalg.matrix_exp(4 * x) * _w(L, (3, 3))).sum(),
    'householder': lambda L, x: (L.linalg.householder_product(L.cat([x, x ** 2]), x[0] / 3)
                                 * _w(L, (6, 3))).sum(),
    'tensorinv': lambda L, x: (L.linalg.tensorinv(
        _spd(L, x).reshape(3, 3, 1), ind=1) * _w(L, (3, 1, 3))).sum(),
}


@pytest.mark.parametrize('name', list(COMPOSITES))
def test_composite_linalg_as_torch(name):
    a = np.random.default_rng(10).standard_normal((3, 3))
    _compare(a, COMPOSITES[name], 1e-9)


def test_cond_other_norms():
    a = np.random.default_rng(13).standard_normal((3, 3)) + 3 * np.eye(3)
    for p in ('fro', 'nuc', 1, -1, float('inf')):
        np.testing.assert_allclose(ember.linalg.cond(ember.tensor(a), p).numpy(),
                                   torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-10)


def test_lstsq_outputs_and_info_forms():
    a = np.random.default_rng(11).standard_normal((5, 3))
    b = np.random.default_rng(12).standard_normal((5, 2))
    for driver in (None, 'gelsd', 'gelss', 'gelsy'):
        re_ = ember.linalg.lstsq(ember.tensor(a), ember.tensor(b), driver=driver)
        rt = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        for k in ('solution', 'residuals', 'rank', 'singular_values'):
            e, t = getattr(re_, k), getattr(rt, k)
            assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), (driver, k)
            np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-10)
    bad = ember.linalg.cholesky_ex(-ember.eye(2))
    assert bad.info.item() > 0 and str(bad.info.dtype) == 'torch.int32'
    assert ember.linalg.inv_ex(ember.eye(2)).info.dtype == ember.int32


@pytest.mark.parametrize('shape', [(4, 4), (2, 3, 3)])
def test_eig_gradients(shape):
    """Eigenvalues and the moduli of eigenvector entries (unit vectors, arbitrary phase)."""
    a = np.random.default_rng(14).standard_normal(shape)
    n = shape[-1]
    _compare(a, lambda L, x: (L.view_as_real(L.linalg.eig(x).eigenvalues)
                              * _w(L, shape[:-1] + (2,))).sum(), 1e-9)
    _compare(a, lambda L, x: (L.linalg.eig(x).eigenvectors.abs() ** 2
                              * _w(L, shape[:-2] + (n, n))).sum(), 1e-9)
    _compare(a, lambda L, x: L.linalg.eigvals(x).abs().sum(), 1e-9)


@pytest.mark.parametrize('shape', [(4, 4), (2, 3, 3), (4, 3), (3, 5)])
def test_lu_values_as_torch(shape):
    a = np.random.default_rng(15).standard_normal(shape)
    fe, ft = ember.linalg.lu_factor(ember.tensor(a)), torch.linalg.lu_factor(torch.tensor(a))
    np.testing.assert_allclose(fe.LU.numpy(), ft.LU.numpy(), atol=1e-12)
    assert fe.pivots.tolist() == ft.pivots.tolist() and str(fe.pivots.dtype) == 'torch.int32'
    xe = ember.linalg.lu_factor_ex(ember.tensor(a))
    xt = torch.linalg.lu_factor_ex(torch.tensor(a))
    assert xe.info.tolist() == xt.info.tolist() and str(xe.info.dtype) == str(xt.info.dtype)
    for e, t in zip(ember.linalg.lu(ember.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        np.testing.assert_allclose(e.numpy(), t.numpy(), atol=1e-12)


def test_lu_gradients():
    a = np.random.default_rng(16).standard_normal((4, 4))
    _compare(a, lambda L, x: (L.linalg.lu(x).L * _w(L, (4, 4))).sum()
             + (L.linalg.lu(x).U ** 2).sum(), 1e-9)
    _compare(a, lambda L, x: (L.linalg.lu_factor(x).LU * _w(L, (4, 4))).sum(), 1e-9)
    _compare(a, lambda L, x: (lambda r: (L.linalg.lu_solve(r.LU, r.pivots, x.mT)
                                         * _w(L, (4, 4))).sum())(L.linalg.lu_factor(x)), 1e-9)


@pytest.mark.parametrize('shape,dim', [((3, 4), (-2, -1)), ((5, 3), (-2, -1)),
                                       ((2, 3, 4), (0, 2)), ((2, 3, 4), (2, 0))])
@pytest.mark.parametrize('ord', ['nuc', 2, -2])
@pytest.mark.parametrize('keepdim', [False, True])
def test_svd_norms_second_derivative_as_torch(shape, dim, ord, keepdim):
    # the gradient's direction depends on A: a second derivative through it must see that
    a = np.random.default_rng(0).standard_normal(shape)
    w = np.random.default_rng(1).standard_normal(shape)
    got = []
    for L in (torch, ember):
        x = L.tensor(a, requires_grad=True)
        y = (L.linalg.matrix_norm(x, ord, dim=dim, keepdim=keepdim) ** 2).sum()
        g, = L.autograd.grad(y, x, create_graph=True)
        h, = L.autograd.grad((g * L.tensor(w)).sum(), x)
        got.append((y.detach().numpy(), g.detach().numpy(), h.numpy()))
    for e, t in zip(got[1], got[0]):
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)
