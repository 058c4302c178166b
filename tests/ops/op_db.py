"""The op table driving tests/ops/test_ops.py (an OpInfo-style database).

Each ``OpInfo`` names an op, holds one callable ``fn(lib, *args, **kwargs)`` that is run once
with ``lib = ember`` and once with ``lib = torch`` (so the ember and torch callables are the
same expression, ``op.ember_fn`` / ``op.torch_fn``), a sample generator, the dtypes to try and
whether the op is differentiable.

A sample is a ``Sample(args, kwargs)`` whose NumPy arrays become tensors (copied, so the two
libraries never share memory; non-contiguous arrays stay non-contiguous), lists of arrays
become lists of tensors, and everything else (ints, floats, strings, dims) is passed as is.
"""
import functools

import numpy as np

FLOAT = ('float32', 'float64')
INT = ('int64',)
ALL = ('float32', 'float64', 'int64', 'int32', 'bool')
NUM = ('float32', 'float64', 'int64')


class Sample:
    __slots__ = ('args', 'kwargs', 'desc')

    def __init__(self, *args, desc='', **kwargs):
        self.args, self.kwargs, self.desc = args, kwargs, desc

    def __repr__(self):
        shapes = [a.shape if isinstance(a, np.ndarray) else a for a in self.args]
        return f"Sample({shapes}, {self.kwargs}{', ' + self.desc if self.desc else ''})"


class OpInfo:
    def __init__(self, name, fn, samples, dtypes=FLOAT, grad=True, grad_fn=None, atol=None,
                 rtol=None, gradcheck=True, grad_dtypes=None):
        self.name = name
        self.fn = fn
        self.samples = samples  # samples(rng, np_dtype) -> list of Sample
        self.dtypes = dtypes
        self.grad = grad
        self.grad_fn = grad_fn  # expected grad_fn class name for the first sample (or None)
        self.atol, self.rtol = atol, rtol
        self.gradcheck = gradcheck and grad
        self.grad_dtypes = grad_dtypes

    def ember_fn(self, *args, **kwargs):
        import ember
        return self.fn(ember, *args, **kwargs)

    def torch_fn(self, *args, **kwargs):
        import torch
        return self.fn(torch, *args, **kwargs)

    def __repr__(self):
        return self.name


# ---- array makers ----------------------------------------------------------------------------

def make(rng, shape, dtype, lo=-2.0, hi=2.0, layout='c'):
    """An array of `shape`; layout 't' (transposed) or 's' (sliced) makes it non-contiguous."""
    dtype = np.dtype(dtype)
    if layout == 't' and len(shape) >= 2:
        base = make(rng, shape[::-1], dtype, lo, hi)
        return base.transpose(tuple(range(len(shape) - 1, -1, -1)))
    if layout == 's' and len(shape) >= 1:
        big = shape[:-1] + (shape[-1] * 2,)
        return make(rng, big, dtype, lo, hi)[..., ::2]
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) > 0.5)
    if dtype.kind in 'iu':
        return np.asarray(rng.integers(int(np.floor(lo)) if lo > -5 else -5,
                                       int(np.ceil(hi)) + 1 if hi < 5 else 6, shape), dtype)
    return np.asarray(rng.uniform(lo, hi, shape), dtype)


UNARY_SHAPES = [((), 'c'), ((0,), 'c'), ((5,), 'c'), ((2, 3), 'c'), ((3, 4), 't'),
                ((2, 3), 's'), ((2, 1, 3), 'c')]
BINARY_SHAPES = [((2, 3), (2, 3), 'c'), ((2, 3), (3,), 'c'), ((2, 1), (1, 3), 'c'),
                 ((), (2, 3), 'c'), ((2, 3), (), 'c'), ((0, 3), (3,), 'c'),
                 ((3, 4), (3, 4), 't'), ((2, 3), (2, 3), 's'), ((4, 1, 3), (2, 1), 'c')]


def unary(lo=-2.0, hi=2.0, small=False):
    def gen(rng, dt):
        shapes = UNARY_SHAPES[:4] if small else UNARY_SHAPES
        return [Sample(make(rng, s, dt, lo, hi, lay)) for s, lay in shapes]
    return gen


def binary(lo=-2.0, hi=2.0, lo2=None, hi2=None, scalars=(), **kw):
    lo2 = lo if lo2 is None else lo2
    hi2 = hi if hi2 is None else hi2

    def gen(rng, dt):
        out = [Sample(make(rng, a, dt, lo, hi, lay), make(rng, b, dt, lo2, hi2, lay), **kw)
               for a, b, lay in BINARY_SHAPES]
        for s in scalars:
            out.append(Sample(make(rng, (2, 3), dt, lo, hi), s, **kw))
        return out
    return gen


def _pos(x):
    return x


def ternary(lo=-2.0, hi=2.0, lo3=None, hi3=None, **kw):
    lo3 = lo if lo3 is None else lo3
    hi3 = hi if hi3 is None else hi3

    def gen(rng, dt):
        return [Sample(make(rng, (2, 3), dt, lo, hi), make(rng, (3,), dt, lo, hi),
                       make(rng, (2, 1), dt, lo3, hi3), **kw),
                Sample(make(rng, (3, 4), dt, lo, hi, 't'), make(rng, (3, 4), dt, lo, hi),
                       make(rng, (3, 4), dt, lo3, hi3, 's'), **kw),
                Sample(make(rng, (), dt, lo, hi), make(rng, (2,), dt, lo, hi),
                       make(rng, (), dt, lo3, hi3), **kw)]
    return gen


def reduce_samples(full=True, dims=True, tuple_dims=True, keepdim=True, nonempty=False, **kw):
    def gen(rng, dt):
        out = []
        if full:
            out += [Sample(make(rng, (2, 3), dt), **kw), Sample(make(rng, (), dt), **kw),
                    Sample(make(rng, (3, 4), dt, layout='t'), **kw)]
            if not nonempty:
                out.append(Sample(make(rng, (0, 3), dt), **kw))
        if dims:
            out += [Sample(make(rng, (2, 3, 4), dt), 1, **kw),
                    Sample(make(rng, (2, 3, 4), dt), -1, **kw),
                    Sample(make(rng, (3, 4), dt, layout='t'), 0, **kw),
                    Sample(make(rng, (), dt), 0, **kw)]
            if keepdim:
                out += [Sample(make(rng, (2, 3, 4), dt), 1, True, **kw),
                        Sample(make(rng, (2, 3), dt, layout='s'), 0, True, **kw)]
            if not nonempty:
                out.append(Sample(make(rng, (0, 3), dt), 1, **kw))
        if tuple_dims:
            out += [Sample(make(rng, (2, 3, 4), dt), (0, 2), **kw),
                    Sample(make(rng, (2, 3, 4), dt), (-1, 0), True, **kw)]
        return out
    return gen


def dim_samples(extra=(), keepdim=False, zero_d=True, **kw):
    """Ops that take one dim argument (cumsum, softmax, sort, ...)."""
    def gen(rng, dt):
        out = [Sample(make(rng, (2, 3, 4), dt), 1, *extra, **kw),
               Sample(make(rng, (2, 3, 4), dt), -1, *extra, **kw),
               Sample(make(rng, (3, 4), dt, layout='t'), 0, *extra, **kw),
               Sample(make(rng, (5,), dt), 0, *extra, **kw)]
        if zero_d:
            out.append(Sample(make(rng, (), dt), 0, *extra, **kw))
        return out
    return gen


def fixed(*samples_fn):
    """A generator from a function rng, dt -> list of Sample."""
    return samples_fn[0]


def m(rng, shape, dt, layout='c', lo=-2.0, hi=2.0):
    return make(rng, shape, dt, lo, hi, layout)


