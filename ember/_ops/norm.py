"""Normalisation: F.batch_norm, F.instance_norm, F.layer_norm, F.group_norm,
F.local_response_norm, F.rms_norm (and F.normalize-free helpers they need).

batch_norm, layer_norm and group_norm are each one fused node (torch's Native*Backward0):
the forward computes the statistics and the normalised values in NumPy, the backward is the
closed-form gradient in NumPy. When the backward itself runs with grad mode on
(create_graph=True) the same formula is evaluated with ember ops instead, so double
backward works. instance_norm is batch_norm on a (1, N*C, ...) view, local_response_norm
and rms_norm are compositions of ember ops, all as in torch.
"""

import numpy as np

from .. import _kernels
from .._threads import blas_held, map_rows
from .._tensor import _wrap
from ..autograd.graph import _record, derivative
from ..autograd.grad_mode import _State, no_grad
from ._conv_split import batch_ranges, elementwise_ranges, run_ranges
from ._util import _empty_batch
from .pooling import avg_pool2d, avg_pool3d

__all__ = ['batch_norm', 'instance_norm', 'layer_norm', 'group_norm', 'local_response_norm',
           'rms_norm']


def _bump(t):
    t._vc.value += 1


def _shape_str(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


@blas_held     # OpenBLAS threads a matrix-vector product this size, then spins
def _channel_sums(a):
    """Per-channel sums of an (N, C, L) array, in its dtype: for float32/float64 one BLAS
    matrix-vector product with ones and a sum over N (2.5x faster than NumPy's sum over axes
    (0, 2), which walks the array in a slow order)."""
    n, c, length = a.shape
    if a.dtype in (np.float32, np.float64) and a.flags.c_contiguous:
        return (a.reshape(n * c, length) @ np.ones(length, a.dtype)).reshape(n, c).sum(0)
    return a.sum(axis=(0, 2))


# Batch norm's per-channel sums: each (image, channel) row's sum over L, then those rows added
# over N in image order, which is what a split into image ranges computes too (the same bits on
# one thread and on several). einsum sums a row the same way whatever rows surround it, as fast
# as _channel_sums' matrix-vector product here; BLAS's kernels round a row's sum differently
# depending on where the row falls in their blocks of rows.

def _bn_sums(a):
    """Per-channel sums of an (N, C, L) array, in its dtype."""
    if a.dtype in (np.float32, np.float64):
        return np.einsum('ncl->nc', a).sum(0)
    return a.sum(axis=(0, 2))


def _bn_dots(a, b):
    """Per-channel sums of a * b, (N, C, L) arrays of one dtype."""
    return np.einsum('ncl,ncl->nc', a, b).sum(0)


def _split_ranges(*arrays):
    """The image ranges over which batch norm splits its (N, C, L) arrays (those of the
    convolution before it), or None: only C-contiguous float32/float64 ones, whose per-row
    sums then their sum over N in image order are exactly what the unsplit code computes
    (_bn_sums, _bn_dots), so that 1 and 2 threads give the same bits."""
    a = arrays[0]
    if a.dtype not in (np.float32, np.float64) or not all(
            b.flags.c_contiguous and b.dtype == a.dtype for b in arrays):
        return None
    return elementwise_ranges(a.shape[0], a.size)


def _per_channel(v, length):
    """Per-channel values v (C,) spread to a contiguous (C, L) operand: NumPy's loops over an
    (N, C, L) array run several times faster against it than against a (C, 1) broadcast."""
    return np.repeat(v, length).reshape(v.shape[0], length)


# ---- batch norm's compiled kernels (ember/_kernels/src/norm.c) ---------------------------------
# Each takes an image range [n0, n1) of C-contiguous (N, C, L) arrays and makes one sweep over
# it with the GIL released. Per-(image, channel) rows are reduced alone and added over N in
# image order afterwards, so 1 and 2 threads give the same bits; the arithmetic is torch's CPU
# kernel's, rounding for rounding (norm.c says how).

_SUFFIX = {np.dtype(np.float32): 'f32', np.dtype(np.float64): 'f64'}
for _s in _SUFFIX.values():
    _kernels.declare(f'ember_bn_row_sums_{_s}', None, *['i64'] * 4, 'p', 'p')
    _kernels.declare(f'ember_bn_row_sqdev_{_s}', None, *['i64'] * 4, 'p', 'p', 'p')
    _kernels.declare(f'ember_bn_affine_{_s}', None, *['i64'] * 4, *['p'] * 4)
    _kernels.declare(f'ember_bn_grad_sums_{_s}', None, *['i64'] * 4, *['p'] * 5)
    _kernels.declare(f'ember_bn_grad_input_{_s}', None, *['i64'] * 4, *['p'] * 8)
_kernels.declare('ember_bn_sum_images', None, 'i64', 'i64', 'p', 'p')

# rows (spatial sizes) below which the NumPy code runs: a kernel pays a fixed cost per row
_KERNEL_ROW_MIN = 16

# elements from which the kernels split over the convolution's image ranges (on the kernels'
# threads: _kernel_call). On Python threads 2^20 had paid better than 2^18 on an AVX2 VM
# (ResNet step 65 -> 59 ms, min of 10 rounds' medians; a (32,16,32,32) layer's forward +
# backward 0.64 ms on one thread against 1.04 split); on the kernels' threads 2^18 is back
# ahead: min of 8 rounds' medians ResNet 48.2 -> 46.6 ms, U-Net 53.3 -> 51.3 (2^17: noise).
_KERNEL_SPLIT_MIN = 1 << 18


def _bn_kernels(*arrays):
    """The kernel suffix ('f32'/'f64') for these (N, C, L) arrays, or None: they must be
    C-contiguous, aligned, of one native float dtype, with rows of _KERNEL_ROW_MIN or more,
    and the kernels available."""
    a = arrays[0]
    suffix = _SUFFIX.get(a.dtype)
    if suffix is None or a.shape[2] < _KERNEL_ROW_MIN or not _kernels.available() or not all(
            b.dtype == a.dtype and b.flags.c_contiguous and b.flags.aligned for b in arrays):
        return None
    return suffix


def _kernel_ranges(a):
    return batch_ranges(a.shape[0], a.size, _KERNEL_SPLIT_MIN)


def _addr(a):
    """An array as a kernel's pointer argument; None stays None (a NULL pointer)."""
    return None if a is None else _kernels.addr(a)


def _kernel_call(name, suffix, ranges, n, *args):
    """ember_bn_<name>_<suffix>(i, j, *args) over each image range (all of [0, n) when ranges
    is None); args are integers and arrays (passed by address), None a NULL pointer."""
    name = f'ember_bn_{name}_{suffix}'
    if ranges is None:
        _kernels.get(name)(0, n, *[_addr(a) if isinstance(a, np.ndarray) else a for a in args])
    else:
        # on the kernels' threads: each part looks the kernel up (get() gives it the recorder
        # while it records); args keeps the arrays alive until the run has ended
        slots = [_kernels.addr(a) if isinstance(a, np.ndarray) else a for a in args]
        run_ranges(lambda i, j: _kernels.get(name)(i, j, *slots), ranges, deferred=True)


def _sum_images(rows):
    """The (N, C) float64 rows a kernel wrote, added over N in image order."""
    out = np.empty(rows.shape[1])
    _kernels.get('ember_bn_sum_images')(rows.shape[0], rows.shape[1], _addr(rows), _addr(out))
    return out


def _kernel_const(v, dt):
    """A per-channel operand as a contiguous array of dtype dt (None stays None)."""
    return None if v is None else np.ascontiguousarray(v, dt)


def _kernel_moments(x3, suffix, ranges):
    """Per-channel mean and sum of squared deviations of an (N, C, L) array, in its dtype."""
    n, c, length = x3.shape
    rows = np.empty((n, c))
    _kernel_call('row_sums', suffix, ranges, n, c, length, x3, rows)
    mean = (_sum_images(rows) / (n * length)).astype(x3.dtype)
    _kernel_call('row_sqdev', suffix, ranges, n, c, length, x3, mean, rows)
    return mean, _sum_images(rows).astype(x3.dtype)


def _kernel_affine(x3, mean, invstd, weight, bias, suffix, ranges):
    """x * alpha + beta (one rounding) per channel: alpha = invstd * weight, beta = bias -
    mean * alpha (one rounding for float32)."""
    n, c, length = x3.shape
    dt = x3.dtype
    alpha = invstd if weight is None else invstd * weight.astype(dt, copy=False)
    beta = -(mean.astype(np.float64) * alpha)
    if bias is not None:
        beta += bias
    y = np.empty_like(x3)
    _kernel_call('affine', suffix, ranges, n, c, length, x3, _kernel_const(alpha, dt),
                 _kernel_const(beta, dt), y)
    return y


def _kernel_backward(g3, x3, mean, invstd, weight, training, need_gx, suffix, ranges):
    """_backward's (gx, gw, gb) from the kernels."""
    n, c, length = g3.shape
    dt = g3.dtype
    mean = _kernel_const(mean, dt)
    rg, rgx = np.empty((n, c)), np.empty((n, c))
    _kernel_call('grad_sums', suffix, ranges, n, c, length, g3, x3, mean, rg, rgx)
    gb, dot = _sum_images(rg), _sum_images(rgx)
    gx = None
    if need_gx:
        gx = np.empty_like(g3)
        if training:
            cnt = n * length
            k = _kernel_const(dot.astype(dt) * invstd * invstd / dt.type(cnt), dt)
            mean_g = (gb / cnt).astype(dt)
        else:
            k = mean_g = None
        _kernel_call('grad_input', suffix, ranges, n, c, length, g3, x3, mean, mean_g, k,
                     _kernel_const(invstd, dt), _kernel_const(weight, dt), gx)
    return gx, (dot * invstd).astype(dt), gb.astype(dt)


# ---- batch norm -------------------------------------------------------------------------------

@_empty_batch(same_shape=True)
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalise each channel (dim 1) by batch statistics (training) or running ones."""
    if input.dim() < 2:
        raise IndexError(f'Dimension out of range (expected to be in range of '
                         f'[-{max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got 1)')
    c = input.shape[1]
    if training:
        size = input.numel() // c
        if size == 1:
            raise ValueError('Expected more than 1 value per channel when training, got input '
                             f'size {input.shape}')
    for name, t in (('running_mean', running_mean), ('running_var', running_var),
                    ('weight', weight), ('bias', bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f'{name} should contain {c} elements not {t.numel()}')
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be "
                           'defined in evaluation mode')
    x = input._data
    if x.dtype.itemsize != 2:    # half inputs have torch's own mixed rules, not these
        _check_mixed(x.dtype, weight, bias, running_mean, running_var)
    n = x.shape[0]
    x3 = x.reshape(n, c, -1)
    dt = x.dtype
    # Few passes and one output allocation: y is built in place from x - mean, and the
    # backward recomputes x - mean rather than keeping a normalised copy alive.
    length = x3.shape[2]
    suffix = _bn_kernels(x3)     # the compiled kernels (one sweep per pass), or None
    ranges = _split_ranges(x3) if suffix is None else _kernel_ranges(x3)
    if length == 1 and ranges is None and dt in (np.float32, np.float64):
        # BatchNorm1d's (N, C): NumPy's channel vectors broadcast along the rows; the code
        # below, with its (N, C, 1) einsums and (C, 1) repeats, took 2.5x as long
        y, mean, invstd = _rows_forward(x.reshape(n, c), running_mean, running_var, weight,
                                        bias, training, momentum, eps)
        return _record(NativeBatchNormBackward0, y.reshape(x.shape), (input, weight, bias),
                       input=input, weight=weight, mean=mean, invstd=invstd,
                       training=bool(training), eps=eps)
    if training:
        cnt = n * length
        if suffix is not None:     # torch's arithmetic: var in dt, invstd in double
            mean, var_sum = _kernel_moments(x3, suffix, ranges)
            var = var_sum / dt.type(cnt)
            invstd = (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(dt)
        elif ranges is None:
            mean = _bn_sums(x3) / dt.type(cnt)
            y = np.subtract(x3, _per_channel(mean, length))
            var = _bn_dots(y, y) / dt.type(cnt)
        else:
            mean, y, var = _split_moments(x3, ranges)
        if suffix is None:
            invstd = (1.0 / np.sqrt(var + dt.type(eps))).astype(dt, copy=False)
        if running_mean is not None:
            rm, rv = running_mean._data, running_var._data
            if suffix is not None:     # torch's: momentum * unbiased + rv * (1 - momentum)
                m = float(momentum)
                rm *= (1 - m)
                rm += (m * mean).astype(rm.dtype, copy=False)
                unbiased = var_sum / dt.type(max(cnt - 1, 1))
                rv[...] = (dt.type(m) * unbiased.astype(np.float64) +
                           (dt.type(1 - m) * rv).astype(np.float64))
            else:
                _running_update(rm, rv, mean, var, cnt, momentum)
            _bump(running_mean)
            _bump(running_var)
    else:
        mean = running_mean._data.astype(dt, copy=False)
        invstd = (1.0 / np.sqrt(running_var._data.astype(dt, copy=False) +
                                dt.type(eps))).astype(dt, copy=False)
        y = None if ranges or suffix else np.subtract(x3, _per_channel(mean, length))
    scale = invstd if weight is None else invstd * weight._data.astype(dt, copy=False)
    if suffix is not None:
        y = _kernel_affine(x3, mean, invstd, None if weight is None else weight._data,
                           None if bias is None else bias._data, suffix, ranges)
        if not training:      # torch's backward takes 1 / sqrt(running_var + eps) in double
            invstd = (1.0 / np.sqrt(running_var._data.astype(np.float64) + eps)).astype(dt)
    elif ranges is None:
        shift = None if bias is None else _per_channel(bias._data.astype(dt, copy=False),
                                                       length)
        y *= _per_channel(scale, length)
        if shift is not None:
            y += shift
    else:
        shift = None if bias is None else _per_channel(bias._data.astype(dt, copy=False),
                                                       length)
        y = _split_affine(x3, y, mean, scale, shift, ranges)
    return _record(NativeBatchNormBackward0, y.reshape(x.shape), (input, weight, bias),
                   input=input, weight=weight, mean=mean, invstd=invstd,
                   training=bool(training), eps=eps)


# BatchNorm1d's (N, C) rows (src/bn_rows.c): the NumPy code of _rows_forward and
# _backward_rows in three and two sweeps, the same bits
for _s in _SUFFIX.values():
    _kernels.declare(f'ember_bn_rows_sum_{_s}', None, 'i64', 'i64', 'p', 'p')
    _kernels.declare(f'ember_bn_rows_centre_{_s}', None, 'i64', 'i64', *['p'] * 4)
    _kernels.declare(f'ember_bn_rows_affine_{_s}', None, 'i64', 'i64', *['p'] * 3)
    _kernels.declare(f'ember_bn_rows_grad_sums_{_s}', None, 'i64', 'i64', *['p'] * 5)
    _kernels.declare(f'ember_bn_rows_grad_input_{_s}', None, 'i64', 'i64', *['p'] * 7)
    _kernels.declare(f'ember_bn_rows_train_{_s}', None, 'i64', 'i64', *['p'] * 5, 'f64', 'f64',
                     *['p'] * 5)


def _rows_kernels(*arrays):
    """The kernel suffix for C-contiguous, aligned (N, C) arrays of one float dtype, or None."""
    a = arrays[0]
    suffix = _SUFFIX.get(a.dtype)
    if suffix is None or not _kernels.available() or not all(
            b.dtype == a.dtype and b.flags.c_contiguous and b.flags.aligned for b in arrays):
        return None
    return suffix


def _rows_call(name, suffix, *args):
    _kernels.get(f'ember_bn_rows_{name}_{suffix}')(
        *[_addr(a) if isinstance(a, np.ndarray) or a is None else a for a in args])


def _rows_forward(x2, running_mean, running_var, weight, bias, training, momentum, eps):
    """batch_norm over the rows of an (N, C) float32/64 array: (y, mean, invstd), the running
    statistics updated; the (N, C, 1) NumPy path's arithmetic, operation for operation (the
    kernels' too)."""
    dt = x2.dtype
    n, c = x2.shape
    suffix = _rows_kernels(x2)
    if training and suffix is not None:
        # one call; the running statistics there too when they are contiguous ones of dt
        stats = running_mean is not None and _rows_kernels(
            x2, running_mean._data, running_var._data) is not None
        y = np.empty_like(x2)
        mean, var, invstd, scratch = np.empty((4, c), dt)
        _rows_call('train', suffix, n, c, x2,
                   None if weight is None else np.ascontiguousarray(weight._data, dt),
                   None if bias is None else np.ascontiguousarray(bias._data, dt),
                   running_mean._data if stats else None, running_var._data if stats else None,
                   float(momentum), float(eps), y, mean, var, invstd, scratch)
        if running_mean is not None:
            if not stats:
                _running_update(running_mean._data, running_var._data, mean, var, n, momentum)
            _bump(running_mean)
            _bump(running_var)
        return y, mean, invstd
    if training:
        mean = np.add.reduce(x2, axis=0) / dt.type(n)
        y = np.subtract(x2, mean)
        var = np.add.reduce(np.multiply(y, y), axis=0) / dt.type(n)
        invstd = (1.0 / np.sqrt(var + dt.type(eps))).astype(dt, copy=False)
        if running_mean is not None:
            _running_update(running_mean._data, running_var._data, mean, var, n, momentum)
            _bump(running_mean)
            _bump(running_var)
    else:
        mean = np.ascontiguousarray(running_mean._data, dt)
        invstd = (1.0 / np.sqrt(running_var._data.astype(dt, copy=False) +
                                dt.type(eps))).astype(dt, copy=False)
        if suffix is not None:
            y = np.empty_like(x2)
            _rows_call('centre', suffix, n, c, x2, mean, y, None)
        else:
            y = np.subtract(x2, mean)
    scale = invstd if weight is None else invstd * weight._data.astype(dt, copy=False)
    shift = None if bias is None else np.ascontiguousarray(bias._data, dt)
    if suffix is not None:
        _rows_call('affine', suffix, n, c, y, np.ascontiguousarray(scale), shift)
        return y, mean, invstd
    y *= scale
    if shift is not None:
        y += shift
    return y, mean, invstd


def _running_update(rm, rv, mean, var, cnt, momentum):
    """The running statistics' update in place, with the batch's mean and (biased) var."""
    m = float(momentum)
    rm *= (1 - m)
    rm += (m * mean).astype(rm.dtype, copy=False)
    unbiased = var * var.dtype.type(cnt / max(cnt - 1, 1))
    rv *= (1 - m)
    rv += (m * unbiased).astype(rv.dtype, copy=False)


def _backward_rows(g2, x2, mean, invstd, scale, training, need_gx):
    """_backward for (N, C) arrays: the same operations, with channel vectors broadcast."""
    n, c = g2.shape
    cnt = g2.dtype.type(n)
    suffix = _rows_kernels(g2, x2, mean)
    if suffix is not None:
        gb, gw = np.empty(c, g2.dtype), np.empty(c, g2.dtype)
        _rows_call('grad_sums', suffix, n, c, g2, x2, mean, gb, gw)
        gw *= invstd
        gx = None
        if need_gx:
            gx = np.empty_like(g2)
            k1 = k2 = None
            if training:
                k1 = np.ascontiguousarray(scale * invstd * gw / cnt)
                k2 = np.ascontiguousarray(scale * gb / cnt)
            _rows_call('grad_input', suffix, n, c, g2, x2, mean, np.ascontiguousarray(scale),
                       k1, k2, gx)
        return gx, gw, gb
    xc = np.subtract(x2, mean)
    gb = np.add.reduce(g2, axis=0)
    gw = np.add.reduce(np.multiply(g2, xc), axis=0) * invstd
    gx = None
    if need_gx:
        gx = np.multiply(g2, scale)
        if training:
            xc *= scale * invstd * gw / cnt
            gx -= xc
            gx -= scale * gb / cnt
    return gx, gw, gb


def _split_moments(x3, ranges):
    """Per-channel mean, x - mean and per-channel variance of an (N, C, L) array, each thread
    on its range of images: its rows' sums, which are then added over N in image order, as
    the unsplit code adds them."""
    n, c, length = x3.shape
    cnt = x3.dtype.type(n * length)
    rows = np.empty((n, c), x3.dtype)
    run_ranges(lambda i, j: np.einsum('ncl->nc', x3[i:j], out=rows[i:j]), ranges)
    mean = rows.sum(0) / cnt
    mean_l = _per_channel(mean, length)
    y = np.empty_like(x3)

    def centre(i, j):
        np.subtract(x3[i:j], mean_l, out=y[i:j])
        np.einsum('ncl,ncl->nc', y[i:j], y[i:j], out=rows[i:j])
    run_ranges(centre, ranges)
    return mean, y, rows.sum(0) / cnt


def _split_affine(x3, y, mean, scale, shift, ranges):
    """y * scale + shift over each thread's range of images (y = x - mean, or None: computed
    here from x3 and the running mean)."""
    length = x3.shape[2]
    scale_l = _per_channel(scale, length)
    mean_l = None if y is not None else _per_channel(mean, length)
    out = y if y is not None else np.empty_like(x3)

    def affine(i, j):
        o = out[i:j]
        if mean_l is not None:
            np.subtract(x3[i:j], mean_l, out=o)
        o *= scale_l
        if shift is not None:
            o += shift
    run_ranges(affine, ranges)
    return out


# mean, invstd: the per-channel NumPy statistics the forward used (batch or running ones)
@derivative
def NativeBatchNormBackward0(grad, input, weight, mean, invstd, training, eps):
    if _State.enabled:
        return _batch_norm_backward_graph(grad, input, weight, mean, invstd, training, eps)
    g = grad._data
    n, c = g.shape[:2]
    g3 = g.reshape(n, c, -1)
    x3 = input._data.reshape(n, c, -1)
    scale = invstd if weight is None else weight._data.astype(g.dtype, copy=False) * invstd
    suffix = _bn_kernels(g3, x3)
    if suffix is not None:
        gx, gw, gb = _kernel_backward(g3, x3, mean, invstd,
                                      None if weight is None else weight._data, training,
                                      input._requires_grad, suffix, _kernel_ranges(g3))
    elif (ranges := _split_ranges(g3, x3)) is not None:
        gx, gw, gb = _split_backward(g3, x3, mean, invstd, scale, training,
                                     input._requires_grad, ranges)
    elif g3.shape[2] == 1 and g.dtype in (np.float32, np.float64) and x3.dtype == g.dtype:
        gx, gw, gb = _backward_rows(g3.reshape(n, c), x3.reshape(n, c), mean, invstd, scale,
                                    training, input._requires_grad)
    else:
        gx, gw, gb = _backward(g3, x3, mean, invstd, scale, training, input._requires_grad)
    gx = None if gx is None else _wrap(gx.reshape(g.shape))
    return gx, _wrap(gw) if weight is not None else None, _wrap(gb)


def _backward(g3, x3, mean, invstd, scale, training, need_gx):
    """(gx, gw, gb) of batch norm for (N, C, L) arrays on this thread."""
    length = g3.shape[2]
    xc = np.subtract(x3, _per_channel(mean, length))
    gb = _bn_sums(g3)
    gw = _bn_dots(g3, xc) * invstd  # sum of grad * xhat
    gx = None
    if need_gx:
        gx = np.multiply(g3, _per_channel(scale, length))
        if training:
            # scale * (g - mean(g) - xhat * mean(g * xhat)), with xhat = xc * invstd
            cnt = g3.dtype.type(g3.shape[0] * length)
            xc *= _per_channel(scale * invstd * gw / cnt, length)
            gx -= xc
            gx -= _per_channel(scale * gb / cnt, length)
    return gx, gw, gb


def _split_backward(g3, x3, mean, invstd, scale, training, need_gx, ranges):
    """_backward with each thread on its range of images: the per-channel sums of g and of
    g * (x - mean) row by row, added over N in image order (as the unsplit code adds them),
    then each range of gx."""
    n, c, length = g3.shape
    gb_rows = np.empty((n, c), g3.dtype)
    gw_rows = np.empty((n, c), g3.dtype)
    mean_l = _per_channel(mean, length)

    def sums(i, j):
        xc = np.subtract(x3[i:j], mean_l)
        np.einsum('ncl->nc', g3[i:j], out=gb_rows[i:j])
        np.einsum('ncl,ncl->nc', g3[i:j], xc, out=gw_rows[i:j])
        return xc
    xcs = run_ranges(sums, ranges)
    gb = gb_rows.sum(0)
    gw = gw_rows.sum(0) * invstd
    if not need_gx:
        return None, gw, gb
    gx = np.empty_like(g3)
    scale_l = _per_channel(scale, length)
    if training:
        cnt = g3.dtype.type(n * length)
        xhat_l = _per_channel(scale * invstd * gw / cnt, length)
        mean_g_l = _per_channel(scale * gb / cnt, length)

    def grad_input(i, j, xc):
        out = np.multiply(g3[i:j], scale_l, out=gx[i:j])
        if training:
            xc *= xhat_l
            out -= xc
            out -= mean_g_l
    run_ranges(grad_input, [r + (xc,) for r, xc in zip(ranges, xcs)])
    return gx, gw, gb


def _batch_norm_backward_graph(grad, input, weight, mean, invstd, training, eps):
    """The same gradient with ember ops (differentiable again) for create_graph=True."""
    shape = (1, -1) + (1,) * (input.dim() - 2)
    axes = (0,) + tuple(range(2, input.dim()))
    if training:
        mu = input.mean(axes, keepdim=True)
        xc = input - mu
        inv = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        xc = input - _wrap(mean).view(shape)
        inv = _wrap(invstd).view(shape)
    xh = xc * inv
    gb = grad.sum(axes)
    gw = (grad * xh).sum(axes)
    scale = inv if weight is None else inv * weight.view(shape)
    if training:
        cnt = input.numel() // input.shape[1]
        gx = scale * (grad - gb.view(shape) / cnt - xh * gw.view(shape) / cnt)
    else:
        gx = scale * grad
    return gx, gw, gb


# ---- instance norm ----------------------------------------------------------------------------

@_empty_batch(same_shape=True)
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalise each (sample, channel) plane: batch_norm over a (1, N*C, ...) view."""
    if use_input_stats:
        size = input.shape
        spatial = 1
        for s in size[2:]:
            spatial *= s
        if input.dim() < 3 or spatial == 1:
            raise ValueError('Expected more than 1 spatial element when training, got input '
                             f'size {size}')
    n, c = input.shape[:2]
    x = input.reshape((1, n * c) + tuple(input.shape[2:]))
    w = weight.repeat(n) if weight is not None else None
    b = bias.repeat(n) if bias is not None else None
    rm = rv = None
    if running_mean is not None:
        rm = _wrap(np.tile(running_mean._data, n))
        rv = _wrap(np.tile(running_var._data, n))
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if running_mean is not None and use_input_stats:
        with no_grad():
            running_mean._data[...] = rm._data.reshape(n, c).mean(0)
            running_var._data[...] = rv._data.reshape(n, c).mean(0)
            _bump(running_mean)
            _bump(running_var)
    return out.view(input.shape)


# ---- layer norm -------------------------------------------------------------------------------

def _check_normalized(input, normalized_shape, weight, bias, sep=', '):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0:
        raise RuntimeError('Expected normalized_shape to be at least 1-dimensional, i.e., '
                           'containing at least one element, but got normalized_shape = []')
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f'Expected {name} to be of same shape as normalized_shape, but '
                               f'got {name} of shape {_shape_str(t.shape)} and normalized_shape '
                               f'= {_shape_str(ns)}')
    if input.dim() < k or tuple(input.shape[-k:]) != ns:
        raise RuntimeError(f'Given normalized_shape={_shape_str(ns)}, expected input with shape '
                           f"[*{sep}{', '.join(str(s) for s in ns)}], but got input of size"
                           f'{_shape_str(input.shape)}')
    return ns


def _check_mixed(dt, *params):
    """torch's CPU rule for parameters of another dtype than the input: only float32
    parameters of a float16 or bfloat16 input (the result keeps the input's dtype)."""
    pts = [p._data.dtype for p in params if p is not None]
    if all(pt == dt for pt in pts):
        return False
    if any(pt != np.float32 for pt in pts):
        raise RuntimeError('mixed dtype (CPU): expect parameter to have scalar type of Float')
    if dt.itemsize != 2:
        raise RuntimeError('mixed dtype (CPU): all inputs must share same datatype.')
    return True


_kernels.declare('ember_layer_norm_f32', None, 'i64', 'i64', 'p', 'p', 'p', 'f32', 'p', 'p',
                 'p')
_kernels.declare('ember_layer_norm_backward_f32', None, 'i64', 'i64', 'p', 'p', 'p', 'p', 'p',
                 'p', 'p', 'p')


def _ln_kernel(name, *arrays):
    """The compiled LayerNorm kernel `name` when every array given (None: absent) is a
    C-contiguous float32 one, else None (the NumPy spans)."""
    for a in arrays:
        if a is not None and (a.dtype != np.float32 or not a.flags.c_contiguous):
            return None
    return _kernels.get(name)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing `normalized_shape` dims, then scale and shift."""
    ns = _check_normalized(input, normalized_shape, weight, bias)
    x = input._data
    dt = x.dtype
    d = int(np.prod(ns))
    if d == 0:  # LayerNorm(0): nothing to normalise; an empty result with zero gradients
        out = input * 0
        for p in (weight, bias):
            if p is not None:
                out = out + p.sum() * 0
        return out
    x2 = x.reshape(-1, d)
    if _check_mixed(dt, weight, bias):
        x2 = x2.astype(np.float32)      # torch's opmath: float32 throughout, then rounded
        dt = x2.dtype
    rows = x2.shape[0]
    xhat = np.empty((rows, d), dt)
    invstd = np.empty((rows, 1), dt)
    y = np.empty((rows, d), dt)
    w = None if weight is None else weight._data.reshape(-1)
    b = None if bias is None else bias._data.reshape(-1)

    kernel = _ln_kernel('ember_layer_norm_f32', x2, w, b)

    def span(lo, hi):   # rows are independent: each span's values do not depend on the split
        xs, xh, ys = x2[lo:hi], xhat[lo:hi], y[lo:hi]
        if kernel is not None:  # the same steps, a row at a time, in one GIL-free call
            kernel(hi - lo, d, _kernels.addr(xs), _addr(w), _addr(b), eps, _kernels.addr(xh),
                   _kernels.addr(invstd[lo:hi]), _kernels.addr(ys))
            return
        np.subtract(xs, xs.mean(axis=1, keepdims=True), out=xh)
        var = np.einsum('ij,ij->i', xh, xh)[:, None] / dt.type(d)
        inv = invstd[lo:hi]
        inv[...] = 1.0 / np.sqrt(var + dt.type(eps))
        xh *= inv
        if w is not None:
            np.multiply(xh, w, out=ys)
            if b is not None:
                ys += b
        elif b is not None:
            np.add(xh, b, out=ys)
        else:
            ys[...] = xh
    map_rows(span, rows, d)
    y = y.astype(x.dtype, copy=False)
    return _record(NativeLayerNormBackward0, y.reshape(x.shape), (input, weight, bias),
                   input=input, weight=weight, bias=bias, xhat=xhat, invstd=invstd, ns=ns, eps=eps)


# xhat: the normalised input as a (rows, d) NumPy array, invstd its (rows, 1) scales,
# ns: normalized_shape
@derivative
def NativeLayerNormBackward0(grad, input, weight, bias, xhat, invstd, ns, eps):
    if _State.enabled:
        dims = tuple(range(-len(ns), 0))
        mu = input.mean(dims, keepdim=True)
        xc = input - mu
        inv = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
        xh = xc * inv
        lead = tuple(range(input.dim() - len(ns)))
        gw = (grad * xh).sum(lead) if weight is not None else None
        gb = grad.sum(lead) if bias is not None else None
        gxh = grad * weight if weight is not None else grad
        gx = inv * (gxh - gxh.mean(dims, keepdim=True) -
                    xh * (gxh * xh).mean(dims, keepdim=True))
        return gx, gw, gb
    g = grad._data
    rows, d = xhat.shape
    g2 = g.reshape(-1, d).astype(xhat.dtype, copy=False)   # float32 for a mixed-dtype input
    want_w = weight is not None and weight._requires_grad
    want_b = bias is not None and bias._requires_grad
    gx = np.empty_like(xhat) if input._requires_grad else None
    w = None if weight is None else weight._data.reshape(-1)
    dd = xhat.dtype.type(d)

    kernel = _ln_kernel('ember_layer_norm_backward_f32', g2, w, xhat)

    def span(lo, hi):
        """gx's rows lo:hi, and this span's share of the weight and bias gradients"""
        gs, xh = g2[lo:hi], xhat[lo:hi]
        if kernel is not None:
            pw = np.zeros(d, np.float32) if want_w else None
            pb = np.zeros(d, np.float32) if want_b else None
            tmp = np.empty(d, np.float32) if w is not None else None
            kernel(hi - lo, d, _kernels.addr(gs), _kernels.addr(xh), _kernels.addr(invstd[lo:hi]),
                   _addr(w), None if gx is None else _kernels.addr(gx[lo:hi]), _addr(pw), _addr(pb),
                   _addr(tmp))
            return pw, pb
        pw = np.einsum('ij,ij->j', gs, xh) if want_w else None
        pb = gs.sum(axis=0) if want_b else None
        if gx is not None:
            gxh = gs * w if w is not None else gs
            a = gxh.sum(axis=1, keepdims=True) / dd
            bb = np.einsum('ij,ij->i', gxh, xh)[:, None] / dd
            out = gx[lo:hi]
            np.subtract(gxh, a, out=out)
            out -= xh * bb
            out *= invstd[lo:hi]
        return pw, pb
    parts = map_rows(span, rows, d)
    gw = gb = None
    if want_w:     # the spans' shares added in order: the same result whatever the timing
        gw = parts[0][0]
        for p in parts[1:]:
            gw += p[0]
        gw = _wrap(gw.reshape(ns).astype(weight._data.dtype, copy=False))
    if want_b:
        gb = parts[0][1]
        for p in parts[1:]:
            gb += p[1]
        gb = _wrap(gb.reshape(ns).astype(bias._data.dtype, copy=False))
    if gx is not None:
        gx = _wrap(gx.reshape(g.shape).astype(input._data.dtype, copy=False))
    return gx, gw, gb


# ---- group norm -------------------------------------------------------------------------------

@_empty_batch(same_shape=True)
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise over groups of channels (and all spatial positions) per sample."""
    if input.dim() < 2:
        raise RuntimeError('Expected at least 2 dimensions for input tensor but received '
                           f'{input.dim()}')
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError('Expected number of channels in input to be divisible by '
                           f'num_groups, but got input of shape {_shape_str(input.shape)} and '
                           f'num_groups={num_groups}')
    for name, t in (('weight', weight), ('bias', bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f'Expected {name} to be a vector of size equal to the number of '
                               f'channels in input, but got {name} of shape '
                               f'{_shape_str(t.shape)} and input of shape '
                               f'{_shape_str(input.shape)}')
    x = input._data
    dt = x.dtype
    if dt.itemsize != 2:
        _check_mixed(dt, weight, bias)
    x3 = x.reshape(n, num_groups, -1)
    mean = x3.mean(axis=2, keepdims=True)
    xhat = x3 - mean
    var = np.einsum('ngl,ngl->ng', xhat, xhat)[..., None] / dt.type(x3.shape[2])
    invstd = (1.0 / np.sqrt(var + dt.type(eps))).astype(dt, copy=False)
    xhat *= invstd
    xc = xhat.reshape(n, c, -1)
    if weight is not None:
        y = xc * weight._data[:, None]
        if bias is not None:
            y += bias._data[:, None]
    elif bias is not None:
        y = xc + bias._data[:, None]
    else:
        y = xc.copy()
    return _record(NativeGroupNormBackward0, y.reshape(x.shape), (input, weight, bias),
                   input=input, weight=weight, bias=bias, xhat=xhat, invstd=invstd,
                   groups=num_groups, eps=eps)


# xhat: the normalised input as an (N, groups, rest) NumPy array, invstd its scales
@derivative
def NativeGroupNormBackward0(grad, input, weight, bias, xhat, invstd, groups, eps):
    n, c = input.shape[:2]
    if _State.enabled:
        xg = input.reshape(n, groups, -1)
        xc = xg - xg.mean(2, keepdim=True)
        inv = ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()
        xh = (xc * inv).reshape(n, c, -1)
        g3 = grad.reshape(n, c, -1)
        gw = (g3 * xh).sum((0, 2)) if weight is not None else None
        gb = g3.sum((0, 2)) if bias is not None else None
        gxh = (g3 * weight.view(1, c, 1) if weight is not None else g3).reshape(n, groups, -1)
        xhg = xh.reshape(n, groups, -1)
        gx = inv * (gxh - gxh.mean(2, keepdim=True) - xhg * (gxh * xhg).mean(2, keepdim=True))
        return gx.reshape(input.shape), gw, gb
    g = grad._data
    g3 = g.reshape(n, c, -1)
    xc = xhat.reshape(n, c, -1)
    gw = gb = gx = None
    if weight is not None and weight._requires_grad:
        gw = _wrap(np.einsum('ncl,ncl->c', g3, xc))
    if bias is not None and bias._requires_grad:
        gb = _wrap(g3.sum(axis=(0, 2)))
    if input._requires_grad:
        gxh = (g3 * weight._data[:, None] if weight is not None else g3).reshape(n, groups, -1)
        m = g.dtype.type(gxh.shape[2])
        a = gxh.sum(axis=2, keepdims=True) / m
        b = np.einsum('ngl,ngl->ng', gxh, xhat)[..., None] / m
        gx = gxh - a
        gx -= xhat * b
        gx *= invstd
        gx = _wrap(gx.reshape(g.shape))
    return gx, gw, gb


# ---- compositions -----------------------------------------------------------------------------

def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x**2 over `size` neighbouring channels) ** beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError('Expected 3D or higher dimensionality                          input '
                         f'(got {dim} dimensions)')
    if input.numel() == 0:
        return input
    c = input.shape[1]
    div = input.mul(input)
    # zero-padding of (size // 2, (size - 1) // 2) channels then a stride-1 average of `size`:
    # the same as a symmetric size // 2 padding (counted in the divisor) cut back to C outputs
    if dim == 3:
        div = avg_pool2d(div.unsqueeze(1), (size, 1), stride=1, padding=(size // 2, 0))
        div = div[:, :, :c].squeeze(1)
    else:
        sizes = input.shape
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = avg_pool3d(div, (size, 1, 1), stride=1, padding=(size // 2, 0, 0))
        div = div[:, :, :c].squeeze(1).view(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x**2 over the trailing dims) + eps) * weight."""
    ns = _check_normalized(input, normalized_shape, weight, None, sep='')
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(-len(ns), 0))
    out = input * (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out
