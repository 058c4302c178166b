"""Less common Tensor methods and torch functions, built from the core op families.

Most are compositions of existing differentiable ops (so autograd comes for free); the rest
are non-differentiable utilities (integer math, storage-level resizing).
"""
import numpy as np

from .. import _dtype
from .. import _storage as _storage_module
from .._storage import TypedStorage
from .._tensor import Tensor, _link_view, _wrap, _wrap_dim, _register_methods
from ..autograd.grad_mode import _State
from ..autograd.graph import _record, _sum_to, _Handle, derivative
from .complex import real, imag
from ._util import (_with_out, _arr, _out, _write_inplace, _operands, _bcast_errors, _size_args,
                    _rebase_inplace)
from .activation import prelu, hardshrink
from .creation import tensor, eye, zeros, empty_like
from .elementwise import where
from .index import _check_flat_bounds, _diag_scatter
from .linalg import inverse
from .random import bernoulli, multinomial
from .reduce import _return_type
from .shape import _axis_alias, cat, narrow, stack

__all__ = ['diff', 'quantile', 'nanquantile', 'cov', 'corrcoef', 'frexp', 'ldexp', 'gcd', 'lcm',
           'bitwise_left_shift', 'bitwise_right_shift', 'diagflat', 'dsplit',
           'split_with_sizes', 'matrix_power', 'slice_scatter', 'select_scatter',
           'diagonal_scatter', 'narrow_copy', 'histogram', 'nextafter', 'renorm',
           'conj_physical', 'resolve_conj', 'resolve_neg', 'adjoint', 'is_same_size',
           'is_nonzero_tensor', 'clone_', 'std_mean_', 'trapezoid', 'trapz', 'cumulative_trapezoid',
           'vander', 'logdet_', 'rot90_', 'count_nonzero_', 'flatten_', 'unravel_index']

_FrexpRT = _return_type('frexp', ('mantissa', 'exponent'))


@_axis_alias
def diff(input, n=1, dim=-1, prepend=None, append=None):
    ax = _wrap_dim(dim, input._data.ndim)
    x = input
    if prepend is not None or append is not None:
        parts = ([prepend] if prepend is not None else []) + [x] + \
            ([append] if append is not None else [])
        x = cat([p if p._data.ndim == x._data.ndim else p.expand(
            tuple(s if i != ax else p.shape[i] if p.ndim else 1 for i, s in
                  enumerate(x.shape))) for p in parts], ax)
    for _ in range(n):
        m = x._data.shape[ax]
        if m == 0:
            break
        if x._data.dtype == np.bool_:
            x = narrow(x, ax, 1, m - 1) ^ narrow(x, ax, 0, m - 1)
        else:
            x = narrow(x, ax, 1, m - 1) - narrow(x, ax, 0, m - 1)
    return x


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    """Sort, then interpolate between neighbours: differentiable through sort and gather."""
    d = input._data
    if d.dtype.kind != 'f':
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    scalar_q = not isinstance(q, Tensor) and np.ndim(q) == 0
    qs = np.atleast_1d(q._data if isinstance(q, Tensor) else np.asarray(q, dtype=np.float64))
    if np.any((qs < 0) | (qs > 1)):
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    x = input.reshape(-1) if dim is None else input
    ax = 0 if dim is None else _wrap_dim(dim, d.ndim)
    srt = x.sort(ax)[0]  # NaN sorts last
    n = srt.shape[ax]
    if ignore_nan:
        valid = (~x.isnan()).sum(ax, keepdim=True)._data.astype(np.float64)
    else:
        valid = np.full(tuple(1 if i == ax else s for i, s in enumerate(srt.shape)), float(n))
    outs = []
    for qv in qs:
        pos = qv * (valid - 1)
        if interpolation == 'lower':
            pos = np.floor(pos)
        elif interpolation == 'higher':
            pos = np.ceil(pos)
        elif interpolation == 'nearest':
            pos = np.round(pos)  # round half to even, as torch
        lo = np.clip(np.floor(pos), 0, n - 1).astype(np.int64)
        hi = np.clip(np.ceil(pos), 0, n - 1).astype(np.int64)
        vlo = srt.gather(ax, _wrap(lo))
        vhi = srt.gather(ax, _wrap(hi))
        frac = 0.5 if interpolation == 'midpoint' else (pos - lo)
        if interpolation == 'midpoint':
            frac = np.where(lo == hi, 0.0, 0.5)
        w = tensor(np.asarray(frac, dtype=d.dtype))
        r = vlo + (vhi - vlo) * w
        if not ignore_nan:
            r = r.masked_fill(_wrap(np.isnan(x._data).any(axis=ax, keepdims=True)),
                              float('nan'))
        else:
            r = r.masked_fill(_wrap(valid == 0), float('nan'))
        if not keepdim:
            r = r.squeeze(ax)
        elif dim is None:
            r = r.reshape((1,) * d.ndim)
        outs.append(r)
    if scalar_q:
        return outs[0]
    return stack(outs)


