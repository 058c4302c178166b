"""Padding and resampling: F.pad, F.interpolate (and the deprecated F.upsample*),
F.pixel_shuffle / F.pixel_unshuffle and F.channel_shuffle.

Every non-constant pad and every interpolation mode is separable: along each spatial axis the
output is a weighted sum of a few gathers ``w_k * take(x, idx_k, axis)``. A "plan" lists those
taps per axis; the forward pass applies them, and the backward pass applies the adjoint (a
scatter-add per tap done with a sort plus ``np.add.reduceat``, no Python loop over elements).
Area mode (adaptive average pooling) uses a small dense averaging matrix per axis instead.
"""
import math
import numbers
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import _record, derivative

__all__ = ['pad', 'interpolate', 'upsample', 'upsample_nearest', 'upsample_bilinear',
           'pixel_shuffle', 'pixel_unshuffle', 'channel_shuffle', 'native_channel_shuffle']


# ---- the separable gather machinery -----------------------------------------------------------

def _bshape(ndim, axis, n):
    s = [1] * ndim
    s[axis] = n
    return tuple(s)


def _apply_plan(d, plan):
    """Apply [(axis, n_in, taps or matrix)] to array d, one axis after the other."""
    if not plan:
        return d.copy()
    for axis, n_in, op in plan:
        if isinstance(op, np.ndarray):  # a dense (n_out, n_in) matrix
            d = np.moveaxis(np.moveaxis(d, axis, -1) @ op.T.astype(d.dtype, copy=False), -1,
                            axis)
            continue
        out = None
        for idx, w in op:
            t = np.take(d, idx, axis=axis)
            if w is not None:
                t *= w.astype(d.dtype, copy=False).reshape(_bshape(d.ndim, axis, w.shape[0]))
            if out is None:
                out = t
            else:
                out += t
        d = out
    return np.ascontiguousarray(d)


