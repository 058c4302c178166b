"""Differential fuzz: random chains of ops, run step by step in ember and in torch.

A chain starts from one float leaf (random shape, possibly empty or 0-d, possibly
non-contiguous) and applies 1-6 ops drawn from OPS below. Binary ops bring a fresh operand
(a leaf that requires grad, a plain tensor, a Python number, or the chain's own tensor).
After every step the two results must agree (values with NaN == NaN, dtype, shape); at the
end the gradients of every leaf of ``(out * w).sum()`` must agree. torch raising is fine as
long as ember raises the same exception type at the same step; one library raising alone
is a failure.

CI runs the ``ci`` settings profile (bounded, derandomized). ``EMBER_FUZZ_EXAMPLES=N`` runs N
examples per test instead (for hunting locally).
"""
import math
import os

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, note, settings, strategies as st  # noqa: E402

from ._compare import assert_same  # noqa: E402

settings.register_profile(
    "ember-fuzz-chains",
    max_examples=int(os.environ.get("EMBER_FUZZ_EXAMPLES", 200)),
    deadline=None, derandomize=True, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTINGS = settings.get_profile("ember-fuzz-chains")

TOL = {'float32': dict(atol=1e-4, rtol=1e-4), 'float64': dict(atol=1e-9, rtol=1e-7)}
GRAD_TOL = {'float32': dict(atol=1e-3, rtol=1e-3), 'float64': dict(atol=1e-8, rtol=1e-6)}


# ---- what a draw can hand an op ---------------------------------------------------------------

class Leaf:
    """A float operand that requires grad in both libraries (its gradient is compared)."""

    def __init__(self, a):
        self.a = a


class Same:
    """The chain's current tensor itself, as an operand (x * x, where(c, x, x))."""


def _to(lib, v, cur, leaves):
    """A drawn argument -> `lib`'s object (arrays become tensors; tuples/lists recursively)."""
    if isinstance(v, Leaf):
        t = lib.from_numpy(_clone(v.a)).requires_grad_(True)
        leaves.append(t)
        return t
    if isinstance(v, Same):
        return cur
    if isinstance(v, np.ndarray):
        return lib.from_numpy(_clone(v))
    if isinstance(v, tuple):
        return tuple(_to(lib, y, cur, leaves) for y in v)
    if isinstance(v, list):
        return [_to(lib, y, cur, leaves) for y in v]
    return v


def _clone(a):
    """A private copy of `a` with the same strides (so non-contiguous stays non-contiguous)."""
    if a.ndim == 0 or a.size == 0 or a.flags.c_contiguous:
        return a.copy()
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    rc = root.copy()
    off = a.__array_interface__['data'][0] - root.__array_interface__['data'][0]
    return np.ndarray(a.shape, a.dtype, buffer=rc, offset=off, strides=a.strides)


def _desc(v):
    if isinstance(v, Leaf):
        return f"Leaf{v.a.shape}{'' if v.a.flags.c_contiguous else '(nc)'}"
    if isinstance(v, Same):
        return "x"
    if isinstance(v, np.ndarray):
        return f"array({v.tolist()})" if v.size <= 8 else f"array{v.shape}:{v.dtype}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_desc(y) for y in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(_desc(y) for y in v) + "]"
    return repr(v)