def quantile(input, q, dim=None, keepdim=False, *, interpolation='linear', out=None):
    return _out(out, _quantile(input, q, dim, keepdim, interpolation, False))


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear', out=None):
    return _out(out, _quantile(input, q, dim, keepdim, interpolation, True))


def cov(input, *, correction=1, fweights=None, aweights=None):
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights
    if w is None:
        mean = x.mean(1, keepdim=True)
        xc = x - mean
        c = xc.matmul(xc.t().conj()) / max(n - correction, 0)
    else:
        wsum = w.sum()
        mean = (x * w).sum(1, keepdim=True) / wsum
        xc = x - mean
        if correction == 0:
            norm = wsum
        elif aweights is None:
            norm = wsum - correction
        else:
            norm = wsum - correction * (w * aweights).sum() / wsum
        c = (xc * w).matmul(xc.t().conj()) / norm
    return c.squeeze() if input._data.ndim < 2 else c


def corrcoef(input):
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = c.diagonal()
    std = d.sqrt()
    return (c / std.unsqueeze(1) / std.unsqueeze(0)).clamp(-1, 1)


@derivative
def FrexpBackward0(grad, exponent):
    return grad / exponent.to(grad.dtype).exp2()


@_with_out
def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent; the mantissa is
    differentiable."""
    m, e = np.frexp(input._data)
    e = _wrap(_arr(e.astype(np.int32)))
    return _FrexpRT(_record(FrexpBackward0, _arr(m), (input,), exponent=e), e)


def ldexp(input, other, *, out=None):
    return _out(out, input * (2.0 ** other) if isinstance(other, Tensor) else
                input * 2.0 ** other)


def _binary_ufunc(ufunc, name):
    """torch.<name>(input, other): a NumPy ufunc on the promoted, broadcast operands (no
    gradient: integer math, or nextafter)."""
    @_bcast_errors
    def op(input, other, *, out=None):
        a, b, _ = _operands(input, other)
        return _out(out, _wrap(_arr(ufunc(a, b))))
    op.__name__ = op.__qualname__ = name
    return op


gcd = _binary_ufunc(np.gcd, 'gcd')
lcm = _binary_ufunc(np.lcm, 'lcm')
bitwise_left_shift = _binary_ufunc(np.left_shift, 'bitwise_left_shift')
bitwise_right_shift = _binary_ufunc(np.right_shift, 'bitwise_right_shift')
nextafter = _binary_ufunc(np.nextafter, 'nextafter')


def diagflat(input, offset=0):
    return input.reshape(-1).diag(offset)


def dsplit(input, indices_or_sections):
    return input.tensor_split(indices_or_sections, 2)


def split_with_sizes(input, split_sizes, dim=0):
    return input.split(list(split_sizes), dim)


def matrix_power(input, n):
    if n == 0:
        e = eye(input.shape[-1], dtype=input.dtype)
        return e.expand(input.shape) if input._data.ndim > 2 else e
    x = input if n > 0 else inverse(input)
    n = abs(n)
    result = None
    base = x
    while n:  # binary exponentiation: log2(n) matmuls
        if n & 1:
            result = base if result is None else result.matmul(base)
        n >>= 1
        if n:
            base = base.matmul(base)
    return result


def _scatter_like(input, src, index_fn):
    """input with src written where index_fn selects; differentiable in both."""
    out = input.clone()
    view = index_fn(out)
    if _State.enabled and (out._requires_grad or src._requires_grad):
        _write_inplace(view, src.expand(view.shape) if src.shape != view.shape else src)
    else:
        np.copyto(view._data, src._data, casting='unsafe')
    return out


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    ax = _wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * ax + (slice(start, end, step),)
    return _scatter_like(input, src, lambda t: t[idx])


def select_scatter(input, src, dim, index):
    return _scatter_like(input, src, lambda t: t.select(dim, index))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    out = input.clone()
    d = out._data
    a, b = _wrap_dim(dim1, d.ndim), _wrap_dim(dim2, d.ndim)
    n = src._data.shape[-1]
    i = np.arange(n)
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    moved = np.moveaxis(d, (a, b), (d.ndim - 2, d.ndim - 1))
    moved[..., rows, cols] = src._data
    mask = np.zeros(d.shape, bool)
    np.moveaxis(mask, (a, b), (d.ndim - 2, d.ndim - 1))[..., rows, cols] = True
    if _State.enabled and (input._requires_grad or src._requires_grad):
        # out = input * (1 - mask) + embed(src): both paths stay differentiable
        return input.masked_fill(_wrap(mask), 0) + _diag_scatter(src, d.shape, offset, a, b)
    return out


def narrow_copy(input, dim, start, length):
    return input.narrow(dim, start, length).clone()


@_with_out
def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    d = input._data
    w = weight._data if weight is not None else None
    b = bins._data if isinstance(bins, Tensor) else bins
    hist, edges = np.histogram(d, bins=b, range=range, weights=w, density=density)
    return _wrap(hist.astype(d.dtype)), _wrap(edges.astype(d.dtype))


def renorm(input, p, dim, maxnorm):
    ax = _wrap_dim(dim, input._data.ndim)
    others = tuple(i for i in range(input._data.ndim) if i != ax)
    norms = input.abs().pow(p).sum(others, keepdim=True).pow(1.0 / p)
    factor = (maxnorm / (norms + 1e-7)).masked_fill(norms <= maxnorm, 1.0)
    return input * factor


def conj_physical(input):
    return input.conj()


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def adjoint(input):
    return input.mT.conj()


def is_same_size(input, other):
    return input._data.shape == other._data.shape


def is_nonzero_tensor(input):
    return input.__bool__()


def trapezoid(y, x=None, *, dx=None, dim=-1):
    ax = _wrap_dim(dim, y._data.ndim)
    n = y.shape[ax]
    left, right = y.narrow(ax, 0, n - 1), y.narrow(ax, 1, n - 1)
    if x is None:
        return ((left + right) * ((dx if dx is not None else 1) / 2)).sum(ax)
    dxs = diff(x, dim=-1 if x._data.ndim == 1 else ax)
    if x._data.ndim == 1:
        shape = [1] * y._data.ndim
        shape[ax] = n - 1
        dxs = dxs.reshape(shape)
    return ((left + right) * dxs / 2).sum(ax)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    ax = _wrap_dim(dim, y._data.ndim)
    n = y.shape[ax]
    left, right = y.narrow(ax, 0, n - 1), y.narrow(ax, 1, n - 1)
    step = dx if dx is not None else 1
    if x is not None:
        step = diff(x, dim=-1)
        if x._data.ndim == 1:
            shape = [1] * y._data.ndim
            shape[ax] = n - 1
            step = step.reshape(shape)
    return ((left + right) * step / 2).cumsum(ax)


def vander(x, N=None, increasing=False):
    n = x.shape[0] if N is None else N
    powers = np.arange(n) if increasing else np.arange(n)[::-1].copy()
    return x.unsqueeze(-1) ** tensor(powers, dtype=x.dtype if x.is_floating_point()
                                     else _dtype.int64)


def unravel_index(indices, shape):
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    return tuple(_wrap(_arr(np.asarray(a, dtype=np.int64)))
                 for a in np.unravel_index(idx, tuple(shape)))


# placeholders so __all__ stays importable; the real methods are attached below
clone_ = std_mean_ = logdet_ = rot90_ = count_nonzero_ = flatten_ = None
__all__ = [n for n in __all__ if globals().get(n) is not None]


# ---- Tensor methods ---------------------------------------------------------------------------

def _unfold(self, dimension, size, step):
    """Tensor.unfold: sliding windows along one dim, as a view (windows in the last dim)."""
    d = self._data
    ax = _wrap_dim(dimension, d.ndim)
    n = d.shape[ax] if d.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {ax} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    shape = d.shape[:ax] + (count,) + d.shape[ax + 1:] + (size,)
    strides = d.strides[:ax] + (d.strides[ax] * step,) + d.strides[ax + 1:] + (d.strides[ax],)
    r = np.lib.stride_tricks.as_strided(d, shape, strides, writeable=False)
    out = _record(UnfoldBackward0, r, (self,), shape=d.shape, dim=ax, size=size, step=step)
    return _link_view(out, self)


@derivative
def UnfoldBackward0(grad, shape, dim, size, step):
    """Sum each window's gradient back onto the positions it came from."""
    g = grad._data
    z = np.zeros(shape, dtype=g.dtype)
    n = shape[dim]
    count = g.shape[dim]
    moved = np.moveaxis(z, dim, -1)           # (..., n)
    gm = np.moveaxis(g, dim, -2)              # (..., count, size)
    for k in range(size):                     # a loop over the window, not over elements
        moved[..., k:k + (count - 1) * step + 1:step] += gm[..., k]
    return _wrap(z)


