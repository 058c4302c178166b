"""Matrix decompositions with torch's gradients: svd, eigh, cholesky (torch.linalg and the
legacy torch.svd / Tensor.svd); qr, pinv and the rest without a gradient refuse to build a
graph (NotImplementedError naming the function) rather than drop a gradient silently.

The formulas follow the standard results torch uses (its FunctionsManual): for A = U S V^H,
gA = U [ sym-skew(U^H gU) S / E + S sym-skew(V^H gV) / E + diag(gS) ] V^H with
E_ij = S_j^2 - S_i^2, plus the projections onto the complements when A is not square.
"""
import numpy as np

from .._tensor import Tensor, _wrap, tensor_op
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, _record_outputs, _RESULT, derivative
from ._util import _with_out, _arr, _legacy, _warn_once
from .reduce import _return_type
from .linalg import inverse, matrix_norm, solve as _linalg_solve
from .sampling import _constant_pad
from .shape import cat

__all__ = ['svd', 'qr', 'cholesky', 'pinverse', 'lu', 'lu_unpack', 'lu_solve', 'cholesky_solve',
           'cholesky_inverse', 'triangular_solve', 'lstsq', 'symeig', 'eig', 'solve',
           'matrix_rank']

_LinalgSvdRT = _return_type('linalg_svd', ('U', 'S', 'Vh'))
_SvdRT = _return_type('svd', ('U', 'S', 'V'))
_LinalgEighRT = _return_type('linalg_eigh', ('eigenvalues', 'eigenvectors'))
_LinalgQrRT = _return_type('linalg_qr', ('Q', 'R'))
_QrRT = _return_type('qr', ('Q', 'R'))


def _no_gradient(name, *tensors):
    if _State.enabled and any(t._requires_grad for t in tensors):
        raise NotImplementedError(f"ember does not implement the gradient of {name} (call it "
                                  "under torch.no_grad() or on a detached tensor)")


def _check_matrix(name, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A._data.dtype.kind not in 'fc':
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_legacy(A._data.dtype)}")


# ---- svd ------------------------------------------------------------------------------------

def _skew(X):
    return X - X.mT


@derivative
def LinalgSvdBackward0(grads, U, S, Vh, full_matrices):
    gU, gS, gVh = grads
    k = S.shape[-1]
    if full_matrices:   # the extra columns/rows of a full U or Vh receive no gradient
        U, Vh = U[..., :k], Vh[..., :k, :]
        gU = gU[..., :k] if gU is not None else None
        gVh = gVh[..., :k, :] if gVh is not None else None
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        if gS is None:
            return None
        return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = E + _eye_like(E)   # the diagonal is unused; 1 avoids 0 / 0
    if gU is not None and gVh is not None:
        gA = (_skew(U.mT @ gU) * S.unsqueeze(-2) + S.unsqueeze(-1) * _skew(Vh @ gVh.mT)) / E
    elif gU is not None:
        gA = _skew(U.mT @ gU) / E * S.unsqueeze(-2)
    else:
        gA = S.unsqueeze(-1) * _skew(Vh @ gVh.mT) / E
    if gS is not None:
        gA = gA + _diag_embed(gS)
    if m > n and gU is not None:
        gA = U @ gA
        gUSinv = gU / S.unsqueeze(-2)
        gA = (gA + gUSinv - U @ (U.mT @ gUSinv)) @ Vh
    elif m < n and gVh is not None:
        gA = gA @ Vh
        SinvgVh = gVh / S.unsqueeze(-1)
        gA = U @ (gA + SinvgVh - (SinvgVh @ Vh.mT) @ Vh)
    else:
        gA = U @ (gA @ Vh)
    return gA


def _eye_like(E):
    k = E.shape[-1]
    return _wrap(np.eye(k, dtype=E._data.dtype))


def _diag_embed(v):
    return v.diag_embed()


@_with_out
def _svd(A, full_matrices=True, *, driver=None, out=None):
    """torch.linalg.svd: A = U diag(S) Vh."""
    _check_matrix('linalg.svd', A)
    if A._data.dtype.kind == 'c':
        _no_gradient('torch.linalg.svd for complex input', A)
    u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices)
    u, s, vh = _arr(u), _arr(s), _arr(vh)
    return _LinalgSvdRT(*_record_outputs(LinalgSvdBackward0, (u, s, vh), (A,), U=u, S=s, Vh=vh,
                                        full_matrices=full_matrices))