class Draw:
    """Hypothesis-driven choices (they shrink) plus a NumPy generator for bulk values."""

    def __init__(self, data, dtype):
        self.data = data
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(self.int(0, 2 ** 32 - 1))

    def int(self, lo, hi):
        return self.data.draw(st.integers(lo, hi))

    def bool(self):
        return self.data.draw(st.booleans())

    def pick(self, seq):
        return self.data.draw(st.sampled_from(seq))

    def rarely(self):
        """True about one time in ten: for the out-of-range argument that must raise."""
        return self.int(0, 9) == 0

    def shape(self, max_ndim=3):
        nd = self.int(0, max_ndim)
        return tuple(self.pick((0, 1, 1, 2, 2, 3, 3, 4)) for _ in range(nd))

    def array(self, shape, lo=-2.0, hi=2.0):
        """Float values of `shape`; sometimes non-contiguous (a transposed or strided view)."""
        layout = self.pick(('c', 'c', 't', 's'))
        if layout == 't' and len(shape) >= 2:
            a = self.rng.uniform(lo, hi, shape[::-1]).astype(self.dtype)
            return a.transpose(tuple(range(len(shape) - 1, -1, -1)))
        if layout == 's' and len(shape) >= 1:
            big = shape[:-1] + (shape[-1] * 2,)
            return self.rng.uniform(lo, hi, big).astype(self.dtype)[..., ::2]
        return np.asarray(self.rng.uniform(lo, hi, shape), self.dtype)

    def mask(self, shape):
        return np.asarray(self.rng.random(shape) > 0.5)

    def dim(self, shape):
        """A dim of `shape` (also negative; 0 and -1 for a 0-d tensor); rarely out of range."""
        n = max(len(shape), 1)
        if self.rarely():
            return self.pick((n, -n - 1))
        return self.int(-n, n - 1)

    def dims(self, shape, allow_none=True):
        """None, one dim, or a tuple of distinct dims (possibly empty)."""
        kind = self.pick(('none', 'int', 'tuple') if allow_none else ('int', 'tuple'))
        if kind == 'none':
            return None
        if kind == 'int':
            return self.dim(shape)
        n = len(shape)
        ds = [d for d in range(n) if self.bool()]
        return tuple(d - n if self.bool() else d for d in ds)

    def bshape(self, shape):
        """A shape broadcastable with `shape` (trailing dims equal or 1, maybe more leading
        dims); rarely an incompatible one."""
        out = [s if self.int(0, 2) else 1 for s in shape[len(shape) - self.int(0, len(shape)):]]
        out = [self.pick((1, 2)) for _ in range(self.int(0, 1))] + out
        if out and self.rarely():
            out[-1] += 2
        return tuple(out)

    def operand(self, shape):
        """The other operand of a binary op."""
        kind = self.pick(('leaf', 'leaf', 'leaf', 'plain', 'number', 'same'))
        if kind == 'leaf':
            return Leaf(self.array(self.bshape(shape)))
        if kind == 'plain':
            return self.array(self.bshape(shape))
        if kind == 'number':
            return self.pick((2, -1, 0.5, 1.5, -3.0, 0))
        return Same()

    def index(self, size, n=None):
        """A 1-D int64 index into a dim of `size` (negative allowed where torch allows
        it is up to the op); rarely one entry out of range."""
        n = self.int(0, 4) if n is None else n
        if size == 0:
            idx = np.zeros(n, np.int64)
            return idx if n == 0 or self.rarely() else idx[:0]
        idx = self.rng.integers(0, size, n).astype(np.int64)
        if n and self.rarely():
            idx[0] = self.pick((size, -size - 1))
        return idx

    def new_shape(self, shape):
        """A shape with the same number of elements (maybe with one -1); rarely a wrong one."""
        numel = math.prod(shape)
        if numel == 0:
            out = [0] + [self.pick((1, 2, 3)) for _ in range(self.int(0, 2))]
            self.rng.shuffle(out)
        else:
            factors, k, m = [], 2, numel
            while m > 1:
                while m % k == 0:
                    factors.append(k)
                    m //= k
                k += 1
            nd = self.int(0, 3) if numel == 1 else self.int(1, 3)
            out = [1] * nd
            for f in factors:
                out[self.int(0, nd - 1)] *= f
        if out and self.bool():
            out[self.int(0, len(out) - 1)] = -1
        if self.rarely():
            out.append(2)
        return tuple(out)


# ---- the op table -----------------------------------------------------------------------------
# Op(name, fn, draw): `fn(lib, x, *args)` is one expression run with lib = ember and with
# lib = torch; `draw(D, shape)` returns the extra args for the current tensor's shape.

class Op:
    """`skip(t, e)`, given torch's and ember's input tensors, marks a known defect this op
    is not compared on (each one says which)."""

    def __init__(self, name, fn, draw=None, skip=None):
        self.name, self.fn, self.draw = name, fn, draw or (lambda D, s: ())
        self.skip = skip

    def __repr__(self):
        return self.name


def F(lib):
    return lib.nn.functional


def _unary(name, fn):
    return Op(name, fn)


