"""Random sampling: torch.Generator, the seeding functions, rand/randn/randint/..., and the
in-place Tensor samplers (uniform_, normal_, ...). The draws and their arithmetic live in
``ember/_random.py``; this module handles arguments, dtypes, devices and writing results.
"""
import numbers

import numpy as np

from .. import _dtype
from .. import _random
from .._tensor import Tensor, _wrap, _check_device, _CPU, _tensor_method
from ..autograd.grad_mode import _State
from ._util import (_no_pinned_memory, _size_args, _check_inplace, _alloc_errors, _legacy,
                    _zeros)
from ..autograd.graph import _record, derivative
from ._layout import _empty_like_array, _memory_order

__all__ = ['Generator', 'default_generator', 'manual_seed', 'seed', 'initial_seed',
           'get_rng_state', 'set_rng_state', 'rand', 'randn', 'randint', 'randperm', 'normal',
           'bernoulli', 'multinomial', 'rand_like', 'randn_like', 'randint_like']


# ================================================================================ Generator

class Generator:
    """torch.Generator for the CPU: MT19937 with torch's seeding, state layout and caches."""

    def __init__(self, device='cpu'):
        _check_device(device)
        self._impl = _random.CPUGenerator()

    @classmethod
    def _of(cls, impl):
        g = cls.__new__(cls)
        g._impl = impl
        return g

    @property
    def device(self):
        return _CPU

    def manual_seed(self, seed):
        if not isinstance(seed, numbers.Integral):
            if isinstance(seed, Tensor) or isinstance(seed, float) and seed.is_integer():
                seed = int(seed)
            else:
                raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise RuntimeError("Overflow when unpacking long long")
        self._impl.manual_seed(seed)
        return self

    def seed(self):
        return self._impl.seed()

    def initial_seed(self):
        return self._impl.initial_seed()

    def get_state(self):
        return _wrap(self._impl.get_state())

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError("expected a torch.ByteTensor, but got "
                            f"{type(new_state).__name__}")
        self._impl.set_state(new_state._data)
        return self

    def __getstate__(self):
        return {'state': self._impl.get_state()}

    def __setstate__(self, d):
        self._impl = _random.CPUGenerator()
        self._impl.set_state(d['state'])


default_generator = Generator._of(_random.default_generator)


def _gen(generator):
    if generator is None:
        return _random.default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a torch.Generator, not {type(generator).__name__}")
    return generator._impl


def manual_seed(seed):
    """Seed the default CPU generator (no accelerators exist in ember); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


# ================================================================================ helpers

def _np_dtype(dtype, default=None):
    if dtype is None:
        dtype = default if default is not None else _dtype.get_default_dtype()
    return _dtype.to_numpy(dtype)


def _is_float(np_dtype):
    return np_dtype.kind == 'f' or np_dtype.name == 'bfloat16'


def _require_float(np_dtype, kernel, complex_ok=False):
    if not (_is_float(np_dtype) or complex_ok and np_dtype.kind == 'c'):
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_legacy(np_dtype)}'")


def _new(arr, requires_grad=False, out=None):
    if out is not None:
        if out._data.shape != arr.shape:
            out._data = np.empty(arr.shape, dtype=out._data.dtype)
        np.copyto(out._data, arr, casting='unsafe')
        out._vc.value += 1
        return out
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _fill(self, sample, contiguous_flag=False):
    """Write sample(shape, np_dtype[, contiguous]) into self in torch's iteration order."""
    if _State.enabled and self._requires_grad:
        _check_inplace(self)
    d = self._data
    if any(st == 0 and n > 1 for st, n in zip(d.strides, d.shape)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location. Please clone() the tensor before performing the "
            "operation.")
    _fill_array(d, sample, contiguous_flag)
    self._vc.value += 1
    return self


def _fill_array(d, sample, contiguous_flag=False):
    """Fill ndarray d in place with sample(...) drawn in memory order.

    torch's TensorIterator walks memory in stride order, so a transposed or sliced tensor
    receives the stream in memory order, not in logical C order.
    """
    contiguous = d.flags.c_contiguous
    target = d if contiguous or d.ndim < 2 else d.transpose(_memory_order(d))
    args = (target.shape, d.dtype, contiguous) if contiguous_flag else (target.shape, d.dtype)
    target[...] = sample(*args)
    return d


def _number(x):
    """A Python number from a number or a one-element Tensor."""
    if isinstance(x, Tensor):
        return x.item()
    return x


# ================================================================================ Tensor methods

@_tensor_method
def uniform_(self, from_=0, to=1, *, generator=None, **kw):
    from_ = kw.pop('from', from_)
    from_, to = float(_number(from_)), float(_number(to))
    _require_float(self._data.dtype, 'check_uniform_bounds')
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_fmt(from_)} > to={_fmt(to)}")
    g = _gen(generator)
    return _fill(self, lambda shape, dt: _random.uniform(g, shape, dt, from_, to))