def uniq(rng, shape, dt, layout='c'):
    """Distinct values (ties make topk/kthvalue indices implementation-defined)."""
    n = int(np.prod(shape))
    a = (rng.permutation(n) - n // 2).astype(dt)
    if np.dtype(dt).kind == 'f':
        a = a / 2
    a = a.reshape(shape)
    return a.T.copy().T if layout == 't' else a


def idx(rng, high, shape):
    return rng.integers(0, high, shape).astype(np.int64)


def perm_idx(rng, n, shape_other, dim):
    """An index for scatter along dim without duplicates (so scatter's result is defined)."""
    rows = [rng.permutation(n)[:shape_other[dim]] for _ in range(int(np.prod(
        [s for i, s in enumerate(shape_other) if i != dim])))]
    a = np.stack(rows)  # (others, k)
    other_shape = [s for i, s in enumerate(shape_other) if i != dim]
    a = a.reshape(other_shape + [shape_other[dim]])
    return np.moveaxis(a, -1, dim).astype(np.int64)


# ---- the table -------------------------------------------------------------------------------

OPS = []


def op(name, fn, samples, **kw):
    OPS.append(OpInfo(name, fn, samples, **kw))


# elementwise unary (float valued)
for _n, _lo, _hi, _dt in [
        ('exp', -2, 2, ALL), ('exp2', -2, 2, NUM), ('expm1', -2, 2, NUM),
        ('log', 0.1, 3, ALL), ('log2', 0.1, 3, NUM), ('log10', 0.1, 3, NUM),
        ('log1p', -0.5, 3, NUM), ('sqrt', 0.1, 3, ALL), ('rsqrt', 0.1, 3, NUM),
        ('sin', -3, 3, ALL), ('cos', -3, 3, NUM), ('tan', -1.2, 1.2, NUM),
        ('asin', -0.9, 0.9, FLOAT), ('acos', -0.9, 0.9, FLOAT), ('atan', -3, 3, NUM),
        ('sinh', -2, 2, NUM), ('cosh', -2, 2, NUM), ('tanh', -2, 2, ALL),
        ('asinh', -2, 2, NUM), ('acosh', 1.1, 3, FLOAT), ('atanh', -0.9, 0.9, FLOAT),
        ('sigmoid', -4, 4, ALL), ('erf', -2, 2, NUM), ('erfc', -2, 2, NUM),
        ('erfinv', -0.9, 0.9, FLOAT), ('lgamma', 0.2, 3, NUM), ('digamma', 0.2, 3, FLOAT),
        ('reciprocal', 0.3, 3, NUM), ('deg2rad', -90, 90, FLOAT), ('rad2deg', -2, 2, FLOAT),
        ('sinc', 0.1, 2, FLOAT)]:
    op(_n, (lambda n: lambda lib, x: getattr(lib, n)(x))(_n), unary(_lo, _hi), dtypes=_dt)
    op(_n + '_method', (lambda n: lambda lib, x: getattr(x, n)())(_n), unary(_lo, _hi, True),
       dtypes=FLOAT, gradcheck=False)

# elementwise unary (dtype preserving)
op('neg', lambda lib, x: -x, unary(), dtypes=NUM, grad_fn='NegBackward0')
op('abs', lambda lib, x: lib.abs(x), unary(0.2, 2) if False else unary(), dtypes=NUM,
   grad_fn='AbsBackward0')
op('square', lambda lib, x: lib.square(x), unary(), dtypes=NUM, grad_fn='PowBackward0')
op('sign', lambda lib, x: lib.sign(x), unary(), dtypes=ALL)
op('floor', lambda lib, x: lib.floor(x), unary(), dtypes=NUM)
op('ceil', lambda lib, x: lib.ceil(x), unary(), dtypes=NUM)
op('round', lambda lib, x: lib.round(x), unary(), dtypes=NUM)
op('round_decimals', lambda lib, x: lib.round(x, decimals=2), unary(), dtypes=FLOAT)
op('trunc', lambda lib, x: lib.trunc(x), unary(), dtypes=NUM)
op('frac', lambda lib, x: lib.frac(x), unary(), dtypes=FLOAT)
op('relu', lambda lib, x: lib.relu(x), unary(), dtypes=NUM, grad_fn='ReluBackward0')
op('logit', lambda lib, x: lib.logit(x), unary(0.1, 0.9), dtypes=FLOAT)
op('logit_eps', lambda lib, x: lib.logit(x, eps=0.2), unary(0.3, 0.7), dtypes=FLOAT)
op('positive', lambda lib, x: +x, unary(), dtypes=NUM)
op('nan_to_num', lambda lib, x: lib.nan_to_num(x / x.abs().clamp(max=1) if False else x),
   unary(), dtypes=FLOAT)
op('pow_scalar', lambda lib, x: x ** 3, unary(), dtypes=NUM, grad_fn='PowBackward0')
op('pow_half', lambda lib, x: x ** 0.5, unary(0.2, 3), dtypes=FLOAT)
op('pow_neg', lambda lib, x: lib.pow(x, -1.5), unary(0.2, 3), dtypes=FLOAT)
op('rpow_scalar', lambda lib, x: 2 ** x, unary(), dtypes=NUM, grad_fn='PowBackward2')
op('rsub_scalar', lambda lib, x: 1 - x, unary(), dtypes=NUM, grad_fn='RsubBackward1')
op('rdiv_scalar', lambda lib, x: 2 / x, unary(0.5, 2), dtypes=NUM, grad_fn='MulBackward0')
op('add_scalar', lambda lib, x: x + 2.5, unary(), dtypes=ALL, grad_fn='AddBackward0')
op('mul_scalar', lambda lib, x: x * 3, unary(), dtypes=ALL, grad_fn='MulBackward0')
op('div_scalar', lambda lib, x: x / 4, unary(), dtypes=ALL, grad_fn='DivBackward0')
op('sub_scalar_int', lambda lib, x: x - 1, unary(), dtypes=NUM, grad_fn='SubBackward0')
op('float_scalar_weak', lambda lib, x: x * 1.5, unary(), dtypes=('int64', 'int32', 'bool'),
   grad=False)

# elementwise binary
op('add', lambda lib, a, b: lib.add(a, b), binary(), dtypes=ALL, grad_fn='AddBackward0')
op('add_alpha', lambda lib, a, b: lib.add(a, b, alpha=2), binary(), dtypes=NUM)
op('add_op_scalar', lambda lib, a, b: a + b, binary(scalars=(2, 1.5, True)), dtypes=ALL)
op('sub', lambda lib, a, b: a - b, binary(scalars=(3, 0.5)), dtypes=NUM,
   grad_fn='SubBackward0')
op('sub_alpha', lambda lib, a, b: lib.sub(a, b, alpha=3), binary(), dtypes=NUM)
op('mul', lambda lib, a, b: a * b, binary(scalars=(3, 0.5, False)), dtypes=ALL,
   grad_fn='MulBackward0')
op('div', lambda lib, a, b: a / b, binary(0.5, 2, scalars=(3, 0.5)), dtypes=ALL[:4],
   grad_fn='DivBackward0')
op('div_trunc', lambda lib, a, b: lib.div(a, b, rounding_mode='trunc'),
   binary(-3, 3, 0.5, 2), dtypes=FLOAT)
op('div_floor', lambda lib, a, b: lib.div(a, b, rounding_mode='floor'),
   binary(-3, 3, 0.5, 2), dtypes=FLOAT)
op('div_floor_int', lambda lib, a, b: lib.div(a, b, rounding_mode='floor'),
   binary(-5, 5, 1, 3), dtypes=INT, grad=False)
op('div_trunc_int', lambda lib, a, b: lib.div(a, b, rounding_mode='trunc'),
   binary(-5, 5, 1, 3), dtypes=INT, grad=False)
op('floor_divide', lambda lib, a, b: a // b, binary(-5, 5, 1, 3), dtypes=NUM, grad=False)
op('remainder', lambda lib, a, b: a % b, binary(-5, 5, 1, 3, scalars=(3,)), dtypes=NUM,
   gradcheck=False)
op('fmod', lambda lib, a, b: lib.fmod(a, b), binary(-5, 5, 1, 3, scalars=(2,)), dtypes=NUM,
   gradcheck=False)
op('pow', lambda lib, a, b: a ** b, binary(0.5, 2), dtypes=FLOAT, grad_fn='PowBackward1')
op('pow_int', lambda lib, a, b: a ** b, binary(-3, 3, 0, 3), dtypes=INT, grad=False)
op('atan2', lambda lib, a, b: lib.atan2(a, b), binary(0.5, 2), dtypes=FLOAT)
op('hypot', lambda lib, a, b: lib.hypot(a, b), binary(0.5, 2), dtypes=FLOAT)
op('maximum', lambda lib, a, b: lib.maximum(a, b), binary(), dtypes=NUM)
op('minimum', lambda lib, a, b: lib.minimum(a, b), binary(), dtypes=NUM)
op('fmax', lambda lib, a, b: lib.fmax(a, b), binary(), dtypes=FLOAT)
op('fmin', lambda lib, a, b: lib.fmin(a, b), binary(), dtypes=FLOAT)
op('xlogy', lambda lib, a, b: lib.xlogy(a, b), binary(0.5, 2), dtypes=FLOAT)
op('copysign', lambda lib, a, b: lib.copysign(a, b), binary(0.5, 2, -2, 2), dtypes=FLOAT,
   gradcheck=False)
op('logaddexp', lambda lib, a, b: lib.logaddexp(a, b), binary(), dtypes=FLOAT)
op('logaddexp2', lambda lib, a, b: lib.logaddexp2(a, b), binary(), dtypes=FLOAT)
op('lerp', lambda lib, a, b, w: lib.lerp(a, b, w), ternary(0, 1, 0, 1), dtypes=FLOAT)
op('lerp_scalar', lambda lib, a, b: lib.lerp(a, b, 0.3), binary(), dtypes=FLOAT)
op('addcmul', lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5), ternary(), dtypes=FLOAT)
op('addcdiv', lambda lib, a, b, c: lib.addcdiv(a, b, c, value=2), ternary(-2, 2, 0.5, 2),
   dtypes=FLOAT)

# comparisons and logic
for _n in ('eq', 'ne', 'lt', 'le', 'gt', 'ge'):
    op(_n, (lambda n: lambda lib, a, b: getattr(lib, n)(a, b))(_n),
       binary(scalars=(0, 0.5)), dtypes=ALL, grad=False)
op('eq_int_range', lambda lib, a, b: a == b, binary(-1, 1), dtypes=('int64', 'bool'),
   grad=False)
op('isclose', lambda lib, a, b: lib.isclose(a, b), binary(), dtypes=FLOAT, grad=False)
for _n in ('logical_and', 'logical_or', 'logical_xor'):
    op(_n, (lambda n: lambda lib, a, b: getattr(lib, n)(a, b))(_n), binary(-1, 1),
       dtypes=ALL, grad=False)
op('logical_not', lambda lib, x: lib.logical_not(x), unary(-1, 1), dtypes=ALL, grad=False)
op('and', lambda lib, a, b: a & b, binary(), dtypes=('int64', 'bool'), grad=False)
op('or', lambda lib, a, b: a | b, binary(), dtypes=('int64', 'bool'), grad=False)
op('xor', lambda lib, a, b: a ^ b, binary(), dtypes=('int64', 'bool'), grad=False)
op('invert', lambda lib, x: ~x, unary(), dtypes=('int64', 'bool'), grad=False)
op('isnan', lambda lib, x: lib.isnan(lib.log(x)), unary(), dtypes=FLOAT, grad=False)
op('isinf', lambda lib, x: lib.isinf(1 / x.round()), unary(), dtypes=FLOAT, grad=False)
op('isfinite', lambda lib, x: lib.isfinite(1 / x.round()), unary(), dtypes=FLOAT, grad=False)


def _where_samples(rng, dt):
    return [Sample(m(rng, (2, 3), 'bool'), m(rng, (2, 3), dt), m(rng, (2, 3), dt)),
            Sample(m(rng, (2, 1), 'bool'), m(rng, (3,), dt), m(rng, (2, 3), dt, 's')),
            Sample(m(rng, (), 'bool'), m(rng, (2, 3), dt), m(rng, (), dt)),
            Sample(m(rng, (3, 4), 'bool', 't'), m(rng, (3, 4), dt, 't'), m(rng, (4,), dt))]


op('where', lambda lib, c, a, b: lib.where(c, a, b), _where_samples, dtypes=ALL,
   grad_fn='WhereBackward0')
op('where_scalar', lambda lib, c, a, b: lib.where(c, a, 0.0), lambda r, d: _where_samples(r, d)[:1],
   dtypes=FLOAT)
op('where_method', lambda lib, c, a, b: a.where(c, b), _where_samples, dtypes=FLOAT)
op('clamp', lambda lib, x: lib.clamp(x, -0.5, 0.7), unary(), dtypes=NUM,
   grad_fn='ClampBackward1')
op('clamp_min', lambda lib, x: lib.clamp(x, min=0.2), unary(), dtypes=FLOAT)
op('clamp_max', lambda lib, x: x.clamp(max=0), unary(), dtypes=NUM)
op('clamp_int_float', lambda lib, x: lib.clamp(x, 0.5, 1.5), unary(), dtypes=INT, grad=False)
# (not ternary's 0-d `x` with a 1-d bound: torch's own backward fails on that broadcast)
op('clamp_tensor', lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
   lambda r, d: ternary(-2, 2, 1, 2)(r, d)[:2], dtypes=FLOAT, grad_fn='ClampBackward0')
op('clip', lambda lib, x: lib.clip(x, -1, 1), unary(), dtypes=FLOAT)

# reductions
op('sum', lambda lib, x, *a: lib.sum(x, *a), reduce_samples(), dtypes=ALL,
   grad_fn='SumBackward0')
op('sum_dtype', lambda lib, x: x.sum(dtype=lib.float64), reduce_samples(dims=False,
   tuple_dims=False), dtypes=NUM, gradcheck=False)
op('sum_keepdim_kw', lambda lib, x: x.sum(dim=(0, 1), keepdim=True),
   lambda r, d: [Sample(m(r, (2, 3, 4), d))], dtypes=ALL)
op('sum_empty_dims', lambda lib, x: x.sum(()), lambda r, d: [Sample(m(r, (2, 3), d))],
   dtypes=NUM)
op('nansum', lambda lib, x, *a: lib.nansum(x, *a), reduce_samples(tuple_dims=False),
   dtypes=FLOAT)
op('mean', lambda lib, x, *a: lib.mean(x, *a), reduce_samples(), dtypes=FLOAT,
   grad_fn='MeanBackward0')
op('mean_dtype', lambda lib, x: x.mean(dtype=lib.float64), reduce_samples(dims=False,
   tuple_dims=False), dtypes=('int64', 'float32'), gradcheck=False)
op('prod', lambda lib, x, *a: lib.prod(x, *a), reduce_samples(tuple_dims=False), dtypes=NUM)
op('prod_zero', lambda lib, x: (x * (x > 0)).prod(1),
   lambda r, d: [Sample(m(r, (3, 4), d))], dtypes=FLOAT)
op('amax', lambda lib, x, *a: lib.amax(x, *a), reduce_samples(nonempty=True), dtypes=NUM,
   grad_fn='AmaxBackward0')
op('amin', lambda lib, x, *a: lib.amin(x, *a), reduce_samples(nonempty=True), dtypes=NUM,
   grad_fn='AminBackward0')
op('max', lambda lib, x: lib.max(x), reduce_samples(dims=False, tuple_dims=False,
   nonempty=True), dtypes=NUM, grad_fn='MaxBackward1')
op('max_dim', lambda lib, x, *a: lib.max(x, *a),
   reduce_samples(full=False, tuple_dims=False, nonempty=True), dtypes=NUM,
   grad_fn='MaxBackward0')
op('min', lambda lib, x: x.min(), reduce_samples(dims=False, tuple_dims=False,
   nonempty=True), dtypes=NUM, grad_fn='MinBackward1')
op('min_dim', lambda lib, x, *a: x.min(*a),
   reduce_samples(full=False, tuple_dims=False, nonempty=True), dtypes=NUM,
   grad_fn='MinBackward0')
op('max_dim_kw', lambda lib, x: lib.max(x, dim=1, keepdim=True).values,
   lambda r, d: [Sample(m(r, (2, 3), d))], dtypes=FLOAT)
op('max_binary', lambda lib, a, b: lib.max(a, b), binary(), dtypes=FLOAT)
op('argmax', lambda lib, x, *a: lib.argmax(x, *a),
   reduce_samples(tuple_dims=False, nonempty=True), dtypes=NUM, grad=False)
op('argmin', lambda lib, x, *a: x.argmin(*a),
   reduce_samples(tuple_dims=False, nonempty=True), dtypes=NUM, grad=False)
op('aminmax', lambda lib, x: lib.aminmax(x, dim=1), lambda r, d: [Sample(m(r, (2, 3), d))],
   dtypes=NUM)
for _c in (0, 1, 2):
    op(f'var_c{_c}', (lambda c: lambda lib, x, *a: lib.var(x, *a, correction=c))(_c),
       reduce_samples(keepdim=False, tuple_dims=False), dtypes=FLOAT)
    op(f'std_c{_c}', (lambda c: lambda lib, x, *a: x.std(*a, correction=c))(_c),
       reduce_samples(keepdim=False, tuple_dims=False), dtypes=FLOAT)
op('var_unbiased', lambda lib, x: lib.var(x, 1, False), lambda r, d: [Sample(m(r, (3, 4), d))],
   dtypes=FLOAT, grad_fn='VarBackward0')
op('var_keepdim', lambda lib, x: x.var(dim=(0, 1), keepdim=True),
   lambda r, d: [Sample(m(r, (3, 4, 2), d))], dtypes=FLOAT)
op('std_bool_arg', lambda lib, x: x.std(False), lambda r, d: [Sample(m(r, (3, 4), d))],
   dtypes=FLOAT, grad_fn='StdBackward0')
op('var_mean', lambda lib, x: lib.var_mean(x, 1), lambda r, d: [Sample(m(r, (3, 4), d))],
   dtypes=FLOAT)
op('std_mean', lambda lib, x: lib.std_mean(x, (0,), correction=0),
   lambda r, d: [Sample(m(r, (3, 4), d))], dtypes=FLOAT)
op('logsumexp', lambda lib, x, *a: lib.logsumexp(x, *a),
   reduce_samples(full=False), dtypes=FLOAT, grad_fn='LogsumexpBackward0')
op('logsumexp_int', lambda lib, x: lib.logsumexp(x, 0),
   lambda r, d: [Sample(m(r, (3, 4), d))], dtypes=INT, grad=False)
op('cumsum', lambda lib, x, d: lib.cumsum(x, d), dim_samples(), dtypes=ALL,
   grad_fn='CumsumBackward0')
op('cumsum_dtype', lambda lib, x, d: x.cumsum(d, dtype=lib.float64), dim_samples(),
   dtypes=('int64', 'float32'), gradcheck=False)
op('cumprod', lambda lib, x, d: lib.cumprod(x, d), dim_samples(), dtypes=NUM,
   grad_fn='CumprodBackward0')
op('cumprod_zero', lambda lib, x, d: lib.cumprod(x * (x > -1), d),
   dim_samples(zero_d=False), dtypes=FLOAT)
op('cummax', lambda lib, x, d: lib.cummax(x, d), dim_samples(), dtypes=NUM)
op('cummin', lambda lib, x, d: lib.cummin(x, d), dim_samples(), dtypes=NUM)
op('softmax', lambda lib, x, d: lib.softmax(x, d), dim_samples(), dtypes=FLOAT,
   grad_fn='SoftmaxBackward0')
op('log_softmax', lambda lib, x, d: x.log_softmax(d), dim_samples(), dtypes=FLOAT,
   grad_fn='LogSoftmaxBackward0')
op('softmax_dtype', lambda lib, x: lib.softmax(x, 1, dtype=lib.float64),
   lambda r, d: [Sample(m(r, (2, 3), d))], dtypes=('float32',), gradcheck=False)
op('all', lambda lib, x, *a: lib.all(x, *a), reduce_samples(tuple_dims=False), dtypes=ALL,
   grad=False)
op('any', lambda lib, x, *a: x.any(*a), reduce_samples(tuple_dims=False), dtypes=ALL,
   grad=False)
op('count_nonzero', lambda lib, x, *a: lib.count_nonzero(x, *a),
   reduce_samples(keepdim=False), dtypes=ALL, grad=False)
op('median', lambda lib, x: lib.median(x), reduce_samples(dims=False, tuple_dims=False,
   nonempty=True), dtypes=NUM)
op('median_dim', lambda lib, x, *a: lib.median(x, *a),
   reduce_samples(full=False, tuple_dims=False, nonempty=True), dtypes=NUM)
op('norm', lambda lib, x: x.norm(), reduce_samples(dims=False, tuple_dims=False),
   dtypes=FLOAT, grad_fn='LinalgVectorNormBackward0')
op('norm_p_dim', lambda lib, x: lib.norm(x, p=1, dim=1),
   lambda r, d: [Sample(m(r, (3, 4), d))], dtypes=FLOAT)

# shape and view ops
op('view', lambda lib, x: x.view(3, 2), lambda r, d: [Sample(m(r, (2, 3), d))], dtypes=ALL,
   grad_fn='ViewBackward0')
op('view_infer', lambda lib, x: x.view(-1), lambda r, d: [Sample(m(r, (2, 3), d)),
                                                          Sample(m(r, (), d))], dtypes=ALL)
op('view_size', lambda lib, x: x.view(lib.Size([6, 1])), lambda r, d: [Sample(m(r, (2, 3), d))])
op('view_nc', lambda lib, x: x.view(2, 2, 3), lambda r, d: [Sample(m(r, (4, 3), d, 's'))])
op('view_as', lambda lib, x, y: x.view_as(y), lambda r, d: [Sample(m(r, (2, 3), d),
                                                                   m(r, (6,), d))])
op('reshape', lambda lib, x: lib.reshape(x, (3, -1)),
   lambda r, d: [Sample(m(r, (2, 3), d)), Sample(m(r, (3, 4), d, 't'))], dtypes=ALL)
op('reshape_copy', lambda lib, x: x.reshape(-1), lambda r, d: [Sample(m(r, (3, 4), d, 't'))],
   grad_fn='UnsafeViewBackward0')
op('reshape_as', lambda lib, x, y: x.reshape_as(y), lambda r, d: [Sample(m(r, (2, 3), d),
                                                                         m(r, (3, 2), d))])
op('transpose', lambda lib, x: lib.transpose(x, 0, -1),
   lambda r, d: [Sample(m(r, (2, 3, 4), d)), Sample(m(r, (3,), d)), Sample(m(r, (), d))],
   dtypes=ALL, grad_fn='TransposeBackward0')
op('swapaxes', lambda lib, x: x.swapaxes(0, 1), lambda r, d: [Sample(m(r, (2, 3), d))])
op('permute', lambda lib, x: x.permute(2, 0, 1), lambda r, d: [Sample(m(r, (2, 3, 4), d)),
                                                               Sample(m(r, (2, 3, 4), d, 't'))],
   dtypes=ALL, grad_fn='PermuteBackward0')
op('permute_tuple', lambda lib, x: lib.permute(x, (1, 0)), lambda r, d: [Sample(m(r, (2, 3), d))])
op('t', lambda lib, x: x.t(), lambda r, d: [Sample(m(r, (2, 3), d)), Sample(m(r, (3,), d)),
                                            Sample(m(r, (), d))], dtypes=ALL,
   grad_fn='TBackward0')
op('T', lambda lib, x: x.T, lambda r, d: [Sample(m(r, (2, 3), d)), Sample(m(r, (3,), d))])
op('mT', lambda lib, x: x.mT, lambda r, d: [Sample(m(r, (4, 2, 3), d))],
   grad_fn='TransposeBackward0')
op('squeeze', lambda lib, x: x.squeeze(), lambda r, d: [Sample(m(r, (2, 1, 3, 1), d)),
                                                        Sample(m(r, (1,), d))], dtypes=ALL,
   grad_fn='SqueezeBackward0')
op('squeeze_dim', lambda lib, x, dd: lib.squeeze(x, dd),
   lambda r, d: [Sample(m(r, (2, 1, 3, 1), d), 1), Sample(m(r, (2, 1, 3, 1), d), 0),
                 Sample(m(r, (2, 1, 3, 1), d), -1), Sample(m(r, (), d), 0)],
   grad_fn='SqueezeBackward1')
op('squeeze_dims', lambda lib, x: lib.squeeze(x, (1, 3)),
   lambda r, d: [Sample(m(r, (2, 1, 3, 1), d))], grad_fn='SqueezeBackward2')
op('unsqueeze', lambda lib, x, dd: x.unsqueeze(dd),
   lambda r, d: [Sample(m(r, (2, 3), d), 0), Sample(m(r, (2, 3), d), -1),
                 Sample(m(r, (), d), 0), Sample(m(r, (3, 4), d, 't'), 1)], dtypes=ALL,
   grad_fn='UnsqueezeBackward0')
op('flatten', lambda lib, x, *a: lib.flatten(x, *a),
   lambda r, d: [Sample(m(r, (2, 3, 4), d)), Sample(m(r, (2, 3, 4), d), 1),
                 Sample(m(r, (2, 3, 4), d), 0, 1), Sample(m(r, (), d)),
                 Sample(m(r, (3, 4), d, 't'))], dtypes=ALL)
op('unflatten', lambda lib, x: x.unflatten(1, (2, -1)), lambda r, d: [Sample(m(r, (3, 6), d))])
op('expand', lambda lib, x: x.expand(2, 3, 4), lambda r, d: [Sample(m(r, (3, 1), d)),
                                                             Sample(m(r, (), d))],
   dtypes=ALL, grad_fn='ExpandBackward0')
op('expand_neg', lambda lib, x: x.expand(2, -1, 4), lambda r, d: [Sample(m(r, (3, 1), d))])
op('expand_as', lambda lib, x, y: x.expand_as(y), lambda r, d: [Sample(m(r, (3,), d),
                                                                       m(r, (2, 3), d))])
op('broadcast_to', lambda lib, x: lib.broadcast_to(x, (2, 3)),
   lambda r, d: [Sample(m(r, (3,), d))])
op('repeat', lambda lib, x: x.repeat(2, 1, 3), lambda r, d: [Sample(m(r, (2, 3), d)),
                                                             Sample(m(r, (), d))],
   dtypes=ALL, grad_fn='RepeatBackward0')
op('tile', lambda lib, x: lib.tile(x, (2,)), lambda r, d: [Sample(m(r, (2, 3), d))])
op('narrow', lambda lib, x: x.narrow(1, 1, 2), lambda r, d: [Sample(m(r, (2, 4), d)),
                                                             Sample(m(r, (3, 4), d, 't'))],
   dtypes=ALL, grad_fn='SliceBackward0')
op('narrow_neg', lambda lib, x: lib.narrow(x, -1, -2, 2), lambda r, d: [Sample(m(r, (2, 4), d))])
op('select', lambda lib, x: x.select(1, -1), lambda r, d: [Sample(m(r, (2, 4), d))],
   dtypes=ALL, grad_fn='SelectBackward0')
op('chunk', lambda lib, x, n, dd: lib.chunk(x, n, dd),
   lambda r, d: [Sample(m(r, (5, 2), d), 2, 0), Sample(m(r, (2, 6), d), 4, 1),
                 Sample(m(r, (2, 6), d), 3, -1), Sample(m(r, (0, 2), d), 2, 0)], dtypes=ALL)
op('split', lambda lib, x, s, dd: lib.split(x, s, dd),
   lambda r, d: [Sample(m(r, (5, 2), d), 2, 0), Sample(m(r, (2, 6), d), [1, 3, 2], 1),
                 Sample(m(r, (2, 6), d), 6, 1)], dtypes=ALL)
op('tensor_split', lambda lib, x: lib.tensor_split(x, 3, 1),
   lambda r, d: [Sample(m(r, (2, 7), d))])
op('unbind', lambda lib, x, dd: lib.unbind(x, dd),
   lambda r, d: [Sample(m(r, (3, 2), d), 0), Sample(m(r, (3, 2), d), 1)], dtypes=ALL,
   grad_fn='UnbindBackward0')
op('movedim', lambda lib, x, s, t: lib.movedim(x, s, t),
   lambda r, d: [Sample(m(r, (2, 3, 4), d), 0, 2), Sample(m(r, (2, 3, 4), d), -1, 0),
                 Sample(m(r, (2, 3, 4, 5), d), (0, 1), (2, 3)),
                 Sample(m(r, (2, 3, 4), d), (0, 2), (1, 0))], dtypes=ALL)
op('flip', lambda lib, x, dd: lib.flip(x, dd),
   lambda r, d: [Sample(m(r, (2, 3), d), (0,)), Sample(m(r, (2, 3, 4), d), (0, 2)),
                 Sample(m(r, (3, 4), d, 't'), [-1])], dtypes=ALL, grad_fn='FlipBackward0')
op('roll', lambda lib, x, s, *a: lib.roll(x, s, *a),
   lambda r, d: [Sample(m(r, (2, 3), d), 1), Sample(m(r, (2, 3), d), -1, 1),
                 Sample(m(r, (2, 3, 4), d), (1, 2), (0, 2)), Sample(m(r, (2, 3), d), 7, 0)],
   dtypes=ALL, grad_fn='RollBackward0')
op('rot90', lambda lib, x: lib.rot90(x, 1, (0, 1)), lambda r, d: [Sample(m(r, (2, 3), d))])
op('cat', lambda lib, ts, *a: lib.cat(ts, *a),
   lambda r, d: [Sample([m(r, (2, 3), d), m(r, (1, 3), d)]),
                 Sample([m(r, (2, 3), d), m(r, (2, 1), d, 't'), m(r, (2, 2), d)], 1),
                 Sample([m(r, (2, 3), d), m(r, (0,), d)], -1),
                 Sample([m(r, (0, 3), d), m(r, (2, 3), d)])], dtypes=ALL,
   grad_fn='CatBackward0')
op('cat_promote', lambda lib, a, b: lib.cat([a, b.int()]),
   lambda r, d: [Sample(m(r, (2, 3), d), m(r, (2, 3), d))], gradcheck=False)
op('stack', lambda lib, ts, *a: lib.stack(ts, *a),
   lambda r, d: [Sample([m(r, (2, 3), d), m(r, (2, 3), d)]),
                 Sample([m(r, (2, 3), d), m(r, (2, 3), d, 's')], -1),
                 Sample([m(r, (), d), m(r, (), d)]),
                 Sample([m(r, (2, 3, 4), d, 't'), m(r, (2, 3, 4), d), m(r, (2, 3, 4), d)], 1)],
   dtypes=ALL, grad_fn='StackBackward0')
op('stack_promote', lambda lib, a, b: lib.stack([a, b.int()]),
   lambda r, d: [Sample(m(r, (2, 3), d), m(r, (2, 3), d))], gradcheck=False)
op('hstack', lambda lib, a, b: lib.hstack([a, b]),
   lambda r, d: [Sample(m(r, (2, 3), d), m(r, (2, 1), d)), Sample(m(r, (3,), d),
                                                                  m(r, (2,), d))])
op('vstack', lambda lib, a, b: lib.vstack((a, b)),
   lambda r, d: [Sample(m(r, (2, 3), d), m(r, (3,), d))])
op('clone', lambda lib, x: x.clone(), unary(small=True), dtypes=ALL, grad_fn='CloneBackward0')
op('contiguous', lambda lib, x: x.contiguous(), unary(), dtypes=ALL)
op('diag', lambda lib, x, *a: lib.diag(x, *a),
   lambda r, d: [Sample(m(r, (3,), d)), Sample(m(r, (3, 4), d)), Sample(m(r, (3, 4), d), 1),
                 Sample(m(r, (3,), d), -1)], dtypes=NUM)
op('diagonal', lambda lib, x, *a: x.diagonal(*a),
   lambda r, d: [Sample(m(r, (3, 4), d)), Sample(m(r, (2, 3, 4), d), 1, 0, 2),
                 Sample(m(r, (3, 4), d), -1)], dtypes=NUM)
op('tril', lambda lib, x, *a: lib.tril(x, *a),
   lambda r, d: [Sample(m(r, (3, 4), d)), Sample(m(r, (2, 3, 4), d), -1)], dtypes=NUM)
op('triu', lambda lib, x, *a: x.triu(*a),
   lambda r, d: [Sample(m(r, (3, 4), d)), Sample(m(r, (2, 3, 4), d), 1)], dtypes=NUM)


# indexing-like ops
def _gather_samples(rng, dt):
    return [Sample(m(rng, (3, 4), dt), 1, idx(rng, 4, (3, 2))),
            Sample(m(rng, (3, 4), dt), 0, idx(rng, 3, (2, 4))),
            Sample(m(rng, (3, 4), dt, 't'), -1, idx(rng, 4, (2, 3))),
            Sample(m(rng, (2, 3, 4), dt), 2, idx(rng, 4, (2, 3, 5)))]


op('gather', lambda lib, x, d, i: lib.gather(x, d, i), _gather_samples, dtypes=ALL,
   grad_fn='GatherBackward0')


def _scatter_samples(rng, dt):
    return [Sample(m(rng, (3, 4), dt), 1, perm_idx(rng, 4, [3, 2], 1), m(rng, (3, 2), dt)),
            Sample(m(rng, (3, 4), dt), 0, perm_idx(rng, 3, [2, 4], 0), m(rng, (2, 5), dt)),
            Sample(m(rng, (3, 4), dt, 't'), -1, perm_idx(rng, 4, [2, 3], 1),
                   m(rng, (2, 3), dt))]


def _scatter_add_samples(rng, dt):
    return [Sample(m(rng, (3, 4), dt), 1, idx(rng, 4, (3, 5)), m(rng, (3, 5), dt)),
            Sample(m(rng, (3, 4), dt), 0, idx(rng, 3, (2, 4)), m(rng, (2, 5), dt))]


op('scatter', lambda lib, x, d, i, s: lib.scatter(x, d, i, s), _scatter_samples, dtypes=NUM,
   grad_fn='ScatterBackward0')
op('scatter_value', lambda lib, x, d, i, s: x.scatter(d, i, 0.5), _scatter_samples,
   dtypes=FLOAT, grad_fn='ScatterBackward1')
op('scatter_add', lambda lib, x, d, i, s: lib.scatter_add(x, d, i, s), _scatter_add_samples,
   dtypes=NUM, grad_fn='ScatterAddBackward0')
op('scatter_reduce_sum', lambda lib, x, d, i, s: x.scatter_reduce(d, i, s, 'sum'),
   _scatter_add_samples, dtypes=NUM, grad=False)
op('index_select', lambda lib, x, d, i: lib.index_select(x, d, i),
   lambda r, dt: [Sample(m(r, (3, 4), dt), 1, idx(r, 4, (5,))),
                  Sample(m(r, (3, 4), dt, 't'), 0, idx(r, 3, (2,))),
                  Sample(m(r, (3,), dt), 0, idx(r, 3, (0,)))], dtypes=ALL,
   grad_fn='IndexSelectBackward0')
op('masked_fill', lambda lib, x, mk: x.masked_fill(mk, -1.5),
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (3, 4), 'bool')),
                  Sample(m(r, (3, 4), dt), m(r, (4,), 'bool')),
                  Sample(m(r, (3, 4), dt, 't'), m(r, (3, 1), 'bool'))], dtypes=FLOAT,
   grad_fn='MaskedFillBackward0')