UNARY = [
    _unary('neg', lambda L, x: L.neg(x)),
    _unary('abs', lambda L, x: L.abs(x)),
    _unary('exp', lambda L, x: L.exp(x)),
    _unary('log', lambda L, x: L.log(x)),
    _unary('sqrt', lambda L, x: L.sqrt(x)),
    _unary('rsqrt', lambda L, x: L.rsqrt(x)),
    _unary('sin', lambda L, x: L.sin(x)),
    _unary('cos', lambda L, x: x.cos()),
    _unary('tanh', lambda L, x: L.tanh(x)),
    _unary('sigmoid', lambda L, x: L.sigmoid(x)),
    _unary('relu', lambda L, x: L.relu(x)),
    _unary('reciprocal', lambda L, x: x.reciprocal()),
    _unary('square', lambda L, x: L.square(x)),
    _unary('log1p', lambda L, x: L.log1p(x)),
    _unary('expm1', lambda L, x: L.expm1(x)),
    _unary('atan', lambda L, x: L.atan(x)),
    _unary('erf', lambda L, x: L.erf(x)),
    _unary('sign', lambda L, x: L.sign(x)),
    _unary('floor', lambda L, x: L.floor(x)),
    # torch's float32 gelu gives inf at +inf for one element and NaN for more (its vector
    # kernel); ember gives NaN: not compared on a single infinite float32 element.
    Op('gelu', lambda L, x: F(L).gelu(x),
       skip=lambda t, e: t.dtype == torch.float32 and t.numel() == 1 and bool(t.isinf().any())),
    _unary('silu', lambda L, x: F(L).silu(x)),
    _unary('softplus', lambda L, x: F(L).softplus(x)),
    # torch's elu/hardtanh gradient at NaN depends on its SIMD path (NaN inside full vector
    # chunks, 1 in the scalar tail); ember gives the tail's answer: not compared at NaN.
    Op('elu', lambda L, x: F(L).elu(x), skip=lambda t, e: bool(t.isnan().any())),
    _unary('leaky_relu', lambda L, x: F(L).leaky_relu(x, 0.1)),
    Op('hardtanh', lambda L, x: F(L).hardtanh(x), skip=lambda t, e: bool(t.isnan().any())),
    Op('clamp', lambda L, x, lo, hi: L.clamp(x, lo, hi),
       lambda D, s: (D.pick((None, -1.0, -0.5)), D.pick((None, 0.5, 1.0)))),
    Op('pow_scalar', lambda L, x, p: L.pow(x, p), lambda D, s: (D.pick((2, 3, 0.5, -1, 0)),)),
    Op('mul_scalar', lambda L, x, c: x * c, lambda D, s: (D.pick((2, -0.5, 0)),)),
    Op('rsub_scalar', lambda L, x, c: c - x, lambda D, s: (D.pick((1, 0.5)),)),
]

BINARY = [
    Op(name, fn, lambda D, s: (D.operand(s), D.bool()))
    for name, fn in [
        ('add', lambda L, x, y, swap: L.add(y, x) if swap else L.add(x, y)),
        ('sub', lambda L, x, y, swap: (y - x) if swap else (x - y)),
        ('mul', lambda L, x, y, swap: (y * x) if swap else (x * y)),
        ('div', lambda L, x, y, swap: (y / x) if swap else (x / y)),
        ('maximum', lambda L, x, y, swap: L.maximum(x, y if isinstance(y, L.Tensor)
                                                     else L.tensor(y, dtype=x.dtype))),
        ('minimum', lambda L, x, y, swap: L.minimum(x, y if isinstance(y, L.Tensor)
                                                     else L.tensor(y, dtype=x.dtype))),
        ('pow', lambda L, x, y, swap: L.pow(y, x) if swap and isinstance(y, L.Tensor)
         else L.pow(x, y)),
        ('atan2', lambda L, x, y, swap: L.atan2(x, y if isinstance(y, L.Tensor)
                                                else L.full_like(x, y))),
    ]
] + [
    Op('where', lambda L, x, c, y, swap: L.where(c, y, x) if swap else L.where(c, x, y),
       lambda D, s: (D.mask(D.bshape(s)), D.operand(s), D.bool())),
]


def _no_empty(dims):
    return None if dims == () else dims


def _kdim(D, s):
    return D.dim(s), D.bool()


