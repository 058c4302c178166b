"""Activation functions: the forward math of torch.nn.functional's activations.

Each op computes its output in NumPy, in the input's dtype, and records a node whose formula,
declared above it, is torch's. The formulas take a NumPy fast path when the backward pass itself
is not being recorded (create_graph=False turns grad mode off inside the engine) and use Tensor
ops otherwise, so double backward works. relu, sigmoid, tanh, softmax and log_softmax live with
the core elementwise/reduction ops and are re-exported.
"""
import math

import numpy as np

from .. import _kernels, _random
from .._threads import run_spans
from .._tensor import _wrap
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, _RESULT, derivative
from ._util import _write_inplace, _legacy, _arr, _nograph, _drop, _keep, _act_c
from .elementwise import relu as _relu, sigmoid, tanh, _np_sigmoid, _special, _float_kernel
from .reduce import softmax, log_softmax
from .shape import cat
from ._autocast import autocast

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


# (the masks are written as torch's kernels test: a NaN input passes its gradient through)
@derivative
def HardtanhBackward0(grad, self, min_val, max_val):
    return _drop(grad, (self._data <= min_val) | (self._data >= max_val))


def _hardtanh(input, min_val, max_val):
    d = input._data
    out = np.clip(d, _c(min_val, d), _c(max_val, d)) if d.dtype.kind == 'f' else \
        np.clip(d, min_val, max_val)
    return _record(HardtanhBackward0, np.asarray(out), (input,), self=input, min_val=min_val,
                   max_val=max_val)


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


for _s in ('f32', 'f64'):  # (taken as relu's are: _float_kernel)
    _kernels.declare(f'ember_leaky_relu_backward_{_s}', None, 'i64', 'p', 'p', _s, 'p')


def _leaky_relu_backward(grad, x, negative_slope):
    """x: the input, or the output for the in-place variant (the same sign)."""
    if _nograph():
        g, xd = grad._data, x._data
        slope = _act_c(negative_slope, g)
        fn = _float_kernel('leaky_relu_backward', g, xd) if xd.shape == g.shape else None
        if fn is not None:
            out = np.empty_like(g)
            fn(g.size, _kernels.addr(g), _kernels.addr(xd), float(slope), _kernels.addr(out))
            return _wrap(out)
        return _wrap(np.where(xd > 0, g, g * slope))
    return grad.where(x > 0, grad * negative_slope)


LeakyReluBackward0 = derivative('LeakyReluBackward0')(_leaky_relu_backward)


@derivative
def LeakyReluBackward1(grad, x, negative_slope):
    # the in-place forward saved its output, whose sign gives the input's only for a
    # non-negative slope: torch's forward runs, its backward refuses
    if negative_slope < 0:
        raise RuntimeError(
            "In-place leakyReLu backward calculation is triggered with a negative slope "
            "which is not supported. This is caused by calling in-place forward "
            "function with a negative slope, please call out-of-place version instead. "
            "File an issue at https://github.com/pytorch/pytorch if you do require "
            "supporting in-place leakRelu backward calculation with negative slope")
    return _leaky_relu_backward(grad, x, negative_slope)