op('masked_fill_int', lambda lib, x, mk: lib.masked_fill(x, mk, 7),
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (3, 4), 'bool'))], dtypes=('int64', 'bool'),
   grad=False)
op('masked_fill_tensor', lambda lib, x, mk, v: x.masked_fill(mk, v),
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (3, 4), 'bool'), m(r, (), dt))],
   dtypes=FLOAT)
op('masked_select', lambda lib, x, mk: lib.masked_select(x, mk),
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (3, 4), 'bool')),
                  Sample(m(r, (3, 4), dt), m(r, (4,), 'bool')),
                  Sample(m(r, (4,), dt), m(r, (3, 4), 'bool'))], dtypes=ALL,
   grad_fn='MaskedSelectBackward0')
op('take_along_dim', lambda lib, x, i, *a: lib.take_along_dim(x, i, *a),
   lambda r, dt: [Sample(m(r, (3, 4), dt), idx(r, 4, (3, 2)), 1),
                  Sample(m(r, (3, 4), dt), idx(r, 3, (1, 4)), 0),
                  Sample(m(r, (3, 4), dt), idx(r, 12, (5,)))], dtypes=NUM)
op('take', lambda lib, x, i: lib.take(x, i),
   lambda r, dt: [Sample(m(r, (3, 4), dt), idx(r, 12, (2, 3)))], dtypes=NUM,
   grad_fn='TakeBackward0')