REDUCE = [
    Op('sum', lambda L, x, d, k: L.sum(x, d, keepdim=k) if d is not None else L.sum(x),
       lambda D, s: (D.dims(s), D.bool())),
    Op('mean', lambda L, x, d, k: x.mean(d, keepdim=k) if d is not None else x.mean(),
       lambda D, s: (D.dims(s), D.bool())),
    Op('prod', lambda L, x, d, k: L.prod(x, d, keepdim=k) if d is not None else L.prod(x),
       lambda D, s: (D.dim(s) if D.bool() else None, D.bool())),
    Op('amax', lambda L, x, d, k: L.amax(x, d, keepdim=k), lambda D, s: (D.dims(s, False),
                                                                          D.bool())),
    Op('amin', lambda L, x, d, k: x.amin(d, keepdim=k), lambda D, s: (D.dims(s, False),
                                                                       D.bool())),
    Op('max_dim', lambda L, x, d, k: L.max(x, d, keepdim=k).values, _kdim),
    Op('min_dim', lambda L, x, d, k: x.min(d, k)[0], _kdim),
    Op('max_all', lambda L, x: x.max()),
    # std/var never get dim=() here: torch reduces every dim in the forward but its backward
    # divides by 1 element (var) or gives infinities (std); ember's gradient is the true one.
    Op('std', lambda L, x, d, c, k: L.std(x, d, correction=c, keepdim=k),
       lambda D, s: (_no_empty(D.dims(s)), D.pick((0, 1)), D.bool())),
    Op('var', lambda L, x, d, c, k: x.var(d, correction=c, keepdim=k),
       lambda D, s: (_no_empty(D.dims(s)), D.pick((0, 1)), D.bool())),
    Op('logsumexp', lambda L, x, d, k: L.logsumexp(x, d, keepdim=k),
       lambda D, s: (D.dims(s, False), D.bool())),
    Op('norm', lambda L, x, p, d, k: L.norm(x, p, d, keepdim=k),
       lambda D, s: (D.pick((1, 2, 3)), D.dims(s), D.bool())),
    Op('softmax', lambda L, x, d: L.softmax(x, d), lambda D, s: (D.dim(s),)),
    Op('log_softmax', lambda L, x, d: F(L).log_softmax(x, d), lambda D, s: (D.dim(s),)),
    Op('cumsum', lambda L, x, d: L.cumsum(x, d), lambda D, s: (D.dim(s),)),
    Op('cumprod', lambda L, x, d: x.cumprod(d), lambda D, s: (D.dim(s),)),
    # torch's median(dim) reads garbage from an expanded (stride-0) input (4.6e-41 for a row
    # of equal values): not compared there.
    Op('median_dim', lambda L, x, d, k: L.median(x, d, keepdim=k).values, _kdim,
       skip=lambda t, e: 0 in t.stride()),
    Op('kthvalue', lambda L, x, k, d, kd: L.kthvalue(x, k, d, kd).values,
       lambda D, s: (D.int(1, 3), D.dim(s), D.bool())),
]


def _slice_key(D, s):
    d = D.int(0, len(s) - 1) if s else 0
    n = s[d] if s else 1
    sl = slice(D.pick((None, 0, 1, -1, n)), D.pick((None, 1, -1, n + 1)),
               D.pick((None, 1, 2, 2, 3)) if not D.rarely() else D.pick((0, -1)))
    return ((slice(None),) * d + (sl,),)


def _perm(D, s):
    p = list(range(len(s)))
    D.rng.shuffle(p)
    if D.rarely() and p:
        p[0] = p[-1] if len(p) > 1 else len(p)
    return (tuple(p),)


def _expand_shape(D, s):
    out = [D.pick((2, 3, -1)) if n == 1 else D.pick((n, -1)) for n in s]
    if out and D.rarely():
        out[-1] = 5
    return (tuple([D.pick((2, 0, 1)) for _ in range(D.int(0, 1))] + out),)


def _narrow(D, s):
    d = D.dim(s)
    n = s[d] if s and -len(s) <= d < len(s) else 1
    start = D.int(-n, n) if n else 0
    return d, start, D.int(0, max(n - (start % n if n else 0), 0) + (1 if D.rarely() else 0))


