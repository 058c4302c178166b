"""PyTorch's CPU random number generator, reproduced bit for bit in NumPy.

torch's CPU generator (``CPUGeneratorImpl``) is a plain MT19937 seeded with ``init_genrand``.
NumPy's ``MT19937`` bit generator runs the same engine, so once its key is set the way torch
sets it, ``random_raw`` yields exactly torch's stream of 32-bit draws. Everything else here is
the arithmetic torch's kernels apply to those draws (see docs: torch_compat_spec.md part 2).

The kernels take a :class:`CPUGenerator` and return fresh C-contiguous ndarrays; the public
Tensor-level API lives in ``ember/_ops/random.py``.

Canonical variant: torch's AVX2 kernels (also used by its AVX512 build), i.e. every x86-64 CPU
made since 2013. Their multiply-adds are fused, which ``_fma32``/``_fma64`` emulate exactly.
"""

import ctypes
import importlib
import math
import os
import struct
import sys
import threading

import numpy as np

from . import _kernels
from ._threads import get_num_threads

__all__ = ['CPUGenerator', 'default_generator', 'uniform', 'normal', 'randint', 'random_',
           'randperm', 'bernoulli', 'dropout_noise', 'multinomial', 'exponential', 'geometric',
           'cauchy', 'log_normal']

_ENGINE_LOCK = threading.Lock()         # the lazy making of a generator's engine
_DEFAULT_SEED = 67280421310721          # torch.Generator()'s seed before manual_seed
_STATE_BYTES = 5056                     # sizeof(CPUGeneratorImplState)
_U64 = (1 << 64) - 1

# Layout of CPUGeneratorImplState: legacy THGeneratorState, then the float normal cache.
_HEAD = struct.Struct('<QiiQ')          # seed, left, seeded, next
_NORMAL = struct.Struct('<dddi')        # normal_x, normal_y (the cached double), normal_rho, valid
_FLOAT_NORMAL = struct.Struct('<f?')    # next_float_normal_sample, valid
_OFF_KEY, _OFF_NORMAL, _OFF_FLOAT = 24, 24 + 624 * 8, 5048


def _init_genrand(seed):
    """MT19937 key from torch's seeding: only the low 32 bits of the seed are used."""
    key = [seed & 0xFFFFFFFF]
    for j in range(1, 624):
        prev = key[-1]
        key.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


def _nondeterministic_seed():
    # torch: two 32-bit std::random_device words, masked to 53 bits so the seed is a double.
    return int.from_bytes(os.urandom(8), 'little') & ((1 << 53) - 1)


