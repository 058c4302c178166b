"""Pooling: max/avg/adaptive/LP pooling and max-unpooling (the F.* functions).

The 2-D and 3-D kernels share one N-d implementation; the 1-D forms run the 2-D kernel on
an unsqueezed input, exactly as torch does (so their grad_fn is SqueezeBackward1).

Every kernel loops over kernel positions only (k*k shifted strided slices, each vectorised
over batch, channels and pixels), never over pixels. Max pooling keeps the winning kernel
position per output (a small int array) so the backward pass scatters with the same k*k
slices. Adaptive average pooling is separable: one small (out, in) averaging matrix per
spatial dim, applied with matmul. Each backward is itself a recorded op, so double
backward works.
"""
import math

import numpy as np

from .._tensor import _wrap
from ..autograd.graph import _record, derivative
from ._util import _empty_batch
from .elementwise import relu
from .index import gather
from ._autocast import autocast
from ._conv_split import batch_ranges, run_ranges
from .. import _kernels

__all__ = ['max_pool1d', 'max_pool2d', 'max_pool3d', 'max_pool1d_with_indices',
           'max_pool2d_with_indices', 'max_pool3d_with_indices', 'avg_pool1d', 'avg_pool2d',
           'avg_pool3d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_avg_pool3d',
           'adaptive_max_pool1d', 'adaptive_max_pool2d', 'adaptive_max_pool3d',
           'adaptive_max_pool1d_with_indices', 'adaptive_max_pool2d_with_indices',
           'adaptive_max_pool3d_with_indices', 'lp_pool1d', 'lp_pool2d', 'lp_pool3d',
           'max_unpool1d', 'max_unpool2d', 'max_unpool3d']


# ---- argument handling ------------------------------------------------------------------------

def _ntuple(v, n, what, fn):
    if isinstance(v, (tuple, list)):
        v = tuple(int(e) for e in v)
        if len(v) == 1:
            v = v * n
        if len(v) != n:
            many = {2: 'two', 3: 'three'}[n]
            raise RuntimeError(f'{fn}: {what} must either be a single int, or a tuple of '
                               f'{many} ints')
        return v
    return (int(v),) * n