def _resize_(self, *sizes, memory_format=None):
    shape = _size_args(sizes)
    if self._requires_grad and _State.enabled:
        raise RuntimeError("cannot resize variables that require grad")
    n = int(np.prod(shape))
    flat = self._data.reshape(-1)
    if n <= flat.size:
        self._data = flat[:n].reshape(shape)
    else:
        new = np.zeros(n, dtype=self._data.dtype)
        new[:flat.size] = flat
        self._data = new.reshape(shape)
    return self


def _resize_as_(self, other, memory_format=None):
    return _resize_(self, other.shape)


def _new(self, *args, **kwargs):
    if not args:
        return _wrap(np.zeros((0,), dtype=self._data.dtype))
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)) and \
            not isinstance(args[0], tuple):
        return tensor(args[0], dtype=self.dtype)
    return zeros(*args, dtype=self.dtype)


def _register_post_accumulate_grad_hook(self, hook):
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    hooks = self.__dict__.setdefault('_post_acc_hooks', [])
    hooks.append(hook)
    return _Handle(hooks, hook)


def _apply_(self, callable):
    flat = self._data.reshape(-1)
    for i in range(flat.size):  # torch's apply_ is a per-element Python call too
        flat[i] = callable(flat[i].item())
    return self


def _map_(self, tensor, callable):
    other = np.broadcast_to(tensor._data, self._data.shape).reshape(-1)
    flat = self._data.reshape(-1)
    for i in range(flat.size):
        flat[i] = callable(flat[i].item(), other[i].item())
    return self


