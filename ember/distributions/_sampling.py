"""Samplers torch implements in C++: the standard gamma (with its reparameterisation
gradient), which ember does not reproduce draw for draw, and Poisson and binomial, which it
does (torch.poisson / torch.binomial, ember/_ops/samplers.py).

The gamma draws from NumPy's sampler, seeded with two 64-bit words taken from ember's
generator: so a manual_seed makes it repeatable in ember, and it consumes ember's stream, but
its values are NOT torch's (correct in distribution only; the tests check moments)."""
import numpy as np

from .._tensor import _wrap
from .._ops.random import _gen
from .._ops.samplers import poisson, binomial
from .._ops.special import _igamma_series, _igammac_fraction, _log_prefactor
from ..autograd.function import Function

def _numpy_rng(generator=None):
    return np.random.Generator(np.random.PCG64([int(w) for w in _gen(generator).random64(2)]))


def _log_p(a, x):
    """log P(a, x), the regularized lower incomplete gamma (for x < a + 1)."""
    return np.log(_igamma_series(a, x))


def _log_q(a, x):
    """log Q(a, x) = log(1 - P(a, x)) (for x >= a + 1)."""
    return np.log(_igammac_fraction(a, x))


def _standard_gamma_grad(alpha, x):
    """d x / d alpha for x ~ Gamma(alpha, 1) held at a fixed CDF value (implicit
    reparameterisation): -(dF/dalpha) / pdf(x), with F the regularized incomplete gamma,
    differentiated numerically in the log domain (float64)."""
    a = np.asarray(alpha, np.float64)
    x = np.maximum(np.asarray(x, np.float64), np.finfo(np.float64).tiny)
    a, x = np.broadcast_arrays(a, x)
    out = np.empty(a.shape)
    log_pdf = _log_prefactor(a, x) - np.log(x)
    lower = x < a + 1
    for mask, fn, sign in ((lower, _log_p, -1.0), (~lower, _log_q, 1.0)):
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
    """torch.poisson(rate), as torch's Poisson.sample calls it (inside no_grad)."""
    return poisson(rate.detach())


def _sample_binomial(count, prob):
    """torch.binomial(count, prob), as torch's Binomial.sample calls it."""
    return binomial(count.detach(), prob.detach())

