"""Distances and similarities: F.normalize, F.cosine_similarity, F.pairwise_distance, F.pdist
and torch.cdist.
"""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import no_grad
from ..autograd.graph import _record, _RESULT, derivative
from ._util import _nograph
from .creation import ones_like
from .elementwise import div
from .linalg import _vector_norm_backward
from .shape import broadcast_tensors, cat
from ._autocast import autocast

__all__ = ['normalize', 'cosine_similarity', 'pairwise_distance', 'pdist', 'cdist']


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return div(input, denom, out=out)


def _clamped_norm(x, dim, eps):
    """||x||_2 along dim (kept), raised to eps without cutting the gradient (as torch does,
    clamping in place under no_grad)."""
    n = x.norm(2, dim, keepdim=True)
    nd = n._data
    if (nd < eps).any():
        n = n + _wrap(np.maximum(nd, np.asarray(eps, nd.dtype)) - nd)
    return n


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (||x1|| * ||x2||) along dim, each norm at least eps."""
    if x1.dtype.is_floating_point is False:
        x1 = x1.float()
    if x2.dtype.is_floating_point is False:
        x2 = x2.float()
    if tuple(x1.shape) != tuple(x2.shape):
        x1, x2 = broadcast_tensors(x1, x2)
    return ((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps))).sum(dim)


@derivative('NormBackward1')
def _pairwise_norm_backward(grad, diff, p, axes, keepdim, result):
    return _vector_norm_backward(grad, diff, p, axes, keepdim, result)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension."""
    nd = max(x1.ndim, x2.ndim)
    diff = x1 - x2 + eps
    if nd == 0:
        diff = diff.reshape(1)
    dim = max(nd - 1, 0)
    with no_grad():
        r = diff.norm(p, dim, keepdim)
    return _record(_pairwise_norm_backward, r._data, (diff,), diff=diff, p=float(p),
                   axes=(dim,), keepdim=keepdim, result=_RESULT)


def _p_norm_grad(diff, dist, p):
    """d||diff||_p / d diff, broadcast over the last axis (NumPy; 0 where the distance is 0)."""
    dt = diff.dtype
    if p == 0:
        return np.zeros_like(diff)
    if p == 1:
        return np.sign(diff)
    dd = dist[..., None]
    with np.errstate(divide='ignore', invalid='ignore'):
        if p == 2:
            r = diff / dd
        elif p == np.inf:
            r = np.sign(diff) * (np.abs(diff) == dd)
        elif p < 1:
            r = np.sign(diff) * np.abs(diff) ** np.asarray(p - 1, dt) / dd ** np.asarray(p - 1, dt)
        else:
            r = diff * np.abs(diff) ** np.asarray(p - 2, dt) / dd ** np.asarray(p - 1, dt)
    return np.where(dd == 0, np.zeros((), dt), r).astype(dt, copy=False)


def _p_norm(diff, p):
    a = np.abs(diff)
    if p == 0:
        return (a != 0).sum(-1).astype(diff.dtype)
    if p == 1:
        return a.sum(-1)
    if p == 2:
        return np.sqrt((a * a).sum(-1))
    if p == np.inf:
        return a.max(-1) if a.shape[-1] else np.zeros(a.shape[:-1], a.dtype)
    pp = np.asarray(p, diff.dtype)
    return (a ** pp).sum(-1) ** (1 / pp)


