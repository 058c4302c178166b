"""torch.linalg.ldl_factor(_ex) and ldl_solve: LAPACK's sytrf / sytrs for the lower triangle
(Bunch-Kaufman diagonal pivoting, 1x1 and 2x2 blocks), step for step as LAPACK's unblocked
sytf2, so LD and the (1-based, negative for 2x2 blocks) pivots are torch's for the matrices
LAPACK factors unblocked (n below its block size, 64); larger ones agree to rounding. torch
records no derivative for either (its backward raises), nor does ember."""
import math

import numpy as np

from .._tensor import _wrap
from ..autograd.graph import _record
from ._util import _with_out
from .reduce import _return_type
from .sparse import _NoDerivative

__all__ = []

_LdlFactorEx = _return_type('linalg_ldl_factor_ex', ('LD', 'pivots', 'info'))
_LdlFactor = _return_type('linalg_ldl_factor', ('LD', 'pivots'))
_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


def _sytf2_lower(a):
    """Factor the symmetric matrix whose lower triangle is a (overwritten) in place; returns
    (pivots, info)."""
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = abs(a[k, k])
        if k < n - 1:
            imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k])))
            colmax = abs(a[imax, k])
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0 or np.isnan(absakk):
            if info == 0:
                info = k + 1
            kp = k
        else:
            if absakk >= _ALPHA * colmax:
                kp = k
            else:
                jmax = k + int(np.argmax(np.abs(a[imax, k:imax])))
                rowmax = abs(a[imax, jmax])
                if imax < n - 1:
                    jmax = imax + 1 + int(np.argmax(np.abs(a[imax + 1:, imax])))
                    rowmax = max(rowmax, abs(a[jmax, imax]))
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif abs(a[imax, imax]) >= _ALPHA * rowmax:
                    kp = imax
                else:
                    kp = imax
                    kstep = 2
            kk = k + kstep - 1
            if kp != kk:
                # interchange rows and columns kk and kp of the trailing lower triangle
                if kp < n - 1:
                    a[kp + 1:, [kk, kp]] = a[kp + 1:, [kp, kk]]
                seg = a[kk + 1:kp, kk].copy()
                a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
                a[kp, kk + 1:kp] = seg
                a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
                if kstep == 2:
                    a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
            if kstep == 1:
                if k < n - 1:
                    d11 = 1.0 / a[k, k]
                    x = a[k + 1:, k].copy()
                    for j in range(n - k - 1):   # dsyr: A[j:, j] += x[j:] * (-d11 * x[j])
                        a[k + 1 + j:, k + 1 + j] += x[j:] * (-d11 * x[j])
                    a[k + 1:, k] *= d11
            elif k < n - 2:
                d21 = a[k + 1, k]
                d11 = a[k + 1, k + 1] / d21
                d22 = a[k, k] / d21
                t = 1.0 / (d11 * d22 - 1.0)
                d21 = t / d21
                for j in range(k + 2, n):
                    wk = d21 * (d11 * a[j, k] - a[j, k + 1])
                    wkp1 = d21 * (d22 * a[j, k + 1] - a[j, k])
                    a[j:, j] -= a[j:, k] * wk + a[j:, k + 1] * wkp1
                    a[j, k] = wk
                    a[j, k + 1] = wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return ipiv, info