VIEW = [
    Op('reshape', lambda L, x, shp: x.reshape(shp), lambda D, s: (D.new_shape(s),)),
    # KNOWN GAP (ember): a broadcasting elementwise op with a non-contiguous operand gives a
    # C-contiguous result in ember, while torch's output follows the operands' layout (so
    # torch's view() may refuse where ember's succeeds): view is not compared on an input
    # whose strides already differ.
    Op('view', lambda L, x, shp: x.view(shp), lambda D, s: (D.new_shape(s),),
       skip=lambda t, e: t.stride() != e.stride()),
    Op('transpose', lambda L, x, a, b: L.transpose(x, a, b), lambda D, s: (D.dim(s), D.dim(s))),
    Op('permute', lambda L, x, p: x.permute(p), _perm),
    Op('expand', lambda L, x, shp: x.expand(*shp), _expand_shape),
    Op('squeeze', lambda L, x, d: x.squeeze() if d is None else L.squeeze(x, d),
       lambda D, s: (D.dims(s),)),
    Op('unsqueeze', lambda L, x, d: x.unsqueeze(d), lambda D, s: (D.int(-len(s) - 1, len(s)),)),
    Op('slice', lambda L, x, key: x[key], _slice_key),
    Op('narrow', lambda L, x, d, st_, n: L.narrow(x, d, st_, n), _narrow),
    Op('flatten', lambda L, x, a, b: L.flatten(x, a, b), lambda D, s: (D.dim(s), D.dim(s))),
    Op('t', lambda L, x: x.t()),
    Op('movedim', lambda L, x, a, b: L.movedim(x, a, b), lambda D, s: (D.dim(s), D.dim(s))),
    Op('contiguous', lambda L, x: x.contiguous()),
]


def _basic_key(D, s):
    """ints, slices, None and at most one Ellipsis."""
    key, d, ell = [], 0, False
    while d < len(s) and D.bool():
        kind = D.pick(('int', 'slice', 'none', 'ellipsis'))
        if kind == 'int':
            key.append(D.int(-s[d], s[d] - 1) if s[d] and not D.rarely() else s[d])
            d += 1
        elif kind == 'slice':
            key.append(slice(D.pick((None, 1, -1)), D.pick((None, -1, 2)), D.pick((None, 2))))
            d += 1
        elif kind == 'none':
            key.append(None)
        elif not ell:
            key.append(Ellipsis)
            ell = True
            d = len(s) - D.int(0, len(s) - d)
    if not key:
        key.append(D.pick((None, Ellipsis)))
    return (tuple(key),)


def _adv_key(D, s):
    """One or two int-array indices (maybe apart, maybe broadcasting) or a bool mask, mixed
    with slices."""
    if not s:
        return ((D.pick((None, Ellipsis)), np.zeros(D.int(0, 2), np.int64)),) \
            if D.bool() else (np.asarray(D.bool()),)
    if D.bool() and len(s) >= 1:
        k = D.int(1, len(s))
        lead = D.int(0, len(s) - k)
        return ((slice(None),) * lead + (D.mask(s[lead:lead + k]),),)
    key = []
    n_idx = D.int(1, min(2, len(s)))
    where = sorted(D.rng.choice(len(s), n_idx, replace=False).tolist())
    m = D.int(0, 3)
    for d in range(max(where) + 1):
        if d in where:
            idx = D.index(s[d], m)
            if s[d] and D.bool():
                idx = idx - s[d] * (idx >= 0) * D.rng.integers(0, 2, idx.shape)
            key.append(idx.reshape(1, -1) if d == where[-1] and n_idx == 2 and D.bool()
                       else idx)
        else:
            key.append(slice(None))
    return (tuple(key),)


def _gather_args(D, s):
    d = D.dim(s)
    if not s:
        return d, np.zeros((), np.int64) if D.bool() else np.zeros(D.int(0, 1), np.int64)
    dd = d % len(s) if -len(s) <= d < len(s) else 0
    ishape = tuple(D.int(0, n) if i != dd else D.int(0, 3) for i, n in enumerate(s))
    hi = s[dd]
    if hi == 0:
        idx = np.zeros(ishape, np.int64)
    else:
        idx = D.rng.integers(0, hi, ishape).astype(np.int64)
    if idx.size and D.rarely():
        idx.flat[0] = hi
    return d, idx


def _index_select_args(D, s):
    d = D.dim(s)
    n = s[d] if s and -len(s) <= d < len(s) else 1
    idx = D.index(n)
    if not s and D.bool():
        idx = idx[:1].reshape(()) if idx.size else np.zeros((), np.int64)
    return d, idx


INDEX = [
    Op('getitem_basic', lambda L, x, key: x[key], _basic_key),
    Op('getitem_adv', lambda L, x, key: x[key], _adv_key),
    Op('gather', lambda L, x, d, i: L.gather(x, d, i), _gather_args),
    Op('index_select', lambda L, x, d, i: L.index_select(x, d, i), _index_select_args),
    Op('masked_select', lambda L, x, m: L.masked_select(x, m),
       lambda D, s: (D.mask(D.bshape(s)),)),
    Op('take_along_dim', lambda L, x, d, i: L.take_along_dim(x, i, d), _gather_args),
]