op('nonzero', lambda lib, x: lib.nonzero(x), unary(-1, 1), dtypes=ALL, grad=False)
op('nonzero_tuple', lambda lib, x: x.nonzero(as_tuple=True), unary(-1, 1), dtypes=ALL,
   grad=False)
op('argwhere', lambda lib, x: lib.argwhere(x), unary(-1, 1), dtypes=NUM, grad=False)
op('sort', lambda lib, x, d: lib.sort(x, d), dim_samples(), dtypes=FLOAT + ('int64',),
   grad_fn='SortBackward0')
op('sort_desc', lambda lib, x, d: x.sort(d, descending=True), dim_samples(),
   dtypes=FLOAT + ('int64',))
op('sort_stable', lambda lib, x, d: lib.sort(x, dim=d, stable=True),
   lambda r, dt: [Sample(m(r, (3, 8), dt, lo=-2, hi=2).round(), 1)], dtypes=NUM,
   gradcheck=False)  # ties on purpose: finite differences are meaningless there
op('argsort', lambda lib, x, d: lib.argsort(x, d), dim_samples(), dtypes=NUM, grad=False)
op('argsort_desc', lambda lib, x, d: x.argsort(d, descending=True), dim_samples(),
   dtypes=NUM, grad=False)
op('topk', lambda lib, x, k, *a: lib.topk(x, k, *a),
   lambda r, dt: [Sample(uniq(r, (3, 5), dt), 2), Sample(uniq(r, (3, 5), dt), 2, 0),
                  Sample(m(r, (4, 3), dt, 't') if dt.kind == 'f' else uniq(r, (4, 3), dt), 3,
                         -1), Sample(uniq(r, (5,), dt), 0)],
   dtypes=NUM, grad_fn='TopkBackward0')