@_with_out
def _svdvals(A, *, driver=None, out=None):
    return _svd(A, full_matrices=False)[1]


@tensor_op
@_with_out
def svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd (legacy): (U, S, V) with V = Vh^H; reduced unless some=False."""
    if not compute_uv:
        s = _svd(input, full_matrices=False)[1]
        m, n = input.shape[-2], input.shape[-1]
        z = input._data.dtype
        return _SvdRT(_wrap(np.zeros(input.shape[:-2] + (m, m), z)), s,
                      _wrap(np.zeros(input.shape[:-2] + (n, n), z)))
    U, S, Vh = _svd(input, full_matrices=not some)
    return _SvdRT(U, S, Vh.mH)


# ---- eigh -----------------------------------------------------------------------------------

@derivative
def LinalgEighBackward0(grads, L, V):
    gL, gV = grads
    if gV is None:
        if gL is None:
            return None
        return (V * gL.unsqueeze(-2)) @ V.mT
    VtgV = V.mT @ gV
    VtgV = 0.5 * (VtgV - VtgV.mT)
    E = L.unsqueeze(-2) - L.unsqueeze(-1)
    E = E + _eye_like(E)
    ret = VtgV / E
    if gL is not None:
        ret = ret + _diag_embed(gL)
    return V @ (ret @ V.mT)


@_with_out
def _eigh(A, UPLO='L', *, out=None):
    """torch.linalg.eigh: eigenvalues (ascending) and eigenvectors of a symmetric matrix."""
    _check_matrix('linalg.eigh', A)
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if A._data.dtype.kind == 'c':
        _no_gradient('torch.linalg.eigh for complex input', A)
    w, v = np.linalg.eigh(A._data, UPLO=UPLO)
    w, v = _arr(w), _arr(v)
    return _LinalgEighRT(*_record_outputs(LinalgEighBackward0, (w, v), (A,), L=w, V=v))


@_with_out
def _eigvalsh(A, UPLO='L', *, out=None):
    return _eigh(A, UPLO)[0]


# ---- cholesky -------------------------------------------------------------------------------

@derivative
def LinalgCholeskyExBackward0(grad, L, upper):
    if upper:
        L, grad = L.mT, grad.mT
    T = (L.mT @ grad).tril()
    phi = 0.5 * (T + T.tril(-1).mT)
    Linv = inverse(L)
    return Linv.mT @ phi @ Linv


@_with_out
def _cholesky(A, *, upper=False, out=None):
    """torch.linalg.cholesky: L lower-triangular with A = L L^H (U = L^H if upper)."""
    _check_matrix('linalg.cholesky', A)
    if A._data.dtype.kind == 'c':
        _no_gradient('torch.linalg.cholesky for complex input', A)
    try:
        L = np.linalg.cholesky(A._data)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.cholesky: The factorization could not be completed because "
                           "the input is not positive-definite.") from None
    r = np.swapaxes(L, -1, -2).copy() if upper else L
    return _record(LinalgCholeskyExBackward0, _arr(r), (A,), L=_RESULT, upper=upper)


@tensor_op
@_with_out
def cholesky(input, upper=False, *, out=None):
    """torch.cholesky / Tensor.cholesky (deprecated in torch, same factor)."""
    return _cholesky(input, upper=upper)


# ---- without a gradient ---------------------------------------------------------------------

@derivative
def LinalgQrBackward0(grads, Q, R, unsupported=None):
    if unsupported:   # as torch: the forward runs, a backward through it raises
        raise NotImplementedError(unsupported)
    # A = QR with m >= n (reduced, or square complete): M = R gR^T - gQ^T Q,
    # gA = (gQ + Q copyltu(M)) R^-T, where copyltu mirrors M's lower triangle upwards
    gQ, gR = grads
    M = 0
    if gR is not None:
        M = R @ gR.mT
    if gQ is not None:
        M = M - gQ.mT @ Q
    b = gQ if gQ is not None else 0
    if isinstance(M, Tensor):
        b = b + Q @ (M.tril() + M.tril(-1).mT)
    return b @ inverse(R).mT


@_with_out
def _qr(A, mode='reduced', *, out=None):
    """torch.linalg.qr: A = QR; differentiable for m >= n (as torch, also in mode='complete'
    when A is square)."""
    _check_matrix('linalg.qr', A)
    if mode not in ('reduced', 'complete', 'r'):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = A.shape[-2:]
    if mode == 'r':
        _no_gradient("torch.linalg.qr with mode='r' (torch cannot differentiate it either)", A)
        r = np.linalg.qr(A._data, mode='r')
        return _LinalgQrRT(_wrap(np.zeros((0,), A._data.dtype)), _wrap(_arr(r)))
    unsupported = None
    if mode == 'complete' and m > n:
        unsupported = ("The QR decomposition is not differentiable when mode='complete' and "
                       "nrows > ncols.")
    elif m < n or A._data.dtype.kind == 'c':
        unsupported = (f"ember does not implement the gradient of torch.linalg.qr for a "
                       f"{'complex ' if A.is_complex() else ''}matrix with more columns than "
                       f"rows ({m}x{n})" if m < n else
                       "ember does not implement the gradient of torch.linalg.qr for complex "
                       "input")
    q, r = np.linalg.qr(A._data, mode=mode)
    q, r = _arr(q), _arr(r)
    return _LinalgQrRT(*_record_outputs(LinalgQrBackward0, (q, r), (A,), Q=q, R=r,
                                        unsupported=unsupported))


@tensor_op
@_with_out
def qr(input, some=True, *, out=None):
    """torch.qr (legacy): reduced unless some=False."""
    q, r = _qr(input, 'reduced' if some else 'complete')
    return _QrRT(q, r)


@_with_out
def _pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """torch.linalg.pinv: V diag(1/s) U^H over the singular values above the cutoff
    max(atol, rtol * s_max) (rtol defaults to eps * max(m, n) when atol is not given), built
    from the differentiable svd."""
    _check_matrix('linalg.pinv', A)
    if A._data.dtype.kind == 'c':
        _no_gradient('torch.linalg.pinv for complex input', A)
    m, n = A.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(A._data.dtype).eps * max(m, n)
    U, S, Vh = _svd(A, full_matrices=False)
    smax = S.detach().amax(-1, keepdim=True) if S.shape[-1] else S.detach()
    cutoff = smax * rtol
    if atol is not None:
        cutoff = cutoff.clamp(min=atol)
    keep = S > cutoff
    inv = (1 / S.masked_fill(~keep, 1)).masked_fill(~keep, 0)
    return (Vh.mT * inv.unsqueeze(-2)) @ U.mT


@tensor_op
def pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with rtol=rcond."""
    return _pinv(input, rtol=rcond)