@_tensor_method
def normal_(self, mean=0, std=1, *, generator=None):
    mean, std = float(_number(mean)), float(_number(std))
    _require_float(self._data.dtype, 'normal_kernel_cpu', complex_ok=True)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
    g = _gen(generator)
    return _fill(self, lambda shape, dt, c: _random.normal(g, shape, dt, mean, std, c),
                 contiguous_flag=True)


@_tensor_method
def bernoulli_(self, p=0.5, *, generator=None):
    g = _gen(generator)
    if isinstance(p, Tensor):
        pa = p._data
        _require_float(pa.dtype, 'bernoulli_tensor_cpu_p_')
        if pa.ndim and pa.shape != self._data.shape:
            pa = np.broadcast_to(pa, self._data.shape)
        return _fill(self, lambda shape, dt: _random.bernoulli(
            g, np.ascontiguousarray(_perm_like(self._data, pa)), shape, dt))
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
    return _fill(self, lambda shape, dt: _random.bernoulli(g, p, shape, dt))


def _perm_like(d, pa):
    """p laid out in the same (memory) order _fill uses for d."""
    if d.flags.c_contiguous or d.ndim < 2:
        return pa
    return np.broadcast_to(pa, d.shape).transpose(_memory_order(d))


@_tensor_method
def exponential_(self, lambd=1, *, generator=None):
    lambd = float(lambd)
    _require_float(self._data.dtype, 'exponential_cpu')
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    g = _gen(generator)
    return _fill(self, lambda shape, dt: _random.exponential(g, shape, dt, lambd))


@_tensor_method
def geometric_(self, p, *, generator=None):
    p = float(p)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    g = _gen(generator)
    return _fill(self, lambda shape, dt: _random.geometric(g, shape, dt, p))


@_tensor_method
def cauchy_(self, median=0, sigma=1, *, generator=None):
    median, sigma = float(median), float(sigma)
    _require_float(self._data.dtype, 'cauchy_cpu')
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    g = _gen(generator)
    return _fill(self, lambda shape, dt: _random.cauchy(g, shape, dt, median, sigma))


@_tensor_method
def log_normal_(self, mean=1, std=2, *, generator=None):
    mean, std = float(mean), float(std)
    _require_float(self._data.dtype, 'log_normal_cpu')
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    g = _gen(generator)
    return _fill(self, lambda shape, dt: _random.log_normal(g, shape, dt, mean, std))


@_tensor_method
def random_(self, *args, generator=None, **kw):
    """random_(), random_(to), random_(from, to); `from`/`to` may be keywords."""
    low, high = None, None
    if 'from' in kw:
        low = kw.pop('from')
    if 'to' in kw:
        high = kw.pop('to')
    if kw:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kw))}'")
    if len(args) == 1 and low is None:
        high = args[0]
        if high is not None:
            low = 0
    elif len(args) == 2:
        low, high = args
    elif len(args) > 2:
        raise TypeError("random_() takes at most 2 positional arguments")
    if low is not None and high is not None and int(low) >= int(high):
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={int(low)} >= to={int(high)}")
    low = None if low is None else int(low)
    high = None if high is None else int(high)
    g = _gen(generator)
    return _fill(self, lambda shape, dt: _random.random_(g, shape, dt, low, high))


# ================================================================================ factories

@_no_pinned_memory
@_alloc_errors
def rand(*args, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, size=None):
    _check_device(device)
    shape = _size_args(args if size is None else (size,), 'rand')
    dt = _np_dtype(dtype)
    _require_float(dt, 'check_uniform_bounds')
    return _new(_random.uniform(_gen(generator), shape, dt), requires_grad, out)


@_no_pinned_memory
@_alloc_errors
def randn(*args, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, size=None):
    _check_device(device)
    shape = _size_args(args if size is None else (size,), 'randn')
    dt = _np_dtype(dtype)
    _require_float(dt, 'normal_kernel_cpu', complex_ok=True)
    return _new(_random.normal(_gen(generator), shape, dt), requires_grad, out)


@_no_pinned_memory
@_alloc_errors
def randint(*args, size=None, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False, low=None, high=None):
    """randint(high, size) or randint(low, high, size); size is a tuple."""
    _check_device(device)
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if high is None and args:
        high = args.pop()
    if low is None:
        low = args.pop() if args else 0
    if args or high is None or size is None:
        if size is not None and not isinstance(size, (tuple, list)):
            raise TypeError("randint(): argument 'size' (position 2) must be tuple of ints, "
                            f"not {type(size).__name__}")
        raise TypeError("randint() received an invalid combination of arguments")
    if isinstance(size, int) or not isinstance(size, (tuple, list)):
        raise TypeError("randint(): argument 'size' (position 2) must be tuple of ints, "
                        f"not {type(size).__name__}")
    low, high = int(_number(low)), int(_number(high))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    dt = _np_dtype(dtype, _dtype.int64)
    return _new(_random.randint(_gen(generator), low, high, _size_args((size,)), dt),
                requires_grad, out)