op('topk_smallest', lambda lib, x: x.topk(2, largest=False),
   lambda r, dt: [Sample(uniq(r, (3, 5), dt))], dtypes=NUM)
op('kthvalue', lambda lib, x: lib.kthvalue(x, 2, 1), lambda r, dt: [Sample(uniq(r, (3, 5), dt))],
   dtypes=NUM)
op('index_add', lambda lib, x, i, s: x.index_add(0, i, s),
   lambda r, dt: [Sample(m(r, (3, 4), dt), idx(r, 3, (5,)), m(r, (5, 4), dt))], dtypes=NUM)
op('index_copy', lambda lib, x, i, s: x.index_copy(1, i, s),
   lambda r, dt: [Sample(m(r, (3, 4), dt), np.array([3, 0]), m(r, (3, 2), dt))], dtypes=NUM)
op('index_fill', lambda lib, x, i: x.index_fill(1, i, -1),
   lambda r, dt: [Sample(m(r, (3, 4), dt), np.array([3, 0]))], dtypes=NUM)
op('masked_scatter', lambda lib, x, mk, s: x.masked_scatter(mk, s),
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (3, 4), 'bool'), m(r, (12,), dt))],
   dtypes=FLOAT)


# __getitem__ with every kind of index (the index lives in the op's closure)
_GETITEMS = {
    'int': 1, 'neg_int': -1, 'slice': slice(1, None), 'slice_step': slice(None, None, 2),
    'slice_neg': slice(-3, -1), 'tuple': (1, slice(0, 3, 2)), 'none': (None, 1),
    'ellipsis': (Ellipsis, 0), 'ellipsis_none': (0, Ellipsis, None),
    'int_list': [0, 2, 2], 'int_list_2d': ([0, 1], [1, 3]), 'mixed_adv': (slice(None), [3, 0]),
    'adv_split': ([0, 1], slice(None), [1, 0]), 'bool_scalar': True, 'empty_slice':
    slice(5, 10), 'full': slice(None), 'adv_then_none': ([1, 0], None, slice(1, 3)),
}