# ---- torch.linalg functions built from the differentiable ops above -------------------------

_LinalgInfoRT = {name: _return_type(name, fields) for name, fields in (
    ('linalg_cholesky_ex', ('L', 'info')), ('linalg_inv_ex', ('inverse', 'info')),
    ('linalg_solve_ex', ('result', 'info')),
    ('linalg_lstsq', ('solution', 'residuals', 'rank', 'singular_values')))}


def _info(A, value=0):
    return _wrap(np.full(A.shape[:-2], value, dtype=np.int32))


@_with_out
def _cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info): info > 0 (the order of the failing minor) instead of an error."""
    try:
        return _LinalgInfoRT['linalg_cholesky_ex'](_cholesky(A, upper=upper), _info(A))
    except RuntimeError:
        if check_errors:
            raise
    # torch leaves a partial factor; ember reports the failure with info and a zero factor
    return _LinalgInfoRT['linalg_cholesky_ex'](
        _wrap(np.zeros(A.shape, A._data.dtype)), _info(A, 1))


@_with_out
def _inv_ex(A, *, check_errors=False, out=None):
    return _LinalgInfoRT['linalg_inv_ex'](inverse(A), _info(A))


@_with_out
def _solve_ex(A, B, *, left=True, check_errors=False, out=None):
    return _LinalgInfoRT['linalg_solve_ex'](_linalg_solve(A, B, left=left), _info(A))


@_with_out
def _solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """Solve with the triangle of A that `upper` names (its diagonal taken as ones when
    unitriangular); the other triangle is never read, so it gets no gradient."""
    T = A.triu() if upper else A.tril()
    if unitriangular:
        n = A.shape[-1]
        eye = _wrap(np.eye(n, dtype=A._data.dtype))
        T = T * (1 - eye) + eye
    return _linalg_solve(T, B, left=left)


@_with_out
def _multi_dot(tensors, *, out=None):
    """The product of the matrices in order; a 1-D first (last) operand is a row (column)."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = list(tensors)
    if first:
        mats[0] = mats[0].unsqueeze(0)
    if last:
        mats[-1] = mats[-1].unsqueeze(-1)
    r = mats[0]
    for m in mats[1:]:
        r = r @ m
    if first:
        r = r.squeeze(0)
    if last:
        r = r.squeeze(-1)
    return r