class CPUGenerator:
    """State of one torch CPU generator: the MT19937 engine, the seed, the normal caches."""

    _prefetch = None        # a _Prefetch of the next 64-bit draws (see _start_prefetch)
    _sizes = ()             # sizes of the recent bernoulli draws, to predict the next one
    _vmap_error = None      # set by torch.func.vmap(randomness='error'): every draw refuses

    def __init__(self, seed=_DEFAULT_SEED):
        self.manual_seed(seed)

    def __getattr__(self, name):
        # The engine is made at the first draw: numpy.random costs ~18 ms of `import ember`,
        # and seeding only keeps the state until then (in _pending).
        if name not in ('_mt', '_np'):
            raise AttributeError(name)
        with _ENGINE_LOCK:
            if '_mt' not in self.__dict__:
                mt = np.random.MT19937()
                mt.state = self.__dict__.pop('_pending')
                self._np = np.random.Generator(mt)
                self._mt = mt
        return self.__dict__[name]

    # -- seeding -------------------------------------------------------------------------
    def manual_seed(self, seed):
        seed = int(seed) & _U64            # torch wraps negative seeds modulo 2**64
        self._prefetch = None
        self._seed = seed
        self._fresh_key = _init_genrand(seed)
        state = {'bit_generator': 'MT19937', 'state': {'key': self._fresh_key.copy(), 'pos': 624}}
        with _ENGINE_LOCK:
            if '_mt' in self.__dict__:
                self._mt.state = state
            else:
                self._pending = state
        # set_current_seed clears both Box-Muller caches.
        self.next_double_normal = None
        self.next_float_normal = None
        return self

    def seed(self):
        s = _nondeterministic_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    # -- raw draws -----------------------------------------------------------------------
    def random(self, n):
        """n 32-bit draws (torch's ``random()``) as uint32."""
        # NumPy's full-range uint32 integers are exactly MT19937's raw 32-bit outputs.
        if self._vmap_error:
            raise RuntimeError(self._vmap_error)
        return self._np.integers(0, 1 << 32, size=n, dtype=np.uint32)

    def random64(self, n):
        """n 64-bit draws (torch's ``random64()``): the first 32-bit draw is the high word,
        which is also how NumPy builds a uint64 from MT19937."""
        if self._vmap_error:
            raise RuntimeError(self._vmap_error)
        if self._prefetch is not None:
            raw = self._take_prefetch(n)
            if raw is not None:
                return raw
        kernel = _kernels.get('ember_mt19937_u64') if n >= _KERNEL_MIN else None
        if kernel is not None:
            out = np.empty(n, np.uint64)
            self._kernel_draws(kernel, n, _kernels.addr(out))
            return out
        return self._np.integers(0, 1 << 64, size=n, dtype=np.uint64)

    def _kernel_draws(self, kernel, n, *args):
        """Run a compiled kernel that takes n 64-bit draws from the engine's state (the key
        and position, updated in place) and writes into args' buffers."""
        st = self._mt.state['state']
        key = np.ascontiguousarray(st['key'], np.uint32)   # a copy: the kernel changes it
        pos = np.array([st['pos']], np.int64)
        kernel(_kernels.addr(key), _kernels.addr(pos), n, *args)
        self._mt.state = {'bit_generator': 'MT19937',
                          'state': {'key': key, 'pos': int(pos[0])}}

    # -- draws ahead of time -------------------------------------------------------------
    # Dropout draws the same sizes step after step, and MT19937 is sequential: so after a
    # bernoulli draw, the next one is drawn on a worker thread (NumPy releases the GIL)
    # from a copy of the state, while the caller goes on. It is taken only if the request
    # has the predicted size and the state is still the copied one, so the stream is the
    # same draw for draw whatever happens in between. The worker runs at the lowest priority
    # (it should only fill a core that nothing else wants: the split kernels need both); a
    # caller that finds it unfinished waits about as long as drawing would take, then draws
    # for itself.
    def _start_prefetch(self, n):
        st = self._mt.state
        self._prefetch = _Prefetch(n, st['state']['pos'], st['state']['key'],
                                   _worker().submit(_draw64, st, n))

    def _take_prefetch(self, n):
        pf, self._prefetch = self._prefetch, None
        if pf.n != n or pf.pid != os.getpid():
            return None
        st = self._mt.state['state']
        if st['pos'] != pf.pos or not np.array_equal(st['key'], pf.key):
            return None
        try:
            # waiting frees this core for the worker: it then finishes at full speed, unless
            # other processes take the cores too (then its low priority could stall us)
            raw, state = pf.future.result(timeout=n * _DRAW_SECONDS)
        except sys.modules['concurrent.futures'].TimeoutError:   # TimeoutError from 3.11
            return None         # the worker's draw is dropped; the state is still ours
        self._mt.state = state
        return raw

    # -- state ---------------------------------------------------------------------------
    def get_state(self):
        """The 5056 bytes of torch's ``get_rng_state()``, as a uint8 ndarray."""
        st = self._mt.state['state']
        key, pos = st['key'], int(st['pos'])
        buf = bytearray(_STATE_BYTES)
        if pos == 624 and np.array_equal(key, self._fresh_key):
            nxt, left = 0, 1                # freshly seeded: nothing twisted yet
        else:
            nxt, left = pos, 625 - pos
        _HEAD.pack_into(buf, 0, self._seed, left, 1, nxt)
        buf[_OFF_KEY:_OFF_NORMAL] = key.astype('<u8').tobytes()
        dn = self.next_double_normal
        _NORMAL.pack_into(buf, _OFF_NORMAL, 0.0, 0.0 if dn is None else dn, 0.0, dn is not None)
        fn = self.next_float_normal
        _FLOAT_NORMAL.pack_into(buf, _OFF_FLOAT, 0.0 if fn is None else fn, fn is not None)
        return np.frombuffer(bytes(buf), dtype=np.uint8).copy()

    def set_state(self, state):
        data = np.ascontiguousarray(state, dtype=np.uint8).tobytes()
        if len(data) != _STATE_BYTES:
            raise RuntimeError('Expected either a THGeneratorState of size 5048 or a '
                               'CPUGeneratorImplState of size 5056 but found the input '
                               f'RNG state size to be {len(data)}')
        self._prefetch = None
        seed, left, _seeded, nxt = _HEAD.unpack_from(data, 0)
        key = np.frombuffer(data, dtype='<u8', count=624, offset=_OFF_KEY).astype(np.uint32)
        pos = 624 if left == 1 else 625 - left
        self._seed = seed
        self._fresh_key = key if nxt == 0 and left == 1 else np.zeros(0, np.uint32)
        self._mt.state = {'bit_generator': 'MT19937', 'state': {'key': key, 'pos': pos}}
        _x, dn, _rho, dvalid = _NORMAL.unpack_from(data, _OFF_NORMAL)
        fn, fvalid = _FLOAT_NORMAL.unpack_from(data, _OFF_FLOAT)
        self.next_double_normal = dn if dvalid else None
        self.next_float_normal = fn if fvalid else None
        return self

    def clone_state(self):
        g = CPUGenerator.__new__(CPUGenerator)
        g._mt = np.random.MT19937()
        g._np = np.random.Generator(g._mt)
        g.set_state(self.get_state())
        g._fresh_key = self._fresh_key
        return g


