"""Elementwise math: arithmetic, unary functions, comparisons, logic, clamp, where."""
import builtins
import importlib
import math

import numpy as np

from .. import _dtype, _kernels
from .._threads import _threads
from .._tensor import Tensor, _alias, _wrap, tensor_op
from ..autograd.grad_mode import _State
from ..autograd import graph as _graph
from ..autograd.graph import _record, _RESULT, derivative
from .complex import real, imag, conj, angle, sgn
from ._conv_split import _ELEMENTWISE_MIN, elementwise_ranges, map_ranges, run_ranges
from ._util import (_bcast_errors, _check_bool_sub, _check_overlap, _check_internal_overlap,
                    _writable, _opmath_scalar, _scalar_to, _operands, _arr, _broadcast_error,
                    _to_float_array,
                    _binary_inplace, _unary_inplace, _rebase_inplace, _dunder_compare,
                    _write_inplace, _check_inplace, _out, _scalar_kind, _legacy, _fused, _quiet,
                    _NP_ERRSTATE, _NP_QUIET, _zeros, _drop, _keep, _nograph, _times, _values,
                    _select)

__all__ = [
    'add', 'sub', 'subtract', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'floor_divide',
    'remainder', 'fmod', 'pow', 'float_power', 'neg', 'negative', 'abs', 'absolute', 'exp',
    'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'square', 'sin', 'cos',
    'tan', 'asin', 'acos', 'atan', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'tanh', 'asinh',
    'acosh', 'atanh', 'arcsinh', 'arccosh', 'arctanh', 'sigmoid', 'relu', 'sign', 'sgn',
    'signbit', 'floor', 'ceil', 'round', 'trunc', 'fix', 'frac', 'reciprocal', 'erf', 'erfc',
    'erfinv', 'lgamma', 'digamma', 'logit', 'xlogy', 'atan2', 'arctan2', 'hypot', 'maximum',
    'minimum', 'fmax', 'fmin', 'clamp', 'clip', 'clamp_min', 'clamp_max', 'lerp', 'addcmul',
    'addcdiv', 'where', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'greater', 'greater_equal', 'less',
    'less_equal', 'not_equal', 'isclose', 'allclose', 'equal', 'isnan', 'isinf', 'isfinite',
    'isposinf', 'isneginf', 'isreal', 'nan_to_num', 'logical_and', 'logical_or', 'logical_xor',
    'logical_not', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not', 'deg2rad',
    'rad2deg', 'copysign', 'heaviside', 'logaddexp', 'logaddexp2', 'sinc', 'angle', 'real',
    'imag', 'conj', 'positive',
]


_INT64 = np.dtype(np.int64)


# ---- arithmetic -------------------------------------------------------------------------------

def _check_alpha(alpha, rd):
    """torch's checks of add/sub's alpha against the result dtype; alpha as stored."""
    if isinstance(alpha, (bool, np.bool_)):
        if rd.kind != 'b':
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
        return alpha
    if isinstance(alpha, complex) and rd.kind != 'c':
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex "
                           "number.")
    if isinstance(alpha, float) and rd.kind in 'iub':
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    return _scalar_to(alpha, rd)


def _same_dtype_operator(fn, ufunc):
    """Tensor.__add__/__radd__ (ufunc np.add), __sub__ (np.subtract) or __mul__/__rmul__
    (np.multiply): two plain tensors of one dtype go straight to the kernels' loop
    (_kernels.float_op) or the ufunc and record fn's node; anything else goes to fn (two bool
    tensors' difference too: sub raises torch's error), and an ndarray operand gives
    NotImplemented as in torch (_tensor._refuse_ndarray's rule, applied here instead of in one
    more wrapper), as does an operand fn refuses with a TypeError."""
    kernel = _FLOAT_BINARY[ufunc]
    no_bool = ufunc is np.subtract

    def op(self, other, *args, **kwargs):
        if isinstance(other, Tensor):
            a, b = self._data, other._data
            if a.dtype is b.dtype and a.__class__ is np.ndarray and b.__class__ is np.ndarray \
                    and not (args or kwargs or no_bool and a.dtype.kind == 'b'):
                n, fop, r = a.size, _kernels.float_op, None
                if fop is not None and n < _ELEMENTWISE_MIN:
                    r = fop(kernel, None, a, b)     # (no errstate: it warns of nothing)
                if r is None:
                    tok = _NP_ERRSTATE.set(_NP_QUIET)
                    try:
                        r = _arr(_by_ranges(ufunc, a, b) if n >= _ELEMENTWISE_MIN else
                                 ufunc(a, b))
                    except ValueError:
                        r = None  # not broadcastable: fn raises torch's error
                    finally:
                        _NP_ERRSTATE.reset(tok)
                if r is not None:
                    if not (_State.enabled and (self._requires_grad or other._requires_grad)):
                        return _wrap(r)
                    if ufunc is np.add:
                        return _record(AddBackward0, r, (self, other), alpha=1)
                    if ufunc is np.subtract:
                        return _record(SubBackward0, r, (self, other), alpha=1)
                    return _record(MulBackward0, r, (self, other),
                                   self=self if other._requires_grad else None,
                                   other=other if self._requires_grad else None)
        elif isinstance(other, np.ndarray):
            return NotImplemented
        try:
            return fn(self, other, *args, **kwargs)
        except TypeError:
            return NotImplemented  # as torch's operators (TypeError_to_NotImplemented_)
    op.__name__ = op.__qualname__ = fn.__name__
    op._refuses_ndarray = True  # _tensor._TensorMeta: no second ndarray check
    return op


# Two plain contiguous float arrays of one shape below _ELEMENTWISE_MIN elements: the kernels'
# loop through _kernels.float_op (a ctypes call costs more than a small array's loop), split over
# the kernels' threads from 32K elements as torch splits its elementwise loops (ember_split_run,
# which keeps it on this thread while the pool's threads sleep). Above _ELEMENTWISE_MIN the
# image ranges of _conv_split take over.
_FLOAT_BINARY = {np.add: _kernels.FLOAT_ADD, np.subtract: _kernels.FLOAT_SUB,
                 np.multiply: _kernels.FLOAT_MUL}


def _float_scalar(ufunc, input, other):
    """ufunc(input, other) (np.add or np.subtract) for a plain float tensor and a Python float
    or int below 2^53: the tensor's dtype kept, the number a weak scalar, as _operands
    concludes after its general promotion; None for anything else."""
    if not (other.__class__ is float or other.__class__ is int and -_EXACT < other < _EXACT):
        return None
    d = input._data if isinstance(input, Tensor) else None
    if d.__class__ is not np.ndarray or d.dtype.kind != 'f':
        return None
    tok = _NP_ERRSTATE.set(_NP_QUIET)
    try:
        return _arr(ufunc(d, other))
    finally:
        _NP_ERRSTATE.reset(tok)


_EXACT = 1 << 53    # ints a double holds exactly


def _binary(ufunc, a, b):
    """ufunc(a, b) (np.add, np.subtract or np.multiply): the kernels' loop where it takes the
    arrays (_kernels.float_op), else NumPy's ufunc."""
    fop = _kernels.float_op
    r = None if fop is None else fop(_FLOAT_BINARY[ufunc], None, a, b)
    return ufunc(a, b) if r is None else r


def _by_ranges(ufunc, a, b):
    """ufunc(a, b), for two large arrays of one shape (a convolution's output and a residual,
    say) over the image ranges of the convolution that wrote them (_conv_split.map_ranges)."""
    r = map_ranges(lambda o, x, y: _quiet(ufunc, x, y, out=o), a.dtype, a, b)
    return ufunc(a, b) if r is None else r


@derivative
def AddBackward0(grad, alpha):
    return grad, grad if alpha == 1 else grad * alpha


# A Python number operand: torch wraps it as a tensor, so its node lists the number's edge too,
# as (None, 0) in next_functions; the scalar forms record None in its place.
@derivative('AddBackward0')
def _add_scalar_backward(grad):
    return grad, None