def _getitem_samples(rng, dt):
    return [Sample(m(rng, (3, 4, 5), dt)), Sample(m(rng, (5, 4, 3), dt, 't'))]


for _k, _v in _GETITEMS.items():
    op('getitem_' + _k, (lambda v: lambda lib, x: x[v])(_v), _getitem_samples, dtypes=ALL)
op('getitem_mask', lambda lib, x, mk: x[mk],
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (3, 4), 'bool')),
                  Sample(m(r, (3, 4), dt), m(r, (3,), 'bool')),
                  Sample(m(r, (3, 4), dt, 't'), m(r, (3, 4), 'bool'))], dtypes=ALL,
   grad_fn='IndexBackward0')
op('getitem_mask_mixed', lambda lib, x, mk: x[1:, mk],
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (4,), 'bool'))], dtypes=FLOAT)
op('getitem_long_tensor', lambda lib, x, i: x[i],
   lambda r, dt: [Sample(m(r, (3, 4), dt), idx(r, 3, (2, 2))),
                  Sample(m(r, (3, 4), dt), idx(r, 3, ()))], dtypes=ALL)
op('getitem_long_tensor_pair', lambda lib, x, i, j: x[i, j],
   lambda r, dt: [Sample(m(r, (3, 4), dt), idx(r, 3, (2, 2)), idx(r, 4, (2,)))], dtypes=FLOAT)

