"""ember.special (torch.special): the special functions ember's ops compute, under
torch.special's names (the Bessel, Airy, incomplete gamma, zeta and polygamma kernels are in
ember/_ops/special.py), plus ndtr, entr, xlog1py and the orthogonal polynomials.
"""
import math

import numpy as np

from . import _dtype
from ._ops import creation as _cr, elementwise as _ew, reduce as _red, special as _sp
from ._ops.special import (  # noqa: F401 (torch.special's names)
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, erfcx, i0e, i1, i1e,
    modified_bessel_i0, modified_bessel_i1, modified_bessel_k0, modified_bessel_k1, polygamma,
    scaled_modified_bessel_k0, scaled_modified_bessel_k1, zeta)
from ._tensor import Tensor, _wrap
from .autograd.grad_mode import no_grad
from .autograd.graph import _record, _RESULT, derivative

__all__ = ['expit', 'logit', 'erf', 'erfc', 'erfinv', 'exp2', 'expm1', 'log1p', 'round', 'sinc',
           'xlogy', 'gammaln', 'digamma', 'psi', 'i0', 'logsumexp', 'softmax', 'log_softmax',
           'ndtr', 'entr', 'xlog1py', 'multigammaln', 'log_ndtr', 'ndtri', 'spherical_bessel_j0',
           'chebyshev_polynomial_t', 'chebyshev_polynomial_u', 'chebyshev_polynomial_v',
           'chebyshev_polynomial_w', 'shifted_chebyshev_polynomial_t',
           'shifted_chebyshev_polynomial_u', 'shifted_chebyshev_polynomial_v',
           'shifted_chebyshev_polynomial_w', 'hermite_polynomial_h', 'hermite_polynomial_he',
           'laguerre_polynomial_l', 'legendre_polynomial_p', 'airy_ai', 'bessel_j0', 'bessel_j1',
           'bessel_y0', 'bessel_y1', 'erfcx', 'gammainc', 'gammaincc', 'i0e', 'i1', 'i1e',
           'modified_bessel_i0', 'modified_bessel_i1', 'modified_bessel_k0',
           'modified_bessel_k1', 'polygamma', 'scaled_modified_bessel_k0',
           'scaled_modified_bessel_k1', 'zeta']