def _scatter_axis(g, idx, n, axis):
    """The adjoint of take(x, idx, axis) for x of length n along axis: sums g into idx."""
    m = idx.shape[0]
    if m == n and np.array_equal(idx, np.arange(n)):
        return g
    if n and m % n == 0 and m > n and np.array_equal(idx, np.arange(m) // (m // n)):
        # each index repeated s times in a row (nearest upsampling by an integer factor): the
        # sum of s strided slices, added in order as torch's kernel adds them along one axis.
        # reduceat over runs of 2 took 1.1 ms for an (8, 16, 32, 32) gradient, the slices 0.1
        s = m // n
        key = [slice(None)] * g.ndim
        key[axis] = slice(0, None, s)
        out = g[tuple(key)].copy()
        for k in range(1, s):
            key[axis] = slice(k, None, s)
            out += g[tuple(key)]
        return out
    order = np.argsort(idx, kind='stable')
    s = idx[order]
    if not np.array_equal(order, np.arange(m)):
        g = np.take(g, order, axis=axis)
    if m == 0:
        shape = list(g.shape)
        shape[axis] = n
        return np.zeros(shape, g.dtype)
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    sums = np.add.reduceat(g, starts, axis=axis) if starts.shape[0] != m else g
    uniq = s[starts]
    if uniq.shape[0] == n:
        return sums
    shape = list(g.shape)
    shape[axis] = n
    out = np.zeros(shape, g.dtype)
    key = [slice(None)] * g.ndim
    key[axis] = uniq
    out[tuple(key)] = sums
    return out


def _apply_plan_adjoint(g, plan):
    if not plan:
        return g.copy()
    for axis, n_in, op in reversed(plan):
        if isinstance(op, np.ndarray):
            g = np.moveaxis(np.moveaxis(g, axis, -1) @ op.astype(g.dtype, copy=False), -1, axis)
            continue
        out = None
        for idx, w in op:
            t = g
            if w is not None:
                t = g * w.astype(g.dtype, copy=False).reshape(_bshape(g.ndim, axis, w.shape[0]))
            t = _scatter_axis(t, idx, n_in, axis)
            if out is None:
                out = t if t is not g else t.copy()
            else:
                out += t
        g = out
    return np.ascontiguousarray(g)


def _resample(input, plan, node):
    """plan(input), recorded as a `node` (one of the classes below: torch's grad_fn names)."""
    return _record(node, _apply_plan(input._data, plan), (input,), plan=plan)


def _resample_backward(grad, plan):
    """The gradient of every resampling: the plan's adjoint, itself differentiable."""
    return _record(ResampleBackward0, _apply_plan_adjoint(grad._data, plan), (grad,), plan=plan)


@derivative
def ResampleBackward0(gg, plan):
    """The gradient of the adjoint: the plan again."""
    return _record(ResampleBackwardBackward0, _apply_plan(gg._data, plan), (gg,), plan=plan)


# one node class per torch grad_fn name, all with the same formula
ResampleBackwardBackward0 = derivative('ResampleBackwardBackward0')(_resample_backward)
_CIRCULAR_PAD = derivative('CopySlices')(_resample_backward)  # torch pads by writing slices
_PAD_NODES = {(mode, n): derivative(f'{kind}Pad{n}DBackward0')(_resample_backward)
              for mode, kind in (('reflect', 'Reflection'), ('replicate', 'Replication'))
              for n in (1, 2, 3)}
_PAD_NODES.update({('circular', n): _CIRCULAR_PAD for n in (1, 2, 3)})
_UPSAMPLE_NODES = {(mode, n): derivative(f'Upsample{kind}{n}DBackward0')(_resample_backward)
                   for mode, kind in (('nearest', 'Nearest'), ('nearest-exact', 'NearestExact'))
                   for n in (1, 2, 3)}
_UPSAMPLE_NODES.update({
    (mode, n): derivative(f'Upsample{kind}{n}DBackward0')(_resample_backward)
    for mode, kind, n in (('linear', 'Linear', 1), ('bilinear', 'Bilinear', 2),
                          ('bicubic', 'Bicubic', 2), ('trilinear', 'Trilinear', 3))})
_AA_NODES = {mode: derivative(f'Upsample{kind}2DAaBackward0')(_resample_backward)
             for mode, kind in (('bilinear', 'Bilinear'), ('bicubic', 'Bicubic'))}
_AREA_NODES = {2: derivative('AdaptiveAvgPool2DBackward0')(_resample_backward),
               3: derivative('AdaptiveAvgPool3DBackward0')(_resample_backward)}


# ---- F.pad ------------------------------------------------------------------------------------

_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_index(n, left, right, mode):
    """Source index along one axis for each output position of a non-constant pad."""
    if mode == 'circular':
        # torch crops the negative sides first, then wraps around what is left
        lo, hi = max(-left, 0), n - max(-right, 0)
        m = hi - lo
        return lo + np.arange(-max(left, 0), m + max(right, 0)) % m
    i = np.arange(-left, n + right)
    if mode == 'reflect':
        if n == 1:
            return np.zeros_like(i)
        period = 2 * (n - 1)
        i = np.abs(i) % period
        return np.where(i >= n, period - i, i)
    return np.clip(i, 0, n - 1)


def pad(input, pad, mode='constant', value=None):
    """Pad the last len(pad)//2 dimensions: pad = (left_last, right_last, left_prev, ...)."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input.ndim
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {nd}")
    if mode == 'constant':
        return _constant_pad(input, pad, 0 if value is None else value)
    if mode not in ('reflect', 'replicate', 'circular'):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input "
                                  f"tensor.\n{_PAD_HELP}")
    plan = []
    for j in range(k):
        axis = nd - 1 - j
        left, right = pad[2 * j], pad[2 * j + 1]
        n = input.shape[axis]
        if mode == 'reflect' and (left >= n or right >= n):
            raise RuntimeError(f"Argument #{4 + 2 * j}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({left}, "
                               f"{right}) at dimension {axis} of input {list(input.shape)}")
        if mode == 'circular' and (left > n or right > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == 'replicate' and n == 0:
            raise RuntimeError(f"Expected input's dimension {axis} to be non-zero")
        plan.append((axis, n, [(_pad_index(n, left, right, mode), None)]))
    return _resample(input, plan, _PAD_NODES[mode, k])


@derivative
def ConstantPadNdBackward0(grad, pad):
    return _constant_pad(grad, [-p for p in pad], 0)


def _constant_pad(input, pad, value):
    d = input._data
    nd = d.ndim
    shape = list(d.shape)
    src = [slice(None)] * nd
    dst = [slice(None)] * nd
    for j in range(len(pad) // 2):
        axis = nd - 1 - j
        left, right = pad[2 * j], pad[2 * j + 1]
        n = shape[axis]
        new = n + left + right
        if new < 0:
            raise RuntimeError(f"The input size {n}, plus negative padding {left} and {right} "
                               f"resulted in a negative output size, which is invalid. Check "
                               f"dimension {axis} of your input.")
        shape[axis] = new
        src[axis] = slice(max(-left, 0), n - max(-right, 0))
        dst[axis] = slice(max(left, 0), new - max(right, 0))
    if d.dtype.kind in 'biu' and isinstance(value, float) and not float(value).is_integer():
        fill = np.asarray(value).astype(d.dtype)
    else:
        fill = value
    out = np.full(shape, fill, dtype=d.dtype)
    out[tuple(dst)] = d[tuple(src)]
    return _record(ConstantPadNdBackward0, out, (input,), pad=pad)


# ---- F.interpolate ----------------------------------------------------------------------------

def _scale_value(n_in, n_out, align_corners, scale, dt):
    """torch's area_pixel_compute_scale, in the op's math dtype (float32 for float32)."""
    if align_corners:
        return dt(n_in - 1) / dt(n_out - 1) if n_out > 1 else dt(0)
    if scale is not None and scale > 0:
        return dt(1.0 / scale)
    return dt(n_in) / dt(n_out)


def _source_index(scale, n_out, align_corners, cubic, dt):
    o = np.arange(n_out, dtype=dt)
    if align_corners:
        return scale * o
    src = scale * (o + dt(0.5)) - dt(0.5)
    return src if cubic else np.maximum(src, dt(0))


def _guard(real, n_in):
    i = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    lam = np.clip(real - i.astype(real.dtype), 0, 1).astype(real.dtype)
    return i, lam


def _taps_nearest(n_in, n_out, scale, exact):
    o = np.arange(n_out)
    if not exact:
        if n_out == n_in:
            return [(o, None)]
        if n_out == 2 * n_in:
            return [(o >> 1, None)]
    s = _scale_value(n_in, n_out, False, scale, np.float32)
    of = o.astype(np.float32)
    if exact:
        of = of + np.float32(0.5)
    src = np.floor(of * s).astype(np.int64)
    return [(np.minimum(src, n_in - 1), None)]


def _taps_linear(n_in, n_out, align_corners, scale, dt):
    s = _scale_value(n_in, n_out, align_corners, scale, dt)
    i0, lam = _guard(_source_index(s, n_out, align_corners, False, dt), n_in)
    i1 = i0 + (i0 < n_in - 1)
    return [(i0, dt(1) - lam), (i1, lam)]


def _taps_cubic(n_in, n_out, align_corners, scale, dt):
    s = _scale_value(n_in, n_out, align_corners, scale, dt)
    i, t = _guard(_source_index(s, n_out, align_corners, True, dt), n_in)
    a = dt(-0.75)

    def conv1(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def conv2(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    one = dt(1)
    coeffs = [conv2(t + one), conv1(t), conv1(one - t), conv2((one - t) + one)]
    return [(np.clip(i - 1 + k, 0, n_in - 1), c.astype(dt, copy=False))
            for k, c in enumerate(coeffs)]


def _aa_filter(x, mode, dt):
    """The antialiasing kernels: a triangle for bilinear, Keys' cubic (a = -0.5, as PIL's)
    for bicubic."""
    x = np.abs(x)
    if mode == 'bilinear':
        return np.where(x < 1, dt(1) - x, dt(0))
    a = dt(-0.5)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, dt(0)))


def _aa_matrix(n_in, n_out, align_corners, scale, dt, mode):
    """torch's antialiased resampling along one axis as an (n_out, n_in) matrix: each output
    reads the inputs within the filter's support (widened by the scale when shrinking), its
    weights normalised to sum to one (computed in the op's dtype, as torch's)."""
    s = _scale_value(n_in, n_out, align_corners, scale, dt)
    half = dt(1 if mode == 'bilinear' else 2)
    support = half * s if s >= 1 else half
    inv = dt(1) / s if s >= 1 else dt(1)
    m = np.zeros((n_out, n_in), dtype=dt)
    for i in range(n_out):
        center = s * (dt(i) + dt(0.5))
        lo = max(int(center - support + dt(0.5)), 0)
        hi = min(int(center + support + dt(0.5)), n_in)
        j = np.arange(lo, hi)
        w = _aa_filter((j.astype(dt) - center + dt(0.5)) * inv, mode, dt).astype(dt)
        total = w.sum(dtype=dt)
        m[i, lo:hi] = w / total if total != 0 else w
    return m


def _area_matrix(n_in, n_out):
    """Adaptive average pooling along one axis as an (n_out, n_in) matrix."""
    o = np.arange(n_out)
    start = (o * n_in) // n_out
    end = -((-(o + 1) * n_in) // n_out)
    i = np.arange(n_in)
    inside = (i[None, :] >= start[:, None]) & (i[None, :] < end[:, None])
    return inside / (end - start)[:, None].astype(np.float64)


def _is_integer(x):
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return True
    return isinstance(x, Tensor) and x.ndim == 0 and not x.is_floating_point()


_MODES_MSG = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _spatial_count_error(input, name, arg, shown, letter):
    """torch's error for a size or scale_factor without one entry per spatial dimension."""
    return ValueError(
        f"Input and {name} must have the same number of spatial dimensions, but got input with "
        f"spatial dimensions of {list(input.shape[2:])} and {arg} of {shown}. Please provide "
        f"input tensor in (N, C, d1, d2, ...,dK) format and {arg} in ({letter}1, {letter}2, "
        f"...,{letter}K) format.")


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions (all but the first two) of input."""
    if mode in ('nearest', 'area', 'nearest-exact'):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise _spatial_count_error(input, 'output', 'output size', size, 'o')
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}")
            output_size = [int(s) for s in size]
        else:
            if not _is_integer(size):
                raise TypeError(f"upsample(): expected size to be an int or a tuple of ints, "
                                f"got {type(size).__name__}")
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise _spatial_count_error(input, 'scale_factor', 'scale_factor',
                                           f'shape {scale_factor}', 's')
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == 'area' and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [math.floor(input.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ('bilinear', 'bicubic', 'lanczos') and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    if antialias and mode == 'lanczos':
        raise NotImplementedError("interpolate(mode='lanczos', antialias=True) is not "
                                  "supported by ember")
    expected = {'linear': 3, 'bilinear': 4, 'bicubic': 4, 'trilinear': 5}
    if mode in expected and input.ndim != expected[mode] and input.ndim in (3, 4, 5):
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{expected[mode]}D input")
    if mode == 'lanczos':
        raise ValueError("Lanczos mode requires antialias=True")
    if input.ndim not in (3, 4, 5) or mode not in ('nearest', 'nearest-exact', 'area',
                                                   'linear', 'bilinear', 'bicubic',
                                                   'trilinear'):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: {_MODES_MSG} (got {mode})")
    in_sizes = list(input.shape[2:])
    if output_size is None:
        output_size = [int(n * s) for n, s in zip(in_sizes, scale_factors)]
        scales = scale_factors
    else:
        scales = [None] * dim
    if mode == 'area':
        return _area(input, output_size)
    _check_sizes(in_sizes, output_size)
    d = input._data
    if d.dtype.kind != 'f':
        raise RuntimeError(f'"upsample_{mode}" not implemented for integer tensors')
    dt = d.dtype.type
    plan = []
    if antialias:
        for j in range(dim):
            plan.append((j + 2, in_sizes[j], _aa_matrix(in_sizes[j], output_size[j],
                                                       align_corners, scales[j], dt, mode)))
        return _resample(input, plan, _AA_NODES[mode])
    for j in range(dim):
        n_in, n_out, s = in_sizes[j], output_size[j], scales[j]
        if mode in ('nearest', 'nearest-exact'):
            taps = _taps_nearest(n_in, n_out, s, mode == 'nearest-exact')
        elif mode == 'bicubic':
            taps = _taps_cubic(n_in, n_out, align_corners, s, dt)
        else:
            taps = _taps_linear(n_in, n_out, align_corners, s, dt)
        plan.append((j + 2, n_in, taps))
    return _resample(input, plan, _UPSAMPLE_NODES[mode, dim])


def _check_sizes(in_sizes, out_sizes):
    if any(n <= 0 for n in in_sizes) or any(n <= 0 for n in out_sizes):
        names = ('D', 'H', 'W')[3 - len(in_sizes):]
        i = ', '.join(f'{k}: {v}' for k, v in zip(names, in_sizes))
        o = ', '.join(f'{k}: {v}' for k, v in zip(names, out_sizes))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({i}) output ({o})")


def _area(input, output_size):
    """Area interpolation: adaptive average pooling, as torch dispatches it."""
    if input.ndim == 3:
        return _area(input.unsqueeze(-2), [1] + list(output_size)).squeeze(-2)
    k = input.ndim - 2
    plan = []
    for j in range(k):
        n_in, n_out = input.shape[j + 2], output_size[j]
        if n_out != n_in:
            plan.append((j + 2, n_in, _area_matrix(n_in, n_out)))
    return _resample(input, plan, _AREA_NODES[k])


def _warn_deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    """Deprecated alias of interpolate."""
    _warn_deprecated('upsample')
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='nearest')."""
    _warn_deprecated('upsample_nearest')
    return interpolate(input, size, scale_factor, mode='nearest')


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    _warn_deprecated('upsample_bilinear')
    return interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)