# linear algebra
_MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)),
                  ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)),
                  ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (2, 4, 5)), ((0, 3), (3, 2)),
                  ((2, 3), (3, 0))]


def _matmul_samples(rng, dt):
    out = [Sample(m(rng, a, dt), m(rng, b, dt)) for a, b in _MATMUL_SHAPES]
    out.append(Sample(m(rng, (3, 4), dt, 't'), m(rng, (3, 2), dt, 's')))
    return out


op('matmul', lambda lib, a, b: lib.matmul(a, b), _matmul_samples, dtypes=NUM)
op('matmul_op', lambda lib, a, b: a @ b, _matmul_samples, dtypes=FLOAT)
op('mm', lambda lib, a, b: lib.mm(a, b),
   lambda r, dt: [Sample(m(r, (2, 3), dt), m(r, (3, 4), dt)),
                  Sample(m(r, (3, 2), dt, 't'), m(r, (3, 4), dt, 's'))], dtypes=NUM,
   grad_fn='MmBackward0')
op('bmm', lambda lib, a, b: lib.bmm(a, b),
   lambda r, dt: [Sample(m(r, (2, 2, 3), dt), m(r, (2, 3, 4), dt))], dtypes=NUM,
   grad_fn='BmmBackward0')
op('mv', lambda lib, a, b: lib.mv(a, b),
   lambda r, dt: [Sample(m(r, (2, 3), dt), m(r, (3,), dt))], dtypes=NUM, grad_fn='MvBackward0')
op('dot', lambda lib, a, b: lib.dot(a, b),
   lambda r, dt: [Sample(m(r, (3,), dt), m(r, (3,), dt)),
                  Sample(m(r, (0,), dt), m(r, (0,), dt))], dtypes=NUM, grad_fn='DotBackward0')
op('outer', lambda lib, a, b: lib.outer(a, b),
   lambda r, dt: [Sample(m(r, (3,), dt), m(r, (4,), dt))], dtypes=NUM)
op('addmm', lambda lib, c, a, b, **kw: lib.addmm(c, a, b, **kw),
   lambda r, dt: [Sample(m(r, (2, 4), dt), m(r, (2, 3), dt), m(r, (3, 4), dt)),
                  Sample(m(r, (4,), dt), m(r, (2, 3), dt), m(r, (3, 4), dt), beta=0.5, alpha=2),
                  Sample(m(r, (2, 1), dt), m(r, (2, 3), dt), m(r, (3, 4), dt), beta=0)],
   dtypes=FLOAT, grad_fn='AddmmBackward0')
op('addmv', lambda lib, c, a, b: lib.addmv(c, a, b),
   lambda r, dt: [Sample(m(r, (2,), dt), m(r, (2, 3), dt), m(r, (3,), dt))], dtypes=FLOAT)
op('baddbmm', lambda lib, c, a, b, **kw: lib.baddbmm(c, a, b, **kw),
   lambda r, dt: [Sample(m(r, (2, 2, 4), dt), m(r, (2, 2, 3), dt), m(r, (2, 3, 4), dt)),
                  Sample(m(r, (4,), dt), m(r, (2, 2, 3), dt), m(r, (2, 3, 4), dt), beta=0.5,
                         alpha=2)], dtypes=FLOAT, grad_fn='BaddbmmBackward0')
