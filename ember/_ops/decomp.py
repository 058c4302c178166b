"""Matrix decompositions with torch's gradients: svd, eigh, cholesky (torch.linalg and the
legacy torch.svd / Tensor.svd); qr, pinv and the rest without a gradient refuse to build a
graph (NotImplementedError naming the function) rather than drop a gradient silently.

The formulas follow the standard results torch uses (its FunctionsManual): for A = U S V^H,
gA = U [ sym-skew(U^H gU) S / E + S sym-skew(V^H gV) / E + diag(gS) ] V^H with
E_ij = S_j^2 - S_i^2, plus the projections onto the complements when A is not square.
"""
import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, _record_outputs, _RESULT, derivative
from ._util import _arr, _legacy
from .reduce import _return_type
from .linalg import inverse

__all__ = ['svd', 'qr', 'cholesky', 'pinverse']

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


def _svd(A, full_matrices=True, *, driver=None, out=None):
    """torch.linalg.svd: A = U diag(S) Vh."""
    _check_matrix('linalg.svd', A)
    if A._data.dtype.kind == 'c':
        _no_gradient('torch.linalg.svd for complex input', A)
    u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices)
    u, s, vh = _arr(u), _arr(s), _arr(vh)
    return _LinalgSvdRT(*_record_outputs(LinalgSvdBackward0, (u, s, vh), (A,), U=u, S=s, Vh=vh,
                                        full_matrices=full_matrices))


def _svdvals(A, *, driver=None, out=None):
    return _svd(A, full_matrices=False)[1]


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


def qr(input, some=True, *, out=None):
    """torch.qr (legacy): reduced unless some=False."""
    q, r = _qr(input, 'reduced' if some else 'complete')
    return _QrRT(q, r)


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


def pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with rtol=rcond."""
    return _pinv(input, rtol=rcond)
