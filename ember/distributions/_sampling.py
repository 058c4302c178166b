"""Samplers torch implements in C++ and ember does not reproduce draw for draw: the standard
gamma (with its reparameterisation gradient), Poisson and binomial.

They draw from NumPy's samplers, seeded with two 64-bit words taken from ember's generator:
so a manual_seed makes them repeatable in ember, and they consume ember's stream, but the
values are NOT torch's (correct in distribution only; the tests check moments)."""
import math

import numpy as np

from .._tensor import _wrap
from .._ops.random import _gen
from .._ops.shape import broadcast_tensors
from ..autograd.function import Function

_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])


def _numpy_rng(generator=None):
    return np.random.Generator(np.random.PCG64([int(w) for w in _gen(generator).random64(2)]))


def _log_gammainc_lower(a, x, iters=2000):
    """log P(a, x) by the power series (used where x < a + 1)."""
    term = np.ones_like(x)
    total = np.ones_like(x)
    for n in range(1, iters):
        term = term * x / (a + n)
        total = total + term
        if np.all(term < total * 1e-17):
            break
    return -x + a * np.log(x) - _lgamma(a + 1) + np.log(total)


def _log_gammainc_upper(a, x, iters=2000):
    """log Q(a, x) by the Legendre continued fraction, evaluated with modified Lentz (used
    where x >= a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = np.full_like(x, 1 / tiny)
    d = 1 / b
    h = d.copy()
    for i in range(1, iters):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1) < 1e-16):
            break
    return -x + a * np.log(x) - _lgamma(a) + np.log(h)


def _standard_gamma_grad(alpha, x):
    """d x / d alpha for x ~ Gamma(alpha, 1) held at a fixed CDF value (implicit
    reparameterisation): -(dF/dalpha) / pdf(x), with F the regularized incomplete gamma,
    differentiated numerically in the log domain (float64)."""
    a = np.asarray(alpha, np.float64)
    x = np.maximum(np.asarray(x, np.float64), np.finfo(np.float64).tiny)
    a, x = np.broadcast_arrays(a, x)
    out = np.empty(a.shape)
    log_pdf = (a - 1) * np.log(x) - x - _lgamma(a)
    lower = x < a + 1
    for mask, fn, sign in ((lower, _log_gammainc_lower, -1.0),
                           (~lower, _log_gammainc_upper, 1.0)):
        if not mask.any():
            continue
        am, xm = a[mask], x[mask]
        h = 1e-6 * np.maximum(am, 1.0)
        h = np.minimum(h, am / 2)
        dlog = (fn(am + h, xm) - fn(am - h, xm)) / (2 * h)
        # lower tail: F = P, dx/da = -P dlogP/da / pdf; upper: F = 1 - Q, dx/da = Q dlogQ/da / pdf
        out[mask] = sign * np.exp(fn(am, xm) - log_pdf[mask]) * dlog
    return out


class _StandardGamma(Function):
    """Gamma(alpha, 1) draws with the implicit reparameterisation gradient."""

    @staticmethod
    def forward(ctx, alpha):
        a = alpha.detach().numpy()
        x = _numpy_rng().standard_gamma(a.astype(np.float64)).astype(a.dtype)
        x = np.maximum(x, np.finfo(a.dtype).tiny)  # as torch, never exactly 0
        ctx.save_for_backward(alpha, _wrap(x))
        return _wrap(x)

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        d = _standard_gamma_grad(alpha.detach().numpy(), x.numpy())
        return grad * _wrap(d.astype(alpha.detach().numpy().dtype))


def _standard_gamma(alpha):
    """Gamma(alpha, 1) samples of alpha's shape; differentiable in alpha."""
    return _StandardGamma.apply(alpha)


def _sample_poisson(rate):
    r = rate.detach().numpy()
    return _wrap(_numpy_rng().poisson(r.astype(np.float64)).astype(r.dtype))


def _sample_binomial(count, prob):
    c, p = count.detach().numpy(), prob.detach().numpy()
    c, p = np.broadcast_arrays(c, p)
    n = np.rint(c).astype(np.int64)
    return _wrap(_numpy_rng().binomial(n, p.astype(np.float64)).astype(p.dtype))


def _gammainc_np(a, x):
    """The regularized lower incomplete gamma P(a, x) in float64."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.zeros(a.shape)
    pos = x > 0
    lower = pos & (x < a + 1)
    upper = pos & ~lower
    if lower.any():
        out[lower] = np.exp(_log_gammainc_lower(a[lower], x[lower]))
    if upper.any():
        out[upper] = -np.expm1(_log_gammainc_upper(a[upper], x[upper]))
    out[np.isinf(x) & (x > 0)] = 1.0
    return out


class _GammaInc(Function):
    """P(a, x) with torch's gradients: d/dx is the Gamma(a) density; d/da is not implemented
    (as in torch)."""

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        dt = x.detach().numpy().dtype
        return _wrap(_gammainc_np(a.detach().numpy(), x.detach().numpy()).astype(dt))

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative of the incomplete gamma function with "
                                      "respect to its first argument is not implemented")
        return None, grad * ((a - 1) * x.log() - x - a.lgamma()).exp()


def _gammainc(a, x):
    return _GammaInc.apply(*broadcast_tensors(a, x))
