"""ember.special (torch.special): the special functions ember's ops already compute, under
torch.special's names, plus ndtr, entr, xlog1py and multigammaln built from them (so they
differentiate). The rest of torch.special resolves to stubs that raise NotImplementedError.
"""
import math

from . import _dtype
from ._ops import creation as _cr, elementwise as _ew, extra as _extra, reduce as _red
from ._tensor import Tensor

__all__ = ['expit', 'logit', 'erf', 'erfc', 'erfinv', 'exp2', 'expm1', 'log1p', 'round', 'sinc',
           'xlogy', 'gammaln', 'digamma', 'psi', 'i0', 'logsumexp', 'softmax', 'log_softmax',
           'ndtr', 'entr', 'xlog1py', 'multigammaln']


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
i0 = _alias('i0', _extra.i0, 'the modified Bessel function of the first kind, order 0.')
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
    x = _float(input)
    if bool((x <= (p - 1) / 2).any()):
        raise RuntimeError("All elements must be greater than (p-1)/2")
    r = sum(_ew.lgamma(x - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi)
    return _copy_out(r, out)


def _copy_out(r, out):
    if out is None:
        return r
    out.copy_(r)
    return out


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
