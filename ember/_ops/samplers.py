"""torch.poisson and torch.binomial with torch's CPU samplers, draw for draw: each element in
memory order takes 53-bit uniforms (one 64-bit draw each, torch's uniform_real_distribution
<double>) from the generator; Poisson is Hörmann's transformed rejection (PTRS) from rate 10
and the product of uniforms below, binomial is BTRS from count * p >= 10 (on min(p, 1 - p))
and geometric inversion below, computed in double precision as torch's kernels do."""
import math

import numpy as np

from ..autograd.graph import _record, derivative
from ._util import _zeros, _legacy
from .random import _gen
from .sparse import _NoDerivative

__all__ = ['poisson', 'binomial']


class _Uniforms:
    """torch's uniform_real_distribution<double>(0, 1): one 64-bit draw, its low 53 bits."""

    def __init__(self, gen):
        self.gen = gen

    def __call__(self):
        raw = int(self.gen.random64(1)[0])
        return (raw & ((1 << 53) - 1)) * 2.0 ** -53


def _poisson_one(lam, u):
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            U = u() - 0.5
            V = u()
            us = 0.5 - abs(U)
            k = math.floor((2 * a / us + b) * U + lam + 0.43)
            if us >= 0.07 and V <= vr:
                return k
            if k < 0 or (us < 0.013 and V > us):
                continue
            if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - math.lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam = math.exp(-lam)
    x, prod = 0, 1.0
    while True:
        prod *= u()
        if prod > enlam:
            x += 1
        else:
            return x


_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    if k <= 9:
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _btrs(n, p, u):
    stddev = math.sqrt(n * p * (1 - p))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    r = p / (1 - p)
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor((n + 1) * p)
    while True:
        U = u() - 0.5
        V = u()
        us = 0.5 - abs(U)
        k = math.floor((2 * a / us + b) * U + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and V <= v_r:
            return k
        V = math.log(V * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (n - m + 1)))
                 + (n + 1) * math.log((n - m + 1) / (n - k + 1))
                 + (k + 0.5) * math.log(r * (n - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(n - m)
                 - _stirling_tail(k) - _stirling_tail(n - k))
        if V <= upper:
            return k


def _inversion(n, p, u):
    logprob = math.log1p(-p)
    geom_sum, num = 0.0, 0
    while True:
        U = u()
        geom_sum += math.ceil(math.log(U) / logprob) if U > 0 else math.inf
        if geom_sum > n:
            return num
        num += 1


def _binomial_one(n, p, u):
    if n <= 0.0 or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return n
    if p <= 0.5:
        return _btrs(n, p, u) if n * p >= 10.0 else _inversion(n, p, u)
    if p > 0.5:
        q = 1.0 - p
        return n - (_btrs(n, q, u) if n * q >= 10.0 else _inversion(n, q, u))
    return math.nan


@derivative
def PoissonBackward0(grad):
    return _zeros(grad)


def poisson(input, generator=None):
    """Samples of Poisson(rate) for each element of input (rates >= 0); torch's gradient
    is zero."""
    d = input._data
    if d.dtype.kind != 'f':
        raise NotImplementedError(f'"poisson_cpu" not implemented for \'{_legacy(d.dtype)}\'')
    if (d < 0).any() or np.isnan(d).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    # torch's kernel fills a fresh contiguous tensor, walking it in C order
    u = _Uniforms(_gen(generator))
    r = np.array([_poisson_one(float(x), u) for x in d.reshape(-1)], np.float64)
    return _record(PoissonBackward0, r.reshape(d.shape).astype(d.dtype), (input,))


def binomial(count, prob, generator=None):
    """Samples of Binomial(count, prob), elementwise over the broadcast shapes (torch's
    backward raises: no derivative)."""
    c, p = count._data, prob._data
    if c.dtype.kind != 'f':
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                           f"{_legacy(c.dtype)}")
    if p.dtype != c.dtype:
        raise RuntimeError(f"Found dtype {_legacy(p.dtype)} but expected {_legacy(c.dtype)}")
    cb, pb = np.broadcast_arrays(c, p)
    # torch's kernel fills a fresh contiguous tensor, walking it in C order
    u = _Uniforms(_gen(generator))
    r = np.array([_binomial_one(float(n), float(q), u)
                  for n, q in zip(cb.reshape(-1), pb.reshape(-1))], np.float64)
    return _record(_NoDerivative, r.reshape(cb.shape).astype(c.dtype), (count, prob),
                   what='binomial')
