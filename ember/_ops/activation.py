"""Activation functions: the forward math of torch.nn.functional's activations.

Each op computes its output in NumPy, in the input's dtype, and records a node whose formula
(in ``autograd/derivatives.py``, section "activations") is torch's. relu, sigmoid, tanh,
softmax and log_softmax live with the core elementwise/reduction ops and are re-exported.
"""
import math
import os

import numpy as np

from .. import _random
from .._tensor import _wrap
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, _RESULT
from ._util import _write_inplace, _legacy, _arr
from .elementwise import relu as _relu, sigmoid, tanh, _np_sigmoid, _special
from .reduce import softmax, log_softmax

__all__ = ['relu', 'relu_', 'relu6', 'leaky_relu', 'leaky_relu_', 'prelu', 'rrelu', 'rrelu_',
           'elu', 'elu_', 'selu', 'selu_', 'celu', 'celu_', 'gelu', 'silu', 'mish', 'sigmoid',
           'tanh', 'softmax', 'log_softmax', 'softmin', 'softplus', 'softsign', 'hardtanh',
           'hardtanh_', 'hardswish', 'hardsigmoid', 'hardshrink', 'softshrink', 'tanhshrink',
           'threshold', 'threshold_', 'glu', 'logsigmoid']

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_input(input, kernel):
    d = input._data
    if d.dtype.kind not in 'fc':
        raise RuntimeError(f'"{kernel}" not implemented for \'{_legacy(d.dtype)}\'')
    return d


def _inplace(input, fn, *args):
    """Run the out-of-place op and write it back into `input` (no graph: straight copy)."""
    if not (_State.enabled and input._requires_grad):
        r = fn(input, *args)
        np.copyto(input._data, r._data)
        input._vc.value += 1
        return input
    # the formula needs the input as it was: compute from a copy (its history is input's)
    return _write_inplace(input, fn(input.clone(), *args))


def _c(x, d):
    """A Python scalar as a 0-d array of d's dtype (float32 math stays float32)."""
    return np.asarray(x, dtype=d.dtype)


# ---- ReLU family ------------------------------------------------------------------------------

def relu(input, inplace=False):
    """max(x, 0)."""
    return input.relu_() if inplace else _relu(input)


def relu_(input):
    return input.relu_()