class _Prefetch:
    __slots__ = ('n', 'pos', 'key', 'future', 'pid')

    def __init__(self, n, pos, key, future):
        self.n, self.pos, self.key, self.future, self.pid = n, pos, key, future, os.getpid()


_WORKER = [None, None, None]    # (pid, executor, MT19937 of the worker): not across a fork


def _worker():
    if _WORKER[0] != os.getpid():
        # lazy: concurrent.futures costs import time; only large bernoulli draws prefetch
        from concurrent.futures import ThreadPoolExecutor
        _WORKER[:] = [os.getpid(), ThreadPoolExecutor(1, thread_name_prefix='ember-rng',
                                                      initializer=_lowest_priority),
                      np.random.MT19937()]
    return _WORKER[1]


def _lowest_priority():
    """Give the calling thread the lowest scheduling priority (nice 19), on Linux, where a
    thread has its own nice value (elsewhere setpriority would lower the whole process)."""
    if sys.platform.startswith('linux'):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:
            pass


def _draw64(state, n):
    """n 64-bit draws from `state` on the worker's own engine; returns them and the state
    after them."""
    mt = _WORKER[2]
    mt.state = state
    return np.random.Generator(mt).integers(0, 1 << 64, size=n, dtype=np.uint64), mt.state


_PREFETCH_MIN = 1 << 16     # draws below which a worker thread does not pay off
# draws from which the compiled MT19937 takes over (getting and setting NumPy's state costs
# ~10 us); it draws ~8x faster than NumPy's, so nothing is drawn ahead when it is there
_KERNEL_MIN = 1 << 12
_kernels.declare('ember_mt19937_u64', None, 'p', 'p', 'i64', 'p')
_kernels.declare('ember_mt19937_bernoulli53', None, 'p', 'p', 'i64', 'i64', 'p')
# the longest wait for a prefetched draw, per draw: about 1.5x what one takes on a free core
_DRAW_SECONDS = 6e-9


def _predict_next(gen, n):
    """Record a bernoulli draw of n and guess the next size: what followed the last two sizes
    the previous time they occurred (dropout layers repeat their sizes every step)."""
    sizes = gen._sizes = (tuple(gen._sizes) + (n,))[-16:]
    for j in range(len(sizes) - 2, 0, -1):
        if sizes[j - 1] == sizes[-2] and sizes[j] == n:
            return sizes[j + 1]
    return n


default_generator = CPUGenerator(_nondeterministic_seed())


# =========================================================================================
# Exact floating-point helpers
# =========================================================================================

def _round_to_odd_sum(a, b):
    """a + b in float64, rounded to odd (truncate, set the last bit if inexact).

    Rounding the exact value to odd at 53 bits and then to nearest at 24 bits (or doing a
    final nearest addition, Boldo-Melquiond) gives the correctly rounded result: this is
    how the fused multiply-adds of torch's AVX2 kernels are reproduced without math.fma.
    """
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)                         # TwoSum: a + b == s + err exactly
    bits = s.view(np.int64)
    fix = (err != 0) & ((bits & 1) == 0)
    if fix.any():
        # Step one ulp toward the exact value: up in magnitude iff err has the sign of s.
        step = np.where((err > 0) == (s > 0), 1, -1).astype(np.int64)
        bits = np.where(fix, bits + step, bits)
    return bits.view(np.float64)


def _fma32(a, b, c):
    """Correctly rounded float32 fma(a, b, c) (the product of two floats is exact in double)."""
    p = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    return _round_to_odd_sum(p, np.broadcast_to(np.asarray(c, np.float64), p.shape)
                             ).astype(np.float32)


_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp splitting constant


def _two_prod(a, b):
    p = a * b
    t = a * _SPLIT
    ah = t - (t - a)
    al = a - ah
    t = b * _SPLIT
    bh = t - (t - b)
    bl = b - bh
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, err