@derivative('AddBackward0')
def _add_scalar_rev_backward(grad, alpha):
    return grad * alpha if alpha != 1 else grad


@tensor_op(dunder=('__add__', '__radd__'), dunder_wrap=lambda fn: _same_dtype_operator(fn, np.add),
           inplace=_binary_inplace(np.add), idunder=('__iadd__',))
def add(input, other, *, alpha=1, out=None):
    if alpha.__class__ is int and alpha == 1:
        r = _float_scalar(np.add, input, other)
        if r is not None:   # `x + 1.0`
            res = _record(_add_scalar_backward, r, (input, None)) \
                if _State.enabled and input._requires_grad else _wrap(r)
            return _out(out, res) if out is not None else res
    if alpha.__class__ is not int or alpha != 1:
        alpha = _check_alpha(alpha, _operands(input, other)[2])
    try:
        a, b, _ = _operands(input, other)
        tok = _NP_ERRSTATE.set(_NP_QUIET)  # inline _quiet: these are the hottest ops
        try:
            r = _arr(np.add(a, b) if alpha == 1 else np.add(a, np.multiply(b, alpha)))
        finally:
            _NP_ERRSTATE.reset(tok)
    except ValueError:
        raise _broadcast_error(input._data if isinstance(input, Tensor) else input,
                               _data(other)) from None
    if isinstance(other, Tensor) and isinstance(input, Tensor):
        # no graph: skip building _record's argument tuples (a constant-time branch)
        res = _record(AddBackward0, r, (input, other), alpha=alpha) if _State.enabled and (
            input._requires_grad or other._requires_grad) else _wrap(r)
    elif isinstance(input, Tensor):
        res = _record(_add_scalar_backward, r, (input, None))
    else:
        res = _record(_add_scalar_rev_backward, r, (other,), alpha=alpha)
    return _out(out, res) if out is not None else res


@derivative
def SubBackward0(grad, alpha):
    return grad, -grad if alpha == 1 else -grad * alpha


@derivative('SubBackward0')
def _sub_scalar_backward(grad):
    return grad, None


@derivative
def RsubBackward1(grad, alpha):
    return -grad * alpha


@tensor_op(aliases=('subtract',), dunder=('__sub__',),
           dunder_wrap=lambda fn: _same_dtype_operator(fn, np.subtract),
           inplace=_binary_inplace(np.subtract), idunder=('__isub__',))
def sub(input, other, *, alpha=1, out=None):
    if alpha.__class__ is int and alpha == 1:
        r = _float_scalar(np.subtract, input, other)
        if r is not None:   # `x - 1.0`
            res = _record(_sub_scalar_backward, r, (input, None)) \
                if _State.enabled and input._requires_grad else _wrap(r)
            return _out(out, res) if out is not None else res
    _check_bool_sub(input, other)
    if alpha.__class__ is not int or alpha != 1:
        alpha = _check_alpha(alpha, _operands(input, other)[2])
    try:
        a, b, _ = _operands(input, other)
        tok = _NP_ERRSTATE.set(_NP_QUIET)
        try:
            r = _arr(_binary(np.subtract, a, b) if alpha == 1 else
                     np.subtract(a, np.multiply(b, alpha)))
        finally:
            _NP_ERRSTATE.reset(tok)
    except ValueError:
        raise _broadcast_error(_data(input), _data(other)) from None
    if isinstance(other, Tensor) and isinstance(input, Tensor):
        res = _record(SubBackward0, r, (input, other), alpha=alpha)
    elif isinstance(input, Tensor):
        res = _record(_sub_scalar_backward, r, (input, None))
    else:
        res = _record(RsubBackward1, r, (other,), alpha=alpha)
    return _out(out, res) if out is not None else res


def _data(x):
    return x._data if isinstance(x, Tensor) else x


@derivative
def MulBackward0(grad, self, other):
    return (grad * other if other is not None else None,
            grad * self if self is not None else None)


@derivative('MulBackward0')
def _mul_scalar_backward(grad, other):
    return grad * other, None


@tensor_op(aliases=('multiply',), dunder=('__mul__', '__rmul__'),
           dunder_wrap=lambda fn: _same_dtype_operator(fn, np.multiply),
           inplace=_binary_inplace(np.multiply), idunder=('__imul__',))
def mul(input, other, *, out=None):
    if other.__class__ is float and isinstance(input, Tensor):
        d = input._data
        if d.__class__ is np.ndarray and d.dtype.kind == 'f':
            # `x * 0.5`: a float tensor keeps its dtype, the Python float is a weak scalar;
            # _operands would conclude the same after its general promotion
            fop = _kernels.float_op
            r = None if fop is None else fop(_kernels.FLOAT_MUL_SCALAR, None, d, other)
            if r is None and d.dtype.itemsize == 2:
                r = _opmath_scalar(np.multiply, input, other)
            if r is None:
                tok = _NP_ERRSTATE.set(_NP_QUIET)
                try:
                    r = _arr(np.multiply(d, other))
                finally:
                    _NP_ERRSTATE.reset(tok)
            res = _record(_mul_scalar_backward, r, (input, None), other=other) \
                if _State.enabled and input._requires_grad else _wrap(r)
            return _out(out, res) if out is not None else res
    try:
        r = _opmath_scalar(np.multiply, input, other)
        if r is None:
            a, b, _ = _operands(input, other)
            tok = _NP_ERRSTATE.set(_NP_QUIET)
            try:
                r = _arr(np.multiply(a, b))
            finally:
                _NP_ERRSTATE.reset(tok)
    except ValueError:
        raise _broadcast_error(_data(input), _data(other)) from None
    if isinstance(other, Tensor) and isinstance(input, Tensor):
        # save an operand only when the other one's gradient needs it (as torch does), so an
        # in-place change to an operand that is not needed does not invalidate the graph
        if _State.enabled and (input._requires_grad or other._requires_grad):
            res = _record(MulBackward0, r, (input, other),
                          self=input if other._requires_grad else None,
                          other=other if input._requires_grad else None)
        else:
            res = _wrap(r)
    elif isinstance(input, Tensor):
        res = _record(_mul_scalar_backward, r, (input, None), other=other)
    else:
        res = _record(_mul_scalar_backward, r, (other, None), other=input)
    return _out(out, res) if out is not None else res


@derivative
def DivBackward0(grad, self, other):
    return grad / other, -grad * ((self / other) / other) if self is not None else None


@derivative('DivBackward0')
def _div_scalar_backward(grad, other):
    return grad / other, None


@derivative('MulBackward0')
def _rdiv_scalar_backward(grad, self, other):
    return -grad * self / (other * other)


@derivative
def DivBackward2(grad):
    # rounding division: zero gradients, as torch's div.Tensor_mode (grad.zero_())
    zeros = grad.new_zeros(grad.shape)
    return zeros, zeros


def _edges_of(input, other):
    # the recorded inputs of a binary op: a number's place is None (its (None, 0) edge)
    return (input if isinstance(input, Tensor) else None,
            other if isinstance(other, Tensor) else None)