def _alias(name, target, doc):
    def f(input, *args, **kwargs):
        return target(input, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.special.{name}: {doc}"
    return f


expit = _alias('expit', _ew.sigmoid, 'the logistic sigmoid 1 / (1 + exp(-x)).')
logit = _alias('logit', _ew.logit, 'log(p / (1 - p)), with optional clamping by eps.')
erf = _alias('erf', _ew.erf, 'the error function.')
erfc = _alias('erfc', _ew.erfc, 'the complementary error function 1 - erf(x).')
erfinv = _alias('erfinv', _ew.erfinv, 'the inverse error function.')
exp2 = _alias('exp2', _ew.exp2, '2 ** x.')
expm1 = _alias('expm1', _ew.expm1, 'exp(x) - 1, accurate near 0.')
log1p = _alias('log1p', _ew.log1p, 'log(1 + x), accurate near 0.')
round = _alias('round', _ew.round, 'rounds half to even, to `decimals` places.')
sinc = _alias('sinc', _ew.sinc, 'the normalised sinc sin(pi x) / (pi x).')
xlogy = _alias('xlogy', _ew.xlogy, 'x * log(y), 0 where x == 0.')
gammaln = _alias('gammaln', _ew.lgamma, 'log |gamma(x)|.')
digamma = _alias('digamma', _ew.digamma, 'the logarithmic derivative of gamma.')
psi = _alias('psi', _ew.digamma, 'the logarithmic derivative of gamma (digamma).')
i0 = _alias('i0', _sp.i0, 'the modified Bessel function of the first kind, order 0.')
gammainc = _alias('gammainc', _sp.igamma, 'the regularised lower incomplete gamma P(a, x).')
gammaincc = _alias('gammaincc', _sp.igammac,
                   'the regularised upper incomplete gamma Q(a, x).')
logsumexp = _alias('logsumexp', _red.logsumexp, 'log(sum(exp(x))) over `dim`, computed stably.')


def softmax(input, dim, *, dtype=None):
    """torch.special.softmax: exp(x) / sum(exp(x)) over `dim`."""
    return _red.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """torch.special.log_softmax: log(softmax(x)) over `dim`, computed stably."""
    return _red.log_softmax(input, dim, dtype=dtype)


def _float(input):
    if not isinstance(input, Tensor):
        input = _cr.tensor(input)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        input = input.to(_dtype.get_default_dtype())
    return input


def ndtr(input, *, out=None):
    """torch.special.ndtr: the standard normal CDF, 0.5 * erfc(-x / sqrt(2))."""
    x = _float(input)
    r = 0.5 * _ew.erfc(x * (-1.0 / math.sqrt(2.0)))
    return _copy_out(r, out)


def entr(input, *, out=None):
    """torch.special.entr: -x * log(x) for x > 0, 0 at 0, -inf for x < 0."""
    x = _float(input)
    pos = x > 0
    safe = _ew.where(pos, x, _cr.ones_like(x))  # keeps log's gradient finite off the branch
    r = _ew.where(pos, -safe * _ew.log(safe),
                _ew.where(x == 0, _cr.zeros_like(x), _cr.full_like(x, -math.inf)))
    r = _ew.where(_ew.isnan(x), x, r)
    return _copy_out(r, out)


def xlog1py(input, other, *, out=None):
    """torch.special.xlog1py: x * log1p(y), 0 where x == 0 (unless y is nan)."""
    x, y = input, other
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        raise TypeError("xlog1py(): expected at least one tensor argument")
    x = _float(x) if isinstance(x, Tensor) else x
    y = _float(y) if isinstance(y, Tensor) else y
    if not isinstance(x, Tensor):
        x = _cr.full_like(y, x)
    if not isinstance(y, Tensor):
        y = _cr.full_like(x, y)
    zero = (x == 0) & ~_ew.isnan(y)
    safe_y = _ew.where(zero, _cr.zeros_like(y), y)
    r = _ew.where(zero, _cr.zeros_like(x * safe_y), x * _ew.log1p(safe_y))
    return _copy_out(r, out)


def multigammaln(input, p, *, out=None):
    """torch.special.multigammaln: the multivariate log-gamma of dimension `p`."""
    return _sp.mvlgamma(_float(input), p, out=out)


def log_ndtr(input, *, out=None):
    """torch.special.log_ndtr: log of the standard normal CDF, accurate in both tails."""
    x = _float(input)
    # log(erfc(-x / sqrt 2) / 2), with erfc's tail written as exp(-t^2) * erfcx(t) for x < -1
    # would need erfcx; log1p(-ndtr(-x)) keeps the upper tail, log(ndtr) the lower one
    # each branch sees only inputs where it is finite, so the unused one adds no NaN gradient
    pos = _ew.where(x > 0, x, _cr.ones_like(x))
    mid = _ew.where((x <= 0) & (x >= -20), x, _cr.zeros_like(x))
    far = _ew.where(x < -20, x, _cr.full_like(x, -21.0))
    upper = _ew.log1p(-0.5 * _ew.erfc(pos * (1.0 / math.sqrt(2.0))))
    lower = _ew.log(0.5 * _ew.erfc(mid * (-1.0 / math.sqrt(2.0))))
    # far in the lower tail erfc underflows: the asymptotic series of log(ndtr(x))
    z = 1 / (far * far)
    tail = -0.5 * far * far - _ew.log(-far) - 0.5 * math.log(2 * math.pi) + \
        _ew.log1p(-z * (1 - 3 * z * (1 - 5 * z * (1 - 7 * z))))
    r = _ew.where(x > 0, upper, _ew.where(x < -20, tail, lower))
    r = _ew.where(_ew.isnan(x), x, r)
    return _copy_out(r, out)


@derivative
def SpecialNdtriBackward0(grad, result):
    return grad * math.sqrt(2 * math.pi) * (result * result * 0.5).exp()


def ndtri(input, *, out=None):
    """torch.special.ndtri: the inverse of the standard normal CDF: sqrt(2) erfinv(2p - 1),
    refined by Newton steps on ndtr so that the tails keep their relative accuracy."""
    p = _float(input)
    with no_grad():
        x = math.sqrt(2.0) * _ew.erfinv(2 * p - 1)
        finite = _ew.isfinite(x)
        for _ in range(2):
            pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
            step = (ndtr(x) - p) / pdf
            x = _ew.where(finite & (pdf > 0), x - step, x)
    return _copy_out(_record(SpecialNdtriBackward0, x._data, (p,), result=_RESULT), out)


# ---- functions torch computes without a gradient ----------------------------------------

def _no_grad_values(name, fn, *args):
    """Apply a NumPy kernel to the arrays of args (tensors or numbers, broadcast); the result
    has no autograd history, as torch's has none for these functions."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not tensors:
        raise TypeError(f"{name}(): expected at least one tensor argument")
    dt = tensors[0].dtype
    for a in tensors[1:]:
        dt = _dtype.promote_types(dt, a.dtype)
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
    arrays = [np.asarray(a._data if isinstance(a, Tensor) else a) for a in args]
    with np.errstate(all='ignore'):
        r = fn(*[a.astype(dt._np) if i == 0 else a for i, a in enumerate(arrays)])
    return _wrap(np.asarray(r, dtype=dt._np))


def spherical_bessel_j0(input, *, out=None):
    """torch.special.spherical_bessel_j0: sin(x) / x (1 at 0)."""
    def j0(x):
        small = np.abs(x) < 0.5
        x2 = x * x
        series = 1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72 * (
            1 - x2 / 110 * (1 - x2 / 156 * (1 - x2 / 210))))))
        return np.where(small, series, np.sin(x) / np.where(small, 1, x))
    return _copy_out(_no_grad_values('spherical_bessel_j0', j0, _float(input)), out)


def _recurrence(x, n, p0, p1, step):
    """P_n(x) elementwise for integer arrays n >= 0: p0(x), p1(x), then
    P_{k+1} = step(k, x, P_k, P_{k-1})."""
    x, n = np.broadcast_arrays(x, n)
    out = np.where(n == 0, p0(x), p1(x))
    if n.size == 0 or n.max(initial=0) < 2:
        return out
    p, q = p0(x), p1(x)
    for k in range(1, int(n.max())):
        r = step(k, x, q, p)
        out = np.where(n == k + 1, r, out)
        p, q = q, r
    return out


def _polynomial(name, p0, p1, step, special=None):
    def f(input, n, *, out=None):
        def kernel(x, n):
            n = np.trunc(np.asarray(n, dtype=np.float64)).astype(np.int64)
            r = _recurrence(x, np.maximum(n, 0), p0, p1, step)
            r = np.where(n < 0, 0, r)
            if special is not None:
                r = special(x, n, r)
            return r
        x = _float(input) if isinstance(input, Tensor) else input
        return _copy_out(_no_grad_values(name, kernel, x, n), out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.special.{name}(input, n): the polynomial of degree n at input."
    return f


def _ones(x):
    return np.ones_like(x)


def _pm_one(x, n, r, at_one, at_minus_one):
    """Exact values at x = +-1 (torch's special cases)."""
    r = np.where((x == 1) & (n >= 0), at_one(n), r)
    return np.where((x == -1) & (n >= 0), at_minus_one(n), r)


_sign = lambda n: np.where(n % 2 == 0, 1, -1)  # noqa: E731

chebyshev_polynomial_t = _polynomial(
    'chebyshev_polynomial_t', _ones, lambda x: x, lambda k, x, q, p: 2 * x * q - p,
    lambda x, n, r: _pm_one(x, n, r, lambda n: 1, _sign))
chebyshev_polynomial_u = _polynomial(
    'chebyshev_polynomial_u', _ones, lambda x: 2 * x, lambda k, x, q, p: 2 * x * q - p,
    lambda x, n, r: _pm_one(x, n, r, lambda n: n + 1, lambda n: _sign(n) * (n + 1)))
chebyshev_polynomial_v = _polynomial(
    'chebyshev_polynomial_v', _ones, lambda x: 2 * x - 1, lambda k, x, q, p: 2 * x * q - p,
    lambda x, n, r: _pm_one(x, n, r, lambda n: 1, lambda n: _sign(n) * (2 * n + 1)))
chebyshev_polynomial_w = _polynomial(
    'chebyshev_polynomial_w', _ones, lambda x: 2 * x + 1, lambda k, x, q, p: 2 * x * q - p,
    lambda x, n, r: _pm_one(x, n, r, lambda n: 2 * n + 1, _sign))


def _shifted(base, name):
    """The polynomial at 2x - 1 (on [0, 1])."""
    def f(input, n, *, out=None):
        x = _float(input) if isinstance(input, Tensor) else input
        return _copy_out(base(2 * x - 1, n), out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.special.{name}(input, n): the shifted polynomial (argument 2x - 1)."
    return f


shifted_chebyshev_polynomial_t = _shifted(chebyshev_polynomial_t,
                                          'shifted_chebyshev_polynomial_t')
shifted_chebyshev_polynomial_u = _shifted(chebyshev_polynomial_u,
                                          'shifted_chebyshev_polynomial_u')
shifted_chebyshev_polynomial_v = _shifted(chebyshev_polynomial_v,
                                          'shifted_chebyshev_polynomial_v')
shifted_chebyshev_polynomial_w = _shifted(chebyshev_polynomial_w,
                                          'shifted_chebyshev_polynomial_w')
hermite_polynomial_h = _polynomial(
    'hermite_polynomial_h', _ones, lambda x: 2 * x, lambda k, x, q, p: 2 * x * q - 2 * k * p)
hermite_polynomial_he = _polynomial(
    'hermite_polynomial_he', _ones, lambda x: x, lambda k, x, q, p: x * q - k * p)
laguerre_polynomial_l = _polynomial(
    'laguerre_polynomial_l', _ones, lambda x: 1 - x,
    lambda k, x, q, p: ((2 * k + 1 - x) * q - k * p) / (k + 1),
    lambda x, n, r: np.where((x == 0) & (n >= 0), 1, r))
legendre_polynomial_p = _polynomial(
    'legendre_polynomial_p', _ones, lambda x: x,
    lambda k, x, q, p: ((2 * k + 1) * x * q - k * p) / (k + 1),
    lambda x, n, r: _pm_one(x, n, r, lambda n: 1, _sign))


def _copy_out(r, out):
    if out is None:
        return r
    out.copy_(r)
    return out


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