def _fma64(a, b, c):
    """Correctly rounded double fma(a, b, c) for finite, non-extreme values (Boldo-Melquiond)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    shape = np.broadcast_shapes(a.shape, b.shape, np.shape(c))
    a, b = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
    c = np.broadcast_to(np.asarray(c, np.float64), shape)
    with np.errstate(invalid='ignore', over='ignore'):
        ph, pl = _two_prod(a, b)
        uh = c + ph
        bb = uh - c
        ul = (c - (uh - bb)) + (ph - bb)
        res = uh + _round_to_odd_sum(ul, pl)
    bad = ~np.isfinite(res) | ~np.isfinite(ph)
    if bad.any():                         # inf/nan operands: plain arithmetic is right there
        res = np.where(bad, a * b + c, res)
    return res


# -- glibc's double transcendentals, which torch's double kernels call ---------------------

def _load_libm():
    # ctypes.util pulls in subprocess and tempfile (10 ms of `import ember`): only when the
    # usual soname is absent
    try:
        lib = ctypes.CDLL('libm.so.6')
    except OSError:
        util = importlib.import_module('ctypes.util')
        try:
            lib = ctypes.CDLL(util.find_library('m') or 'libm.so.6')
        except OSError:
            return None
    funcs = {}
    for f in ('log', 'log1p', 'sin', 'cos', 'tan', 'exp'):
        fn = getattr(lib, f)
        fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double]
        funcs[f] = fn
    return funcs


_LIBM_CACHE = []


def _get_libm():
    """glibc's functions (or None), loaded once on first use."""
    if not _LIBM_CACHE:
        _LIBM_CACHE.append(_load_libm())
    return _LIBM_CACHE[0]
_LD_FUNCS = {'log': np.log, 'sin': np.sin, 'cos': np.cos, 'tan': np.tan, 'exp': np.exp}


def _libm(name, x):
    """Apply the C library's double function ``name`` elementwise, bit for bit.

    glibc is correctly rounded except within ~0.02 ulp of a rounding midpoint. So the value
    is computed in long double (x87, 11 extra bits) and rounded; only elements near a
    midpoint (a few percent) go through ctypes to glibc itself.
    """
    x = np.asarray(x, np.float64)
    libm = _get_libm()
    if libm is None:
        return _LD_FUNCS.get(name, getattr(np, name))(x)
    fn = libm[name]
    if x.size <= 32 or name not in _LD_FUNCS or np.finfo(np.longdouble).nmant < 60:
        return np.array([fn(v) for v in x.ravel().tolist()], np.float64).reshape(x.shape)
    with np.errstate(all='ignore'):
        ld = _LD_FUNCS[name](x.astype(np.longdouble))
        out = ld.astype(np.float64)
        ulp = np.spacing(np.abs(out)).astype(np.longdouble)
        frac = np.abs((ld - out.astype(np.longdouble)) / ulp)
    hard = np.flatnonzero(~(frac < 0.45))          # also catches nan/inf/denormal corners
    if hard.size:
        flat = out.reshape(-1)
        xs = x.reshape(-1)[hard].tolist()
        flat[hard] = [fn(v) for v in xs]
    return out


# =========================================================================================
# Uniform
# =========================================================================================

def _u24(raw):
    """24-bit uniforms in [0, 1) as float32 from 32-bit draws."""
    v = (raw & np.uint32(0xFFFFFF)).view(np.int32).astype(np.float32)
    v *= np.float32(2.0 ** -24)
    return v


def _u53(raw64):
    """53-bit uniforms in [0, 1) as float64 from 64-bit draws."""
    v = (raw64 & np.uint64((1 << 53) - 1)).view(np.int64).astype(np.float64)
    v *= 2.0 ** -53
    return v


def _numel(shape):
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def uniform(gen, shape, np_dtype, low=0.0, high=1.0):
    """``Tensor.uniform_(low, high)`` on a fresh contiguous tensor of ``shape``/``np_dtype``."""
    dt = np.dtype(np_dtype)
    shape = tuple(shape)
    n = _numel(shape)
    if dt == np.float64:
        x = _u53(gen.random64(n))
        lo, hi = float(low), float(high)
        if lo == 0.0 and hi == 1.0:
            v = x
        else:
            v = _fma64(x, hi - lo, lo)
    else:
        # float32, half, bfloat16: 24-bit uniforms, float opmath with float bounds.
        lo, hi = np.float32(low), np.float32(high)
        x = _u24(gen.random(n))
        span = hi - lo
        v = x if (lo == 0 and span == 1) else _fma32(x, span, lo)
        lo, hi = np.array(lo).astype(dt), np.array(hi).astype(dt)
    v = v.astype(dt, copy=False)
    if dt != np.float64 or not (low == 0.0 and high == 1.0):
        v[v == hi] = lo                   # uniform_kernel: a value rounded up to `to` is `from`
    return v.reshape(shape)


# =========================================================================================
# Normal
# =========================================================================================
# Constants of avx_mathfun.h (Cephes single-precision log and sincos).
_f = np.float32
_LOG_P = [_f(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1,
                          -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
                          2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)]
_LOG_Q1, _LOG_Q2 = _f(-2.12194440e-4), _f(0.693359375)
_SQRTHF = _f(0.707106781186547524)
_DP1, _DP2, _DP3 = _f(-0.78515625), _f(-2.4187564849853515625e-4), _f(-3.77489497744594108e-8)
_SINCOF = [_f(v) for v in (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)]
_COSCOF = [_f(v) for v in (2.443315711809948E-005, -1.388731625493765E-003,
                           4.166664568298827E-002)]