op('addbmm', lambda lib, c, a, b: lib.addbmm(c, a, b),
   lambda r, dt: [Sample(m(r, (2, 4), dt), m(r, (2, 2, 3), dt), m(r, (2, 3, 4), dt))],
   dtypes=FLOAT)
for _eq, _shapes in [('ij,jk->ik', [(2, 3), (3, 4)]), ('bij,bjk->bik', [(2, 2, 3), (2, 3, 4)]),
                     ('i,i->', [(3,), (3,)]), ('ij->ji', [(2, 3)]), ('ij->', [(2, 3)]),
                     ('i,j->ij', [(2,), (3,)]), ('...ij,...jk', [(2, 2, 3), (3, 4)]),
                     ('ij,ij->i', [(2, 3), (2, 3)]), ('ijk->j', [(2, 3, 4)]),
                     ('ij,jk,kl->il', [(2, 3), (3, 4), (4, 2)]), ('bn,anm,bm->ba',
                                                                 [(2, 3), (4, 3, 5), (2, 5)]),
                     ('ii->i', [(3, 3)]), ('ii', [(3, 3)])]:
    op('einsum_' + _eq, (lambda e: lambda lib, *xs: lib.einsum(e, *xs))(_eq),
       (lambda shapes: lambda r, dt: [Sample(*[m(r, s, dt) for s in shapes])])(_shapes),
       dtypes=FLOAT, grad_fn='EinsumBackward0' if False else None)
op('einsum_list', lambda lib, a, b: lib.einsum('ij,jk', [a, b]),
   lambda r, dt: [Sample(m(r, (2, 3), dt), m(r, (3, 4), dt))], dtypes=FLOAT)
op('tensordot', lambda lib, a, b, d: lib.tensordot(a, b, d),
   lambda r, dt: [Sample(m(r, (2, 3, 4), dt), m(r, (3, 4, 5), dt), 2),
                  Sample(m(r, (2, 3), dt), m(r, (3, 4), dt), 1),
                  Sample(m(r, (2, 3, 4), dt), m(r, (4, 2), dt), ([0, 2], [1, 0])),
                  Sample(m(r, (2, 3), dt), m(r, (4,), dt), 0)], dtypes=FLOAT)
op('linalg_vector_norm', lambda lib, x, *a, **kw: lib.linalg.vector_norm(x, *a, **kw),
   lambda r, dt: [Sample(m(r, (3, 4), dt)), Sample(m(r, (3, 4), dt), 1),
                  Sample(m(r, (3, 4), dt), float('inf'), dim=1),
                  Sample(m(r, (3, 4), dt), 3, dim=(0, 1), keepdim=True),
                  Sample(m(r, (3, 4), dt), 0.5, dim=0),
                  Sample(m(r, (3, 4), dt, 't'), 2, dim=-1),
                  Sample(m(r, (), dt))], dtypes=FLOAT, grad_fn='LinalgVectorNormBackward0')
op('linalg_vector_norm_ord0', lambda lib, x: lib.linalg.vector_norm(x, 0),
   lambda r, dt: [Sample(m(r, (3, 4), dt))], dtypes=FLOAT, gradcheck=False)
op('linalg_norm', lambda lib, x, *a, **kw: lib.linalg.norm(x, *a, **kw),
   lambda r, dt: [Sample(m(r, (3, 4), dt)), Sample(m(r, (5,), dt)),
                  Sample(m(r, (3, 4), dt), 'fro'), Sample(m(r, (3, 4), dt), 1),
                  Sample(m(r, (3, 4), dt), float('inf')), Sample(m(r, (5,), dt), 1),
                  Sample(m(r, (2, 3, 4), dt), dim=(1, 2)),
                  Sample(m(r, (2, 3, 4), dt), 2, dim=1)], dtypes=FLOAT)
op('linalg_matrix_norm', lambda lib, x, *a: lib.linalg.matrix_norm(x, *a),
   lambda r, dt: [Sample(m(r, (3, 4), dt)), Sample(m(r, (2, 3, 4), dt), 'fro'),
                  Sample(m(r, (3, 4), dt), -1), Sample(m(r, (3, 4), dt), 'nuc')],
   dtypes=FLOAT, gradcheck=False)
op('trace', lambda lib, x: lib.trace(x), lambda r, dt: [Sample(m(r, (3, 4), dt))], dtypes=NUM)
op('kron', lambda lib, a, b: lib.kron(a, b),
   lambda r, dt: [Sample(m(r, (2, 3), dt), m(r, (2, 2), dt))], dtypes=FLOAT)
op('cross', lambda lib, a, b: lib.linalg.cross(a, b),
   lambda r, dt: [Sample(m(r, (2, 3), dt), m(r, (2, 3), dt))], dtypes=FLOAT)
op('det', lambda lib, a: lib.det(a), lambda r, dt: [Sample(m(r, (3, 3), dt)),
                                                    Sample(m(r, (2, 2, 2), dt))], dtypes=FLOAT)
op('inverse', lambda lib, a: lib.inverse(a + 3 * lib.eye(3, dtype=a.dtype)),
   lambda r, dt: [Sample(m(r, (3, 3), dt))], dtypes=FLOAT)

# weight normalization and Householder products (nn.utils.parametrizations builds on them)
op('weight_norm_first', lambda lib, v, g: lib._weight_norm(v, g, 0),
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (3, 1), dt)),
                  Sample(m(r, (2, 3, 2), dt), m(r, (2, 1, 1), dt))],
   dtypes=FLOAT, grad_fn='WeightNormInterfaceBackward0')
op('weight_norm_last', lambda lib, v, g: lib._weight_norm(v, g, 2),
   lambda r, dt: [Sample(m(r, (2, 3, 4), dt), m(r, (1, 1, 4), dt))],
   dtypes=FLOAT, grad_fn='WeightNormInterfaceBackward0')
op('weight_norm_middle', lambda lib, v, g: lib._weight_norm(v, g, 1),
   lambda r, dt: [Sample(m(r, (2, 3, 4), dt), m(r, (1, 3, 1), dt))],
   dtypes=FLOAT, grad_fn='MulBackward0')
op('weight_norm_whole', lambda lib, v, g: lib._weight_norm(v, g, -1),
   lambda r, dt: [Sample(m(r, (3, 4), dt), m(r, (), dt))], dtypes=FLOAT, grad_fn='MulBackward0')
op('norm_except_dim', lambda lib, v, *a: lib.norm_except_dim(v, *a),
   lambda r, dt: [Sample(m(r, (3, 4), dt), 2, 0), Sample(m(r, (2, 3, 4), dt), 2, 1),
                  Sample(m(r, (2, 3, 4), dt), 3, 2), Sample(m(r, (2, 3), dt), 1, -1)],
   dtypes=FLOAT, grad_fn='ViewBackward0')
op('householder_product', lambda lib, a, tau: lib.linalg.householder_product(a, tau),
   lambda r, dt: [Sample(m(r, (4, 3), dt), m(r, (3,), dt, lo=0.2, hi=1.5)),
                  Sample(m(r, (5, 3), dt), m(r, (2,), dt, lo=0.2, hi=1.5)),
                  Sample(m(r, (2, 4, 4), dt), m(r, (2, 4), dt, lo=0.2, hi=1.5))],
   dtypes=FLOAT)

OPS_BY_NAME = {o.name: o for o in OPS}
assert len(OPS_BY_NAME) == len(OPS), "duplicate op names in the table"


@functools.lru_cache(maxsize=None)
def _rng_seed(name):
    import zlib
    return zlib.crc32(name.encode())


def samples_for(op_info, dtype):
    rng = np.random.default_rng(_rng_seed(op_info.name + dtype))
    return op_info.samples(rng, np.dtype(dtype))