def _sum_to_size(self, *size):
    return _sum_to(self, _size_args(size))


def _put_(self, index, source, accumulate=False):
    _check_flat_bounds(index._data, self._data.size)
    if _State.enabled and (self._requires_grad or source._requires_grad):
        return _write_inplace(self, _put(self, index, source, accumulate))
    flat = self._data.reshape(-1)
    idx = index._data.reshape(-1)
    if accumulate:
        np.add.at(flat, idx, source._data.reshape(-1))
    else:
        flat[idx] = source._data.reshape(-1)
    if not np.shares_memory(flat, self._data):
        self._data[...] = flat.reshape(self._data.shape)
    self._vc.value += 1
    return self


def _put(self, index, source, accumulate=False):
    _check_flat_bounds(index._data, self._data.size)
    flat = self.reshape(-1)
    return flat.index_put((index.reshape(-1),), source.reshape(-1),
                          accumulate).reshape(self.shape)


def _storage(self):
    return TypedStorage._of(self)


def _storage_type(self):
    """The legacy storage class of the tensor's dtype (FloatStorage, ...), None for a dtype
    that has none; with torch's TypedStorage deprecation warning."""
    _storage_module._warn_typed_storage()
    return _storage_module._LEGACY_CLASSES.get(self.dtype.name)


def _check_accelerator_device(device, kind, shown):
    """torch's checks of `t.ipu(device)` / `t.mtia(device)` before it finds no such device."""
    if isinstance(device, int) and not isinstance(device, bool):
        raise RuntimeError('Cannot access accelerator device when none is available.')
    if device is not None and str(device).split(':')[0] != kind:
        raise RuntimeError(f'Invalid device, must be {shown} device')


def _ipu(self, device=None, non_blocking=False, memory_format=None):
    _check_accelerator_device(device, 'ipu', 'ipu')
    raise RuntimeError('PyTorch is not linked with support for ipu devices')


