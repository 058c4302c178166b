"""Special functions in NumPy: Bessel functions of the first and second kind and their modified
forms, Airy's Ai, the regularised incomplete gamma functions, Hurwitz's zeta, polygamma and the
scaled complementary error function (torch.special, torch.igamma, torch.polygamma, ...).

Every kernel computes in float64 and the op casts to the input's dtype. Where torch uses Cephes'
rational approximations, these use the classical representations instead, each accurate to a
few units in the last place of float64 over its range:
- power series where they converge without cancellation (small arguments);
- integral representations, by Gauss-Legendre quadrature on a finite interval or by the
  trapezoidal rule where the integrand is periodic or even and decays (exponentially accurate);
- Hankel's asymptotic expansions for large arguments;
- Euler-Maclaurin summation for zeta, series and Lentz's continued fraction for igamma.
"""
import importlib
import math
from functools import lru_cache, partial

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap, tensor_op
from ..autograd.graph import _record, _RESULT, derivative
from ._util import _arr, _out, _operands, _to_float_array, _unary_inplace, _rebase_inplace
from .elementwise import _special, _trigamma_np, digamma

# torch's top-level names; the rest are torch.special's (ember/special.py)
__all__ = ['i0', 'igamma', 'igammac', 'polygamma', 'mvlgamma']

_EULER = 0.57721566490153286061


@lru_cache(maxsize=None)
def _gl_nodes():
    """Gauss-Legendre nodes and weights on [-1, 1] (computed on first use: import time)."""
    return np.polynomial.legendre.leggauss(96)


def _gauss_legendre(f, a, b):
    """The integral of f over [a, b] for each element (a, b arrays of one shape; f takes the
    nodes with an extra trailing axis)."""
    a, b = a[..., None], b[..., None]
    half = (b - a) / 2
    nodes, weights = _gl_nodes()
    return (f(a + half * (nodes + 1)) * weights * half).sum(-1)


def _chunked(fn, x, *args, size=4096):
    """fn over x in chunks, so the quadrature's (n, nodes) arrays stay small."""
    if x.size <= size:
        return fn(x, *args)
    out = np.empty_like(x)
    for i in range(0, x.size, size):
        out[i:i + size] = fn(x[i:i + size], *(a[i:i + size] for a in args))
    return out


def _asymptotic_terms(nu, z, n=20):
    """a_k(nu) / z**k for k = 0..n-1 (Hankel's coefficients: a_k = prod_{j<=k} (4nu^2 -
    (2j-1)^2) / (k! 8^k))."""
    mu = 4.0 * nu * nu
    terms = [np.ones_like(z)]
    for k in range(1, n):
        terms.append(terms[-1] * (mu - (2 * k - 1) ** 2) / (k * 8.0 * z))
    return terms


# ---- Bessel functions of the first and second kind ------------------------------------------

def _j_integral(nu, z):
    """J_nu(z) for 0 < z <= 25 from Bessel's integral (with Schlaefli's term for non-integer
    nu)."""
    zero = np.zeros_like(z)
    r = _gauss_legendre(lambda t: np.cos(nu * t - z[..., None] * np.sin(t)), zero,
                        zero + np.pi) / np.pi
    if nu != int(nu):
        top = np.arcsinh(745.0 / z)
        r = r - math.sin(nu * math.pi) / math.pi * _gauss_legendre(
            lambda t: np.exp(-z[..., None] * np.sinh(t) - nu * t), zero, top)
    return r


def _y_integral(n, z):
    """Y_n(z), integer n, for 8 <= z <= 25 from its integral representation."""
    zero = np.zeros_like(z)
    r = _gauss_legendre(lambda t: np.sin(z[..., None] * np.sin(t) - n * t), zero, zero + np.pi)
    top = np.arcsinh(745.0 / z)
    r -= _gauss_legendre(lambda t: (np.exp(n * t) + (-1) ** n * np.exp(-n * t))
                         * np.exp(-z[..., None] * np.sinh(t)), zero, top)
    return r / np.pi