_FOPI = _f(1.27323954473516)
_TWO_PI_F = _f(2.0 * math.pi)


def _fast_fma32(a, b, c):
    """float32 fma(a, b, c): one double multiply-add, then rounding to float.

    That is exact unless the double sum sits exactly on a float32 rounding midpoint, where
    double rounding could differ from a true fma; those few elements are redone exactly.
    Pass float64 copies of array operands where they are reused: it saves the casts.
    """
    t = np.multiply(a, b) if getattr(a, 'dtype', None) == np.float64 \
        else np.multiply(a, b, dtype=np.float64)
    t += c
    mid = (t.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    r = t.astype(np.float32) if not mid.any() else _fix_midpoints(a, b, c, mid)
    return r


def _fix_midpoints(a, b, c, mid):
    r = (np.multiply(a, b, dtype=np.float64) + c).astype(np.float32)
    idx = np.flatnonzero(mid)
    pick = [np.asarray(v).reshape(-1)[idx] if np.ndim(v) else v for v in (a, b, c)]
    r.reshape(-1)[idx] = _fma32(*pick)
    return r


# Several of the kernel's fused multiply-adds multiply a small integer by a constant with
# few significant bits (0.693359375, DP1, DP2): the product is exact in float32, so those
# fmas are a plain float32 multiply and add. The genuine ones go through `fma`.

def _log256(x, fma=_fma32):
    """``log256_ps`` with GCC's FMA contractions, on a float32 array (x > 0)."""
    x = np.maximum(x, _f(np.finfo(np.float32).tiny))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 126).astype(np.float32)
    x = ((bits & ~0x7F800000) | 0x3F000000).view(np.float32)       # mantissa in [0.5, 1)
    # if x < sqrt(1/2): e -= 1 and x = x + x - 1, else x = x - 1 (as the vector code orders it)
    mask = x < _SQRTHF
    e -= mask
    tmp = x * mask
    x -= _f(1)
    x += tmp
    x64 = x.astype(np.float64)
    z = x * x
    y = fma(_LOG_P[0], x64, _LOG_P[1])
    for p in _LOG_P[2:]:
        y = fma(y, x64, p)
    y = y * x
    y = fma(y, z, e * _LOG_Q1)
    y -= z * _f(0.5)
    x += y
    x += e * _LOG_Q2
    return x


def _sincos256(x, fma=_fma32):
    """``sincos256_ps`` with GCC's FMA contractions; x >= 0 here (theta = 2*pi*u)."""
    j = (x * _FOPI).astype(np.int32)
    j += 1
    j &= ~1
    y = j.astype(np.float32)
    x = x + y * _DP1
    x += y * _DP2
    x = fma(y, _DP3, x)
    x64 = x.astype(np.float64)
    z = x * x
    z64 = z.astype(np.float64)
    yc = fma(_COSCOF[0], z64, _COSCOF[1])
    yc = fma(yc, z64, _COSCOF[2])
    yc = yc * z
    yc = fma(yc, z64, -(z * _f(0.5)))
    yc += _f(1)
    ys = fma(_SINCOF[0], z64, _SINCOF[1])
    ys = fma(ys, z64, _SINCOF[2])
    ys = ys * z
    ys = fma(ys, x64, x)
    # Select the polynomial per octant and flip signs with the vector code's bit masks:
    # the sine takes bit 2 of j (x >= 0), the cosine the inverse of bit 2 of j - 2.
    ysb, ycb = ys.view(np.int32), yc.view(np.int32)
    keep = (j & 2) >> 1
    keep -= 1                                     # all ones where the first polynomial is sine
    diff = ysb ^ ycb
    diff &= keep
    sb = ycb ^ diff
    cb = ysb ^ diff
    sb ^= (j & 4) << 29
    j -= 2
    np.invert(j, out=j)
    j &= 4
    j <<= 29
    cb ^= j
    s, c = sb.view(np.float32), cb.view(np.float32)
    return s, c


_CHUNK_BLOCKS = 4096        # 64k floats per chunk: the temporaries stay in cache


_kernels.declare('ember_normal_fill16_f32', None, 'i64', 'p', 'f32', 'f32', 'i64')


def _normal_fill16_f32(d, mean, std):
    """NormalFill16 (AVX2 kernel) on d of shape (blocks, 16), float32, in place."""
    kernel = _kernels.get('ember_normal_fill16_f32')
    if kernel is not None and d.flags.c_contiguous:     # the same steps (src/normal.c)
        kernel(d.shape[0], _kernels.addr(d), mean, std, not (mean == 0 and std == 1))
        return
    for start in range(0, d.shape[0], _CHUNK_BLOCKS):
        blk = d[start:start + _CHUNK_BLOCKS]
        blk[:, :8], blk[:, 8:] = _normal16_f32(blk, mean, std, _fast_fma32)