def _pool_out(size, k, s, p, d, ceil_mode):
    """torch's pooling output length (with the ceil_mode rule that the last window must start
    inside the input or the left padding)."""
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = num // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_pool(fn, x, nsp, k, s, p, d):
    if x.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f'non-empty {nsp + 1}D or {nsp + 2}D (batch mode) tensor expected '
                           'for input')
    if x.numel() == 0:
        # (a batch of 0 samples is handled by _empty_batch before this check)
        raise RuntimeError(f'Expected {nsp + 1}D or {nsp + 2}D (batch mode) tensor with optional '
                           f'0 dim batch size for input, but got:{list(x.shape)}')
    if any(v == 0 for v in s):
        raise RuntimeError('stride should not be zero')
    if any(v <= 0 for v in k):
        raise RuntimeError(f'kernel size should be greater than zero, but got '
                           + ' '.join(f'k{a}: {v}' for a, v in zip('DHW'[-nsp:], k)))
    if any(v <= 0 for v in d):
        raise RuntimeError('dilation should be greater than zero, but got '
                           + ' '.join(f'dilation{a}: {v}' for a, v in zip('DHW'[-nsp:], d)))
    if any(pp < 0 or pp > ((dd * (kk - 1) + 1) // 2) for pp, kk, dd in zip(p, k, d)):
        i = next(i for i in range(nsp) if p[i] < 0 or p[i] > (d[i] * (k[i] - 1) + 1) // 2)
        raise RuntimeError(f'pad should be at most half of effective kernel size, but got '
                           f'pad={p[i]}, kernel_size={k[i]} and dilation={d[i]}')


def _size_error(x_shape, out_shape):
    xs = 'x'.join(str(v) for v in x_shape)
    os_ = 'x'.join(str(v) for v in out_shape)
    raise RuntimeError(f'Given input size: ({xs}). Calculated output size: ({os_}). Output size '
                       'is too small')


def _padded(x, p, extent, fill):
    """x (N, C, *S) placed at offset p inside a buffer of size `extent` filled with `fill`."""
    sp = x.shape[2:]
    if not any(p) and all(e <= s for e, s in zip(extent, sp)):
        return x
    ext = tuple(max(e, s + pp) for e, s, pp in zip(extent, sp, p))
    buf = np.full(x.shape[:2] + ext, fill, dtype=x.dtype)
    buf[(Ellipsis,) + tuple(slice(pp, pp + s) for pp, s in zip(p, sp))] = x
    return buf


def _window(pos, k_off, s, out):
    """The strided slice picking, for kernel offset k_off, one element per output."""
    return tuple(slice(o, o + st * (n - 1) + 1, st) for o, st, n in zip(k_off, s, out))


def _lowest(dtype):
    return -np.inf if dtype.kind == 'f' else np.iinfo(dtype).min


# ---- max pooling ------------------------------------------------------------------------------

def _max_pool_nd(input, nsp, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    fn = f'max_pool{nsp}d'
    k = _ntuple(kernel_size, nsp, 'kernel_size', fn)
    s = _ntuple(stride, nsp, 'stride', fn) if stride not in (None, (), []) else k
    p = _ntuple(padding, nsp, 'padding', fn)
    d = _ntuple(dilation, nsp, 'dilation', fn)
    _check_pool(fn, input, nsp, k, s, p, d)
    x = _batched(input, nsp)
    sp = x.shape[2:]
    out = tuple(_pool_out(n, kk, ss, pp, dd, ceil_mode)
                for n, kk, ss, pp, dd in zip(sp, k, s, p, d))
    if any(o <= 0 for o in out):
        _size_error(x.shape[1:], x.shape[1:2] + out)
    extent = tuple((o - 1) * ss + dd * (kk - 1) + 1 for o, ss, dd, kk in zip(out, s, d, k))
    if _tiled(k, s, p, d, extent, sp):
        best, arg = _max_tiled_split(x, k, out)
    else:
        best, arg = _max_windows(x, k, s, p, d, out, extent)
    meta = (x.shape, k, s, p, d, out)
    unb = input.dim() == nsp + 1
    result = _record(_MAX_POOL[nsp], best[0] if unb else best, (input,), arg=arg, meta=meta)
    if return_indices:
        idx = _kernel_arg_to_index(arg, meta)
        return result, _wrap(idx[0] if unb else idx)
    return result


def _tiled(k, s, p, d, extent, sp):
    """Windows that tile the input exactly (kernel == stride, no padding or dilation)."""
    return (k == s and not any(p) and all(v == 1 for v in d) and
            all(e <= n for e, n in zip(extent, sp)))


def _tile_views(x, k, out):
    """The strided (N, C, *out) view of each kernel position of exactly tiling windows."""
    return [x[(Ellipsis,) + tuple(slice(a, a + o * kk, kk) for a, o, kk in zip(pos, out, k))]
            for pos in np.ndindex(*k)]


# Max pooling over exactly tiling windows (LeNet's and U-Net's 2x2) splits its batch across
# ember's threads as the convolutions do (the same image ranges, the first on the calling
# thread), from this many input elements up (1.2-1.4x on LeNet's first and U-Net's first
# pooling; 20% slower at 2^17): each core then reads the half of the input that its part of
# the convolution before it wrote.
_SPLIT_MIN = 1 << 18


# The compiled 1-d and 2-d tiled max pool (ember/_kernels/src/pool.c): one pass over the input
# for the maximum and its position, one write of the gradient, per image range.
for _s in ('f32', 'f64'):
    _kernels.declare(f'ember_max_pool2d_tiled_{_s}', None, *['i64'] * 4, 'p', *['i64'] * 4,
                     'p', 'p')
    _kernels.declare(f'ember_max_pool2d_tiled_backward_{_s}', None, *['i64'] * 8, 'p', 'p',
                     'p')
_POOL_SUFFIX = {np.dtype(np.float32): 'f32', np.dtype(np.float64): 'f64'}


def _pool_kernel(name, a, k):
    """The compiled kernel `name` for this C-contiguous float input or gradient a (N, C, *S)
    and kernel k (1-d or 2-d), or None (the NumPy code)."""
    suffix = _POOL_SUFFIX.get(a.dtype)
    if suffix is None or len(k) > 2 or not a.flags.c_contiguous or int(np.prod(k)) >= 32767:
        return None
    return _kernels.get(f'ember_{name}_{suffix}')


def _plane_dims(shape, k, out):
    """(H, W, kh, kw, OH, OW) of a 1-d or 2-d pooling, 1-d as one row."""
    sp, k, out = tuple(shape[2:]), tuple(k), tuple(out)
    if len(sp) == 1:
        sp, k, out = (1,) + sp, (1,) + k, (1,) + out
    return sp + k + out


def _kernel_ranges(name, a, k, args, ranges, n, c):
    """The kernel `name` (_pool_kernel of a and k) over the planes of each image range, on the
    kernels' threads, or over all n images on this thread when there are no ranges. args:
    the call's arguments after the plane range."""
    if ranges is None:
        _pool_kernel(name, a, k)(0, n * c, *args)
    else:
        # the part looks the kernel up itself: while it records, get() gives the recorder
        run_ranges(lambda i, j: _pool_kernel(name, a, k)(i * c, j * c, *args), ranges,
                   deferred=True)


def _max_tiled_split(x, k, out):
    ranges = batch_ranges(x.shape[0], x.size, _SPLIT_MIN)
    fn = _pool_kernel('max_pool2d_tiled', x, k)
    if ranges is None and fn is None:
        return _max_tiled(x, k, out)
    kk = int(np.prod(k))
    best = np.empty(x.shape[:2] + tuple(out), dtype=x.dtype)
    arg = np.empty(best.shape, dtype=np.int16 if kk < 32767 else np.int32)
    if fn is not None:
        c = x.shape[1]
        h, w, kh, kw, oh, ow = _plane_dims(x.shape, k, out)
        args = (h, w, _kernels.addr(x), kh, kw, oh, ow, _kernels.addr(best), _kernels.addr(arg))
        _kernel_ranges('max_pool2d_tiled', x, k, args, ranges, x.shape[0], c)
        return best, arg
    run_ranges(lambda i, j: _max_tiled(x[i:j], k, out, best[i:j], arg[i:j]), ranges)
    return best, arg


def _max_tiled(x, k, out, best=None, arg=None):
    """Max over non-overlapping windows with whole-array passes over the k*k strided views
    (no copy into window rows, no argmax along a short axis); written into best and arg
    when given."""
    views = _tile_views(x, k, out)
    if best is None:
        best = views[0].copy()
    else:
        np.copyto(best, views[0])
    for v in views[1:]:
        np.maximum(best, v, out=best)  # propagates NaN, as torch does
    kk = len(views)
    # the first position holding the maximum (ties: the first wins, as in torch) is the number
    # of leading positions that all differ from it: a running AND of "differs", summed
    arg = _buffer(arg, best.shape, np.int16 if kk < 32767 else np.int32, True)
    differs = None
    for v in views[:-1]:
        m = v != best
        if differs is None:
            differs = m
        else:
            np.logical_and(differs, m, out=differs)
        arg += differs
    if x.dtype.kind in 'fc':
        nan = best != best
        if nan.any():
            # NaN windows: torch points at the last NaN (each NaN replaces the running max)
            last = np.zeros(best.shape, dtype=arg.dtype)
            for i in range(kk):
                np.copyto(last, i, where=views[i] != views[i])
            np.copyto(arg, last, where=nan)
    return best, arg


def _max_windows(x, k, s, p, d, out, extent):
    xp = _padded(x, p, extent, _lowest(x.dtype))
    best = arg = None
    isfloat = x.dtype.kind == 'f'
    for i, pos in enumerate(np.ndindex(*k)):
        v = xp[(Ellipsis,) + _window(pos, tuple(a * dd for a, dd in zip(pos, d)), s, out)]
        if best is None:
            best = v.copy()
            arg = np.zeros(best.shape, dtype=np.int16 if i < 32767 else np.int32)
            continue
        m = v > best
        if isfloat:
            m |= v != v  # a NaN wins, as in torch
        np.copyto(best, v, where=m)
        arg[m] = i
    return best, arg


def _kernel_arg_to_index(arg, meta):
    """Winning kernel positions -> torch's flat indices into each (n, c) input plane."""
    shape, k, s, p, d, out = meta
    sp = shape[2:]
    kpos = np.unravel_index(arg, k)
    flat = np.zeros(arg.shape, dtype=np.int64)
    nsp = len(sp)
    for i in range(nsp):
        grid = (np.arange(out[i], dtype=np.int64) * s[i] - p[i]).reshape(
            (-1,) + (1,) * (nsp - 1 - i))
        flat = flat * sp[i] + (grid + kpos[i].astype(np.int64) * d[i])
    return flat


def _max_scatter_tiled(g, arg, meta, buf=None):
    """_max_scatter of exactly tiling windows, into buf when given.

    Each window's gradient goes to its winner. The windows do not overlap, so every covered
    element is written exactly once: g * (arg == i) per kernel position, computed contiguously
    and then stored through the strided view (much faster than a masked strided copy).
    "+ 0.0" turns the -0.0 of a negative g times False into +0.0."""
    shape, k, _, _, _, out = meta
    shape = g.shape[:2] + tuple(shape[2:])
    if g.dtype.kind == 'f' and not np.isfinite(g).all():
        buf = _buffer(buf, shape, g.dtype, True)  # inf * False would be nan: mask instead
        for i, v in enumerate(_tile_views(buf, k, out)):
            np.copyto(v, g, where=arg == i)
        buf += 0    # a winner's -0.0 -> +0.0, as torch's accumulation into zeros gives
        return buf
    # windows may stop short of the input's end: those trailing elements stay zero
    exact = all(o * kk == n for o, kk, n in zip(out, k, shape[2:]))
    buf = _buffer(buf, shape, g.dtype, not exact)
    tmp = np.empty(g.shape, dtype=g.dtype)
    for i, v in enumerate(_tile_views(buf, k, out)):
        np.multiply(g, arg == i, out=tmp)
        tmp += 0
        v[...] = tmp
    return buf


def _buffer(buf, shape, dtype, zero):
    """buf (zeroed when zero), or a new array."""
    if buf is None:
        return (np.zeros if zero else np.empty)(shape, dtype=dtype)
    if zero:
        buf[...] = 0
    return buf


def _max_scatter(g, arg, meta):
    """The max-pool gradient: each output's grad added at its winning input position."""
    shape, k, s, p, d, out = meta
    sp = shape[2:]
    ext0 = tuple((o - 1) * ss + dd * (kk - 1) + 1 for o, ss, dd, kk in zip(out, s, d, k))
    if _tiled(k, s, p, d, ext0, sp):
        ranges = batch_ranges(shape[0], int(np.prod(shape)), _SPLIT_MIN)
        fn = _pool_kernel('max_pool2d_tiled_backward', g, k)
        if fn is not None and arg.dtype == np.int16 and arg.flags.c_contiguous:
            buf = np.empty(shape[:2] + tuple(sp), dtype=g.dtype)
            c = shape[1]
            h, w, kh, kw, oh, ow = _plane_dims(shape, k, out)
            args = (h, w, kh, kw, oh, ow, _kernels.addr(g), _kernels.addr(arg), _kernels.addr(buf))
            _kernel_ranges('max_pool2d_tiled_backward', g, k, args, ranges, shape[0], c)
            return buf
        if ranges is None:
            return _max_scatter_tiled(g, arg, meta)
        buf = np.empty(shape, dtype=g.dtype)
        run_ranges(lambda i, j: _max_scatter_tiled(g[i:j], arg[i:j], meta, buf[i:j]), ranges)
        return buf
    extent = tuple(max(n + pp, e) for n, pp, e in zip(sp, p, ext0))
    buf = np.zeros(shape[:2] + extent, dtype=g.dtype)
    nonoverlap = all(ss >= dd * (kk - 1) + 1 for ss, dd, kk in zip(s, d, k))
    zero = np.zeros((), dtype=g.dtype)
    for i, pos in enumerate(np.ndindex(*k)):
        w = buf[(Ellipsis,) + _window(pos, tuple(a * dd for a, dd in zip(pos, d)), s, out)]
        if nonoverlap:
            np.copyto(w, g, where=arg == i)
        else:
            w += np.where(arg == i, g, zero)
    return buf[(Ellipsis,) + tuple(slice(pp, pp + n) for pp, n in zip(p, sp))]


def _max_gather(gg, arg, meta):
    """Adjoint of _max_scatter: read gg at each output's winning input position."""
    shape, k, s, p, d, out = meta
    extent = tuple((o - 1) * ss + dd * (kk - 1) + 1 for o, ss, dd, kk in zip(out, s, d, k))
    ggp = _padded(gg, p, extent, 0)
    res = np.zeros(arg.shape, dtype=gg.dtype)
    for i, pos in enumerate(np.ndindex(*k)):
        v = ggp[(Ellipsis,) + _window(pos, tuple(a * dd for a, dd in zip(pos, d)), s, out)]
        np.copyto(res, v, where=arg == i)
    return res


def _batched(t, nsp):
    """The array of t with a batch dim (a view): torch's pooling kernels take (C, *S) too."""
    return t._data[None] if t.dim() == nsp + 1 else t._data


def _call_batched(fn, g, nbatched, *args):
    """fn on g given a batch dim when g lacks one (unbatched input), removing it after."""
    if g.ndim == nbatched:
        return fn(g, *args)
    return fn(g[None], *args)[0]


# The pooling gradients are fused NumPy nodes whose own gradient is again a pooling node, so
# double backward works: max pooling scatters to the argmax and gathers back from it, average
# pooling spreads evenly and averages back. arg: the argmax per window (kernel offset), meta:
# (batched input shape, kernel, stride, padding, dilation, output size).

def _max_pool_backward(grad, arg, meta):
    nsp = len(meta[1])
    return _record(_MAX_POOL_BACKWARD[nsp],
                   _call_batched(_max_scatter, grad._data, nsp + 2, arg, meta), (grad,),
                   arg=arg, meta=meta)


def _max_pool_backward_backward(grad, arg, meta):
    nsp = len(meta[1])
    return _record(_MAX_POOL[nsp], _call_batched(_max_gather, grad._data, nsp + 2, arg, meta),
                   (grad,), arg=arg, meta=meta)


_MAX_POOL = {  # by the number of spatial dims
    2: derivative('MaxPool2DWithIndicesBackward0')(_max_pool_backward),
    3: derivative('MaxPool3DWithIndicesBackward0')(_max_pool_backward)}
_MAX_POOL_BACKWARD = {
    2: derivative('MaxPool2DWithIndicesBackwardBackward0')(_max_pool_backward_backward),
    3: derivative('MaxPool3DWithIndicesBackwardBackward0')(_max_pool_backward_backward)}


@_empty_batch(4)
def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return _max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


@_empty_batch(5)
def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return _max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


@_empty_batch(4)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W)."""
    if input.is_quantized:  # on its values, requantized alike (ember/_ops/quantized.py)
        return input._qop(max_pool2d, kernel_size, stride, padding, dilation, ceil_mode,
                          return_indices)
    return _max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices)


@autocast('fp32')
@_empty_batch(5)
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices)


def _one(v, name, fn):
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise RuntimeError(f'{fn}() argument \'{name}\' must be tuple of ints of length 1, '
                               f'not length {len(v)}')
        return int(v[0])
    return int(v)


@_empty_batch(3)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L), via the 2-D kernel."""
    if input.dim() not in (2, 3):
        raise RuntimeError('max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 '
                           f'dim batch size for input, but got:{list(input.shape)}')
    k = _one(kernel_size, 'kernel_size', 'max_pool1d')
    s = k if stride in (None, (), []) else _one(stride, 'stride', 'max_pool1d')
    p = _one(padding, 'padding', 'max_pool1d')
    d = _one(dilation, 'dilation', 'max_pool1d')
    res = _max_pool_nd(input.unsqueeze(-2), 2, (1, k), (1, s), (0, p), (1, d), ceil_mode,
                       return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


@_empty_batch(3)
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---- average pooling --------------------------------------------------------------------------

def _avg_divisor(sp, k, s, p, out, count_include_pad, divisor_override, dtype):
    """The per-output divisor, a broadcastable product of per-dim window lengths."""
    if divisor_override:
        return np.asarray(divisor_override, dtype=dtype)
    div = np.ones((1,) * len(sp), dtype=dtype)
    for i, (n, kk, ss, pp, o) in enumerate(zip(sp, k, s, p, out)):
        start = np.arange(o) * ss - pp
        end = np.minimum(start + kk, n + pp)
        if count_include_pad:
            ln = end - start
        else:
            ln = np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * len(sp)
        shape[i] = o
        div = div * ln.astype(dtype).reshape(shape)
    return div


def _avg_sum_windows(xp, k, s, out):
    acc = None
    for pos in np.ndindex(*k):
        v = xp[(Ellipsis,) + _window(pos, pos, s, out)]
        if acc is None:
            acc = v.copy()
        else:
            acc += v
    return acc


def _avg_forward(x, meta):
    shape, k, s, p, out, div = meta
    extent = tuple((o - 1) * ss + kk for o, ss, kk in zip(out, s, k))
    if not any(p) and all(e <= n for e, n in zip(extent, shape[2:])):
        # the windows lie inside x: their strided slices added in window order (torch's order
        # within a window); a reshape summed over its two length-2 axes took 15x as long
        acc = _avg_sum_windows(x, k, s, out)
    else:
        acc = _avg_sum_windows(_padded(x, p, extent, 0), k, s, out)
    acc /= div
    return acc


def _avg_backward(g, meta):
    shape, k, s, p, out, div = meta
    sp = shape[2:]
    gd = g / div
    extent = tuple(max(n + pp, (o - 1) * ss + kk) for n, pp, o, ss, kk in zip(sp, p, out, s, k))
    if all(kk == ss for kk, ss in zip(k, s)):
        # non-overlapping windows: each output grad written over its block, a strided slice
        # per window position (a broadcast reshaped to the image copied 3.5x slower)
        tiled = tuple(o * kk for o, kk in zip(out, k))
        covered = not any(p) and tiled == tuple(sp)    # every element in one window
        buf = (np.empty if covered else np.zeros)(shape[:2] + extent, dtype=g.dtype)
        for pos in np.ndindex(*k):
            buf[(Ellipsis,) + _window(pos, pos, s, out)] = gd
    else:
        buf = np.zeros(shape[:2] + extent, dtype=g.dtype)
        for pos in np.ndindex(*k):
            buf[(Ellipsis,) + _window(pos, pos, s, out)] += gd
    return buf[(Ellipsis,) + tuple(slice(pp, pp + n) for pp, n in zip(p, sp))]


def _avg_pool_nd(input, nsp, kernel_size, stride, padding, ceil_mode, count_include_pad,
                 divisor_override):
    fn = f'avg_pool{nsp}d'
    k = _ntuple(kernel_size, nsp, 'kernel_size', fn)
    s = _ntuple(stride, nsp, 'stride', fn) if stride not in (None, (), []) else k
    p = _ntuple(padding, nsp, 'padding', fn)
    _check_pool(fn, input, nsp, k, s, p, (1,) * nsp)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError('divisor must be not zero')
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{fn}" for integer tensors is not implemented in ember')
    x = _batched(input, nsp)
    sp = x.shape[2:]
    out = tuple(_pool_out(n, kk, ss, pp, 1, ceil_mode) for n, kk, ss, pp in zip(sp, k, s, p))
    if any(o <= 0 for o in out):
        _size_error(x.shape[1:], x.shape[1:2] + out)
    div = _avg_divisor(sp, k, s, p, out, count_include_pad, divisor_override, x.dtype)
    meta = (x.shape, k, s, p, out, div)
    y = _avg_forward(x, meta)
    return _record(_AVG_POOL[nsp], y if input.dim() == nsp + 2 else y[0], (input,), meta=meta)


def _avg_pool_backward(grad, meta):
    nsp = len(meta[1])
    return _record(_AVG_POOL_BACKWARD[nsp],
                   _call_batched(_avg_backward, grad._data, nsp + 2, meta), (grad,), meta=meta)


def _avg_pool_backward_backward(grad, meta):
    nsp = len(meta[1])
    return _record(_AVG_POOL[nsp], _call_batched(_avg_forward, grad._data, nsp + 2, meta),
                   (grad,), meta=meta)


_AVG_POOL = {
    2: derivative('AvgPool2DBackward0')(_avg_pool_backward),
    3: derivative('AvgPool3DBackward0')(_avg_pool_backward)}
_AVG_POOL_BACKWARD = {
    2: derivative('AvgPool2DBackwardBackward0')(_avg_pool_backward_backward),
    3: derivative('AvgPool3DBackwardBackward0')(_avg_pool_backward_backward)}


@_empty_batch(4)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W)."""
    if input.is_quantized:  # on its values, requantized alike (ember/_ops/quantized.py)
        return input._qop(avg_pool2d, kernel_size, stride, padding, ceil_mode,
                          count_include_pad, divisor_override)
    return _avg_pool_nd(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


@autocast('fp32')
@_empty_batch(5)
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool_nd(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override)


@_empty_batch(3)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L), via the 2-D kernel."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f'Expected 2 to 3 dimensions, but got {input.dim()}-dimensional '
                           "tensor for argument #1 'self' (while checking arguments for "
                           'avg_pool1d)')
    k = _one(kernel_size, 'kernel_size', 'avg_pool1d')
    s = k if stride in (None, (), []) else _one(stride, 'stride', 'avg_pool1d')
    p = _one(padding, 'padding', 'avg_pool1d')
    return _avg_pool_nd(input.unsqueeze(-2), 2, (1, k), (1, s), (0, p), ceil_mode,
                        count_include_pad, None).squeeze(-2)


# ---- adaptive pooling -------------------------------------------------------------------------

def _adaptive_out(input, nsp, output_size, fn):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != nsp:
            raise RuntimeError(f'{fn}: output_size must be {nsp}')
        sizes = tuple(output_size)
    else:
        sizes = (output_size,) * nsp
    sp = tuple(input.shape[-nsp:])
    return tuple(sp[i] if v is None else int(v) for i, v in enumerate(sizes))


def _check_adaptive(input, nsp, fn, colon=''):
    if input.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f'{fn}(): Expected {nsp + 1}D or {nsp + 2}D tensor, but got{colon} '
                           f'{list(input.shape)}')
    for i in range(input.dim() - nsp, input.dim()):
        if input.shape[i] <= 0:
            raise RuntimeError(f'{fn}(): Expected input to have non-zero size for non-batch '
                               f'dimensions, but input has sizes {list(input.shape)} with '
                               f'dimension {i} being empty')


def _bounds(n_in, n_out):
    o = np.arange(n_out)
    return (o * n_in) // n_out, -((-(o + 1) * n_in) // n_out)


def _avg_matrix(n_in, n_out, dtype):
    """(n_out, n_in) matrix averaging torch's adaptive windows [floor(i*in/out), ceil(...))."""
    start, end = _bounds(n_in, n_out)
    j = np.arange(n_in)
    m = (j >= start[:, None]) & (j < end[:, None])
    return (m / (end - start)[:, None]).astype(dtype)


def _apply_dims(x, mats, transpose=False):
    """Contract each trailing spatial dim of x with its matrix (separable pooling)."""
    nsp = len(mats)
    if nsp == 2:
        a, b = mats
        if transpose:
            return np.matmul(np.matmul(a.T, x), b)
        return np.matmul(np.matmul(a, x), b.T)
    for i, m in enumerate(mats):
        ax = x.ndim - nsp + i
        x = np.moveaxis(np.tensordot(x, m if transpose else m.T, axes=([ax], [0])), -1, ax)
    return np.ascontiguousarray(x)


def _adaptive_avg_nd(input, nsp, output_size):
    fn = f'adaptive_avg_pool{nsp}d'
    _check_adaptive(input, nsp, fn)
    out = _adaptive_out(input, nsp, output_size, fn)
    if all(o == 1 for o in out):
        return input.mean(tuple(range(-nsp, 0)), keepdim=True)
    x = input._data
    mats = tuple(_avg_matrix(n, o, x.dtype) for n, o in zip(x.shape[-nsp:], out))
    return _record(_ADAPTIVE_AVG_POOL[nsp], _apply_dims(x, mats), (input,), mats=mats)


# mats: one (out, in) averaging matrix per spatial dim; the gradient applies them transposed
def _adaptive_avg_pool_backward(grad, mats):
    nsp = len(mats)
    return _record(_ADAPTIVE_AVG_POOL_BACKWARD[nsp], _apply_dims(grad._data, mats, True),
                   (grad,), mats=mats)


def _adaptive_avg_pool_backward_backward(grad, mats):
    nsp = len(mats)
    return _record(_ADAPTIVE_AVG_POOL[nsp], _apply_dims(grad._data, mats), (grad,), mats=mats)


_ADAPTIVE_AVG_POOL = {
    2: derivative('AdaptiveAvgPool2DBackward0')(_adaptive_avg_pool_backward),
    3: derivative('AdaptiveAvgPool3DBackward0')(_adaptive_avg_pool_backward)}
_ADAPTIVE_AVG_POOL_BACKWARD = {
    2: derivative('AdaptiveAvgPool2DBackwardBackward0')(_adaptive_avg_pool_backward_backward),
    3: derivative('AdaptiveAvgPool3DBackwardBackward0')(_adaptive_avg_pool_backward_backward)}


@_empty_batch(4)
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (windows [floor(i*H/h), ceil((i+1)*H/h)))."""
    if input.is_quantized:  # on its values, requantized alike (ember/_ops/quantized.py)
        return input._qop(adaptive_avg_pool2d, output_size)
    return _adaptive_avg_nd(input, 2, output_size)


@autocast('fp32')
@_empty_batch(5)
def adaptive_avg_pool3d(input, output_size):
    """3-D adaptive average pooling."""
    return _adaptive_avg_nd(input, 3, output_size)


@_empty_batch(3)
def adaptive_avg_pool1d(input, output_size):
    """1-D adaptive average pooling, via the 2-D kernel."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f'Expected 2 to 3 dimensions, but got {input.dim()}-dimensional '
                           "tensor for argument #1 'self' (while checking arguments for "
                           'adaptive_avg_pool1d)')
    o = _one(output_size, 'output_size', 'adaptive_avg_pool1d')
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


def _adaptive_max_nd(input, nsp, output_size, return_indices):
    fn = f'adaptive_max_pool{nsp}d'
    _check_adaptive(input, nsp, fn, colon=':')
    out = _adaptive_out(input, nsp, output_size, fn)
    x = _batched(input, nsp)
    sp = x.shape[2:]
    # one padded index table per dim: (out, kmax), windows shorter than kmax repeat their
    # last element (harmless for a max, and argmax keeps the first occurrence)
    tables = []
    for n, o in zip(sp, out):
        start, end = _bounds(n, o)
        kmax = int((end - start).max())
        tables.append(np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1))
    index = [slice(None), slice(None)]
    for i, t in enumerate(tables):
        shape = [1] * (2 * nsp)
        shape[2 * i], shape[2 * i + 1] = t.shape
        index.append(t.reshape(shape))
    g = x[tuple(index)]  # (N, C, o1, k1, o2, k2, ...)
    perm = [0, 1] + [2 + 2 * i for i in range(nsp)] + [3 + 2 * i for i in range(nsp)]
    g = g.transpose(perm).reshape(x.shape[:2] + out + (-1,))
    am = np.argmax(g, axis=-1)
    vals = np.take_along_axis(g, am[..., None], axis=-1)[..., 0]
    kshape = tuple(t.shape[1] for t in tables)
    kpos = np.unravel_index(am, kshape)
    flat = np.zeros(am.shape, dtype=np.int64)
    for i, t in enumerate(tables):
        o_idx = np.arange(out[i]).reshape((-1,) + (1,) * (nsp - 1 - i))
        flat = flat * sp[i] + t[o_idx, kpos[i]]
    if input.dim() == nsp + 1:
        vals, flat = vals[0], flat[0]
    result = _record(_ADAPTIVE_MAX_POOL[nsp], vals, (input,), idx=flat, shape=tuple(input.shape),
                     nsp=nsp)
    if return_indices:
        return result, _wrap(flat)
    return result


def _scatter_add_flat(g, idx, shape):
    """zeros(shape) with g added at flat spatial indices idx (per (n, c) plane)."""
    n, c = shape[:2]
    plane = int(np.prod(shape[2:]))
    lin = (np.arange(n * c, dtype=np.int64).reshape(n, c, *(1,) * (idx.ndim - 2)) * plane + idx)
    out = np.bincount(lin.ravel(), weights=g.ravel(), minlength=n * c * plane)
    return out.astype(g.dtype, copy=False).reshape(shape)


def _gather_flat(src, idx):
    n, c = idx.shape[:2]
    return np.take_along_axis(src.reshape(n, c, -1), idx.reshape(n, c, -1),
                              axis=2).reshape(idx.shape)


def _adaptive_max_pool_backward(grad, idx, shape, nsp):
    if len(shape) == nsp + 2:
        g = _scatter_add_flat(grad._data, idx, shape)
    else:
        g = _scatter_add_flat(grad._data[None], idx[None], (1,) + shape)[0]
    return _record(AdaptiveMaxPool2DBackwardBackward0, g, (grad,), idx=idx, shape=shape, nsp=nsp)


# (torch's double backward node has this name for 3-D pooling too)
@derivative
def AdaptiveMaxPool2DBackwardBackward0(grad, idx, shape, nsp):
    if len(shape) == nsp + 2:
        g = _gather_flat(grad._data, idx)
    else:
        g = _gather_flat(grad._data[None], idx[None])[0]
    return _record(_ADAPTIVE_MAX_POOL[nsp], g, (grad,), idx=idx, shape=shape, nsp=nsp)


_ADAPTIVE_MAX_POOL = {
    2: derivative('AdaptiveMaxPool2DBackward0')(_adaptive_max_pool_backward),
    3: derivative('AdaptiveMaxPool3DBackward0')(_adaptive_max_pool_backward)}


@_empty_batch(4)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size."""
    return _adaptive_max_nd(input, 2, output_size, return_indices)


@_empty_batch(5)
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D adaptive max pooling."""
    return _adaptive_max_nd(input, 3, output_size, return_indices)


@_empty_batch(3)
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D adaptive max pooling, via the 2-D kernel."""
    if input.dim() not in (2, 3):
        raise RuntimeError('adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: '
                           f'{list(input.shape)}')
    o = _one(output_size, 'output_size', 'adaptive_max_pool1d')
    res = _adaptive_max_nd(input.unsqueeze(-2), 2, (1, o), return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


@_empty_batch(3)
def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


@_empty_batch(4)
def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


@_empty_batch(5)
def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


# ---- LP pooling -------------------------------------------------------------------------------

def _lp(out, norm_type, kprod):
    # torch's sign(out) * relu(|out|); sign has a zero gradient, so a detached sign is the same
    return (out.detach().sign() * relu(out.abs())).mul(kprod).pow(1.0 / norm_type)


@_empty_batch(3)
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over the window of x**p) ** (1/p)."""
    if math.isinf(norm_type):
        return max_pool1d(input, kernel_size, stride, ceil_mode=ceil_mode)
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, norm_type, _one(kernel_size, 'kernel_size', 'lp_pool1d'))