def _hankel(nu, z):
    """(J_nu(z), Y_nu(z)) for z > 25 from Hankel's expansions."""
    terms = _asymptotic_terms(nu, z)
    p = sum(t * (-1) ** (k // 2) for k, t in enumerate(terms) if k % 2 == 0)
    q = sum(t * (-1) ** (k // 2) for k, t in enumerate(terms) if k % 2 == 1)
    w = z - (nu / 2 + 0.25) * np.pi
    s = np.sqrt(2 / (np.pi * z))
    return s * (p * np.cos(w) - q * np.sin(w)), s * (p * np.sin(w) + q * np.cos(w))


def _bessel_j(nu, z):
    """J_nu(z) for z >= 0 (float64 arrays; nan at inf, as torch's)."""
    out = np.full_like(z, np.nan)
    small, big = z <= 25, z > 25
    out[small] = _chunked(lambda v: _j_integral(nu, v), z[small])
    out[big] = _hankel(nu, z[big])[0]
    if nu == 0:
        out[z == 0] = 1.0
    elif nu > 0:
        out[z == 0] = 0.0
    return out


def _y_series(n, z):
    """Y_0 or Y_1 for 0 < z < 8 from their power series."""
    q = -z * z / 4
    term = np.ones_like(z)
    acc = np.zeros_like(z)
    harmonic = 0.0
    if n == 0:  # Y0 = 2/pi (ln(z/2) + gamma) J0 - 2/pi sum_{k>=1} H_k (-z^2/4)^k / k!^2
        for k in range(1, 45):
            term = term * q / (k * k)
            harmonic += 1.0 / k
            acc += harmonic * term
        return 2 / np.pi * ((np.log(z / 2) + _EULER) * _bessel_j(0, z) - acc)
    # Y1 = -2/(pi z) + 2/pi ln(z/2) J1 - (z/2)/pi sum_k (psi(k+1) + psi(k+2)) q^k / (k! (k+1)!)
    psi_k1 = -_EULER
    for k in range(0, 45):
        if k:
            term = term * q / (k * (k + 1))
            psi_k1 += 1.0 / k
        acc += (2 * psi_k1 + 1.0 / (k + 1)) * term
    return -2 / (np.pi * z) + 2 / np.pi * np.log(z / 2) * _bessel_j(1, z) - z / (2 * np.pi) * acc


def _bessel_y(n, z):
    out = np.full_like(z, np.nan)
    out[z == 0] = -np.inf
    small, mid, big = (z > 0) & (z < 8), (z >= 8) & (z <= 25), z > 25
    out[small] = _y_series(n, z[small])
    out[mid] = _chunked(lambda v: _y_integral(n, v), z[mid])
    out[big] = _hankel(n, z[big])[1]
    return out


def _j0(x):
    return _bessel_j(0, np.abs(x))


def _j1(x):
    return np.sign(x) * _bessel_j(1, np.abs(x))


_y0, _y1 = partial(_bessel_y, 0), partial(_bessel_y, 1)


# ---- modified Bessel functions -------------------------------------------------------------

_I_NODES = 257  # trapezoid over [0, pi]: exact to float64 for |z| <= 50


def _i_scaled_trapezoid(n, z):
    t = np.linspace(0.0, np.pi, _I_NODES)
    w = np.full(_I_NODES, np.pi / (_I_NODES - 1))
    w[[0, -1]] /= 2
    return (np.exp(z[..., None] * (np.cos(t) - 1)) * np.cos(n * t) * w).sum(-1) / np.pi


def _i_scaled(n, x):
    """exp(-|x|) I_n(x) for integer n (0 or 1)."""
    z = np.abs(x)
    out = np.empty_like(z)
    small = z <= 50
    out[small] = _chunked(lambda v: _i_scaled_trapezoid(n, v), z[small])
    big = ~small & np.isfinite(z)
    zb = z[big]
    terms = _asymptotic_terms(n, zb, 25)
    out[big] = sum(t * (-1) ** k for k, t in enumerate(terms)) / np.sqrt(2 * np.pi * zb)
    out[np.isinf(z)] = 0.0
    out[np.isnan(z)] = np.nan
    return out * np.sign(x) if n % 2 else out


def _i_unscaled(n, x):
    with np.errstate(over='ignore', invalid='ignore'):
        return _i_scaled(n, x) * np.exp(np.abs(x))  # I1: nan at +-inf, as torch's


_i0e, _i1e = partial(_i_scaled, 0), partial(_i_scaled, 1)
_i0, _i1 = partial(_i_unscaled, 0), partial(_i_unscaled, 1)


_K_H = 0.05
_K_T = np.arange(0.0, 7.0, _K_H)  # exp(-2 (cosh t - 1)) underflows before t = 7


def _k_scaled_trapezoid(nu, z):
    """exp(z) K_nu(z) for 2 <= z <= 50: the trapezoidal rule on the even, decaying integrand
    of K_nu(z) = int_0^inf exp(-z cosh t) cosh(nu t) dt."""
    w = np.full(_K_T.size, _K_H)
    w[0] /= 2
    return (np.exp(-z[..., None] * (np.cosh(_K_T) - 1)) * np.cosh(nu * _K_T) * w).sum(-1)


def _k_series(n, z):
    """K_0 or K_1 for 0 < z < 2 from their power series."""
    q = z * z / 4
    term = np.ones_like(z)
    log = np.log(z / 2)
    if n == 0:  # K0 = -(ln(z/2) + gamma) I0 + sum_{k>=1} H_k q^k / k!^2
        acc, i0, harmonic = np.zeros_like(z), np.ones_like(z), 0.0
        for k in range(1, 30):
            term = term * q / (k * k)
            harmonic += 1.0 / k
            acc += harmonic * term
            i0 += term
        return -(log + _EULER) * i0 + acc
    # K1 = 1/z + ln(z/2) I1 - z/4 sum_k (psi(k+1) + psi(k+2)) q^k / (k! (k+1)!)
    acc, i1, psi_k1 = np.zeros_like(z), np.zeros_like(z), -_EULER
    for k in range(0, 30):
        if k:
            term = term * q / (k * (k + 1))
            psi_k1 += 1.0 / k
        acc += (2 * psi_k1 + 1.0 / (k + 1)) * term
        i1 += term
    return 1 / z + log * (z / 2) * i1 - z / 4 * acc


def _k_scaled(nu, z, series=True):
    """exp(z) K_nu(z) for z >= 0 (inf at 0, nan below)."""
    out = np.full_like(z, np.nan)
    out[z == 0] = np.inf
    small = (z > 0) & (z < 2)
    mid = (z >= 2) & (z <= 50) if series else (z > 0) & (z <= 50)
    big = (z > 50) & np.isfinite(z)
    if series:
        out[small] = _k_series(int(nu), z[small]) * np.exp(z[small])
    out[mid] = _chunked(lambda v: _k_scaled_trapezoid(nu, v), z[mid])
    zb = z[big]
    out[big] = sum(_asymptotic_terms(nu, zb, 25)) * np.sqrt(np.pi / (2 * zb))
    out[np.isposinf(z)] = 0.0
    return out


def _k_unscaled(n, x):
    with np.errstate(under='ignore'):
        return _k_scaled(n, x) * np.exp(-x)


_k0e, _k1e = partial(_k_scaled, 0), partial(_k_scaled, 1)
_k0, _k1 = partial(_k_unscaled, 0), partial(_k_unscaled, 1)


# ---- Airy's Ai ------------------------------------------------------------------------------

_AI0 = 1 / (3 ** (2 / 3) * math.gamma(2 / 3))   # Ai(0)
_AIP0 = 1 / (3 ** (1 / 3) * math.gamma(1 / 3))  # -Ai'(0)


def _airy_series(x):
    """Ai(x) = Ai(0) f(x) - (-Ai'(0)) g(x) from the Maclaurin series of f and g (|x| <= 3)."""
    c = x ** 3
    f, g = np.ones_like(x), x.copy()
    tf, tg = np.ones_like(x), x.copy()
    for k in range(1, 40):
        tf = tf * c / ((3 * k - 1) * (3 * k))
        tg = tg * c / ((3 * k) * (3 * k + 1))
        f += tf
        g += tg
    return _AI0 * f - _AIP0 * g


def _airy_ai(x):
    out = np.empty_like(x)
    small = np.abs(x) <= 3
    out[small] = _airy_series(x[small])
    pos = (x > 3)
    zp = x[pos]
    zeta = 2 / 3 * zp ** 1.5
    with np.errstate(under='ignore'):
        out[pos] = np.sqrt(zp / 3) / np.pi * _k_scaled(1 / 3, zeta, series=False) \
            * np.exp(-zeta)
    neg = x < -3
    zn = -x[neg]
    zeta = 2 / 3 * zn ** 1.5
    out[neg] = np.sqrt(zn) / 3 * (_bessel_j(1 / 3, zeta) + _bessel_j(-1 / 3, zeta))
    out[~np.isfinite(x)] = np.nan  # torch's, at both infinities
    return out


# ---- the incomplete gamma functions ---------------------------------------------------------

_lgamma = np.frompyfunc(lambda v: math.lgamma(v) if v > 0 else math.inf, 1, 1)


def _log_prefactor(a, x):
    """log(x^a exp(-x) / Gamma(a))."""
    return a * np.log(x) - x - _lgamma(a).astype(np.float64)


def _igamma_series(a, x):
    """P(a, x) by its power series (x < a + 1)."""
    total = np.ones_like(a)
    term = np.ones_like(a)
    ap = a.copy()
    live = np.ones(a.shape, bool)
    for _ in range(5000):
        if not live.any():
            break
        ap = ap + 1
        term = np.where(live, term * x / ap, term)
        total = np.where(live, total + term, total)
        live &= np.abs(term) > np.abs(total) * 1e-17
    return np.exp(_log_prefactor(a, x)) * total / a


def _igammac_fraction(a, x):
    """Q(a, x) by Lentz's evaluation of its continued fraction (x >= a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = np.full_like(a, 1 / tiny)
    d = 1 / b
    h = d.copy()
    live = np.ones(a.shape, bool)
    for i in range(1, 5000):
        if not live.any():
            break
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        h = np.where(live, h * delta, h)
        live &= np.abs(delta - 1) > 1e-16
    return np.exp(_log_prefactor(a, x)) * h


def _igamma_pair(a, x, upper):
    a, x = np.broadcast_arrays(a, x)
    a, x = a.astype(np.float64), x.astype(np.float64)
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    lower = ok & (x < a + 1)
    up = ok & ~lower
    p = _igamma_series(a[lower], x[lower])
    q = _igammac_fraction(a[up], x[up])
    out[lower] = 1 - p if upper else p
    out[up] = q if upper else 1 - q
    # torch's edge values
    out[(a == 0) & (x > 0)] = 0.0 if upper else 1.0
    out[(a > 0) & (x == 0)] = 1.0 if upper else 0.0
    fin_x = (x > 0) & np.isfinite(x)
    out[np.isposinf(a) & fin_x] = 1.0 if upper else 0.0
    out[(a > 0) & np.isfinite(a) & np.isposinf(x)] = 0.0 if upper else 1.0
    out[(a < 0) | (x < 0) | np.isnan(a) | np.isnan(x)] = np.nan
    return out


# ---- Hurwitz zeta and polygamma ---------------------------------------------------------------

def _bernoulli_even(m):
    """B_2, B_4, ..., B_2m as Fractions (the Akiyama-Tanigawa algorithm)."""
    Fraction = importlib.import_module('fractions').Fraction  # lazy: import time
    n_max = 2 * m
    a = [Fraction(0)] * (n_max + 1)
    out = {}
    for n in range(n_max + 1):
        a[n] = Fraction(1, n + 1)
        for j in range(n, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        out[n] = a[0]
    return [out[2 * j] for j in range(1, m + 1)]


@lru_cache(maxsize=None)
def _em_coefficients():
    """B_2j / (2j)! for the Euler-Maclaurin correction terms."""
    return [float(b / math.factorial(2 * j)) for j, b in enumerate(_bernoulli_even(12), 1)]


def _zeta(s, q):
    """Hurwitz's zeta(s, q) = sum_k (q + k)^-s, by Euler-Maclaurin summation (torch's cases:
    inf at s == 1 and at q a non-positive integer, nan for s < 1 and for q < 0 with s not an
    integer)."""
    s, q = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
    out = np.full(s.shape, np.nan)
    pole = (s == 1) | ((q <= 0) & (q == np.floor(q)) & (s > 1))
    ok = (s > 1) & ~pole & ((q > 0) | (s == np.floor(s))) & ~np.isnan(q)
    sv, qv = s[ok], q[ok]
    # sum the first terms until q + n >= 10 (at least ten of them), then the tail in closed form
    n_terms = np.maximum(10, np.ceil(10 - qv)).astype(np.int64)
    total = np.zeros_like(sv)
    for k in range(int(n_terms.max(initial=0))):
        live = k < n_terms
        total += np.where(live, np.power(np.where(live, qv + k, 1.0), -sv), 0.0)
    w = qv + n_terms
    wp = np.power(w, -sv)
    total += w * wp / (sv - 1) + wp / 2
    rising = sv.copy()  # s (s+1) ... (s+2j-2)
    wpow = wp / w
    for j, coef in enumerate(_em_coefficients(), 1):
        total += coef * rising * wpow
        rising = rising * (sv + 2 * j - 1) * (sv + 2 * j)
        wpow = wpow / (w * w)
    out[ok] = total
    out[pole] = np.inf
    out[np.isposinf(q) & (s != 1)] = np.nan  # torch's
    return out


def _polygamma(n, x):
    x = np.asarray(x, np.float64)
    if n == 0:
        return _special('digamma', x)
    if n == 1:
        return _trigamma_np(x)
    sign = 1.0 if n % 2 else -1.0
    return sign * math.exp(math.lgamma(n + 1)) * _zeta(n + 1.0, x)


# ---- erfcx ----------------------------------------------------------------------------------

_erfc = np.frompyfunc(math.erfc, 1, 1)


def _erfcx(x):
    """exp(x^2) erfc(x): the product where it is finite, the asymptotic series beyond."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    mid = (x >= -26.5) & (x < 26)
    xm = x[mid]
    with np.errstate(over='ignore'):
        out[mid] = np.exp(xm * xm) * _erfc(xm).astype(np.float64)
    big = x >= 26
    xb = x[big]
    inv = 1 / (2 * xb * xb)
    term, acc = np.ones_like(xb), np.ones_like(xb)
    for k in range(1, 12):
        term = -term * (2 * k - 1) * inv
        acc += term
    out[big] = acc / (xb * math.sqrt(math.pi))
    out[x < -26.5] = np.inf
    out[np.isnan(x)] = np.nan
    return out


# ---- the ops ----------------------------------------------------------------------------------

def _apply(kernel, input):
    """kernel over input's values in float64, cast back to input's (float) dtype."""
    d = _to_float_array(input._data)
    with np.errstate(all='ignore'):
        r = kernel(np.asarray(d, np.float64).ravel()).reshape(d.shape)
        r = r.astype(d.dtype, copy=False)
    return _arr(r)


def _values_only(name, kernel, doc):
    """An op torch computes without a gradient (its result never requires grad)."""
    def op(input, *, out=None):
        return _out(out, _wrap(_apply(kernel, input)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.special.{name}: {doc} (no gradient, as in torch)."
    return op


bessel_j0 = _values_only('bessel_j0', _j0, 'the Bessel function of the first kind J0')
bessel_j1 = _values_only('bessel_j1', _j1, 'the Bessel function of the first kind J1')
bessel_y0 = _values_only('bessel_y0', _y0, 'the Bessel function of the second kind Y0')
bessel_y1 = _values_only('bessel_y1', _y1, 'the Bessel function of the second kind Y1')
modified_bessel_i0 = _values_only('modified_bessel_i0', _i0, 'the modified Bessel function I0')
modified_bessel_i1 = _values_only('modified_bessel_i1', _i1, 'the modified Bessel function I1')
modified_bessel_k0 = _values_only('modified_bessel_k0', _k0, 'the modified Bessel function K0')
modified_bessel_k1 = _values_only('modified_bessel_k1', _k1, 'the modified Bessel function K1')
scaled_modified_bessel_k0 = _values_only('scaled_modified_bessel_k0', _k0e, 'exp(x) K0(x)')
scaled_modified_bessel_k1 = _values_only('scaled_modified_bessel_k1', _k1e, 'exp(x) K1(x)')
airy_ai = _values_only('airy_ai', _airy_ai, "Airy's function Ai")


@derivative
def SpecialI0EBackward0(grad, self, result):
    return grad * (i1e(self) - self.sgn() * result)


def _with_gradient(name, kernel, node, doc):
    """An op whose gradient formula `node` takes self and the result."""
    def op(input, *, out=None):
        return _out(out, _record(node, _apply(kernel, input), (input,), self=input,
                                 result=_RESULT))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


i0e = _with_gradient('i0e', _i0e, SpecialI0EBackward0, "torch.special.i0e: exp(-|x|) I0(x).")


@derivative
def SpecialI1Backward0(grad, self, result):
    # dI1/dx = I0(x) - I1(x) / x, 1/2 at 0
    safe = self.masked_fill(self == 0, 1)
    return grad * (i0(self) - result / safe).masked_fill(self == 0, 0.5)


i1 = _with_gradient('i1', _i1, SpecialI1Backward0,
                    "torch.special.i1: the modified Bessel function of the first kind, order 1.")


@derivative
def SpecialI1EBackward0(grad, self, result):
    safe = self.masked_fill(self == 0, 1)
    return grad * (i0e(self) - result * (self.sgn() + 1 / safe)).masked_fill(self == 0, 0.5)


i1e = _with_gradient('i1e', _i1e, SpecialI1EBackward0, "torch.special.i1e: exp(-|x|) I1(x).")


@derivative
def I0Backward0(grad, self):
    return grad * i1(self)


@tensor_op(inplace=_unary_inplace)
def i0(input, *, out=None):
    """torch.i0: the modified Bessel function of the first kind, order 0."""
    return _out(out, _record(I0Backward0, _apply(_i0, input), (input,), self=input))


@derivative
def SpecialErfcxBackward0(grad, self, result):
    return grad * (2 * self * result - 2 / math.sqrt(math.pi))


erfcx = _with_gradient('erfcx', _erfcx, SpecialErfcxBackward0,
                       "torch.special.erfcx: exp(x^2) erfc(x), the scaled complementary error "
                       "function.")


def _binary_arrays(input, other):
    """Two operands (tensors or numbers) as float arrays of their promoted dtype."""
    a, b, rd = _operands(input, other)
    if rd.kind not in 'f':
        rd = _dtype._default._np
    return np.asarray(a, rd), np.asarray(b, rd), rd


def _igamma_density(self, other):
    """d/dx P(a, x) = x^(a-1) exp(-x) / Gamma(a), as ember ops (differentiable again)."""
    return ((self - 1) * other.log() - other - self.lgamma()).exp()


@derivative
def IgammaBackward0(grad, self, other):
    if isinstance(self, Tensor) and self.requires_grad:
        raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
    return None, grad * _igamma_density(self, other)


@derivative
def IgammacBackward0(grad, self, other):
    if isinstance(self, Tensor) and self.requires_grad:
        raise NotImplementedError("the derivative for 'igammac: input' is not implemented.")
    return None, -grad * _igamma_density(self, other)


def _igamma_op(node, upper, input, other, out):
    for i, (arg, v) in enumerate((('input', input), ('other', other)), 1):
        if not isinstance(v, Tensor):
            name = 'igammac' if upper else 'igamma'
            raise TypeError(f"{name}(): argument '{arg}' (position {i}) must be Tensor, not "
                            f"{type(v).__name__}")
    a, x, rd = _binary_arrays(input, other)
    with np.errstate(all='ignore'):
        r = _arr(_igamma_pair(a, x, upper).astype(rd))
    return _out(out, _record(node, r, (input, other), self=input, other=other))


@tensor_op(inplace=_rebase_inplace)
def igamma(input, other, *, out=None):
    """torch.igamma / torch.special.gammainc: the regularised lower incomplete gamma P(a, x)."""
    return _igamma_op(IgammaBackward0, False, input, other, out)


@tensor_op(inplace=_rebase_inplace)
def igammac(input, other, *, out=None):
    """torch.igammac / torch.special.gammaincc: the regularised upper incomplete gamma
    Q(a, x)."""
    return _igamma_op(IgammacBackward0, True, input, other, out)


def _zeta_other_grad(grad, self, other):
    return -grad * self * zeta(self + 1, other)


@derivative
def SpecialZetaBackward0(grad, self, other):
    if self.requires_grad:
        raise NotImplementedError("the derivative for 'zeta' is not implemented.")
    return None, _zeta_other_grad(grad, self, other)


@derivative
def SpecialZetaBackward1(grad, self, other):  # self a number
    return _zeta_other_grad(grad, self, other)


@derivative
def SpecialZetaBackward2(grad):  # other a number
    raise NotImplementedError("the derivative for 'zeta' is not implemented.")


def zeta(input, other, *, out=None):
    """torch.special.zeta: Hurwitz's zeta function, sum over k >= 0 of (other + k)^-input."""
    s, q, rd = _binary_arrays(input, other)
    with np.errstate(all='ignore'):
        r = _arr(_zeta(s, q).astype(rd))
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        res = _record(SpecialZetaBackward0, r, (input, other), self=input, other=other)
    elif isinstance(other, Tensor):
        res = _record(SpecialZetaBackward1, r, (other,), self=input, other=other)
    else:
        res = _record(SpecialZetaBackward2, r, (input,))
    return _out(out, res)


@derivative
def PolygammaBackward0(grad, n, self):
    return grad * polygamma(n + 1, self)


def polygamma(n, input, *, out=None):
    """torch.polygamma: the n-th derivative of digamma."""
    n = int(n)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    r = _apply(lambda x: _polygamma(n, x), input)
    return _out(out, _record(PolygammaBackward0, r, (input,), n=n, self=input))


def _polygamma_method(self, n):  # Tensor.polygamma(n): the tensor comes first
    return polygamma(n, self)


tensor_op(_polygamma_method, name='polygamma', inplace=_rebase_inplace)


@derivative
def MvlgammaBackward0(grad, self, p):
    return grad * sum(digamma(self - j / 2) for j in range(p))


@tensor_op(inplace=_rebase_inplace)
def mvlgamma(input, p, *, out=None):
    """torch.mvlgamma / torch.special.multigammaln: the multivariate log-gamma of dimension p,
    sum over j < p of lgamma(x - j/2), plus p (p - 1) / 4 log(pi)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    d = _to_float_array(input._data)  # torch 2.13 no longer checks x > (p - 1) / 2
    r = sum(_special('lgamma', d - d.dtype.type(j / 2)) for j in range(p))
    r = _arr((r + p * (p - 1) / 4 * math.log(math.pi)).astype(d.dtype, copy=False))
    return _out(out, _record(MvlgammaBackward0, r, (input,), self=input, p=p))