@tensor_op(aliases=('divide', 'true_divide'), dunder=('__truediv__',),
           inplace=_binary_inplace(np.true_divide), idunder=('__itruediv__',))
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        if rounding_mode == 'floor':
            res = floor_divide(input, other)
            if res.grad_fn is not None:  # torch's div.Tensor_mode: DivBackward2 (zero grads)
                res = _record(DivBackward2, res._data, _edges_of(input, other))
            return _out(out, res)
        if rounding_mode == 'trunc':
            a, b, rd = _operands(input, other)
            if rd.kind in 'iu':
                if np.any(np.asarray(b) == 0):
                    raise RuntimeError("ZeroDivisionError")
                q = np.trunc(np.true_divide(a, b)).astype(rd)
                return _out(out, _wrap(_arr(q)))
            q = _arr(np.trunc(_quiet(np.true_divide, a, b)))
            res = _record(DivBackward2, q, _edges_of(input, other))
            return _out(out, res) if out is not None else res
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    try:
        r = _opmath_scalar(np.true_divide, input, other)
        if r is None:
            a, b, rd = _operands(input, other)
            if rd.kind in 'biu':
                fd = _dtype._default._np
                a = a.astype(fd) if isinstance(a, np.ndarray) else a
                b = b.astype(fd) if isinstance(b, np.ndarray) else b
            tok = _NP_ERRSTATE.set(_NP_QUIET)
            try:
                r = _arr(np.true_divide(a, b))
            finally:
                _NP_ERRSTATE.reset(tok)
    except ValueError:
        raise _broadcast_error(_data(input), _data(other)) from None
    if isinstance(other, Tensor) and isinstance(input, Tensor):
        if _State.enabled and (input._requires_grad or other._requires_grad):
            res = _record(DivBackward0, r, (input, other),
                          self=input if other._requires_grad else None, other=other)
        else:
            res = _wrap(r)
    elif isinstance(input, Tensor):
        res = _record(_div_scalar_backward, r, (input, None), other=other)
    else:
        res = _record(_rdiv_scalar_backward, r, (other,), self=input, other=other)
    return _out(out, res) if out is not None else res


@derivative('NotImplemented')  # torch's node has that name
def _floor_divide_backward(grad):
    raise RuntimeError("derivative for aten::floor_divide is not implemented")


@tensor_op(dunder=('__floordiv__',), inplace=_binary_inplace(np.floor_divide),
           idunder=('__ifloordiv__',))
def floor_divide(input, other, *, out=None):
    a, b, rd = _operands(input, other)
    if rd.kind in 'iu' and np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    try:
        r = _arr(_quiet(np.floor_divide, a, b))
    except ValueError:
        raise _broadcast_error(_data(input), _data(other)) from None
    res = _record(_floor_divide_backward, r,
                  tuple(x for x in (input, other) if isinstance(x, Tensor)))
    return _out(out, res)


@derivative
def RemainderBackward1(grad, self, other):
    return grad, -grad * (self / other).floor()


@derivative
def RemainderBackward0(grad):
    return grad


@derivative
def RemainderBackward2(grad, self, other):
    return None