# ---- pixel and channel shuffles ---------------------------------------------------------------

def _shuffle_np(d, r):
    lead = d.shape[:-3]
    c, h, w = d.shape[-3:]
    oc = c // (r * r)
    x = d.reshape(lead + (oc, r, r, h, w))
    n = len(lead)
    x = x.transpose(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return np.ascontiguousarray(x).reshape(lead + (oc, h * r, w * r))


def _unshuffle_np(d, r):
    lead = d.shape[:-3]
    c, h, w = d.shape[-3:]
    x = d.reshape(lead + (c, h // r, r, w // r, r))
    n = len(lead)
    x = x.transpose(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return np.ascontiguousarray(x).reshape(lead + (c * r * r, h // r, w // r))


def _check_factor(name, what, r, input):
    """pixel_shuffle's and pixel_unshuffle's checks on their factor and input rank; the factor
    as an int."""
    if not isinstance(r, numbers.Integral):
        raise TypeError(f"{name}(): argument '{what}' must be int, not {type(r).__name__}")
    if r <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {r}")
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    return int(r)


@derivative
def PixelShuffleBackward0(grad, r):
    return pixel_unshuffle(grad, r)


@derivative
def PixelUnshuffleBackward0(grad, r):
    return pixel_shuffle(grad, r)


def pixel_shuffle(input, upscale_factor):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r)."""
    r = _check_factor('pixel_shuffle', 'upscale_factor', upscale_factor, input)
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    return _record(PixelShuffleBackward0, _shuffle_np(input._data, r), (input,), r=r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W)."""
    r = _check_factor('pixel_unshuffle', 'downscale_factor', downscale_factor, input)
    h, w = input.shape[-2:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    return _record(PixelUnshuffleBackward0, _unshuffle_np(input._data, r), (input,), r=r)


def _channel_shuffle_np(d, groups):
    n, c = d.shape[:2]
    rest = d.shape[2:]
    x = d.reshape((n, groups, c // groups) + rest).swapaxes(1, 2)
    return np.ascontiguousarray(x).reshape(d.shape)


@derivative
def ChannelShuffleBackward0(grad, groups, c):
    return channel_shuffle(grad, c // groups)


def channel_shuffle(input, groups):
    """Interleave channels: (N, g*k, *) viewed as (N, g, k, *) and read as (N, k, g, *)."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    return _record(ChannelShuffleBackward0, _channel_shuffle_np(input._data, groups), (input,),
                   groups=groups, c=c)


native_channel_shuffle = channel_shuffle