def _normal16_f32(d, mean, std, fma):
    u1 = _f(1) - d[:, :8]
    radius = _log256(u1, fma)
    radius *= _f(-2)
    np.sqrt(radius, out=radius)
    s, c = _sincos256(_TWO_PI_F * d[:, 8:], fma)
    c *= radius
    s *= radius
    if mean == 0 and std == 1:
        return c, s
    return fma(c, std, mean), fma(s, std, mean)


def _normal_fill16_f64(d, mean, std):
    """The scalar normal_fill_16<double> template, with glibc's log/cos/sin."""
    u1 = 1.0 - d[:, :8]
    u2 = d[:, 8:]
    radius = np.sqrt(-2.0 * _libm('log', u1))
    theta = (2.0 * math.pi) * u2
    n1 = radius * _libm('cos', theta)
    n2 = radius * _libm('sin', theta)
    if mean == 0 and std == 1:
        d[:, :8], d[:, 8:] = n1, n2
    else:
        d[:, :8], d[:, 8:] = _fma64(n1, std, mean), _fma64(n2, std, mean)


def _normal_fill(gen, n, dt, mean, std):
    """torch's ``normal_fill`` (contiguous, numel >= 16): returns n values in dtype dt."""
    full = n - n % 16
    if dt == np.float64:
        d = _u53(gen.random64(n))
        fill16, cast = _normal_fill16_f64, float
    else:
        if dt == np.float32:
            d = _u24(gen.random(n))
        else:
            # half/bfloat16 draw 16 uniforms per block into a stack buffer: no tail draws.
            d = np.empty(n, np.float32)
            d[:full] = _u24(gen.random(full))
        fill16 = _normal_fill16_f32
        cast = (lambda v: np.float32(np.array(v, dt)))      # mean/std cast to scalar_t
    mean, std = cast(mean), cast(std)
    fill16(d[:full].reshape(-1, 16), mean, std)
    if n % 16:
        tail = _u53(gen.random64(16)) if dt == np.float64 else _u24(gen.random(16))
        tail = tail.reshape(1, 16)
        fill16(tail, mean, std)
        d[n - 16:] = tail[0]
    return d.astype(dt, copy=False)


def _normal_scalar(gen, n, mean, std):
    """``at::normal_distribution<double>`` n times: Box-Muller with the cached second sample."""
    out = np.empty(n, np.float64)
    i = 0
    if n and gen.next_double_normal is not None:
        out[0] = gen.next_double_normal
        gen.next_double_normal = None
        i = 1
    pairs = (n - i + 1) // 2
    if pairs:
        u = _u53(gen.random64(2 * pairs)).reshape(pairs, 2)
        r = np.sqrt(-2.0 * _libm('log1p', -u[:, 1]))
        theta = (2.0 * math.pi) * u[:, 0]
        cos_, sin_ = r * _libm('cos', theta), r * _libm('sin', theta)
        vals = np.empty(2 * pairs)
        vals[0::2], vals[1::2] = cos_, sin_
        if (n - i) % 2:
            gen.next_double_normal = float(vals[-1])        # survives across calls
            vals = vals[:-1]
        out[i:] = vals
    if mean == 0 and std == 1:
        return out
    return _fma64(out, float(std), float(mean))


def normal(gen, shape, np_dtype, mean=0.0, std=1.0, contiguous=True):
    """``normal_(mean, std)`` (scalar mean/std), or torch.normal's tensor forms (arrays).

    With array mean or std torch draws standard normals, then multiplies by std and adds
    mean as two separate (rounded) ops in the output dtype.
    """
    dt = np.dtype(np_dtype)
    shape = tuple(shape)
    if dt.kind == 'c':
        # torch fills a complex tensor's real view, std / sqrt(2) for each part
        part = np.float32 if dt == np.complex64 else np.float64
        v = normal(gen, shape + (2,), part, mean, std / math.sqrt(2), contiguous)
        return np.ascontiguousarray(v).view(dt).reshape(shape)
    n = _numel(shape)
    if np.ndim(mean) or np.ndim(std) or isinstance(mean, np.ndarray) \
            or isinstance(std, np.ndarray):
        z = normal(gen, shape, dt, 0.0, 1.0, contiguous)
        z = z * np.asarray(std, dt)
        return (z + np.asarray(mean, dt)).astype(dt, copy=False)
    if n >= 16 and contiguous:
        v = _normal_fill(gen, n, dt, mean, std)
    else:
        v = _normal_scalar(gen, n, mean, std).astype(dt)
    return v.reshape(shape)