def _check_square(A, name):
    if A.ndim < 2:
        raise RuntimeError(f"torch.linalg.{name}: The input tensor A must have at least 2 "
                           "dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.{name}: A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    if A._data.dtype.kind not in 'fc':
        raise RuntimeError(f"torch.linalg.{name}: Expected a floating point or complex tensor "
                           f"as input. Got {str(A.dtype)[6:].capitalize()}")


def _factor(A, hermitian):
    _check_square(A, 'ldl_factor_ex')
    if A._data.dtype.kind == 'c':
        raise NotImplementedError("ember does not implement torch.linalg.ldl_factor for "
                                  "complex matrices")
    d = A._data
    n = d.shape[-1]
    batch = d.shape[:-2]
    LD = np.tril(d).astype(d.dtype, copy=True).reshape((-1, n, n))
    piv = np.zeros((LD.shape[0], n), np.int32)
    info = np.zeros(LD.shape[0], np.int32)
    for b in range(LD.shape[0]):
        piv[b], info[b] = _sytf2_lower(LD[b])
    LD = np.tril(LD).reshape(d.shape)
    return LD, piv.reshape(batch + (n,)), info.reshape(batch)


@_with_out
def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info): A = P L D L^T P^T, LAPACK's compact form (L below the diagonal,
    D's 1x1 and 2x2 blocks on and beside it)."""
    LD, piv, info = _factor(A, hermitian)
    if check_errors and (info > 0).any():
        raise RuntimeError("torch.linalg.ldl_factor_ex: The factorization could not be "
                           "completed because the input is not invertible.")
    return _LdlFactorEx(_record(_NoDerivative, LD, (A,), what='linalg_ldl_factor_ex'),
                        _wrap(piv), _wrap(info))


@_with_out
def ldl_factor(A, *, hermitian=False, out=None):
    LD, piv, info = _factor(A, hermitian)
    return _LdlFactor(_record(_NoDerivative, LD, (A,), what='linalg_ldl_factor_ex'), _wrap(piv))


def _sytrs_lower(a, ipiv, b):
    """Solve A X = B in place of b from sytf2's lower factorisation (a, ipiv)."""
    n = a.shape[0]
    k = 0
    while k < n:
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            b[k + 1:] -= np.outer(a[k + 1:, k], b[k])
            b[k] /= a[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                b[[k + 1, kp]] = b[[kp, k + 1]]
            if k < n - 2:
                b[k + 2:] -= np.outer(a[k + 2:, k], b[k])
                b[k + 2:] -= np.outer(a[k + 2:, k + 1], b[k + 1])
            akm1k = a[k + 1, k]
            akm1 = a[k, k] / akm1k
            ak = a[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1 = b[k] / akm1k
            bk = b[k + 1] / akm1k
            b[k] = (ak * bkm1 - bk) / denom
            b[k + 1] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:
        if ipiv[k] > 0:
            if k < n - 1:
                b[k] -= a[k + 1:, k] @ b[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 1
        else:
            if k < n - 1:
                b[k] -= a[k + 1:, k] @ b[k + 1:]
                b[k - 1] -= a[k + 1:, k - 1] @ b[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                b[[k, kp]] = b[[kp, k]]
            k -= 2
    return b


@_with_out
def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B for A's ldl_factor (LD, pivots)."""
    _check_square(LD, 'ldl_solve')
    if B.ndim < 2:
        raise RuntimeError("torch.linalg.ldl_solve: The input tensor B must have at least 2 "
                           "dimensions.")
    if LD.dtype != B.dtype:
        raise RuntimeError(f"torch.linalg.ldl_solve: Expected LD and B to have the same dtype, "
                           f"but got LD with dtype {LD.dtype} and B with dtype {B.dtype} "
                           "instead")
    if pivots.dtype.__repr__() != 'torch.int32':
        raise RuntimeError(f"torch.linalg.ldl_solve: Expected pivots to be integers. Got "
                           f"{pivots.dtype}")
    ld, piv, b = LD._data, pivots._data, B._data
    n = ld.shape[-1]
    if b.shape[-2] != n:
        raise RuntimeError(f"torch.linalg.ldl_solve: Incompatible shapes of A and B for the "
                           f"equation AX = B ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    batch = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2], piv.shape[:-1])
    ldb = np.broadcast_to(ld, batch + ld.shape[-2:]).reshape((-1, n, n))
    pb = np.broadcast_to(piv, batch + (n,)).reshape((-1, n))
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=b.dtype).reshape(
        (-1,) + b.shape[-2:])
    for i in range(x.shape[0]):
        _sytrs_lower(ldb[i], pb[i], x[i])
    return _record(_NoDerivative, x.reshape(batch + b.shape[-2:]), (LD, B),
                   what='linalg_ldl_solve')