@_with_out
def _vecdot(x, y, *, dim=-1, out=None):
    return (x.conj() * y).sum(dim)


def _vander(x, *, N=None):
    n = x.shape[-1] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    powers = _wrap(np.arange(n, dtype=np.int64))
    return x.unsqueeze(-1) ** powers.to(x.dtype) if x.is_floating_point() else \
        x.unsqueeze(-1) ** powers


def _linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def _matrix_power(A, n):
    return A.matrix_power(n)


def _cond(A, p=None):
    if p is None or p == 2 or p == -2:
        s = _svdvals(A)
        big, small = s.amax(-1), s.amin(-1)
        return big / small if p != -2 else small / big
    return matrix_norm(A, p) * matrix_norm(inverse(A), p)


@_with_out
def _tensorinv(A, ind=2, *, out=None):
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = A.shape[:ind], A.shape[ind:]
    rows = int(np.prod(out_shape))
    cols = int(np.prod(in_shape))
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement "
                           "prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
                           f"{cols} != {rows}")
    return inverse(A.reshape(rows, cols)).reshape(tuple(in_shape) + tuple(out_shape))


@_with_out
def _tensorsolve(A, B, dims=None, *, out=None):
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    sol_shape = A.shape[B.ndim:]
    n = int(np.prod(sol_shape))
    return _linalg_solve(A.reshape(-1, n), B.reshape(-1)).reshape(sol_shape)


def _lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) as torch's CPU drivers give them; the
    solution is pinv(A) B (differentiable)."""
    if driver not in (None, 'gels', 'gelsy', 'gelsd', 'gelss'):
        raise RuntimeError("parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    driver = driver or 'gelsy'
    m, n = A.shape[-2:]
    vec = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vec else B
    rtol = rcond if rcond is not None and rcond > 0 else \
        np.finfo(A._data.dtype).eps * max(m, n)
    X = _pinv(A, rtol=rtol) @ Bm
    s = np.linalg.svd(A._data, compute_uv=False)
    rank = (s > rtol * s.max(-1, keepdims=True)).sum(-1)
    empty = _wrap(np.zeros((0,), A._data.dtype))
    residuals = empty
    if driver != 'gelsy' and driver != 'gels' and m > n and (rank == n).all():
        residuals = ((A @ X - Bm) ** 2).sum(-2)
    rank_t = _wrap(rank.astype(np.int64)) if driver != 'gels' else \
        _wrap(np.zeros((0,), np.int64))
    sv = _wrap(_arr(s)) if driver in ('gelsd', 'gelss') else empty
    return _LinalgInfoRT['linalg_lstsq'](X.squeeze(-1) if vec else X, residuals, rank_t, sv)


@derivative
def LinalgMatrixExpBackward0(grad, self):
    # the adjoint of the Frechet derivative: the top-right block of exp([[A^T, G], [0, A^T]])
    n = self.shape[-1]
    At = self.mT
    top = cat([At, grad], -1)
    bottom = cat([_zeros_like_t(At), At], -1)
    return _matrix_exp(cat([top, bottom], -2))[..., :n, n:]


def _zeros_like_t(t):
    return _wrap(np.zeros(t.shape, t._data.dtype))


def _expm(a):
    """exp of square matrices (batched): scaling and squaring with a Taylor polynomial."""
    norm = np.abs(a).sum(-2).max(-1) if a.size else np.zeros(a.shape[:-2])
    s = int(max(0, np.ceil(np.log2(max(float(np.max(norm, initial=0)), 1e-300) / 0.25))))
    x = a / (2.0 ** s)
    term = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()
    result = term.copy()
    for k in range(1, 20):
        term = term @ x / k
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


def _matrix_exp(A):
    """torch.linalg.matrix_exp."""
    _check_matrix('linalg.matrix_exp', A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices, but they "
                           f"are {A.shape[-2]} by {A.shape[-1]} matrices")
    return _record(LinalgMatrixExpBackward0, _arr(_expm(A._data).astype(A._data.dtype)), (A,),
                   self=A)


@_with_out
def _householder_product(A, tau, *, out=None):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H, v_i the i-th column of A
    below the diagonal with an implicit 1 on it (LAPACK's orgqr), built from differentiable
    ops."""
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if n > m:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if k > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    eye = _wrap(np.eye(m, dtype=A._data.dtype))
    Q = eye.expand(A.shape[:-2] + (m, m)) if A.ndim > 2 else eye
    for i in range(k):
        mask = np.zeros(m, dtype=A._data.dtype)
        mask[i + 1:] = 1
        unit = np.zeros(m, dtype=A._data.dtype)
        unit[i] = 1
        v = A[..., :, i] * _wrap(mask) + _wrap(unit)
        H = eye - tau[..., i, None, None] * (v.unsqueeze(-1) @ v.conj().unsqueeze(-2))
        Q = Q @ H
    return Q[..., :, :n]