def _mtia(self, device=None, non_blocking=False, memory_format=None):
    _check_accelerator_device(device, 'mtia', 'MTIA')
    raise AssertionError('Torch not compiled with MTIA enabled. Ensure you have `import '
                         'mtia.host_runtime.torch_mtia.dynamic_library` in your python src file '
                         'and include `//mtia/host_runtime/torch_mtia:torch_mtia` as your target '
                         'dependency!')


def _chalf(self, memory_format=None):
    raise NotImplementedError("complex32 (chalf) tensors are not supported by ember")


def _bernoulli(self, p=None, *, generator=None):
    if p is None:
        return bernoulli(self, generator=generator)
    return empty_like(self).bernoulli_(p, generator=generator)


def _multinomial(self, num_samples, replacement=False, *, generator=None):
    return multinomial(self, num_samples, replacement, generator=generator)


def _fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal in place through diagonal views, so autograd sees a CopySlices."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and any(s != shape[0] for s in shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    h, w = shape[0], shape[1]
    # a tall matrix with wrap=True starts the diagonal again every w + 1 rows
    starts = range(0, h, w + 1) if wrap and len(shape) == 2 and h > w + 1 else [0]
    for start in starts:
        d = self[start:] if start else self
        for _ in range(len(shape) - 1):
            d = d.diagonal(0, 0, -1)
        d.fill_(fill_value)
    return self


def _where(self, condition, y):
    return where(condition, self, y)


def _prelu(self, weight):
    return prelu(self, weight)


def _hardshrink(self, lambd=0.5):
    return hardshrink(self, lambd)



_register_methods(__name__, {
    'diff': diff, 'quantile': quantile, 'nanquantile': nanquantile, 'cov': cov,
    'corrcoef': corrcoef, 'frexp': frexp, 'ldexp': ldexp, 'gcd': gcd, 'lcm': lcm,
    'bitwise_left_shift': bitwise_left_shift, 'bitwise_right_shift': bitwise_right_shift,
    'diagflat': diagflat, 'dsplit': dsplit, 'split_with_sizes': split_with_sizes,
    'matrix_power': matrix_power, 'slice_scatter': slice_scatter,
    'select_scatter': select_scatter, 'diagonal_scatter': diagonal_scatter,
    'narrow_copy': narrow_copy, 'histogram': histogram, 'nextafter': nextafter,
    'renorm': renorm, 'conj_physical': conj_physical, 'resolve_conj': resolve_conj,
    'resolve_neg': resolve_neg, 'adjoint': adjoint, 'is_same_size': is_same_size,
    'is_nonzero': is_nonzero_tensor, 'unfold': _unfold, 'resize_': _resize_,
    'resize_as_': _resize_as_, 'new': _new,
    'register_post_accumulate_grad_hook': _register_post_accumulate_grad_hook,
    'apply_': _apply_, 'map_': _map_, 'sum_to_size': _sum_to_size, 'put_': _put_,
    'put': _put, 'storage': _storage, 'storage_type': _storage_type, 'ipu': _ipu, 'mtia': _mtia,
    'is_distributed': lambda self: False, 'chalf': _chalf, 'bernoulli': _bernoulli,
    'multinomial': _multinomial, 'fill_diagonal_': _fill_diagonal_, 'where': _where,
    'prelu': _prelu, 'hardshrink': _hardshrink, 'real': property(real),
    'imag': property(imag),
    'to_dense': lambda self, dtype=None, masked_grad=None: self,
    'is_inference': lambda self: False, 'is_neg': lambda self: False,
    'is_conj': lambda self: False, 'is_nested': False, 'is_mps': False, 'is_xpu': False,
    'is_mkldnn': False, 'is_xla': False, 'is_ipu': False, 'is_vulkan': False,
    'is_mtia': False, 'is_maia': False, 'is_sparse_csr': False,
    'name': None, 'volatile': False,
    'dim_order': lambda self, **kw: tuple(int(i) for i in np.argsort(
        [-s for s in self.stride()], kind='stable')),
    'ldexp_': _rebase_inplace(ldexp), 'gcd_': _rebase_inplace(gcd),
    'lcm_': _rebase_inplace(lcm), 'bitwise_left_shift_': _rebase_inplace(bitwise_left_shift),
    'bitwise_right_shift_': _rebase_inplace(bitwise_right_shift),
    'renorm_': _rebase_inplace(renorm),
    'nextafter_': _rebase_inplace(nextafter),
})