@_no_pinned_memory
@_alloc_errors
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    _check_device(device)
    n = int(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dt = _np_dtype(dtype, _dtype.int64)
    return _new(_random.randperm(_gen(generator), n, dt), requires_grad, out)


@_no_pinned_memory
@_alloc_errors
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, requires_grad=False, pin_memory=False):
    """normal(Tensor, Tensor), normal(Tensor, float), normal(float, Tensor),
    normal(float, float, size)."""
    _check_device(device)
    g = _gen(generator)
    tm, ts = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not tm and not ts:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got "
                            "(float, float), but expected a size")
        mean, std = float(mean), float(std)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
        dt = _np_dtype(dtype)
        _require_float(dt, 'normal_kernel_cpu')
        return _new(_random.normal(g, _size_args((size,)), dt, mean, std), requires_grad, out)
    ref = mean if tm else std
    dt = ref._data.dtype
    _require_float(dt, 'normal_kernel_cpu')
    m = mean._data if tm else float(mean)
    s = std._data if ts else float(std)
    if ts and (s < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not ts and s < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(s)}")
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    m = np.asarray(m, dt) if tm else np.array(m, dt)
    s = np.asarray(s, dt) if ts else np.array(s, dt)
    r = _random.normal(g, shape, dt, m, s)
    if out is None:
        # a sample does not move with its parameters: torch records a node with zero gradients
        if tm and ts:
            return _record(NormalBackward3, r, (mean, std))
        return _record(NormalBackward1 if tm else NormalBackward2, r, (ref,))
    return _new(r, requires_grad, out)


@derivative
def NormalBackward1(grad):
    return _zeros(grad)


@derivative
def NormalBackward2(grad):
    return _zeros(grad)


@derivative
def NormalBackward3(grad):
    return _zeros(grad), _zeros(grad)


def bernoulli(input, p=None, *, generator=None, out=None):
    """bernoulli(probs): per-element probabilities; bernoulli(input, p): a float p."""
    g = _gen(generator)
    d = input._data
    if p is None:
        _require_float(d.dtype, 'bernoulli_tensor_cpu_p_')
        return _new(_random.bernoulli(g, np.ascontiguousarray(d), d.shape, d.dtype), out=out)
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")
    return _new(_random.bernoulli(g, p, d.shape, d.dtype), out=out)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    d = input._data
    if not 1 <= d.ndim <= 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not _is_float(d.dtype):
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_legacy(d.dtype)}")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > d.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if d.size and (not np.all(np.isfinite(d)) or (d < 0).any()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = d.sum(axis=-1)
    if (sums == 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = np.ascontiguousarray(d)
    return _new(_random.multinomial(_gen(generator), rows, num_samples, bool(replacement)),
                out=out)


def _like_fill(input, dtype, device, memory_format, kernel, sample, contiguous_flag=False):
    """``empty_like(input, memory_format=...)`` (torch's preserve_format strides by default)
    filled by `sample` in memory order, as torch's *_like samplers do."""
    _check_device(device)
    dt = input._data.dtype if dtype is None else _np_dtype(dtype)
    if kernel is not None:
        _require_float(dt, kernel, complex_ok=kernel == 'normal_kernel_cpu')
    return _draw_like(_empty_like_array(input._data, dt, memory_format), sample,
                      contiguous_flag)


def _draw_like(layout, sample, contiguous_flag=False):
    """A fresh array with `layout`'s shape, dtype and strides, filled in memory order (the
    sample itself when the layout is C-contiguous: no copy)."""
    if layout.flags.c_contiguous:
        args = (layout.shape, layout.dtype, True) if contiguous_flag else \
            (layout.shape, layout.dtype)
        return np.asarray(sample(*args)).reshape(layout.shape)
    return _fill_array(layout, sample, contiguous_flag)


@_no_pinned_memory
@_alloc_errors
def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None):
    g = _gen(generator)
    arr = _like_fill(input, dtype, device, memory_format, 'check_uniform_bounds',
                     lambda shape, dt: _random.uniform(g, shape, dt))
    return _new(arr, requires_grad)


@_no_pinned_memory
@_alloc_errors
def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None):
    g = _gen(generator)
    arr = _like_fill(input, dtype, device, memory_format, 'normal_kernel_cpu',
                     lambda shape, dt, c: _random.normal(g, shape, dt, 0.0, 1.0, c), True)
    return _new(arr, requires_grad)


@_no_pinned_memory
@_alloc_errors
def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None):
    if high is None:
        low, high = 0, low
    low, high = int(_number(low)), int(_number(high))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    g = _gen(generator)
    arr = _like_fill(input, dtype, device, memory_format, None,
                     lambda shape, dt: _random.randint(g, low, high, shape, dt))
    return _new(arr, requires_grad)


def _fmt(x):
    """A number as torch prints it in these messages (1 not 1.0, 0.5 as 0.5)."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))