def _leaky(input, negative_slope, inplace=False):
    d = _float_input(input, 'leaky_relu_cpu')
    slope = _c(negative_slope, d)
    if 0 < slope <= 1:
        # max(x, slope * x) is that select for such slopes (NaN, inf and -0.0 alike; a zero
        # slope would make inf * 0 a NaN), in two passes where np.where takes three and five
        # times as long
        out = np.multiply(d, slope, out=np.empty_like(d))     # (an array for a 0-d d too)
        np.maximum(d, out, out=out)
    else:
        out = np.where(d > 0, d, d * slope)
    if inplace:
        return _record(LeakyReluBackward1, out, (input,), x=_RESULT,
                       negative_slope=negative_slope)
    return _record(LeakyReluBackward0, out, (input,), x=input, negative_slope=negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    if inplace:
        if _State.enabled and input._requires_grad:
            return _write_inplace(input, _leaky(input, negative_slope, True))
        return _inplace(input, _leaky, negative_slope)
    return _leaky(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


@derivative
def ThresholdBackward0(grad, self, threshold):
    return _drop(grad, self._data <= threshold)


@derivative
def ThresholdBackward1(grad, self, threshold):
    """self: a copy of the input taken before the in-place write."""
    return _drop(grad, self._data <= threshold)


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    d = input._data
    out = np.where(d > threshold, d, _c(value, d))
    if inplace:
        if _State.enabled and input._requires_grad:
            # the mask needs the values before the write (value may exceed threshold)
            before = _wrap(d.copy())
            return _write_inplace(input, _record(ThresholdBackward1, out, (input,), self=before,
                                                 threshold=threshold))
        np.copyto(d, out)
        input._vc.value += 1
        return input
    return _record(ThresholdBackward0, out, (input,), self=input, threshold=threshold)


_threshold = threshold


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


@derivative
def PreluKernelBackward0(grad, self, weight):
    if _nograph():
        g, x, w = grad._data, self._data, weight._data.astype(grad._data.dtype, copy=False)
        pos = x > 0
        zero = np.zeros((), g.dtype)
        return _wrap(np.where(pos, g, g * w)), _wrap(np.where(pos, zero, g * x))
    pos = self > 0
    return grad.where(pos, grad * weight), (grad * self).masked_fill(pos, 0)


@autocast('lower')
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
    return _record(PreluKernelBackward0, out, (input, w), self=input, weight=w)


def _rrelu_backward(grad, x, slope, noise):
    """x: the input, or the output for the in-place variant; noise: the drawn slopes
    (training) or None (evaluation: the fixed slope)."""
    if noise is not None:
        return grad * _wrap(noise)
    return _leaky_relu_backward(grad, x, slope)


RreluWithNoiseBackward0 = derivative('RreluWithNoiseBackward0')(_rrelu_backward)
RreluWithNoiseBackward1 = derivative('RreluWithNoiseBackward1')(_rrelu_backward)


def _rrelu(input, lower, upper, training, generator=None, inplace=False):
    d = _float_input(input, 'rrelu_with_noise_out_cpu')
    node, x = (RreluWithNoiseBackward1, _RESULT) if inplace else (RreluWithNoiseBackward0, input)
    if not training:
        slope = (lower + upper) / 2
        out = np.where(d > 0, d, d * _c(slope, d))
        return _record(node, out, (input,), x=x, slope=slope, noise=None)
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
    return _record(node, out, (input,), x=x, slope=None, noise=noise)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: random slopes in [lower, upper] when training, their mean else."""
    if inplace:
        if _State.enabled and input._requires_grad:
            return _write_inplace(input, _rrelu(input, lower, upper, training, inplace=True))
        return _inplace(input, _rrelu, lower, upper, training)
    return _rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# ---- exponential units ------------------------------------------------------------------------

def _elu_backward(grad, x, alpha, scale, input_scale, is_result):
    """torch's elu_backward; with is_result, x is the output (the in-place variants)."""
    if _nograph():
        g, d = grad._data, x._data
        c = lambda v: _act_c(v, g)  # noqa: E731
        if is_result:
            neg = g * c(input_scale) * (d + c(alpha * scale))
        else:
            with np.errstate(over='ignore'):
                neg = g * c(input_scale * alpha * scale) * np.exp(d * c(input_scale))
        return _wrap(np.where(d <= 0, neg, g * c(scale) if scale != 1 else g))
    # torch's double backward keeps x < 0 only: at x == 0 (and NaN) the value is x-free
    xn = x.where(_wrap(x._data < 0), 0.0)
    if is_result:
        neg = grad * input_scale * (xn + alpha * scale)
    else:
        neg = grad * (input_scale * alpha * scale) * (xn * input_scale).exp()
    return neg.where(_wrap(x._data <= 0), grad * scale)


# (out-of-place, in-place) nodes: selu is an elu (torch's SeluBackward is EluBackward)
_ELU = (derivative('EluBackward0')(_elu_backward), derivative('EluBackward1')(_elu_backward))
_CELU = (derivative('CeluBackward0')(_elu_backward), derivative('CeluBackward1')(_elu_backward))


def _elu(input, alpha, scale, input_scale, nodes, inplace=False):
    d = _float_input(input, 'elu')
    with np.errstate(over='ignore'):
        neg = np.expm1(d * _c(input_scale, d)) * _c(alpha * scale, d)
    out = np.where(d > 0, d * _c(scale, d) if scale != 1 else d, neg)
    if nodes is _CELU:
        # torch's celu gradient takes 1 / alpha with alpha rounded to float32 (toFloat())
        input_scale = 1.0 / float(np.float32(alpha))
    if inplace:
        return _record(nodes[1], out, (input,), x=_RESULT, alpha=alpha, scale=scale,
                       input_scale=input_scale, is_result=True)
    return _record(nodes[0], out, (input,), x=input, alpha=alpha, scale=scale,
                   input_scale=input_scale, is_result=False)


def _elu_like(input, alpha, scale, input_scale, inplace, nodes):
    if inplace:
        if _State.enabled and input._requires_grad:
            if alpha < 0:
                raise RuntimeError(
                    "In-place elu backward calculation is triggered with a negative slope "
                    "which is not supported. This is caused by calling in-place forward "
                    "function with a negative slope, please call out-of-place version instead.")
            return _write_inplace(input, _elu(input, alpha, scale, input_scale, nodes, True))
        return _inplace(input, _elu, alpha, scale, input_scale, nodes)
    return _elu(input, alpha, scale, input_scale, nodes)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _elu_like(input, alpha, 1.0, 1.0, inplace, _ELU)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _elu_like(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace, _ELU)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu_like(input, alpha, 1.0, 1.0 / alpha, inplace, _CELU)


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
_BLOCK = 1 << 15   # elements per pass: the block's seven arrays (~900 KB) stay in a 2 MB L2


def _gelu_f32(x, want_grad):
    """GELU of a float32 array; with want_grad also its derivative (nearly free)."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    deriv = np.empty_like(flat) if want_grad else None
    run_spans(lambda lo, hi: _gelu_span(flat, out, deriv, lo, hi), flat.shape[0])
    return out.reshape(x.shape), (deriv.reshape(x.shape) if want_grad else None)


_kernels.declare('ember_gelu_f32', None, 'i64', 'p', 'p', 'p', *['f32'] * 6)


def _gelu_span(flat, out, deriv, lo, hi):
    """out[lo:hi] (and deriv[lo:hi]) from flat[lo:hi], block by block (or in one compiled
    pass of the same formula: one call, no GIL hand-offs, when the kernels are built)."""
    kernel = _kernels.get('ember_gelu_f32')
    if kernel is not None:
        kernel(hi - lo, _kernels.addr(flat) + 4 * lo, _kernels.addr(out) + 4 * lo,
               None if deriv is None else _kernels.addr(deriv) + 4 * lo, _AS_C, *_AS_Q)
        return
    # a span shorter than the array is one part of a split: the other part's thread waits for
    # the GIL at each of the ~25 NumPy calls per block, so blocks twice as long (still within
    # a core's 2 MB L2) pay there (2M elements on two threads: 8.0 -> 6.1 ms, one thread 9.5)
    bs = max(1, min(_BLOCK if hi - lo == flat.shape[0] else 2 * _BLOCK, hi - lo))
    a, u, h, e = (np.empty(bs, np.float32) for _ in range(4))
    sign = np.empty(bs, np.int32)
    q1, q2, q3, q4, q5 = _AS_Q
    half, one = _F32[0.5], _F32[1.0]
    with np.errstate(all='ignore'):
        for i in range(lo, hi, bs):
            xb = flat[i:min(i + bs, hi)]
            m = xb.shape[0]
            ab, ub, hb, eb, sb = a[:m], u[:m], h[:m], e[:m], sign[:m]
            np.abs(xb, out=ab)
            np.bitwise_and(xb.view(np.int32), _SIGN, out=sb)  # x's sign bit
            np.add(ab, _F32[_AS_C], out=ub)
            np.divide(one, ub, out=ub)                   # u = 1 / (C + |x|)
            np.square(xb, out=eb)
            eb *= _F32[-0.5]                             # exact: a power of two
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
                di |= sb
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
            # x * Phi(x) has x's sign, -0.0 where it underflows: ob is >= +0 for x >= 0 and
            # <= 0 otherwise, so OR-ing in x's sign bit is copysign (whose loop is not
            # vectorised: ~15x the cost of an add)
            ov = ob.view(np.int32)
            ov |= sb


def _gelu_grad(g, deriv):
    """grad * gelu'(x), split across threads like the forward when large."""
    if g.shape != deriv.shape or g.dtype != deriv.dtype or not g.flags.c_contiguous:
        return g * deriv
    out = np.empty_like(deriv)
    gf, df, of = g.reshape(-1), deriv.reshape(-1), out.reshape(-1)
    run_spans(lambda lo, hi: np.multiply(gf[lo:hi], df[lo:hi], out=of[lo:hi]), df.shape[0])
    return out


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
    if approximate == 'tanh':
        return _gelu_tanh(d, want_grad)
    if d.dtype == np.float32:
        return _gelu_f32(d, want_grad)
    if d.dtype.itemsize < 4:
        # half types: torch computes in float and rounds once
        out, deriv = _gelu_f32(d.astype(np.float32), False)
        return out.astype(d.dtype), None
    return d * _gauss_cdf(d), None


@derivative
def GeluBackward0(grad, self, approximate, deriv=None):
    if deriv is not None and _nograph():
        # the forward already computed gelu'(x) (a NumPy array, see _gelu_f32)
        return _wrap(_gelu_grad(grad._data, deriv))
    if approximate == 'tanh':
        beta, kappa = math.sqrt(2 / math.pi), 0.044715
        if _nograph():
            g, x = grad._data, self._data
            c = lambda v: _act_c(v, g)  # noqa: E731
            x2 = x * x
            t = np.tanh(c(beta) * (x + c(kappa) * x2 * x))
            left_d = c(0.5) * (1 + t)
            right_d = c(0.5) * x * (1 - t * t) * c(beta) * (1 + c(3 * kappa) * x2)
            return _wrap(g * (left_d + right_d))
        x2 = self * self
        t = ((self + kappa * x2 * self) * beta).tanh()
        return grad * (0.5 * (1 + t) + 0.5 * self * (1 - t * t) * beta * (1 + 3 * kappa * x2))
    if _nograph():
        g, x = grad._data, self._data
        c = lambda v: _act_c(v, g)  # noqa: E731
        if x.dtype == np.float32:
            return _wrap(g * _gelu_f32(x, True)[1])
        cdf = _gauss_cdf(x)
        pdf = np.exp(c(-0.5) * x * x) * c(1 / math.sqrt(2 * math.pi))
        return _wrap(g * (cdf + x * pdf))
    cdf = 0.5 * (1 + (self * math.sqrt(0.5)).erf())
    pdf = (-0.5 * self * self).exp() * (1 / math.sqrt(2 * math.pi))
    return grad * (cdf + self * pdf)


def gelu(input, approximate='none'):
    """x * Phi(x) (Gaussian CDF), or its tanh approximation."""
    if approximate not in ('none', 'tanh'):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if input.is_nested:  # per component (ember/nested)
        return input._apply_each(gelu, approximate)
    d = _float_input(input, 'GeluKernelImpl')
    want = _State.enabled and input._requires_grad
    out, deriv = _gelu_np(d, approximate, want)
    # the derivative rides along in the saved tuple: backward is then one multiply
    return _record(GeluBackward0, np.asarray(out), (input,), self=input, approximate=approximate,
                   deriv=deriv)


@derivative
def SiluBackward0(grad, self):
    if _nograph():
        g, x = grad._data, self._data
        s = _np_sigmoid(x)
        return _wrap(g * s * (1 + x * (1 - s)))
    s = self.sigmoid()
    return grad * s * (1 + self * (1 - s))


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    if inplace:
        return _inplace(input, silu)
    if input.is_nested:  # per component (ember/nested)
        return input._apply_each(silu)
    d = _float_input(input, 'silu')
    # _arr: a 0-d product is a NumPy scalar, which an in-place op could not write into
    return _record(SiluBackward0, _arr(d * _np_sigmoid(d)), (input,), self=input)


def _softplus_np(d, beta, threshold):
    with np.errstate(over='ignore'):
        bx = d * _c(beta, d) if beta != 1 else d
        sp = np.log1p(np.exp(bx))
        if beta != 1:
            sp /= _c(beta, d)
    return np.where(bx > threshold, d, sp)


@derivative
def MishBackward0(grad, self):
    if _nograph():
        g, x = grad._data, self._data
        t = np.tanh(_softplus_np(x, 1, 20))
        return _wrap(g * (t + x * _np_sigmoid(x) * (1 - t * t)))
    t = softplus(self).tanh()
    return grad * (t + self * self.sigmoid() * (1 - t * t))


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    if inplace:
        return _inplace(input, mish)
    d = _float_input(input, 'mish')
    return _record(MishBackward0, _arr(d * np.tanh(_softplus_np(d, 1, 20))), (input,),
                   self=input)


@derivative
def SoftplusBackward0(grad, self, beta, threshold):
    if _nograph():
        g, x = grad._data, self._data
        bx = x * _act_c(beta, g) if beta != 1 else x
        return _wrap(np.where(bx > threshold, g, g * _np_sigmoid(bx)))
    bx = self * beta
    return grad.where(bx > threshold, grad * bx.sigmoid())


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above the threshold."""
    d = _float_input(input, 'softplus')
    return _record(SoftplusBackward0, _softplus_np(d, beta, threshold), (input,), self=input,
                   beta=beta, threshold=threshold)


@derivative
def LogSigmoidBackward0(grad, self):
    if _nograph():
        return _wrap(grad._data * _np_sigmoid(-self._data))
    return grad * (-self).sigmoid()


def logsigmoid(input):
    """log(sigmoid(x)), computed stably as min(x, 0) - log1p(exp(-|x|))."""
    d = _float_input(input, 'log_sigmoid_forward')
    out = np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))
    return _record(LogSigmoidBackward0, _arr(out), (input,), self=input)


@derivative
def HardswishBackward0(grad, self):
    x = self._data
    if _nograph():
        g = grad._data
        mid = g * (x / _act_c(3, g) + _act_c(0.5, g))
        return _wrap(np.where(x <= -3, np.zeros((), g.dtype), np.where(x < 3, mid, g)))
    # as the NumPy path: a NaN input takes grad (and a second-order gradient of 0)
    mid = grad * (self / 3 + 0.5)
    return mid.where(_wrap(x < 3), grad).masked_fill(_wrap(x <= -3), 0)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    if inplace:
        return _inplace(input, hardswish)
    d = _float_input(input, 'hardswish_cpu')
    out = d * np.clip(d + 3, 0, 6) / _c(6, d)
    return _record(HardswishBackward0, _arr(out.astype(d.dtype, copy=False)), (input,),
                   self=input)


_SIXTH = float(np.float32(1.0) / np.float32(6.0))


@derivative
def HardsigmoidBackward0(grad, self):
    # torch's kernel multiplies by the float constant 1.0f / 6.0f, in every dtype
    return _keep(grad, (self._data > -3) & (self._data < 3)) * _SIXTH


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    if inplace:
        return _inplace(input, hardsigmoid)
    d = _float_input(input, 'hardsigmoid_cpu')
    out = np.clip(d + 3, 0, 6) / _c(6, d)
    return _record(HardsigmoidBackward0, _arr(out.astype(d.dtype, copy=False)), (input,),
                   self=input)


def _shrink_backward(grad, self, lambd):
    return _drop(grad, (self._data >= -lambd) & (self._data <= lambd))


HardshrinkBackward0 = derivative('HardshrinkBackward0')(_shrink_backward)
SoftshrinkBackward0 = derivative('SoftshrinkBackward0')(_shrink_backward)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    d = input._data
    out = np.where((d >= -lambd) & (d <= lambd), _c(0, d), d)
    return _record(HardshrinkBackward0, out, (input,), self=input, lambd=lambd)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    d = _float_input(input, 'softshrink_cpu')
    top = float(np.finfo(d.dtype).max)
    if not 0 <= lambd <= top:
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{_legacy(d.dtype)}, but found {lambd:g}")
    lam = _c(lambd, d)
    out = np.where(d > lam, d - lam, np.where(d < -lam, d + lam, _c(0, d)))
    return _record(SoftshrinkBackward0, out, (input,), self=input, lambd=lambd)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x)."""
    return softmax(-input, dim, dtype=dtype)


@derivative
def GluBackward0(grad, self, dim):
    n = self.shape[dim] // 2
    if _nograph():
        g = grad._data
        a, b = np.split(self._data, 2, axis=dim)
        sb = _np_sigmoid(b)
        ga = g * sb
        return _wrap(np.concatenate([ga, ga * a * (1 - sb)], axis=dim))
    a, b = self.narrow(dim, 0, n), self.narrow(dim, n, n)
    sb = b.sigmoid()
    ga = grad * sb
    return cat([ga, ga * a * (1 - sb)], dim)


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
    return _record(GluBackward0, a * _np_sigmoid(b), (input,), self=input, dim=ax)