def _hardtanh(input, min_val, max_val):
    d = input._data
    out = np.clip(d, _c(min_val, d), _c(max_val, d)) if d.dtype.kind == 'f' else \
        np.clip(d, min_val, max_val)
    return _record('hardtanh', np.asarray(out), (input,), (input, min_val, max_val))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val), with zero gradient on (and outside) the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, _hardtanh, min_val, max_val)
    return _hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): torch computes it as hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky(input, negative_slope, op='leaky_relu'):
    d = _float_input(input, 'leaky_relu_cpu')
    out = np.where(d > 0, d, d * _c(negative_slope, d))
    saved = (input if op == 'leaky_relu' else _RESULT, negative_slope)
    return _record(op, out, (input,), saved)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    if inplace:
        if _State.enabled and input._requires_grad:
            if negative_slope < 0:
                raise RuntimeError(
                    "In-place leakyReLu backward calculation is triggered with a negative slope "
                    "which is not supported. This is caused by calling in-place forward "
                    "function with a negative slope, please call out-of-place version instead. "
                    "File an issue at https://github.com/pytorch/pytorch if you do require "
                    "supporting in-place leakRelu backward calculation with negative slope")
            return _write_inplace(input, _leaky(input, negative_slope, 'leaky_relu_'))
        return _inplace(input, _leaky, negative_slope)
    return _leaky(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    d = input._data
    out = np.where(d > threshold, d, _c(value, d))
    if inplace:
        if _State.enabled and input._requires_grad:
            # the mask needs the values before the write (value may exceed threshold)
            before = _wrap(d.copy())
            return _write_inplace(input, _record('threshold_', out, (input,),
                                                 (before, threshold)))
        np.copyto(d, out)
        input._vc.value += 1
        return input
    return _record('threshold', out, (input,), (input, threshold))


_threshold = threshold


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


def prelu(input, weight):
    """x if x > 0 else weight * x, one weight per channel (dim 1) or one for all."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    n = weight.numel()
    if n != 1:
        if input.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = input.shape[1] if input.ndim >= 2 else 1
        if n != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {c}.")
    w = weight
    if input.ndim >= 2 and n != 1:
        w = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    d = input._data
    wd = w._data.astype(d.dtype, copy=False)
    out = np.where(d > 0, d, d * wd)
    return _record('prelu', out, (input, w), (input, w))


def _rrelu(input, lower, upper, training, generator=None, op='rrelu'):
    d = _float_input(input, 'rrelu_with_noise_out_cpu')
    if not training:
        slope = (lower + upper) / 2
        out = np.where(d > 0, d, d * _c(slope, d))
        noise = None
        saved = (input if op == 'rrelu' else _RESULT, slope, None)
        return _record(op, out, (input,), saved)
    # torch draws one double uniform per non-positive element, in order, cast to the dtype
    neg = d <= 0
    gen = generator._impl if generator is not None else _random.default_generator
    k = int(np.count_nonzero(neg))
    # the bounds pass through the input's dtype before the double uniform is formed
    lo, hi = (float(np.asarray(v, d.dtype)) for v in (lower, upper))
    u = _random._u53(gen.random64(k)) * (hi - lo) + lo
    noise = np.ones_like(d)
    noise[neg] = u.astype(d.dtype)
    out = d * noise
    saved = (input if op == 'rrelu' else _RESULT, None, noise)
    return _record(op, out, (input,), saved)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: random slopes in [lower, upper] when training, their mean else."""
    if inplace:
        if _State.enabled and input._requires_grad:
            return _write_inplace(input, _rrelu(input, lower, upper, training, op='rrelu_'))
        return _inplace(input, _rrelu, lower, upper, training)
    return _rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# ---- exponential units ------------------------------------------------------------------------

def _elu(input, alpha, scale, input_scale, op):
    d = _float_input(input, 'elu')
    with np.errstate(over='ignore'):
        neg = np.expm1(d * _c(input_scale, d)) * _c(alpha * scale, d)
    out = np.where(d > 0, d * _c(scale, d) if scale != 1 else d, neg)
    inplace = op.endswith('_')
    saved = (_RESULT if inplace else input, alpha, scale, input_scale, inplace)
    return _record(op, out, (input,), saved)


def _elu_like(input, alpha, scale, input_scale, inplace, name):
    if inplace:
        if _State.enabled and input._requires_grad:
            if alpha < 0:
                raise RuntimeError(
                    "In-place elu backward calculation is triggered with a negative slope "
                    "which is not supported. This is caused by calling in-place forward "
                    "function with a negative slope, please call out-of-place version instead.")
            return _write_inplace(input, _elu(input, alpha, scale, input_scale, name + '_'))
        return _inplace(input, _elu, alpha, scale, input_scale, name)
    return _elu(input, alpha, scale, input_scale, name)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _elu_like(input, alpha, 1.0, 1.0, inplace, 'elu')


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _elu_like(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace, 'elu')


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu_like(input, alpha, 1.0, 1.0 / alpha, inplace, 'celu')


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


# ---- smooth gates -----------------------------------------------------------------------------

# float32 GELU from Abramowitz & Stegun 7.1.26 (as oneDNN's gelu_erf, which torch uses):
# erfc(a) ~ t P(t) exp(-a^2) with t = 1 / (1 + p a), a >= 0, max abs error 1.5e-7.
# Here a = |x| / sqrt 2 and t = C u with u = 1 / (C + |x|), C = sqrt 2 / p, so P's
# coefficients absorb the powers of C (and the 1/2): u Q(u) exp(-x^2 / 2) is h = Phi(-|x|)
# and gelu(x) = relu(x) - |x| h. exp(-x^2 / 2) is also the Gaussian density that
# gelu'(x) = Phi(x) + x phi(x) needs. (np.where, np.maximum, np.sign and np.copysign are slow
# on float32; everything here is plain arithmetic.)
_AS_C = math.sqrt(2) / 0.3275911
_AS_Q = [np.float32(0.5 * v * _AS_C ** k) for k, v in enumerate(
    (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429), 1)]
_F32 = {v: np.float32(v) for v in (-0.5, 0.5, 1.0, _AS_C, 1 / math.sqrt(2 * math.pi))}
_SIGN = np.int32(-2 ** 31)
_BLOCK = 1 << 17   # elements per pass: fewer NumPy calls; temporaries still mostly in cache


def _gelu_f32(x, want_grad):
    """GELU of a float32 array; with want_grad also its derivative (nearly free)."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    deriv = np.empty_like(flat) if want_grad else None
    _parallel(lambda lo, hi: _gelu_span(flat, out, deriv, lo, hi), flat.shape[0])
    return out.reshape(x.shape), (deriv.reshape(x.shape) if want_grad else None)


def _gelu_span(flat, out, deriv, lo, hi):
    """out[lo:hi] (and deriv[lo:hi]) from flat[lo:hi], block by block."""
    bs = max(1, min(_BLOCK, hi - lo))
    a, u, h, e = (np.empty(bs, np.float32) for _ in range(4))
    q1, q2, q3, q4, q5 = _AS_Q
    half, one = _F32[0.5], _F32[1.0]
    with np.errstate(all='ignore'):
        for i in range(lo, hi, bs):
            xb = flat[i:min(i + bs, hi)]
            m = xb.shape[0]
            ab, ub, hb, eb = a[:m], u[:m], h[:m], e[:m]
            np.abs(xb, out=ab)
            np.add(ab, _F32[_AS_C], out=ub)
            np.divide(one, ub, out=ub)                   # u = 1 / (C + |x|)
            np.multiply(xb, _F32[-0.5], out=eb)
            eb *= xb
            np.exp(eb, out=eb)                           # exp(-x^2 / 2)
            np.multiply(ub, q5, out=hb)
            hb += q4
            hb *= ub
            hb += q3
            hb *= ub
            hb += q2
            hb *= ub
            hb += q1
            hb *= ub
            hb *= eb                                     # h = Phi(-|x|)
            if deriv is not None:
                # gelu' = Phi(x) + x phi(x), Phi(x) = 1/2 + sign(x) (1/2 - h), the sign by bits
                db = deriv[i:i + m]
                di = db.view(np.int32)
                np.subtract(half, hb, out=db)
                np.bitwise_and(xb.view(np.int32), _SIGN, out=ub.view(np.int32))
                di |= ub.view(np.int32)
                db += half
                eb *= xb
                eb *= _F32[1 / math.sqrt(2 * math.pi)]
                db += eb
            # gelu = relu(x) - |x| h: no cancellation in the left tail
            ob = out[i:i + m]
            np.add(xb, ab, out=ob)
            ob *= half
            ab *= hb
            ob -= ab


def _gelu_grad(g, deriv):
    """grad * gelu'(x), split across threads like the forward when large."""
    if g.shape != deriv.shape or g.dtype != deriv.dtype or not g.flags.c_contiguous:
        return g * deriv
    out = np.empty_like(deriv)
    gf, df, of = g.reshape(-1), deriv.reshape(-1), out.reshape(-1)
    _parallel(lambda lo, hi: np.multiply(gf[lo:hi], df[lo:hi], out=of[lo:hi]), df.shape[0])
    return out


_POOL = [None, None]        # (pid, executor): a forked child must not reuse its parent's
_MIN_SPAN = 1 << 18         # elements per thread below which threads do not pay off


def _parallel(fn, n):
    """fn(lo, hi) over [0, n), split across torch.get_num_threads() threads.

    NumPy releases the GIL inside its loops, so big elementwise kernels run on every core
    (as torch's do); small ones stay on the calling thread.
    """
    from .._misc import get_num_threads
    k = min(get_num_threads(), n // _MIN_SPAN)
    if k < 2:
        fn(0, n)
        return
    if _POOL[0] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor
        _POOL[:] = [os.getpid(), ThreadPoolExecutor(max(1, (os.cpu_count() or 2) - 1),
                                                    thread_name_prefix='ember')]
    cuts = [n * j // k for j in range(k + 1)]
    futures = [_POOL[1].submit(fn, cuts[j], cuts[j + 1]) for j in range(1, k)]
    fn(cuts[0], cuts[1])
    for f in futures:
        f.result()


def _gauss_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 in x's dtype (float64 and others)."""
    z = x * _c(math.sqrt(0.5), x)
    cdf = _special('erf', z)
    cdf += 1
    cdf *= _c(0.5, x)
    return cdf


def _gelu_tanh(d, want_grad):
    """x (1 + tanh(beta (x + kappa x^3))) / 2 in d's dtype, and with want_grad its derivative
    (1 + t) / 2 + x (1 - t^2) beta (1 + 3 kappa x^2) / 2, t the tanh."""
    beta, kappa = math.sqrt(2 / math.pi), 0.044715
    with np.errstate(over='ignore', invalid='ignore'):
        x2 = d * d
        t = x2 * _c(kappa, d)
        t += _c(1, d)
        t *= d
        t *= _c(beta, d)
        np.tanh(t, out=t)
        onep = t + _c(1, d)
        out = d * _c(0.5, d)
        out *= onep
        if not want_grad:
            return out, None
        x2 *= _c(3 * kappa * beta, d)
        x2 += _c(beta, d)                        # beta (1 + 3 kappa x^2)
        t *= t
        np.subtract(_c(1, d), t, out=t)
        t *= x2
        t *= d
        t += onep
        t *= _c(0.5, d)
    return out, t


def _gelu_np(d, approximate, want_grad=False):
    """(gelu(d), its derivative when want_grad and cheap to get, else None)."""
    half = _c(0.5, d)
    if approximate == 'tanh':
        return _gelu_tanh(d, want_grad)
    if d.dtype == np.float32:
        return _gelu_f32(d, want_grad)
    if d.dtype.itemsize < 4:
        # half types: torch computes in float and rounds once
        out, deriv = _gelu_f32(d.astype(np.float32), False)
        return out.astype(d.dtype), None
    return d * _gauss_cdf(d), None


def gelu(input, approximate='none'):
    """x * Phi(x) (Gaussian CDF), or its tanh approximation."""
    if approximate not in ('none', 'tanh'):
        raise RuntimeError("approximate argument must be either none or tanh.")
    d = _float_input(input, 'GeluKernelImpl')
    want = _State.enabled and input._requires_grad
    out, deriv = _gelu_np(d, approximate, want)
    # the derivative rides along in the saved tuple: backward is then one multiply
    return _record('gelu', np.asarray(out), (input,), (input, approximate, deriv))


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    if inplace:
        return _inplace(input, silu)
    d = _float_input(input, 'silu')
    # _arr: a 0-d product is a NumPy scalar, which an in-place op could not write into
    return _record('silu', _arr(d * _np_sigmoid(d)), (input,), (input,))


def _softplus_np(d, beta, threshold):
    with np.errstate(over='ignore'):
        bx = d * _c(beta, d) if beta != 1 else d
        sp = np.log1p(np.exp(bx))
        if beta != 1:
            sp /= _c(beta, d)
    return np.where(bx > threshold, d, sp)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    if inplace:
        return _inplace(input, mish)
    d = _float_input(input, 'mish')
    return _record('mish', _arr(d * np.tanh(_softplus_np(d, 1, 20))), (input,), (input,))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above the threshold."""
    d = _float_input(input, 'softplus')
    return _record('softplus', _softplus_np(d, beta, threshold), (input,),
                   (input, beta, threshold))


def logsigmoid(input):
    """log(sigmoid(x)), computed stably as min(x, 0) - log1p(exp(-|x|))."""
    d = _float_input(input, 'log_sigmoid_forward')
    out = np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))
    return _record('log_sigmoid', _arr(out), (input,), (input,))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    if inplace:
        return _inplace(input, hardswish)
    d = _float_input(input, 'hardswish_cpu')
    out = d * np.clip(d + 3, 0, 6) / _c(6, d)
    return _record('hardswish', _arr(out.astype(d.dtype, copy=False)), (input,), (input,))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    if inplace:
        return _inplace(input, hardsigmoid)
    d = _float_input(input, 'hardsigmoid_cpu')
    out = np.clip(d + 3, 0, 6) / _c(6, d)
    return _record('hardsigmoid', _arr(out.astype(d.dtype, copy=False)), (input,), (input,))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    d = input._data
    out = np.where((d >= -lambd) & (d <= lambd), _c(0, d), d)
    return _record('hardshrink', out, (input,), (input, lambd))


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    d = _float_input(input, 'softshrink_cpu')
    top = float(np.finfo(d.dtype).max)
    if not 0 <= lambd <= top:
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{_legacy(d.dtype)}, but found {lambd:g}")
    lam = _c(lambd, d)
    out = np.where(d > lam, d - lam, np.where(d < -lam, d + lam, _c(0, d)))
    return _record('softshrink', out, (input,), (input, lambd))


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x)."""
    return softmax(-input, dim, dtype=dtype)


def glu(input, dim=-1):
    """First half times sigmoid of the second half, split along `dim`."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    ax = dim + input.ndim if dim < 0 else dim
    n = input.shape[ax]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {ax} is size {n}")
    d = _float_input(input, 'glu')
    a, b = np.split(d, 2, axis=ax)
    return _record('glu', a * _np_sigmoid(b), (input,), (input, ax))