OPS = UNARY + BINARY + REDUCE + VIEW + INDEX


# ---- running a chain --------------------------------------------------------------------------

def assert_same_error(ee, te, where):
    assert isinstance(ee, type(te)) or type(ee).__name__ == type(te).__name__, \
        f"{where}: torch raised {type(te).__name__}({te}) but ember raised " \
        f"{type(ee).__name__}({ee})"


def _step(fn_e, fn_t, where):
    """Run torch, then ember. Returns (e, t, stop): stop when both raised alike."""
    try:
        t = fn_t()
    except Exception as te:  # noqa: BLE001 - whatever torch raises, ember must raise too
        try:
            fn_e()
        except Exception as ee:  # noqa: BLE001
            assert_same_error(ee, te, where)
            note(f"  both raised {type(te).__name__}: {te}")
            return None, None, True
        raise AssertionError(f"{where}: torch raised {type(te).__name__}({te}) "
                             f"but ember did not") from None
    return fn_e(), t, False


class _Adopt(torch.autograd.Function):
    """Identity for autograd whose forward returns other values (ember's, same layout)."""

    @staticmethod
    def forward(ctx, t, values):
        return values

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def _resync(t, e):
    """torch's step result carrying ember's values (they agree within tolerance), so that
    rounding differences do not compound along the chain and each step compares one op on
    equal inputs. Exact agreement, and layouts torch cannot rebuild, are left alone."""
    a, b = e.detach()._data, t.detach().numpy()
    if not t.is_floating_point() or np.array_equal(a, b, equal_nan=True) or \
            0 in t.stride() or t.is_complex():
        return t
    v = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype)
    v.copy_(torch.from_numpy(a.copy()))
    return _Adopt.apply(t, v) if t.requires_grad else v


def check_chain(D, dtype, ops):
    shape = D.shape()
    x = Leaf(D.array(shape))
    le, lt = [], []
    ce, ct = _to(ember, x, None, le), _to(torch, x, None, lt)
    note(f"x: {_desc(x)} {dtype}")
    for i in range(D.int(1, 6)):
        op = D.pick(ops)
        args = op.draw(D, tuple(ct.shape))
        note(f"step {i}: {op.name}{_desc(tuple(args))}")
        if op.skip is not None and op.skip(ct, ce):
            note("  skipped (a known defect, see the table)")
            return
        ea, ta = _to(ember, args, ce, le), _to(torch, args, ct, lt)
        oe, ot, stop = _step(lambda: op.fn(ember, ce, *ea), lambda: op.fn(torch, ct, *ta),
                             f"step {i} ({op.name})")
        if stop:
            return
        assert_same(oe, ot, what=f"step {i} ({op.name})", **TOL[str(ot.dtype)[6:]])
        ce, ct = oe, _resync(ot, oe)
    if not ct.requires_grad:
        return
    w = D.rng.uniform(-1, 1, tuple(ct.shape)).astype(dtype) if D.bool() else None
    we, wt = (None, None) if w is None else (ember.from_numpy(w.copy()), torch.from_numpy(w))
    note(f"backward of {'(out * w).sum()' if w is not None else 'out.sum()'}")
    _, _, stop = _step(lambda: (ce if we is None else ce * we).sum().backward(),
                       lambda: (ct if wt is None else ct * wt).sum().backward(), "backward")
    if stop:
        return
    for j, (a, b) in enumerate(zip(le, lt)):
        if b.grad is None:
            assert a.grad is None, f"leaf {j}: torch's grad is None, ember's is not"
            continue
        assert a.grad is not None, f"leaf {j}: ember's grad is None, torch's is not"
        assert_same(a.grad, b.grad, what=f"grad of leaf {j}", **GRAD_TOL[dtype])


FAMILIES = {'elementwise': UNARY + BINARY, 'reduce': REDUCE + UNARY[:6] + BINARY[:3],
            'view': VIEW + UNARY[:4] + BINARY[:3], 'index': INDEX + VIEW[:4] + BINARY[:2],
            'mixed': OPS}


@pytest.mark.parametrize('family', list(FAMILIES))
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@SETTINGS
@given(data=st.data())
def test_chain(family, dtype, data):
    check_chain(Draw(data, dtype), dtype, FAMILIES[family])