@_empty_batch(4)
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling."""
    if math.isinf(norm_type):
        return max_pool2d(input, kernel_size, stride, ceil_mode=ceil_mode)
    k = _ntuple(kernel_size, 2, 'kernel_size', 'lp_pool2d')
    out = avg_pool2d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp(out, norm_type, k[0] * k[1])


@_empty_batch(5)
def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling."""
    if math.isinf(norm_type):
        return max_pool3d(input, kernel_size, stride, ceil_mode=ceil_mode)
    k = _ntuple(kernel_size, 3, 'kernel_size', 'lp_pool3d')
    out = avg_pool3d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp(out, norm_type, k[0] * k[1] * k[2])


# ---- max unpooling ----------------------------------------------------------------------------

def _unpool_size(input, nsp, kernel_size, stride, padding, output_size):
    fn = f'max_unpool{nsp}d'
    k = _ntuple(kernel_size, nsp, 'kernel_size', fn)
    s = _ntuple(stride, nsp, 'stride', fn) if stride not in (None, (), []) else k
    p = _ntuple(padding, nsp, 'padding', fn)
    sp = tuple(input.shape[-nsp:])
    default = tuple((n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(sp, s, p, k))
    if output_size is None:
        return default
    output_size = tuple(int(v) for v in output_size)
    if len(output_size) == nsp + 2 or len(output_size) == nsp + 1:
        output_size = output_size[-nsp:]
    if len(output_size) != nsp:
        raise ValueError(f'output_size should be a sequence containing {nsp} or {nsp + 2} '
                         f'elements, but it has a length of \'{len(output_size)}\'')
    for i, v in enumerate(output_size):
        lo = default[i] - s[i]
        hi = default[i] + s[i]
        if not lo < v < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between '
                             f'{lo} and {hi})')
    return output_size