# ---- eig ------------------------------------------------------------------------------------

_LinalgEigRT = _return_type('linalg_eig', ('eigenvalues', 'eigenvectors'))


@derivative
def LinalgEigBackward0(grads, L, V, real_input):
    # torch's formula for A = V diag(L) V^-1 (eigenvectors of norm 1): with VhgV = V^H gV
    # projected onto the tangent space of unit columns,
    # gA = V^-H (VhgV / conj(L_j - L_i) + diag(gL)) V^H, real part for a real A
    gL, gV = grads
    n = L.shape[-1]
    eye = _wrap(np.eye(n))
    if gV is not None:
        VhgV = V.mH @ gV
        VhgV = VhgV - V.mH @ (V * VhgV.diagonal(0, -2, -1).real.unsqueeze(-2))
        Lc = L.conj()
        E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1) + eye
        ret = VhgV / E * (1 - eye)
    else:
        ret = _wrap(np.zeros(L.shape + (n,), L._data.dtype))
    if gL is not None:
        ret = ret + gL.diag_embed()
    gA = _linalg_solve(V.mH, ret @ V.mH)
    return gA.real if real_input else gA


@_with_out
def _eig(A, *, out=None):
    """torch.linalg.eig: complex eigenvalues and unit-norm eigenvectors (LAPACK geev)."""
    _check_matrix('linalg.eig', A)
    w, v = np.linalg.eig(A._data)
    cdt = np.complex64 if A._data.dtype in (np.float32, np.complex64) else np.complex128
    w, v = _arr(w.astype(cdt)), _arr(v.astype(cdt))
    return _LinalgEigRT(*_record_outputs(LinalgEigBackward0, (w, v), (A,), L=w, V=v,
                                         real_input=A._data.dtype.kind != 'c'))


@_with_out
def _eigvals(A, *, out=None):
    return _eig(A)[0]


# ---- LU -------------------------------------------------------------------------------------

_LinalgLuFactorRT = _return_type('linalg_lu_factor', ('LU', 'pivots'))
_LinalgLuRT = _return_type('linalg_lu', ('P', 'L', 'U'))


def _getrf(a):
    """LU with partial pivoting (LAPACK getrf's choices: the first largest pivot), batched.
    Returns the packed LU and 1-based int32 pivots."""
    a = np.array(a, dtype=a.dtype, copy=True)
    m, n = a.shape[-2:]
    k_max = min(m, n)
    batch = a.shape[:-2]
    flat = a.reshape((-1, m, n))
    piv = np.zeros((flat.shape[0], k_max), dtype=np.int32)
    rows = np.arange(flat.shape[0])
    for k in range(k_max):
        p = k + np.argmax(np.abs(flat[:, k:, k]), axis=1)
        piv[:, k] = p + 1
        swap = p != k
        if swap.any():
            r = rows[swap]
            top = flat[r, k, :].copy()
            flat[r, k, :] = flat[r, p[swap], :]
            flat[r, p[swap], :] = top
        d = flat[:, k, k]
        nz = d != 0
        with np.errstate(divide='ignore', invalid='ignore'):
            flat[:, k + 1:, k] = np.where(nz[:, None], flat[:, k + 1:, k] / d[:, None],
                                          flat[:, k + 1:, k])
        flat[:, k + 1:, k + 1:] -= flat[:, k + 1:, k:k + 1] * flat[:, k:k + 1, k + 1:]
    return flat.reshape(a.shape), piv.reshape(batch + (k_max,))