def log_normal(gen, shape, np_dtype, mean=1.0, std=2.0):
    """``Tensor.log_normal_``: exp of the double Box-Muller sampler (with its cache)."""
    n = _numel(tuple(shape))
    v = _libm('exp', _normal_scalar(gen, n, mean, std))
    return v.astype(np_dtype).reshape(tuple(shape))


# =========================================================================================
# Integers
# =========================================================================================
_INT_MAX = {np.dtype(t): np.iinfo(t).max for t in (np.int8, np.int16, np.int32, np.int64,
                                                   np.uint8, np.uint16, np.uint32, np.uint64)}
_FLOAT_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, np.dtype(np.float64): 53}


def _is_bfloat16(dt):
    return dt.name == 'bfloat16'


def randint(gen, low, high, shape, np_dtype=np.int64):
    """``random_(low, high)``: (draw % range) + low, 64-bit draws when range >= 2**28."""
    dt = np.dtype(np_dtype)
    shape = tuple(shape)
    n = _numel(shape)
    low, high = int(low), int(high)
    rng = high - low
    if rng <= 0:
        raise RuntimeError(f'random_ expects \'from\' to be less than \'to\', but got '
                           f'from={low} >= to={high}')
    if rng >= 1 << 28:
        raw = gen.random64(n)
    else:
        raw = gen.random(n)
    v = (raw % np.uint64(rng)).astype(np.int64) + np.int64(low)
    return v.astype(dt).reshape(shape)


def random_(gen, shape, np_dtype, low=None, high=None):
    """``Tensor.random_()`` and its ``random_(to)`` / ``random_(from, to)`` forms."""
    dt = np.dtype(np_dtype)
    shape = tuple(shape)
    if low is not None or high is not None:
        if high is None:
            if low == -(1 << 63):                   # full 64-bit range kernel
                v = gen.random64(_numel(shape)).view(np.int64)
                return v.astype(dt).reshape(shape)
            high = _max_for_random(dt) + 1
        return randint(gen, low or 0, high, shape, dt)
    n = _numel(shape)
    if dt == np.bool_:
        return (gen.random(n) & np.uint32(1)).astype(np.bool_).reshape(shape)
    if dt == np.int64:
        v = gen.random64(n) % np.uint64(1 << 63)
    elif dt == np.float64:
        v = gen.random64(n) % np.uint64((1 << 53) + 1)
    elif dt in _FLOAT_DIGITS:
        v = gen.random(n) % np.uint64((1 << _FLOAT_DIGITS[dt]) + 1)
    elif _is_bfloat16(dt):
        v = gen.random(n) % np.uint64((1 << 8) + 1)
    else:
        v = gen.random(n) % np.uint64(_INT_MAX[dt] + 1)
    return v.astype(dt).reshape(shape)


def _max_for_random(dt):
    if dt in _FLOAT_DIGITS:
        return 1 << _FLOAT_DIGITS[dt]
    if _is_bfloat16(dt):
        return 1 << 8
    if dt == np.bool_:
        return 1
    return _INT_MAX[dt]


