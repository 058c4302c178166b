"""torch.svd_lowrank and torch.pca_lowrank: Halko, Martinsson and Tropp's randomized range
finder, with torch's calls in torch's order (one torch.randn of shape (n, q), QR after every
product), so the same seed gives torch's random basis and results."""
from .. import _dtype
from .decomp import _qr, _svd
from .linalg import matmul
from .random import randn

__all__ = ['svd_lowrank', 'pca_lowrank']


def _floating(A):
    return A.dtype if A.dtype in (_dtype.float16, _dtype.float32, _dtype.float64) \
        else _dtype.float32


def get_approximate_basis(A, q, niter=2, M=None):
    """An orthonormal (n, q) basis Q whose range approximates A's (A - M's)."""
    niter = 2 if niter is None else niter
    dtype = A.dtype if A.is_complex() else _floating(A)
    R = randn(A.shape[-1], q, dtype=dtype)
    X = matmul(A, R)
    if M is not None:
        X = X - matmul(M, R)
    Q = _qr(X).Q
    for _ in range(niter):
        X = matmul(A.mH, Q)
        if M is not None:
            X = X - matmul(M.mH, Q)
        Q = _qr(X).Q
        X = matmul(A, Q)
        if M is not None:
            X = X - matmul(M, Q)
        Q = _qr(X).Q
    return Q


def _svd_lowrank(A, q=6, niter=2, M=None):
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = matmul(Q.mH, A)
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = _svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) of a rank-q approximation of A (or of A - M)."""
    return _svd_lowrank(A, q=q, niter=niter, M=M)


def pca_lowrank(A, q=None, center=True, niter=2):
    """(U, S, V) of the principal components of A's rows (centred unless center=False)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter=niter, M=None)
    if getattr(A, '_sparse', False):
        raise NotImplementedError("ember does not implement torch.pca_lowrank of a sparse "
                                  "tensor with center=True")
    C = A.mean(dim=(-2,), keepdim=True)
    return _svd_lowrank(A - C, q, niter=niter, M=None)