def _modulo(ufunc, input, other):
    """remainder / fmod's values, with torch's error for an integer division by zero."""
    a, b, rd = _operands(input, other)
    if rd.kind in 'iu' and np.any(np.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    return _arr(_quiet(ufunc, a, b))


@tensor_op(dunder=('__mod__',), inplace=_binary_inplace(np.mod), idunder=('__imod__',))
@_bcast_errors
def remainder(input, other, *, out=None):
    r = _modulo(np.mod, input, other)
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        res = _record(RemainderBackward1, r, (input, other), self=input, other=other)
    elif isinstance(input, Tensor):
        res = _record(RemainderBackward0, r, (input,))
    else:
        res = _record(RemainderBackward2, r, (other,), self=input, other=other)
    return _out(out, res)


@derivative
def FmodBackward1(grad, self, other):
    return grad, -grad * (self / other).trunc()


@derivative
def FmodBackward0(grad):
    return grad


@tensor_op(inplace=_binary_inplace(np.fmod))
@_bcast_errors
def fmod(input, other, *, out=None):
    r = _modulo(np.fmod, input, other)
    if isinstance(other, Tensor):
        res = _record(FmodBackward1, r, (input, other), self=input, other=other)
    else:
        res = _record(FmodBackward0, r, (input,))
    return _out(out, res)


@derivative
def PowBackward0(grad, self, exponent):
    if exponent == 0:
        return _zeros(grad)
    return grad * (exponent * self.pow(exponent - 1))


@derivative
def PowBackward1(grad, self, exponent, result):
    g_self = grad * (exponent * self.pow(exponent - 1))
    if isinstance(exponent, Tensor):
        g_self = _drop(g_self, exponent._data == 0)  # torch: 0 wherever the exponent is 0
    elif exponent == 0:
        g_self = _zeros(g_self)
    if not isinstance(exponent, Tensor) or not exponent.requires_grad:
        return g_self, None
    # d/dexp self**exp = grad * (result * log(self)), the factor 0 where self == 0 and exp >= 0
    # (torch multiplies grad by the selected factor, so a NaN grad stays NaN there)
    g_exp = grad * (result * self.log()).masked_fill((self == 0) & (exponent >= 0), 0)
    return g_self, g_exp


@derivative
def PowBackward2(grad, self, result):
    # d/dexp base**exp = grad * (result * log(base)). With base 0 torch makes the factor 0
    # wherever exp >= 0, which is exactly where 0**exp (the result) is finite (0 or 1).
    if self == 0:
        return grad * (result * -math.inf).masked_fill(_wrap(np.isfinite(result._data)), 0)
    return grad * (result * (math.log(self) if self > 0 else math.nan))


@tensor_op(dunder=('__pow__',), inplace=_binary_inplace(np.power), idunder=('__ipow__',))
def pow(input, exponent, *, out=None):
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        d = input._data
        rd = _operands(input, exponent)[2]
        if d.dtype != rd:
            d = d.astype(rd)
        if rd.kind in 'iu' and exponent < 0 and isinstance(exponent, int):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if rd.kind in 'iu' and isinstance(exponent, int):
            _scalar_to(_scalar_to(exponent, _INT64), rd)
        if exponent == 2:
            r = _quiet(np.multiply, d, d)
        elif exponent == 0.5:
            r = _quiet(np.sqrt, d)
        else:
            r = _quiet(np.power, d, exponent)
        res = _record(PowBackward0, _arr(r), (input,), self=input, exponent=exponent)
        return _out(out, res)
    a, b, rd = _operands(input, exponent)
    try:
        r = _arr(_int_pow(a, b) if rd.kind in 'iu' else _quiet(np.power, a, b))
    except ValueError:
        raise _broadcast_error(_data(input), _data(exponent)) from None
    if isinstance(input, Tensor):
        res = _record(PowBackward1, r, (input, exponent), self=input, exponent=exponent,
                      result=_RESULT)
    else:
        res = _record(PowBackward2, r, (exponent,), self=input, result=_RESULT)
    return _out(out, res)


def _int_pow(a, b):
    """Integer power with tensor exponents: negative exponents truncate (1, -1 or 0) as torch."""
    neg = np.asarray(b) < 0
    if not neg.any():
        return np.power(a, b)
    r = np.power(a, np.where(neg, 0, b))
    a = np.asarray(a)
    alt = np.where(a == 1, 1, np.where(a == -1, np.where(np.asarray(b) % 2 == 0, 1, -1), 0))
    return np.where(neg, alt, r).astype(r.dtype, copy=False)


@tensor_op(inplace=_rebase_inplace)
def float_power(input, exponent, *, out=None):
    a = input.to(_dtype.float64) if isinstance(input, Tensor) else float(input)
    e = exponent.to(_dtype.float64) if isinstance(exponent, Tensor) else exponent
    return pow(a, e, out=out)


@derivative
def NegBackward0(grad):
    return -grad


@tensor_op(aliases=('negative',), dunder=('__neg__',), inplace=_unary_inplace)
def neg(input, *, out=None):
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return _out(out, _record(NegBackward0, _arr(np.negative(input._data)), (input,)))


negative = neg


@tensor_op(dunder=('__pos__',))
def positive(input):
    return input


@derivative
def AbsBackward0(grad, self):
    return grad * self.sgn()  # sign for real self; z / |z| for complex


@tensor_op(aliases=('absolute',), dunder=('__abs__',), inplace=_unary_inplace)
def abs(input, *, out=None):
    return _out(out, _record(AbsBackward0, _arr(np.abs(input._data)), (input,), self=input))


absolute = abs


# ---- unary float functions --------------------------------------------------------------------

def _unary(name, ufunc, node, doc=None, aliases=()):
    """Build a float-valued unary op recording `node`, whose formula takes self or result; it
    is the Tensor method `name` (and `aliases`), with its in-place variants."""
    if node._saved_names == ('self',):
        def op(input, *, out=None):
            r = _arr(_quiet(ufunc, _to_float_array(input._data)))
            return _out(out, _record(node, r, (input,), self=input))
    elif node._saved_names == ('result',):
        def op(input, *, out=None):
            r = _arr(_quiet(ufunc, _to_float_array(input._data)))
            return _out(out, _record(node, r, (input,), result=_RESULT))
    else:
        def op(input, *, out=None):
            r = _arr(_quiet(ufunc, _to_float_array(input._data)))
            return _out(out, _record(node, r, (input,)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"torch.{name}, elementwise."
    return tensor_op(op, aliases=aliases, inplace=_unary_inplace)


# float32 arrays from this many elements take the compiled sigmoid (src/activation.c): one
# pass where NumPy's takes about eight (50K elements: ~0.5 ms)
_SIGMOID_KERNEL_MIN = 256
_kernels.declare('ember_sigmoid_f32', None, 'i64', 'p', 'p')


def _np_sigmoid(x):
    if x.dtype == np.float32 and x.size >= _SIGMOID_KERNEL_MIN and x.flags.c_contiguous:
        fn = _kernels.get('ember_sigmoid_f32')
        if fn is not None:
            out = np.empty(x.shape, np.float32)
            fn(x.size, _kernels.addr(x), _kernels.addr(out))
            return out
    # exp of a negative argument only: no overflow warnings for large |x|
    out = np.empty_like(x)
    pos = x >= 0
    if pos.all():
        np.exp(-x, out=out)
        out += 1
        return np.reciprocal(out, out=out)
    e = np.exp(-np.abs(x))
    return np.where(pos, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _np_rsqrt(x):
    return np.reciprocal(np.sqrt(x))  # _unary runs it with NumPy's warnings off


def _erf(x):
    return _special('erf', x)


def _special(name, x):
    """erf/erfc/erfinv/lgamma/digamma without SciPy: vectorised through math where needed."""
    try:
        import scipy.special as sp  # optional: faster and exact
        return getattr(sp, {'lgamma': 'gammaln', 'digamma': 'psi'}.get(name, name))(x).astype(
            x.dtype, copy=False)
    except ImportError:
        pass
    if name == 'erfinv':
        return _erfinv_np(x)
    fn = {'erf': math.erf, 'erfc': math.erfc, 'lgamma': _lgamma_scalar,
          'digamma': _digamma_scalar}[name]
    return np.vectorize(lambda v: fn(v) if not math.isnan(v) else math.nan,
                        otypes=[x.dtype])(x) if x.size else x.copy()


def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except ValueError:  # the poles 0, -1, -2, ...: torch gives +inf
        return math.inf


def _digamma_scalar(v):
    if v == 0:
        return -math.inf if math.copysign(1, v) > 0 else math.inf
    if v < 0 and v == math.floor(v):
        return math.nan
    res = 0.0
    if v < 0:
        # reflection
        return _digamma_scalar(1 - v) - math.pi / math.tan(math.pi * v)
    while v < 6:
        res -= 1 / v
        v += 1
    f = 1 / (v * v)
    return res + math.log(v) - 0.5 / v - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (
        1 / 240 - f / 132))))


def _trigamma_np(x):
    """polygamma(1, x), vectorised: recurrence up to x >= 10, then the asymptotic series."""
    x = np.asarray(x)
    xf = x.astype(np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        refl = xf < 0.5  # reflection: psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x)
        z = np.where(refl, 1 - xf, xf)
        acc = np.zeros_like(z)
        for _ in range(10):
            small = z < 10
            acc += np.where(small, 1 / (z * z), 0)
            z = np.where(small, z + 1, z)
        iz = 1 / z
        iz2 = iz * iz
        series = iz + iz2 / 2 + iz * iz2 * (1 / 6 - iz2 * (1 / 30 - iz2 * (1 / 42 - iz2 * (1 / 30 - iz2 * 5 / 66))))
        r = acc + series
        r = np.where(refl, (np.pi / np.sin(np.pi * xf)) ** 2 - r, r)
    return r.astype(x.dtype, copy=False)


def _erfinv_np(y):
    # Giles' approximation refined with two Newton steps on erf
    y64 = y.astype(np.float64)
    w = -np.log((1.0 - y64) * (1.0 + y64))
    x = np.where(w < 5, _giles_small(w), _giles_large(w)) * y64
    erf = np.vectorize(math.erf, otypes=[np.float64])
    for _ in range(2):
        err = erf(x) - y64
        x = x - err / (2 / math.sqrt(math.pi) * np.exp(-x * x))
    x = np.where(y64 == 1, np.inf, np.where(y64 == -1, -np.inf, x))
    return x.astype(y.dtype)


def _giles_small(w):
    w = w - 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * w
    return p


def _giles_large(w):
    w = np.sqrt(np.maximum(w, 5)) - 3
    p = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p = c + p * w
    return p


# Their gradients, as torch's derivatives.yaml states them ----------------------------------------

@derivative
def ExpBackward0(grad, result):
    return grad * result


@derivative
def Exp2Backward0(grad, result):
    return grad * result * math.log(2)


@derivative
def Expm1Backward0(grad, result):
    return grad * (result + 1)


@derivative
def LogBackward0(grad, self):
    return grad / self


@derivative
def Log2Backward0(grad, self):
    return grad / (self * math.log(2))


@derivative
def Log10Backward0(grad, self):
    return grad / (self * math.log(10))


@derivative
def Log1PBackward0(grad, self):
    return grad / (self + 1)


@derivative
def SqrtBackward0(grad, result):
    return grad / (2 * result)


@derivative
def RsqrtBackward0(grad, result):
    return -0.5 * grad * result.pow(3)


@derivative
def SinBackward0(grad, self):
    return grad * self.cos()


@derivative
def CosBackward0(grad, self):
    return grad * -self.sin()


@derivative
def TanBackward0(grad, result):
    return grad * (1 + result * result)


@derivative
def AsinBackward0(grad, self):
    return grad * (1 - self * self).rsqrt()


@derivative
def AcosBackward0(grad, self):
    return -grad * (1 - self * self).rsqrt()


@derivative
def AtanBackward0(grad, self):
    return grad / (1 + self * self)


@derivative
def SinhBackward0(grad, self):
    return grad * self.cosh()


@derivative
def CoshBackward0(grad, self):
    return grad * self.sinh()


@derivative
def TanhBackward0(grad, result):
    if result._data.dtype == np.float32 and grad._data.dtype == np.float32 and _nograph():
        # torch's kernel fuses 1 - y*y into one FMA (a single rounding): exact in float64
        y = result._data.astype(np.float64)
        return _wrap(grad._data * (1 - y * y).astype(np.float32))
    return grad * (1 - result * result)


@derivative
def AsinhBackward0(grad, self):
    return grad * (self * self + 1).rsqrt()


@derivative
def AcoshBackward0(grad, self):
    return grad * (self * self - 1).rsqrt()


@derivative
def AtanhBackward0(grad, self):
    return grad / (1 - self * self)


@derivative
def SigmoidBackward0(grad, result):
    return grad * result * (1 - result)


@derivative
def ErfBackward0(grad, self):
    return grad * (2 / math.sqrt(math.pi)) * (-(self * self)).exp()


@derivative
def ErfcBackward0(grad, self):
    return -grad * (2 / math.sqrt(math.pi)) * (-(self * self)).exp()


@derivative
def ErfinvBackward0(grad, result):
    return grad * (math.sqrt(math.pi) / 2) * (result * result).exp()


@derivative
def LgammaBackward0(grad, self):
    return grad * self.digamma()


@derivative
def DigammaBackward0(grad, self):
    if not _State.enabled:
        return grad * _wrap(_trigamma_np(self._data))
    # create_graph: trigamma as polygamma(1, x), recorded so that it differentiates again
    special = importlib.import_module('ember._ops.special')   # cycle: special builds on us
    return grad * special.polygamma(1, self)


@derivative
def Deg2RadBackward0(grad):
    return grad * (math.pi / 180)


@derivative
def Rad2DegBackward0(grad):
    return grad * (180 / math.pi)


@derivative
def SincBackward0(grad, self):
    # torch's sinc_backward: (pi x cos(pi x) - sin(pi x)) / (pi x^2), selected to 0 at x == 0
    px = self * math.pi
    sq = self * self * math.pi
    return _drop(grad * (px * px.cos() - px.sin()) / sq, sq._data == 0)


exp = _unary('exp', np.exp, ExpBackward0)
exp2 = _unary('exp2', np.exp2, Exp2Backward0)
expm1 = _unary('expm1', np.expm1, Expm1Backward0)
log = _unary('log', np.log, LogBackward0)
log2 = _unary('log2', np.log2, Log2Backward0)
log10 = _unary('log10', np.log10, Log10Backward0)
log1p = _unary('log1p', np.log1p, Log1PBackward0)
sqrt = _unary('sqrt', np.sqrt, SqrtBackward0)
rsqrt = _unary('rsqrt', _np_rsqrt, RsqrtBackward0)
sin = _unary('sin', np.sin, SinBackward0)
cos = _unary('cos', np.cos, CosBackward0)
tan = _unary('tan', np.tan, TanBackward0)
asin = arcsin = _unary('asin', np.arcsin, AsinBackward0, aliases=('arcsin',))
acos = arccos = _unary('acos', np.arccos, AcosBackward0, aliases=('arccos',))
atan = arctan = _unary('atan', np.arctan, AtanBackward0, aliases=('arctan',))
sinh = _unary('sinh', np.sinh, SinhBackward0)
cosh = _unary('cosh', np.cosh, CoshBackward0)
tanh = _unary('tanh', np.tanh, TanhBackward0)
asinh = arcsinh = _unary('asinh', np.arcsinh, AsinhBackward0, aliases=('arcsinh',))
acosh = arccosh = _unary('acosh', np.arccosh, AcoshBackward0, aliases=('arccosh',))
atanh = arctanh = _unary('atanh', np.arctanh, AtanhBackward0, aliases=('arctanh',))
sigmoid = _unary('sigmoid', _np_sigmoid, SigmoidBackward0)
erf = _unary('erf', lambda x: _special('erf', x), ErfBackward0)
erfc = _unary('erfc', lambda x: _special('erfc', x), ErfcBackward0)
erfinv = _unary('erfinv', lambda x: _special('erfinv', x), ErfinvBackward0)
lgamma = _unary('lgamma', lambda x: _special('lgamma', x), LgammaBackward0)
digamma = _unary('digamma', lambda x: _special('digamma', x), DigammaBackward0)
deg2rad = _unary('deg2rad', np.deg2rad, Deg2RadBackward0)
rad2deg = _unary('rad2deg', np.rad2deg, Rad2DegBackward0)
sinc = _unary('sinc', np.sinc, SincBackward0)


@derivative
def ReciprocalBackward0(grad, result):
    return -grad * (result * result)  # torch's association (its bits)


@tensor_op(inplace=_unary_inplace)
def reciprocal(input, *, out=None):
    with np.errstate(divide='ignore'):
        r = _arr(np.reciprocal(_to_float_array(input._data)))
    return _out(out, _record(ReciprocalBackward0, r, (input,), result=_RESULT))


@tensor_op(inplace=_unary_inplace)
def square(input, *, out=None):
    return pow(input, 2, out=out)


# ReLU and its gradient in C (ember/_kernels/src/activation.c) for contiguous float32/64:
# NumPy's maximum against a scalar zero has no SIMD loop (0.125 ms for 256K floats against
# 0.05), and the gradient's select is four passes. Below _ELEMENTWISE_MIN elements they run
# through _kernels.float_op (split from 32K elements, as _binary's); the ctypes calls here are
# the image ranges' and a deferred part's, and the way when the extension is not built.
_FLOAT_SUFFIX = {np.dtype(np.float32): 'f32', np.dtype(np.float64): 'f64'}
for _s in _FLOAT_SUFFIX.values():
    _kernels.declare(f'ember_relu_{_s}', None, 'i64', 'p', 'p')
    _kernels.declare(f'ember_relu_backward_{_s}', None, 'i64', 'p', 'p', 'p')
    # float_op's split loop (the tests call it through ctypes too)
    _kernels.declare(f'ember_relu_split_{_s}', 'i64', 'i64', 'p', 'p', 'i64')


# elements from which the kernel pays: a ctypes call with its pointers costs ~4 us
_RELU_KERNEL_MIN = 1 << 14


def _float_kernel(name, *arrays):
    """The kernel ember_<name>_<suffix> (f32, f64) when every array is a C-contiguous one of
    the first's float dtype, large enough, else None. ReLU's, its gradient's and
    leaky_relu's."""
    dt = arrays[0].dtype
    suffix = _FLOAT_SUFFIX.get(dt)
    if suffix is None or arrays[0].size < _RELU_KERNEL_MIN:
        return None
    for a in arrays:  # (a loop, not all() over a generator: 1 us of a 10 us ReLU)
        if a.dtype != dt or not a.flags.c_contiguous:
            return None
    full = _KERNEL_NAMES.get((name, suffix))
    if full is None:
        full = _KERNEL_NAMES[name, suffix] = f'ember_{name}_{suffix}'
    return _kernels.get(full)


_KERNEL_NAMES = {}  # (name, suffix): the kernel's name, made once


_ZEROS = {}


def _zero(dt):
    """A zero scalar of NumPy dtype dt, made once (dt.type(0) took 0.4 us of a 2 us relu)."""
    z = _ZEROS.get(dt)
    if z is None:
        z = _ZEROS[dt] = dt.type(0)
    return z


def _relu_into(o, d):
    """o = relu(d) (o may be d)."""
    fn = _float_kernel('relu', d, o)
    if fn is None:
        # zero first: np.maximum gives its second operand between equals, so -0.0 stays -0.0
        # as in torch's relu (x < 0 ? 0 : x)
        np.maximum(_zero(d.dtype), d, out=o)
    else:
        fn(d.size, _kernels.addr(d), _kernels.addr(o))
    return o


def _relu_grad_into(o, g, r):
    """o = where(r <= 0, 0, g)."""
    fn = _float_kernel('relu_backward', g, r, o)
    if fn is None:
        return _select(g, r <= 0, False, out=o)
    fn(g.size, _kernels.addr(g), _kernels.addr(r), _kernels.addr(o))
    return o


@derivative
def ReluBackward0(grad, result):
    g = grad._data
    if not _State.enabled:
        if g.size < _ELEMENTWISE_MIN:
            fop = _kernels.float_op
            r = None if fop is None else fop(_kernels.FLOAT_RELU_BACKWARD, None, g, result._data)
        else:   # over the image ranges of the convolution before (_conv_split)
            r = map_ranges(_relu_grad_into, g.dtype, g, result._data, deferred=True)
        if r is None and g.size >= _RELU_KERNEL_MIN and g.shape == result._data.shape:
            r = _relu_grad_into(np.empty(g.shape, g.dtype), g, result._data)
        if r is not None:
            return _wrap(r)
    return _drop(grad, result._data <= 0)


@tensor_op
def relu(input, inplace=False):
    if inplace:
        return input.relu_()
    d = input._data
    if d.__class__ is not np.ndarray and (input.is_quantized or input.is_nested):
        return input.relu()  # its own method (_ops/quantized.py, nested)
    if d.size < _ELEMENTWISE_MIN:
        fop = _kernels.float_op
        r = None if fop is None else fop(_kernels.FLOAT_RELU, None, d)
    else:   # over the image ranges of the convolution before
        r = map_ranges(_relu_into, d.dtype, d, deferred=True)
    if r is None:
        r = _arr(np.maximum(_zero(d.dtype), d)) if d.size < _RELU_KERNEL_MIN or \
            d.dtype.kind != 'f' or d.__class__ is not np.ndarray else \
            _relu_into(np.empty(d.shape, d.dtype), d)
    if _State.enabled and input._requires_grad:
        return _record(ReluBackward0, r, (input,), result=_RESULT)
    return _wrap(r)


@derivative
def LogitBackward0(grad, self, eps):
    g = grad / (self * (1 - self))
    if eps is None:  # torch: NaN outside [0, 1]
        return g.masked_fill((self < 0) | (self > 1), float('nan'))
    if _nograph():  # torch's kernel: 0 outside [eps, 1 - eps]; a NaN input stays NaN
        return g.masked_fill((self < eps) | (self > 1 - eps), 0)
    # under create_graph torch's composite formula selects [eps, 1 - eps]: NaN gets 0
    return g.masked_fill(~((self >= eps) & (self <= 1 - eps)), 0)


@tensor_op(inplace=_unary_inplace)
def logit(input, eps=None, *, out=None):
    x = _to_float_array(input._data)
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    with np.errstate(divide='ignore', invalid='ignore'):
        r = _arr(np.log(x / (1 - x)))
    return _out(out, _record(LogitBackward0, r, (input,), self=input, eps=eps))


def _zero_grad(grad):
    return _zeros(grad)


SignBackward0 = derivative('SignBackward0')(_zero_grad)
FloorBackward0 = derivative('FloorBackward0')(_zero_grad)
CeilBackward0 = derivative('CeilBackward0')(_zero_grad)
TruncBackward0 = derivative('TruncBackward0')(_zero_grad)
RoundBackward0 = derivative('RoundBackward0')(_zero_grad)
RoundBackward1 = derivative('RoundBackward1')(_zero_grad)


def _nondiff_unary(name, fn, node, aliases=()):
    """A unary op whose gradient is zero everywhere (torch still records a node); the Tensor
    method `name` (and `aliases`), with its in-place variants."""
    def op(input, *, out=None):
        r = _arr(fn(input._data))
        return _out(out, _record(node, r, (input,)) if r.dtype.kind in 'fc'
                    else _wrap(r))
    op.__name__ = op.__qualname__ = name
    return tensor_op(op, aliases=aliases, inplace=_unary_inplace)


def _np_sign(d):
    if d.dtype == np.bool_:
        return d.copy()
    r = np.asarray(np.sign(d))
    if r.dtype.kind == 'f':
        np.nan_to_num(r, copy=False)  # torch's sign(nan) is 0
    return r


sign = _nondiff_unary('sign', _np_sign, SignBackward0)
# complex.py's functions as Tensor methods (sgn is z / |z| for complex values)
tensor_op(sgn, inplace=_unary_inplace)
tensor_op(angle)
tensor_op(conj)
floor = _nondiff_unary('floor', lambda d: np.floor(d) if d.dtype.kind in 'fc' else d.copy(),
                       FloorBackward0)
ceil = _nondiff_unary('ceil', lambda d: np.ceil(d) if d.dtype.kind in 'fc' else d.copy(),
                      CeilBackward0)
trunc = _nondiff_unary('trunc', lambda d: np.trunc(d) if d.dtype.kind in 'fc' else d.copy(),
                       TruncBackward0, aliases=('fix',))
fix = trunc


@tensor_op(inplace=_unary_inplace)
def round(input, *, decimals=0, out=None):
    d = input._data
    r = _arr(np.round(d, decimals) if d.dtype.kind in 'fc' else d.copy())
    node = RoundBackward0 if decimals == 0 else RoundBackward1
    return _out(out, _record(node, r, (input,)) if r.dtype.kind == 'f' else _wrap(r))


@derivative
def FracBackward0(grad):
    return grad


@tensor_op(inplace=_unary_inplace)
def frac(input, *, out=None):
    d = input._data
    return _out(out, _record(FracBackward0, _arr(_quiet(np.subtract, d, np.trunc(d))), (input,)))


@tensor_op
def signbit(input, *, out=None):
    return _out(out, _wrap(_arr(np.signbit(input._data))))


@derivative
def XlogyBackward0(grad, self, other):
    return (grad.xlogy(other).masked_fill((self == 0) & (other <= 0), 0), grad * self / other)


@derivative
def XlogyBackward2(grad, self, other):
    return grad * math.log(other)


@derivative
def XlogyBackward1(grad, self, other):
    return grad * self / other


@tensor_op(inplace=_rebase_inplace)
@_bcast_errors
def xlogy(input, other, *, out=None):
    a, b, rd = _operands(input, other)
    a = _to_float_array(np.asarray(a))
    b = _to_float_array(np.asarray(b))
    with np.errstate(divide='ignore', invalid='ignore'):
        r = np.where(a == 0, np.where(np.isnan(b), np.nan, 0.0), a * np.log(b)).astype(
            np.result_type(a, b))
    ins = tuple(x if isinstance(x, Tensor) else None for x in (input, other))
    if ins[1] is None:
        return _out(out, _record(XlogyBackward2, _arr(r), (input,), self=input, other=other))
    if ins[0] is None:
        return _out(out, _record(XlogyBackward1, _arr(r), (other,), self=input, other=other))
    return _out(out, _record(XlogyBackward0, _arr(r), (input, other), self=input, other=other))


@derivative
def Atan2Backward0(grad, self, other):
    denom = self * self + other * other
    return grad * other / denom, grad * -self / denom


@tensor_op(aliases=('arctan2',), inplace=_binary_inplace(np.arctan2))
@_bcast_errors
def atan2(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    r = _arr(np.arctan2(_to_float_array(np.asarray(a)), _to_float_array(np.asarray(b))))
    return _out(out, _record(Atan2Backward0, r, (input, other), self=input, other=other))


arctan2 = atan2


@derivative
def HypotBackward0(grad, self, other, result):
    return grad * self / result, grad * other / result


@tensor_op(inplace=_binary_inplace(np.hypot))
@_bcast_errors
def hypot(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    r = _arr(np.hypot(a, b))
    return _out(out, _record(HypotBackward0, r, (input, other), self=input, other=other,
                             result=_RESULT))


@derivative
def CopysignBackward0(grad, self, result):
    return grad * (self.sign() * result.sign()), _zeros(grad)


@derivative
def CopysignBackward1(grad, self, result):
    return grad * (self.sign() * result.sign())


@tensor_op(inplace=_binary_inplace(np.copysign))
@_bcast_errors
def copysign(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    r = _arr(np.copysign(_to_float_array(np.asarray(a)), b))
    if isinstance(other, Tensor):
        return _out(out, _record(CopysignBackward0, r, (input, other), self=input,
                                 result=_RESULT))
    return _out(out, _record(CopysignBackward1, r, (input,), self=input, result=_RESULT))


@tensor_op(inplace=_rebase_inplace)
@_bcast_errors
def heaviside(input, values, *, out=None):
    a, b, _ = _operands(input, values)
    return _out(out, _wrap(_arr(np.heaviside(a, b))))


@derivative
def LogaddexpBackward0(grad, self, other, result):
    return grad * (self - result).exp(), grad * (other - result).exp()


@derivative
def Logaddexp2Backward0(grad, self, other, result):
    return grad * (self - result).exp2(), grad * (other - result).exp2()


@tensor_op
@_bcast_errors
def logaddexp(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    r = _arr(_quiet(np.logaddexp, a, b))
    return _out(out, _record(LogaddexpBackward0, r, (input, other), self=input, other=other,
                             result=_RESULT))


@tensor_op
@_bcast_errors
def logaddexp2(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    r = _arr(_quiet(np.logaddexp2, a, b))
    return _out(out, _record(Logaddexp2Backward0, r, (input, other), self=input, other=other,
                             result=_RESULT))


# ---- min/max, clamp ---------------------------------------------------------------------------

def _max_min_backward(grad, self, other, big):
    """Ties split the gradient evenly; NaN comparisons pass it to both sides."""
    a, b = _values(self), _values(other)
    eq = a == b
    lose_a, lose_b = (a < b, a > b) if big else (a > b, a < b)
    if _nograph():
        g = grad._data
        base = np.where(eq, g / 2, g) if np.any(eq) else g
        zero = np.zeros((), g.dtype)
        ga = _wrap(np.where(lose_a, zero, base)) if isinstance(self, Tensor) else None
        gb = _wrap(np.where(lose_b, zero, base)) if isinstance(other, Tensor) else None
        return ga, gb
    base = (grad / 2).where(_wrap(np.asarray(eq)), grad)
    ga = base.masked_fill(_wrap(np.asarray(lose_a)), 0) if isinstance(self, Tensor) else None
    gb = base.masked_fill(_wrap(np.asarray(lose_b)), 0) if isinstance(other, Tensor) else None
    return ga, gb


@derivative
def MaximumBackward0(grad, self, other):
    return _max_min_backward(grad, self, other, True)


@derivative
def MinimumBackward0(grad, self, other):
    return _max_min_backward(grad, self, other, False)


def _fmax_fmin_backward(grad, self, other, big):
    # the gradient goes where the result came from: self unless other wins or self is NaN
    a, b = _values(self), _values(other)
    with np.errstate(invalid='ignore'):
        from_a = (a >= b if big else a <= b) | np.isnan(b)
    return (_keep(grad, from_a) if isinstance(self, Tensor) else None,
            _drop(grad, from_a) if isinstance(other, Tensor) else None)


@derivative
def FmaxBackward0(grad, self, other):
    return _fmax_fmin_backward(grad, self, other, True)


@derivative
def FminBackward0(grad, self, other):
    return _fmax_fmin_backward(grad, self, other, False)


@tensor_op(inplace=_binary_inplace(np.maximum))
def maximum(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    try:
        r = _arr(np.maximum(a, b))
    except ValueError:
        raise _broadcast_error(a, b) from None
    return _out(out, _record(MaximumBackward0, r, (input, other), self=input, other=other))


@tensor_op(inplace=_binary_inplace(np.minimum))
def minimum(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    try:
        r = _arr(np.minimum(a, b))
    except ValueError:
        raise _broadcast_error(a, b) from None
    return _out(out, _record(MinimumBackward0, r, (input, other), self=input, other=other))


@tensor_op
@_bcast_errors
def fmax(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    return _out(out, _record(FmaxBackward0, _arr(np.fmax(a, b)), (input, other), self=input,
                             other=other))


@tensor_op
@_bcast_errors
def fmin(input, other, *, out=None):
    a, b, _ = _operands(input, other)
    return _out(out, _record(FminBackward0, _arr(np.fmin(a, b)), (input, other), self=input,
                             other=other))


@derivative
def ClampBackward1(grad, self, min, max):
    x = self._data
    if min is not None and max is not None:
        return _keep(grad, (x >= min) & (x <= max))
    return _keep(grad, x >= min if min is not None else x <= max)


@derivative
def ClampBackward0(grad, self, min, max):
    # torch's clamp_backward_min_max: min gets the gradient where it won (and min < max), max
    # where it won (or min > max, when the result is max everywhere)
    x, lo, hi = self._data, _values(min), _values(max)
    g_min = g_max = None
    if lo is not None and hi is not None:
        g_self = _keep(grad, (x >= lo) & (x <= hi))
        if isinstance(min, Tensor):
            g_min = _keep(grad, (x < lo) & (lo < hi))
        if isinstance(max, Tensor):
            g_max = _keep(grad, (x > hi) | (hi < lo))
    elif lo is not None:
        g_self = _keep(grad, x >= lo)
        if isinstance(min, Tensor):
            g_min = _keep(grad, x < lo)
    else:
        g_self = _keep(grad, x <= hi)
        if isinstance(max, Tensor):
            g_max = _keep(grad, x > hi)
    return g_self, g_min, g_max


@tensor_op(aliases=('clip',), inplace=_unary_inplace)
def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    d = input._data
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = d
        lo = min._data if isinstance(min, Tensor) else min
        hi = max._data if isinstance(max, Tensor) else max
        if lo is not None:
            r = np.maximum(r, lo)
        if hi is not None:
            r = np.minimum(r, hi)
        ins = (input, min if isinstance(min, Tensor) else None,
               max if isinstance(max, Tensor) else None)
        return _out(out, _record(ClampBackward0, _arr(r).astype(d.dtype, copy=False), ins,
                                 self=input, min=min, max=max))
    rd = d.dtype
    for v in (min, max):
        if v is not None and d.dtype.kind in 'biu' and _scalar_kind(v) >= 2:
            rd = _dtype._default._np
    if rd != d.dtype:
        d = d.astype(rd)
    if rd.kind in 'iuf':  # torch's checked conversion of the bounds (uint8 min=-1 is 255)
        min = _scalar_to(min, rd) if min is not None else None
        max = _scalar_to(max, rd) if max is not None else None
    if min is not None and max is not None:
        r = np.minimum(np.maximum(d, min), max) if min > max else np.clip(d, min, max)
    elif min is not None:
        r = np.maximum(d, min)
    else:
        r = np.minimum(d, max)
    r = _arr(r)
    if r.dtype != rd:
        r = r.astype(rd)
    return _out(out, _record(ClampBackward1, r, (input,), self=input, min=min, max=max))


clip = clamp


@tensor_op(inplace=_unary_inplace)
def clamp_min(input, min):
    return clamp(input, min=min)


@tensor_op(inplace=_unary_inplace)
def clamp_max(input, max):
    return clamp(input, max=max)


# ---- ternary ----------------------------------------------------------------------------------

@derivative
def LerpBackward0(grad, weight):
    return grad * (1 - weight), grad * weight


@derivative
def LerpBackward1(grad, self, end, weight):
    return grad * (1 - weight), grad * weight, grad * (end - self)


@derivative
def AddcmulBackward0(grad, t1, t2, value):
    return grad, _times(grad * t2, value), _times(grad * t1, value)


@derivative
def AddcdivBackward0(grad, t1, t2, value):
    return grad, _times(grad / t2, value), _times(-grad * t1 / (t2 * t2), value)


@tensor_op(inplace=_unary_inplace)
def lerp(input, end, weight, *, out=None):
    def compute():
        # torch's kernel: from the nearer end (|weight| < 0.5 from input), which rounds
        # differently from one formula
        diff = end - input
        if isinstance(weight, Tensor):
            return where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
        if builtins.abs(weight) < 0.5:
            return input + weight * diff
        return end - diff * (1 - weight)
    if isinstance(weight, Tensor):
        res = _fused(LerpBackward1, compute, (input, end, weight), self=input, end=end,
                     weight=weight)
    else:
        res = _fused(LerpBackward0, compute, (input, end), weight=weight)
    return _out(out, res)


@tensor_op(inplace=_unary_inplace)
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    if value.__class__ is not int or value != 1:
        _scalar_to(value, input._data.dtype)

    def compute():
        prod = tensor1 * tensor2
        return input + (prod * value if value != 1 else prod)
    return _out(out, _fused(AddcmulBackward0, compute, (input, tensor1, tensor2),
                            t1=tensor1, t2=tensor2, value=value))


@tensor_op(inplace=_unary_inplace)
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    if not isinstance(tensor1, Tensor) or (tensor1._data.dtype.kind in 'iub' and
                                           tensor2._data.dtype.kind in 'iub'):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))."
            "to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")

    def compute():
        q = tensor1 / tensor2
        return input + (q * value if value != 1 else q)
    return _out(out, _fused(AddcdivBackward0, compute, (input, tensor1, tensor2),
                            t1=tensor1, t2=tensor2, value=value))


@derivative
def WhereBackward0(grad, condition, need=(True, True)):
    return (_keep(grad, condition) if need[0] else None,
            _drop(grad, condition) if need[1] else None)


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .index import nonzero  # cycle: index imports reduce, which imports this module
        return nonzero(condition, as_tuple=True)
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if c.dtype != np.bool_:
        if c.dtype == np.uint8:
            c = c.astype(bool)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {_legacy(c.dtype)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _wrap(np.asarray(input, dtype=_scalar_np_dtype(input)))
    a, b, _ = _operands(input, other)
    try:
        r = _arr(np.where(c, a, b))
    except ValueError:
        sc, sa = np.shape(c), np.shape(a)
        try:
            sca = np.broadcast_shapes(sc, sa)
        except ValueError:
            raise _broadcast_error(c, np.asarray(a)) from None
        raise _broadcast_error(np.empty(sca, bool), np.asarray(b)) from None
    ins = (input if isinstance(input, Tensor) else None,
           other if isinstance(other, Tensor) else None)
    need = tuple(t is not None and t._requires_grad for t in ins)
    return _out(out, _record(WhereBackward0, r, ins, condition=c, need=need))


def _scalar_np_dtype(x):
    k = _scalar_kind(x)
    return _dtype._dtype_for_kind(k)._np


@derivative
def NanToNumBackward0(grad, self):
    return grad * self.isfinite()


@tensor_op(inplace=_unary_inplace)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    d = input._data
    if d.dtype.kind not in 'fc':
        return _out(out, _wrap(d.copy()))
    r = _arr(np.nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf))
    return _out(out, _record(NanToNumBackward0, r, (input,), self=input))


# ---- comparisons and logic (never differentiable) ---------------------------------------------

def _compare(name, ufunc, aliases=()):
    """A comparison: the Tensor method `name` (and `aliases`), its operator `__name__` and its
    in-place variants."""
    def op(input, other, *, out=None):
        a, b, _ = _operands(input, other)
        try:
            r = _arr(ufunc(a, b))
        except ValueError:
            raise _broadcast_error(np.asarray(a), np.asarray(b)) from None
        return _out(out, _wrap(r))
    op.__name__ = op.__qualname__ = name
    return tensor_op(op, aliases=aliases, dunder=(f'__{name}__',), dunder_wrap=_dunder_compare,
                     inplace=_rebase_inplace)


eq = _compare('eq', np.equal)
ne = not_equal = _compare('ne', np.not_equal, ('not_equal',))
lt = less = _compare('lt', np.less, ('less',))
le = less_equal = _compare('le', np.less_equal, ('less_equal',))
gt = greater = _compare('gt', np.greater, ('greater',))
ge = greater_equal = _compare('ge', np.greater_equal, ('greater_equal',))


def _logical(name, ufunc):
    """logical_and & co: the Tensor method and its in-place variant."""
    def op(input, other, *, out=None):
        a = input._data if isinstance(input, Tensor) else input
        b = other._data if isinstance(other, Tensor) else other
        try:
            return _out(out, _wrap(_arr(ufunc(a, b))))
        except ValueError:
            raise _broadcast_error(np.asarray(a), np.asarray(b)) from None
    op.__name__ = op.__qualname__ = name
    return tensor_op(op, inplace=_binary_inplace(ufunc))


logical_and = _logical('logical_and', np.logical_and)
logical_or = _logical('logical_or', np.logical_or)
logical_xor = _logical('logical_xor', np.logical_xor)


@tensor_op(inplace=_unary_inplace)
def logical_not(input, *, out=None):
    return _out(out, _wrap(_arr(np.logical_not(input._data))))


def _bitwise(name, ufunc, dunder):
    """bitwise_and & co: the Tensor method, its operators `__<dunder>__`/`__r<dunder>__` and
    its in-place variants (`__i<dunder>__`)."""
    def op(input, other, *, out=None):
        a, b, rd = _operands(input, other)
        if rd.kind not in 'biu':
            raise RuntimeError(f'"{name}_cpu" not implemented for '
                               f"'{_legacy(rd)}'")
        return _out(out, _wrap(_arr(ufunc(a, b))))
    op.__name__ = op.__qualname__ = name
    return tensor_op(_bcast_errors(op), dunder=(f'__{dunder}__', f'__r{dunder}__'),
                     inplace=_binary_inplace(ufunc), idunder=(f'__i{dunder}__',))


bitwise_and = _bitwise('bitwise_and', np.bitwise_and, 'and')
bitwise_or = _bitwise('bitwise_or', np.bitwise_or, 'or')
bitwise_xor = _bitwise('bitwise_xor', np.bitwise_xor, 'xor')


@tensor_op(dunder=('__invert__',), inplace=_unary_inplace)
def bitwise_not(input, *, out=None):
    d = input._data
    if d.dtype.kind not in 'biu':
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{_legacy(d.dtype)}'")
    return _out(out, _wrap(_arr(np.invert(d))))


@tensor_op
@_bcast_errors
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b, _ = _operands(input, other)
    return _wrap(_arr(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


@tensor_op
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


@tensor_op
def equal(input, other):
    if input.is_quantized:
        return input.equal(other)
    return input._data.shape == other._data.shape and bool(np.all(input._data == other._data))


def _predicate(name, test):
    """isnan & co: NumPy's elementwise test as a bool tensor; the Tensor method `name`."""
    def op(input):
        return _wrap(_arr(test(input._data)))
    op.__name__ = op.__qualname__ = name
    return tensor_op(op)


isnan = _predicate('isnan', np.isnan)
isinf = _predicate('isinf', np.isinf)
isfinite = _predicate('isfinite', np.isfinite)
isposinf = _predicate('isposinf', np.isposinf)
isneginf = _predicate('isneginf', np.isneginf)
isreal = _predicate('isreal', np.isreal)


# ---- Tensor methods and operators -------------------------------------------------------------

@tensor_op(method=False, dunder=('__rsub__',))
def _rsub(self, other, *, alpha=1):
    return sub(other, self, alpha=alpha)


@tensor_op(method=False, dunder=('__rtruediv__',))
def _rdiv(self, other):
    # torch's Tensor.__rtruediv__: the reciprocal times the number (two roundings: its values,
    # and its graph, MulBackward0 after ReciprocalBackward0)
    return self.reciprocal() * other


@tensor_op(method=False, dunder=('__rpow__',))
def _rpow(self, other):
    return pow(other, self)


@tensor_op(method=False, dunder=('__rfloordiv__',))
def _rfloordiv(self, other):
    return floor_divide(other, self)


@tensor_op(method=False, dunder=('__rmod__',))
def _rmod(self, other):
    return remainder(other, self)


@tensor_op(name='relu_')
def _relu_(self):
    _check_internal_overlap(self._data)
    if not _State.enabled or not self._requires_grad:
        np.maximum(self._data, 0, out=self._data)
        self._vc.value += 1
        return self
    d = self._data
    if self._base is not None or _graph._SAVED_HOOKS or d.__class__ is not np.ndarray:
        return _write_inplace(self, relu(self))
    # in place, as torch: the node saves self after the change (checked at that version);
    # the generic path's new array and copy back cost 5x the maximum on U-Net's activations
    _check_inplace(self)
    ranges = elementwise_ranges(d.shape[0], d.size) if d.ndim else None
    if ranges is None:
        fop = _kernels.float_op
        if fop is None or fop(_kernels.FLOAT_RELU, d, d) is None:
            _relu_into(d, d)
    else:
        run_ranges(lambda i, j: _relu_into(d[i:j], d[i:j]), ranges, deferred=True)
    self._vc.value += 1
    result = _alias(self)
    _graph._attach(self, ReluBackward0, (self,), result=result)
    self.grad_fn._versions = [(result, self._vc.value, True)]
    return self


subtract = sub
multiply = mul
divide = true_divide = div