def randperm(gen, n, np_dtype=np.int64):
    """``torch.randperm(n)``: torch's Fisher-Yates shuffle.

    The swaps are inherently sequential, so they run as one Python loop over a list (about
    0.1 s per million); the draws themselves are taken in one vectorised call.
    """
    n = int(n)
    if n < (1 << 32) // 20:
        perm = list(range(n))
        if n > 1:
            z = (gen.random(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
            for i, zi in enumerate(z):
                j = i + zi
                perm[i], perm[j] = perm[j], perm[i]
    else:
        perm = [0] * n
        z = (gen.random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
        for i, zi in enumerate(z):
            perm[i] = perm[zi]
            perm[zi] = i
    return np.array(perm, dtype=np_dtype)


# =========================================================================================
# Bernoulli, dropout
# =========================================================================================

_MASK53 = np.uint64((1 << 53) - 1)


def _bernoulli_scalar_mask(gen, p, n):
    """n draws of ``u < p``, u a 53-bit double uniform, as a bool array.

    u = k * 2**-53 with k the low 53 bits of a 64-bit draw, and p * 2**53 is exact, so
    ``u < p`` is ``k < ceil(p * 2**53)``: one integer compare, no float64 temporaries.
    """
    p = float(p)
    # ceil(p * 2**53) clamped to [0, 2**53]; a NaN p gives 0: every comparison is false
    thr = 0 if not p > 0 else (1 << 53) if p >= 1 else math.ceil(p * 2.0 ** 53)
    kernel = _kernels.get('ember_mt19937_bernoulli53') if n >= _KERNEL_MIN else None
    if kernel is not None and not gen._vmap_error:
        gen._prefetch = None    # drawn from a copy of the state: nothing to undo
        out = np.empty(n, np.bool_)
        gen._kernel_draws(kernel, n, thr, _kernels.addr(out))
        return out
    raw = gen.random64(n)
    if n >= _PREFETCH_MIN // 4:
        nxt = _predict_next(gen, n)
        if nxt >= _PREFETCH_MIN:
            if get_num_threads() > 1:
                gen._start_prefetch(nxt)
    np.bitwise_and(raw, _MASK53, out=raw)
    return np.less(raw, np.uint64(thr))


def bernoulli(gen, p, shape, np_dtype):
    """``bernoulli_(p)``: a double uniform per element for a Python float p;
    for a tensor p, a float (24-bit) uniform unless p is float64. Shape must hold p's."""
    dt = np.dtype(np_dtype)
    shape = tuple(shape)
    n = _numel(shape)
    if isinstance(p, np.ndarray):
        pa = np.broadcast_to(p, shape)
        if pa.dtype == np.float64:
            u = _u53(gen.random64(n))
        else:
            u = _u24(gen.random(n))
            pa = pa.astype(np.float32)
        v = u.reshape(shape) < pa
    else:
        v = _bernoulli_scalar_mask(gen, p, n).reshape(shape)
    return v.astype(dt)


def dropout_noise(gen, shape, np_dtype, p):
    """The noise torch's CPU dropout multiplies the input by: bernoulli_(1-p) / (1-p).

    The division happens in the tensor's dtype (the Python double 1-p is cast to it), and
    callers must form ``x * noise`` (not ``x * mask / (1-p)``) to stay bitwise.
    """
    dt = np.dtype(np_dtype)
    q = 1.0 - p
    mask = _bernoulli_scalar_mask(gen, q, _numel(tuple(shape))).reshape(shape)
    # mask / q in dt: 1 / q rounded in dt where kept, 0 elsewhere (a bool times it is exact);
    # half types divide in float (torch's opmath) and round once
    op = np.float32 if dt.itemsize < 4 else dt
    scale = (np.ones((), op) / np.array(q, op)).astype(dt)
    return np.multiply(mask, scale, dtype=dt)


# =========================================================================================
# Distributions on double uniforms
# =========================================================================================

def exponential(gen, shape, np_dtype, lambd=1.0):
    """``Tensor.exponential_(lambd)``: -1/lambd * log1p(-u), u a double uniform."""
    shape = tuple(shape)
    u = _u53(gen.random64(_numel(shape)))
    v = (-1.0 / float(lambd)) * _libm('log1p', -u)
    return v.astype(np_dtype).reshape(shape)


def geometric(gen, shape, np_dtype, p):
    """``Tensor.geometric_(p)``: ceil(log(u) / log(1 - p)), u a double uniform."""
    shape = tuple(shape)
    u = _u53(gen.random64(_numel(shape)))
    libm = _get_libm()
    log_q = libm['log'](1.0 - p) if libm else math.log(1.0 - p)
    with np.errstate(divide='ignore'):
        v = np.ceil(_libm('log', u) / log_q)
    return v.astype(np_dtype).reshape(shape)


def cauchy(gen, shape, np_dtype, median=0.0, sigma=1.0):
    """``Tensor.cauchy_``: median + sigma * tan(pi * (u - 0.5)), fused multiply-add."""
    shape = tuple(shape)
    u = _u53(gen.random64(_numel(shape)))
    t = _libm('tan', math.pi * (u - 0.5))
    return _fma64(float(sigma), t, float(median)).astype(np_dtype).reshape(shape)


def multinomial(gen, probs, num_samples, replacement=False):
    """``torch.multinomial`` on a 1-D or 2-D float ndarray; returns int64 indices."""
    probs = np.asarray(probs)
    rows = probs.reshape(1, -1) if probs.ndim == 1 else probs
    n_dist, n_cat = rows.shape
    if not replacement or num_samples == 1:
        # Gumbel trick as torch does it: argmax / topk of p / q with q ~ Exp(1).
        q = exponential(gen, rows.shape, rows.dtype, 1.0)
        with np.errstate(divide='ignore', invalid='ignore'):
            r = rows / q
        if num_samples == 1:
            out = np.argmax(r, axis=-1)[:, None]
        else:
            out = np.argsort(-r, axis=-1, kind='stable')[:, :num_samples]
        out = out.astype(np.int64)
    else:
        acc = np.float64 if rows.dtype == np.float64 else np.float32
        out = np.empty((n_dist, num_samples), np.int64)
        for i in range(n_dist):
            cum = np.cumsum(rows[i].astype(acc), dtype=acc)   # sequential, like torch
            cum = cum / cum[-1]
            cum[-1] = 1
            u = _u53(gen.random64(num_samples))
            out[i] = np.searchsorted(cum.astype(np.float64), u, side='left')
    return out.reshape(num_samples) if probs.ndim == 1 else out