def _permutation(piv, m):
    """P (m x m, batched) with A = P L U from 1-based row swaps."""
    batch = piv.shape[:-1]
    flat = piv.reshape((-1, piv.shape[-1])) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    for k in range(flat.shape[1]):
        p = flat[:, k]
        rows = np.arange(flat.shape[0])
        tmp = perm[rows, k].copy()
        perm[rows, k] = perm[rows, p]
        perm[rows, p] = tmp
    P = np.zeros((flat.shape[0], m, m))
    P[np.arange(flat.shape[0])[:, None], perm, np.arange(m)[None, :]] = 1
    return P.reshape(batch + (m, m))


@derivative
def LinalgLuBackward0(grads, P, L, U):
    # square A = P L U: gA = P L^-H [tril(L^H gL, -1) + triu(gU U^H)] U^-H
    gP, gL, gU = grads
    phi = 0
    if gL is not None:
        phi = (L.mT @ gL).tril(-1)
    if gU is not None:
        phi = phi + (gU @ U.mT).triu()
    if not isinstance(phi, Tensor):
        return None
    return P @ (inverse(L).mT @ phi @ inverse(U).mT)


@_with_out
def _lu(A, *, pivot=True, out=None):
    """torch.linalg.lu: (P, L, U) with A = P L U (differentiable for square A)."""
    return _lu_and_pivots(A, pivot)[0]


def _lu_and_pivots(A, pivot):
    _check_matrix('linalg.lu', A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")
    m, n = A.shape[-2:]
    if m != n:
        _no_gradient(f"torch.linalg.lu for a non-square ({m}x{n}) matrix", A)
    lu, piv = _getrf(A._data)
    k = min(m, n)
    L = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    U = np.triu(lu[..., :k, :])
    P = _permutation(piv, m).astype(lu.dtype)
    p = _wrap(P)
    _, L, U = _record_outputs(LinalgLuBackward0, (P, _arr(L), _arr(U)), (A,), P=p, L=L, U=U)
    # the saved L/U are the outputs (checked against in-place changes); P carries no gradient
    return _LinalgLuRT(p, L, U), piv


@_with_out
def _lu_factor(A, *, pivot=True, out=None):
    """torch.linalg.lu_factor: the packed LU (L's strict lower part, U's upper part) and the
    1-based pivots; differentiable through lu."""
    (P, L, U), piv = _lu_and_pivots(A, pivot)
    packed = (L - _wrap(np.eye(L.shape[-2], L.shape[-1], dtype=L._data.dtype))).tril(-1)
    packed = packed[..., :, :U.shape[-2]] if packed.shape[-1] > U.shape[-2] else packed
    LU = _pad_cols(packed, A.shape[-1]) + _pad_rows(U, A.shape[-2])
    return _LinalgLuFactorRT(LU, _wrap(piv))


_LinalgLuFactorExRT = _return_type('linalg_lu_factor_ex', ('LU', 'pivots', 'info'))


@_with_out
def _lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): info > 0 names the first zero pivot (1-based), as LAPACK's."""
    LU, piv = _lu_factor(A, pivot=pivot)
    diag = np.diagonal(LU._data, 0, -2, -1)
    zero = diag == 0
    info = np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)
    if check_errors and info.any():
        raise RuntimeError("torch.linalg.lu_factor_ex: U[{0},{0}] is zero and using it on "
                           "lu_solve would result in a division by zero.".format(
                               int(info.max())))
    return _LinalgLuFactorExRT(LU, piv, _wrap(info))


def _pad_cols(X, n):
    return X if X.shape[-1] == n else _constant_pad(X, [0, n - X.shape[-1]], 0)


def _pad_rows(X, m):
    return X if X.shape[-2] == m else _constant_pad(X, [0, 0, 0, m - X.shape[-2]], 0)


@_with_out
def _lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """torch.linalg.lu_solve: solves A X = B from lu_factor's output, through the
    differentiable solve on P L U."""
    n = LU.shape[-1]
    eye = _wrap(np.eye(n, dtype=LU._data.dtype))
    A = _wrap(_permutation(pivots._data, n).astype(LU._data.dtype)) @ \
        ((LU.tril(-1) + eye) @ LU.triu())
    if adjoint:
        A = A.mH
    return _linalg_solve(A, B, left=left)


# ---- torch's pre-torch.linalg functions ------------------------------------------------------