def _max_unpool_nd(input, indices, nsp, kernel_size, stride, padding, output_size):
    out = _unpool_size(input, nsp, kernel_size, stride, padding, output_size)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f'Expected shape of indices to be same as that of the input tensor '
                           f'({list(input.shape)}) but got indices tensor with shape: '
                           f'{list(indices.shape)}')
    unb = input.dim() == nsp + 1
    x = _batched(input, nsp)
    idx = _batched(indices, nsp).astype(np.int64, copy=False)
    plane = int(np.prod(out))
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        bad = int(idx.max() if idx.max() >= plane else idx.min())
        raise RuntimeError(f'Found an invalid max index: {bad} (output volumes are of size '
                           f"{'x'.join(str(v) for v in out)}")
    n, c = x.shape[:2]
    res = np.zeros((n, c, plane), dtype=x.dtype)
    np.put_along_axis(res, idx.reshape(n, c, -1), x.reshape(n, c, -1), axis=2)
    res = res.reshape((n, c) + tuple(out))
    return _record(_MAX_UNPOOL[nsp], res[0] if unb else res, (input,), idx=idx, unb=unb)


def _max_unpool_backward(grad, idx, unb):
    """idx: the (batched) indices the input went to; unb: the input had no batch dim."""
    n, c = idx.shape[:2]
    flat = grad.reshape(n, c, -1)
    g = gather(flat, 2, _wrap(idx.reshape(n, c, -1))).reshape(idx.shape)
    return g[0] if unb else g


_MAX_UNPOOL = {
    2: derivative('MaxUnpool2DBackward0')(_max_unpool_backward),
    3: derivative('MaxUnpool3DBackward0')(_max_unpool_backward)}


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool1d: values written back at their indices, zeros elsewhere."""
    k = _one(kernel_size, 'kernel_size', 'max_unpool1d')
    s = k if stride in (None, (), []) else _one(stride, 'stride', 'max_unpool1d')
    p = _one(padding, 'padding', 'max_unpool1d')
    if output_size is not None:
        output_size = (1,) + tuple(output_size)[-1:]
    return _max_unpool_nd(input.unsqueeze(-2), indices.unsqueeze(-2), 2, (1, k), (1, s),
                          (0, p), output_size).squeeze(-2)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: values written back at their indices, zeros elsewhere."""
    return _max_unpool_nd(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool3d: values written back at their indices, zeros elsewhere."""
    return _max_unpool_nd(input, indices, 3, kernel_size, stride, padding, output_size)