def pdist(input, p=2):
    """Distances between all pairs of rows i < j of an (N, M) input, in row-major order."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    d = input._data
    if d.dtype.kind != 'f':
        raise RuntimeError("pdist only supports floating-point dtypes")
    n = d.shape[0]
    i, j = np.triu_indices(n, 1)
    diff = d[i] - d[j]
    out = _p_norm(diff, float(p)).astype(d.dtype, copy=False)
    return _record(PdistBackward0, out, (input,), self=input, p=float(p), result=_RESULT)


@derivative('PdistBackwardBackward0')
def _pdist_backward_backward(grad):
    raise NotImplementedError("the derivative for '_pdist_backward' is not implemented.")


@derivative('CdistBackwardBackward0')
def _cdist_backward_backward(grad):
    raise NotImplementedError("the derivative for '_cdist_backward' is not implemented.")


def _first_order_only(grads, backward_backward, *inputs):
    """The NumPy gradients of a node torch differentiates once only: under create_graph they
    lead to a node that raises, as torch's not-implemented double backward does, instead of
    leaving the second derivative out."""
    return tuple(_record(backward_backward, g._data, inputs) for g in grads)


@derivative
def PdistBackward0(grad, self, p, result):  # NumPy only: no double backward
    if not _nograph():
        return _first_order_only(_pdist_grads(grad, self, p, result), _pdist_backward_backward,
                                 grad, self, result)[0]
    return _pdist_grads(grad, self, p, result)[0]


def _pdist_grads(grad, self, p, result):
    d = self._data
    n = d.shape[0]
    i, j = np.triu_indices(n, 1)
    diff = d[i] - d[j]
    gd = _p_norm_grad(diff, result._data, p) * grad._data[:, None]
    out = np.zeros_like(d)
    np.add.at(out, i, gd)
    np.subtract.at(out, j, gd)
    return (_wrap(out),)


@autocast('fp32')
def cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary'):
    """Batched p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M)."""
    if x1.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    modes = {'use_mm_for_euclid_dist_if_necessary': None, 'use_mm_for_euclid_dist': True,
             'donot_use_mm_for_euclid_dist': False}
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if x1._data.dtype.kind != 'f' or x2._data.dtype.kind != 'f':
        raise RuntimeError("cdist only supports floating-point dtypes, X1 got: "
                           f"{x1.dtype}")
    use_mm = modes[compute_mode]
    r1, r2 = x1.shape[-2], x2.shape[-2]
    if use_mm is None:
        use_mm = r1 > 25 or r2 > 25
    batch = np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected both inputs to have same dtype, but got {x1.dtype} and "
                           f"{x2.dtype}")
    if tuple(x1.shape[:-2]) != batch:
        x1 = x1.expand(batch + tuple(x1.shape[-2:]))
    if tuple(x2.shape[:-2]) != batch:
        x2 = x2.expand(batch + tuple(x2.shape[-2:]))
    if float(p) == 2.0 and use_mm and x1.shape[-1] > 0:
        return _euclidean_mm(x1, x2)
    a, b = x1._data, x2._data
    if float(p) == 2.0:
        diff = a[..., :, None, :] - b[..., None, :, :]
        out = np.sqrt(np.einsum('...k,...k->...', diff, diff))
    else:
        out = _p_norm(a[..., :, None, :] - b[..., None, :, :], float(p))
    out = np.asarray(out, a.dtype)
    return _record(CdistBackward0, out, (x1, x2), x1=x1, x2=x2, p=float(p), result=_RESULT)


def _euclidean_mm(x1, x2):
    """torch's _euclidean_dist: one matmul of [-2x1, |x1|^2, 1] and [x2, 1, |x2|^2]."""
    n1 = x1.pow(2).sum(-1, keepdim=True)
    n2 = x2.pow(2).sum(-1, keepdim=True)
    a = cat([x1 * -2, n1, ones_like(n1)], -1)
    b = cat([x2, ones_like(n2), n2], -1)
    r = a.matmul(b.mT).clamp_min(0).sqrt()
    return r.view(tuple(r.shape))


@derivative
def CdistBackward0(grad, x1, x2, p, result):  # NumPy only: no double backward
    grads = _cdist_grads(grad, x1, x2, p, result)
    if not _nograph():
        return _first_order_only(grads, _cdist_backward_backward, grad, x1, x2, result)
    return grads


def _cdist_grads(grad, x1, x2, p, result):
    g, a, b, dist = grad._data, x1._data, x2._data, result._data
    if p == 2:
        # gradients through BLAS: w = g / dist; d/dx1 = x1 * rowsum(w) - w @ x2
        with np.errstate(divide='ignore', invalid='ignore'):
            w = np.where(dist == 0, np.zeros((), g.dtype), g / dist)
        ga = a * w.sum(-1)[..., None] - w @ b
        gb = b * w.sum(-2)[..., None] - np.swapaxes(w, -1, -2) @ a
        return _wrap(ga), _wrap(gb)
    diff = a[..., :, None, :] - b[..., None, :, :]
    gd = _p_norm_grad(diff, dist, p) * g[..., None]
    return _wrap(gd.sum(-2)), _wrap(-gd.sum(-3))