_LuWithInfoRT = _return_type('_lu_with_info', ('LU', 'pivots', 'info'))
_LuUnpackRT = _return_type('lu_unpack', ('P', 'L', 'U'))
_TriangularSolveRT = _return_type('triangular_solve', ('solution', 'cloned_coefficient'))


@tensor_op
@_with_out
def lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu (deprecated): (LU, pivots), and info when get_infos, as linalg.lu_factor_ex."""
    _warn_once('lu', (
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex "
        "and will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, "
        "compute_pivots)\nshould be replaced with\nLU, pivots = torch.linalg.lu_factor(A, "
        "compute_pivots)\nand\nLU, pivots, info = torch.lu(A, compute_pivots, "
        "get_infos=True)\nshould be replaced with\nLU, pivots, info = "
        "torch.linalg.lu_factor_ex(A, compute_pivots)"))
    LU, pivots, info = _lu_factor_ex(A, pivot=pivot)
    return _LuWithInfoRT(LU, pivots, info) if get_infos else (LU, pivots)


@_with_out
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from lu_factor's packed LU and pivots (empty tensors for the parts not
    asked for)."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    dt = LU_data._data.dtype
    none = _wrap(np.empty(0, dtype=dt))
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + _wrap(np.eye(m, k, dtype=dt))
        U = LU_data[..., :k, :].triu()
    else:
        L = U = none
    P = _wrap(_permutation(LU_pivots._data, m).astype(dt)) if unpack_pivots else none
    return _LuUnpackRT(P, L, U)


@tensor_op
@_with_out
def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """torch.lu_solve: solves A X = b from torch.lu's factorisation of A."""
    return _lu_solve(LU_data, LU_pivots, b)


@tensor_op
@_with_out
def cholesky_solve(B, L, upper=False, *, out=None):
    """Solves A X = B for A = L L^H (or U^H U when upper), from the Cholesky factor."""
    first = L.mH if upper else L  # the lower triangle: A = first @ first^H
    Y = _solve_triangular(first, B, upper=False)
    return _solve_triangular(first.mH, Y, upper=True)


@tensor_op
@_with_out
def cholesky_inverse(L, upper=False, *, out=None):
    """inv(A) for A = L L^H (or U^H U when upper), from the Cholesky factor."""
    n = L.shape[-1]
    eye = _wrap(np.broadcast_to(np.eye(n, dtype=L._data.dtype), L.shape).copy())
    return cholesky_solve(eye, L, upper)


@tensor_op
@_with_out
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """torch.triangular_solve (deprecated): (X, A.clone()) with op(A) X = b, op(A) = A or
    A^T."""
    M = A.mT if transpose else A
    X = _solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
    return _TriangularSolveRT(X, A.clone())


def _removed(name, message):
    """A function torch 1.9 removed: it raises torch's RuntimeError, with its advice."""
    def gone(*args, **kwargs):
        raise RuntimeError("This function was deprecated since version 1.9 and is now removed."
                           + message)
    gone.__name__ = gone.__qualname__ = name
    gone.__doc__ = f"torch.{name}: removed in torch 1.9 (raises, with torch's advice)."
    return gone


lstsq = tensor_op(_removed('lstsq', (
    " `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has "
    "reversed arguments and does not return the QR decomposition in the returned tuple "
    "(although it returns other information about the problem).\n\nTo get the QR "
    "decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in "
    "`torch.lstsq` stored the residuals of the solution in the last m - n columns of the "
    "returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
    "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = "
    "torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\nX = "
    "torch.linalg.lstsq(A, B).solution")))
symeig = tensor_op(_removed('symeig', (
    " The default behavior has changed from using the upper triangular portion of the matrix "
    "by default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) "
    "should be replaced with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')"
    "\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) should be replaced with:\nL, V = "
    "torch.linalg.eigh(A, UPLO='U' if upper else 'L')")))
eig = tensor_op(_removed('eig', (
    " `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than "
    "real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:"
    "\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) "
    "should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)")))
solve = tensor_op(_removed('solve', (
    " `torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has "
    "its arguments reversed and does not return the LU factorization.\n\nTo get the LU "
    "factorization see `torch.lu`, which can be used with `torch.lu_solve` or "
    "`torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced with:\nX = "
    "torch.linalg.solve(A, B)")))
matrix_rank = _removed('matrix_rank', (
    "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' "
    "was renamed in `torch.linalg.matrix_rank()` to 'hermitian'."))
