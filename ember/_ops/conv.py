"""Convolution: F.conv1d/2d/3d, F.conv_transpose1d/2d/3d, F.unfold and F.fold.

One N-d engine serves every spatial rank. groups=1 convolutions (the common case) use the
chunked engine below: im2col of a few images at a time (channels-last columns, or NCHW ones
for few-channel first layers) straight into a BLAS GEMM; the weight gradient rebuilds the
columns from the saved padded input; the stride-1 input gradient is a full correlation with
the flipped kernel or, for few channels, a sum of shifted contiguous slabs; strided ones
scatter over the k*k kernel positions only. Grouped convolutions use one GEMM per group over
the whole batch with (C, *K, N, *out) columns. A transposed convolution is the same two
halves swapped.

The backward nodes compute in NumPy. When the backward itself is recorded (create_graph=True,
for gradient penalties and Hessian-vector products) the same gradients are expressed with the
recorded convolution ops instead (the input gradient is a transposed convolution of the
upstream gradient, the weight gradient a convolution of the input with it), so they can be
differentiated again to any order; the first-order NumPy path is unchanged.
"""
import numpy as np

from .. import _kernels
from .._tensor import _wrap
from ..autograd.graph import _record, derivative
from ..autograd.grad_mode import _State
from ._util import _empty_batch
from ._autocast import autocast
from ._conv_split import batch_ranges, run_ranges
from .norm import _channel_sums
from .._threads import _cblas, blas_held, matmul as _matmul

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d',
           'conv_transpose3d', 'unfold', 'fold']

_as_strided = np.lib.stride_tricks.as_strided


# ---- argument handling ------------------------------------------------------------------------

def _tuple(v, n, name):
    """int -> (v,)*n; a sequence must have 1 or n entries (torch's rule for conv args)."""
    if isinstance(v, (tuple, list)):
        v = tuple(int(e) for e in v)
        if len(v) == 1:
            return v * n
        if len(v) != n:
            raise RuntimeError(
                f'expected {name} to be a single integer value or a list of {n} values to match '
                f'the convolution dimensions, but got {name}={list(v)}')
        return v
    return (int(v),) * n


def _fmt(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


def _type_name(t):
    names = {'float32': 'FloatTensor', 'float64': 'DoubleTensor', 'float16': 'HalfTensor',
             'bfloat16': 'BFloat16Tensor', 'int64': 'LongTensor', 'int32': 'IntTensor'}
    return 'torch.' + names.get(t.dtype.name, t.dtype.name)


def _check_conv(name, input, weight, bias, nsp, stride, padding, dilation, groups, transposed):
    if input.dim() not in (nsp + 1, nsp + 2):
        raise RuntimeError(f'Expected {nsp + 1}D (unbatched) or {nsp + 2}D (batched) input to '
                           f'{name}, but got input of size: {_fmt(input.shape)}')
    if weight.dim() != nsp + 2:
        raise RuntimeError('weight should have at least three dimensions'
                           if weight.dim() < 3 else
                           f'Expected {nsp + 2}-dimensional weight for {nsp + 2}-dimensional '
                           f'input {_fmt(input.shape)}, but got {weight.dim()}-dimensional weight '
                           f'of size {_fmt(weight.shape)} instead')
    if input.dtype != weight.dtype:
        raise RuntimeError(f'Input type ({_type_name(input)}) and weight type '
                           f'({_type_name(weight)}) should be the same or input should be a '
                           'MKLDNN tensor and weight is a dense tensor')
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{name}" is not implemented for integer tensors in ember '
                                  f'(got {input.dtype})')
    if any(s <= 0 for s in stride):
        raise RuntimeError('non-positive stride is not supported')
    if any(d <= 0 for d in dilation):
        raise RuntimeError('dilation should be greater than zero')
    if any(p < 0 for p in padding):
        raise RuntimeError('negative padding is not supported')
    if groups <= 0:
        raise RuntimeError('non-positive groups is not supported')
    ws = tuple(weight.shape)
    xs = tuple(input.shape) if input.dim() == nsp + 2 else (1,) + tuple(input.shape)
    if ws[0] == 0:
        raise RuntimeError(f'Given groups={groups}, expected weight to be at least 1 at '
                           f'dimension 0, but got weight of size {_fmt(ws)} instead')
    if transposed:
        if ws[0] != xs[1]:
            raise RuntimeError(f'Given transposed=1, weight of size {_fmt(ws)}, expected '
                               f'input{_fmt(input.shape)} to have {ws[0]} channels, but got '
                               f'{xs[1]} channels instead')
        out_ch = ws[1] * groups
    else:
        if ws[0] % groups:
            raise RuntimeError(f'Given groups={groups}, expected weight to be divisible by '
                               f'{groups} at dimension 0, but got weight of size {_fmt(ws)} '
                               'instead')
        if ws[1] * groups != xs[1]:
            raise RuntimeError(f'Given groups={groups}, weight of size {_fmt(ws)}, expected '
                               f'input{_fmt(input.shape)} to have {ws[1] * groups} channels, '
                               f'but got {xs[1]} channels instead')
        out_ch = ws[0]
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_ch):
        raise RuntimeError(f'Given weight of size {_fmt(ws)}, expected bias to be 1-dimensional '
                           f'with {out_ch} elements, but got bias of size {_fmt(bias.shape)} '
                           'instead')


def _same_padding(weight_shape, dilation):
    """(lo, hi) pads that keep the size: total d*(k-1), the odd one out goes on the right."""
    lo, hi = [], []
    for k, d in zip(weight_shape[2:], dilation):
        total = d * (k - 1)
        lo.append(total // 2)
        hi.append(total - total // 2)
    return tuple(lo), tuple(hi)


# ---- the NumPy engine -------------------------------------------------------------------------

def _pad_array(x, lo, hi):
    """Zero-pad the spatial dims of (N, C, *S) without np.pad's per-call overhead."""
    if not any(lo) and not any(hi):
        return x
    shape = x.shape[:2] + tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi))
    out = np.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(a, a + s) for a, s in
                                           zip(lo, x.shape[2:]))] = x
    return out


def _out_size(sp, k, s, d):
    return (sp - d * (k - 1) - 1) // s + 1


def _im2col(xp, ksize, stride, dilation, out_sp, batch_last=True):
    """Windows of (N, C, *Sp) as one contiguous strided copy: (C, *K, N, *out) when
    batch_last (so a single GEMM covers the whole batch), else (N, C, *K, *out)."""
    st = xp.strides
    n, c = xp.shape[:2]
    kst = tuple(a * d for a, d in zip(st[2:], dilation))
    ost = tuple(a * s for a, s in zip(st[2:], stride))
    if batch_last:
        shape = (c,) + tuple(ksize) + (n,) + tuple(out_sp)
        strides = (st[1],) + kst + (st[0],) + ost
    else:
        shape = (n, c) + tuple(ksize) + tuple(out_sp)
        strides = st[:2] + kst + ost
    return np.ascontiguousarray(_as_strided(xp, shape, strides))


def _batch_first(cols, nsp):
    """(C, *K, N, *out) -> an (N, C, *K, *out) view."""
    return np.moveaxis(cols, 1 + nsp, 0)


def _col2im(cols, sp_shape, ksize, stride, dilation, buf=None):
    """Adjoint of _im2col: (N, C, *K, *out) (any strides) summed into an (N, C, *Sp) array
    (buf when given)."""
    nsp = len(ksize)
    n, c = cols.shape[:2]
    out_sp = cols.shape[2 + nsp:]
    tiles = all(k == s for k, s in zip(ksize, stride)) and all(d == 1 for d in dilation)
    if buf is None:
        buf = np.zeros((n, c) + tuple(sp_shape), dtype=cols.dtype)
    elif not (tiles and all(o * k == e for o, k, e in zip(out_sp, ksize, sp_shape))):
        buf[...] = 0
    if tiles:
        # non-overlapping windows: a pure re-layout, no summation needed
        perm = [0, 1]
        for i in range(nsp):
            perm += [2 + nsp + i, 2 + i]
        blk = cols.transpose(perm).reshape((n, c) + tuple(o * k for o, k in zip(out_sp, ksize)))
        buf[(slice(None), slice(None)) + tuple(slice(0, e) for e in blk.shape[2:])] = blk
        return buf
    for pos in np.ndindex(*ksize):
        sl = tuple(slice(p * d, p * d + s * (o - 1) + 1, s)
                   for p, d, s, o in zip(pos, dilation, stride, out_sp))
        buf[(slice(None), slice(None)) + sl] += cols[(slice(None), slice(None)) + pos]
    return buf


def _conv_forward(x, w, b, stride, lo, hi, dilation, groups):
    """x (N, C, *S), w (O, C/g, *K) -> y (N, O, *out) and the saved columns.

    One GEMM per group over the whole batch: (O/g, C/g*k) @ (C/g*k, N*L). (A batched matmul
    of N small GEMMs is much slower with a threaded BLAS on a busy machine.)"""
    nsp = x.ndim - 2
    ksize = w.shape[2:]
    xp = _pad_array(x, lo, hi)
    out_sp = tuple(_out_size(s, k, st, d) for s, k, st, d in
                   zip(xp.shape[2:], ksize, stride, dilation))
    n, o = x.shape[0], w.shape[0]
    cols = _im2col(xp, ksize, stride, dilation, out_sp).reshape(groups, -1,
                                                                n * int(np.prod(out_sp)))
    y = np.matmul(w.reshape(groups, o // groups, -1), cols).reshape((o, n) + out_sp)
    out = np.empty((n, o) + out_sp, dtype=x.dtype)
    if b is not None:
        np.add(y.swapaxes(0, 1), b.reshape((o,) + (1,) * nsp), out=out)
    else:
        out[...] = y.swapaxes(0, 1)
    return out, cols


def _conv_backward(gy, x_shape, w, cols, stride, lo, hi, dilation, groups, need):
    nsp = len(x_shape) - 2
    n, o = gy.shape[:2]
    og = o // groups
    ksize = w.shape[2:]
    gx = gw = gb = None
    gy4 = gy.reshape(n, groups, og, -1)
    if need[1]:
        # (K, N*L) @ (N*L, O/g) with both operands contiguous: BLAS's fastest layout here
        gyt = np.ascontiguousarray(gy4.transpose(1, 0, 3, 2)).reshape(groups, -1, og)
        gw = np.matmul(cols, gyt).transpose(0, 2, 1).reshape(w.shape)
    if need[0]:
        reach = [d * (k - 1) for d, k in zip(dilation, ksize)]
        if all(s == 1 for s in stride) and all(r >= a and r >= b for r, a, b in
                                               zip(reach, lo, hi)):
            # stride 1: the input gradient is a "full" correlation of gy with the flipped,
            # transposed kernel: im2col + one GEMM, no col2im scatter
            cg = x_shape[1] // groups
            wf = w.reshape((groups, og, cg) + ksize).swapaxes(1, 2)
            wf = wf[(Ellipsis,) + (slice(None, None, -1),) * nsp]
            wf = np.ascontiguousarray(wf).reshape((x_shape[1], og) + ksize)
            gx = _conv_forward(gy, wf, None, stride, tuple(r - a for r, a in zip(reach, lo)),
                               tuple(r - b for r, b in zip(reach, hi)), dilation, groups)[0]
        else:
            gy2 = np.ascontiguousarray(gy4.transpose(1, 2, 0, 3)).reshape(groups, og, -1)
            gcols = np.matmul(w.reshape(groups, og, -1).transpose(0, 2, 1), gy2)
            gcols = gcols.reshape((x_shape[1],) + ksize + (n,) + gy.shape[2:])
            sp = tuple(s + a + c for s, a, c in zip(x_shape[2:], lo, hi))
            buf = _col2im(_batch_first(gcols, nsp), sp, ksize, stride, dilation)
            crop = (slice(None), slice(None)) + tuple(slice(a, a + s) for a, s in
                                                      zip(lo, x_shape[2:]))
            gx = np.ascontiguousarray(buf[crop]) if any(lo) or any(hi) else buf
    if need[2]:
        gb = gy.sum(axis=(0,) + tuple(range(2, 2 + nsp)))
    return gx, gw, gb


# ---- the channels-last engine (groups == 1) ---------------------------------------------------
#
# Layers with many channels run their GEMMs on channels-last operands: the columns of a
# chunk of images are one strided copy of shape (n*L, K*C) whose rows are output pixels,
# multiplied by a (K*C, O) weight matrix. Few-channel stride-1 layers (the first layer) use
# NCHW columns (C*K, L) instead, whose copy runs along contiguous image rows. Building the
# columns a chunk of images at a time keeps them in cache between the copy and the GEMM and
# avoids faulting in one huge column matrix, and the backward rebuilds them from the saved
# padded input instead of keeping them. A chunk's columns (~2 MB) stay in one core's L2
# between the copy and the GEMM: 8 MB chunks were 8-33% slower per layer (CPU time, one BLAS
# thread, measured interleaved on a busy machine).
# Large convolutions split the batch across two threads (_conv_split): each half runs this
# whole pipeline (layout change, column copies, GEMMs with BLAS held to one thread) on its
# own core. OpenBLAS's own threads gave these small GEMMs little and stalled badly on a busy
# machine (a layer 3-10x slower in wall time), and left the copies on one core.

_CHUNK_BYTES = 1 << 21


# The layout change in C (ember/_kernels/src/layout.c): one pass by 8x8 blocks, where NumPy's
# pad and transpose run a channel column at a time through one L1 set (the C input rows are
# H*W floats apart). One thread, ms: (4,32,64,64) 1.25 -> 0.10, (4,16,64,64) 0.33 -> 0.06,
# (4,64,16,16) 0.08 -> 0.02, (64,6,14,14) 0.09 -> 0.04.
_kernels.declare('ember_to_last_f32', None, *['i64'] * 5, 'a', *['i64'] * 4, 'a')


def _to_last(x, lo, hi):
    """(N, C, *S) in any layout -> zero-padded channels-last (N, *Sp, C), contiguous."""
    if (x.dtype == np.float32 and x.ndim in (3, 4) and x.flags.c_contiguous and
            min(lo) >= 0 and min(hi) >= 0):
        fn = _kernels.get('ember_to_last_f32')
        if fn is not None:
            n, c = x.shape[:2]
            sp = (1,) * (4 - x.ndim) + x.shape[2:]
            top, left = ((0,) * (4 - x.ndim) + tuple(lo))
            psp = tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi))
            out = np.empty((n,) + psp + (c,), np.float32)
            hp, wp = (1,) * (4 - x.ndim) + psp
            fn(0, n, c, sp[0], sp[1], x, top, left, hp, wp, out)
            return out
    xl = np.moveaxis(x, 1, -1)
    if not any(lo) and not any(hi):
        return np.ascontiguousarray(xl)
    sp = x.shape[2:]
    out = np.zeros((x.shape[0],) + tuple(s + a + b for s, a, b in zip(sp, lo, hi)) +
                   (x.shape[1],), dtype=x.dtype)
    out[(slice(None),) + tuple(slice(a, a + s) for a, s in zip(lo, sp))] = xl
    return out


def _to_first(yl, n, sp, bias=None, out=None):
    """(N*L, C) channels-last rows -> a contiguous (N, C, *S) array (plus a per-channel bias),
    written into out when given."""
    c = yl.shape[1]
    if out is None:
        out = np.empty((n, c) + tuple(sp), dtype=yl.dtype)
    src = yl.reshape(n, -1, c).transpose(0, 2, 1)
    if bias is not None:
        np.add(src, bias.astype(yl.dtype, copy=False)[:, None], out=out.reshape(n, c, -1))
    else:
        np.copyto(out.reshape(n, c, -1), src)
    return out


def _windows(xp, ksize, stride, dilation, out_sp):
    """(N, *Sp, C) -> the strided (N, *out, *K, C) view of every window (no copy)."""
    st = xp.strides
    shape = (xp.shape[0],) + tuple(out_sp) + tuple(ksize) + (xp.shape[-1],)
    strides = ((st[0],) + tuple(a * s for a, s in zip(st[1:-1], stride)) +
               tuple(a * d for a, d in zip(st[1:-1], dilation)) + (st[-1],))
    return _as_strided(xp, shape, strides)


def _chunks(n, row_bytes):
    """Image ranges whose columns take about _CHUNK_BYTES each."""
    step = max(1, min(n, _CHUNK_BYTES // max(row_bytes, 1)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _cols_matmul(xp, wmat, ksize, stride, dilation, out_sp):
    """im2col(xp) @ wmat: (N*L, K*C) @ (K*C, O) -> (N*L, O), a chunk of images at a time."""
    win = _windows(xp, ksize, stride, dilation, out_sp)
    n = xp.shape[0]
    per = int(np.prod(out_sp))
    kc = wmat.shape[0]
    y = np.empty((n * per, wmat.shape[1]), dtype=xp.dtype)
    for i, j in _chunks(n, per * kc * xp.itemsize):
        np.matmul(win[i:j].reshape((j - i) * per, kc), wmat, out=y[i * per:j * per])
    return y


def _cols_t_matmul(xp, gyl, ksize, stride, dilation, out_sp, g3=None):
    """gyl^T @ im2col(xp): (O, N*L) @ (N*L, K*C) -> (O, K*C), summed over image chunks; or
    from g3, gy as (N, O, L), one (O, L) @ (L, K*C) GEMM per image."""
    win = _windows(xp, ksize, stride, dilation, out_sp)
    n = xp.shape[0]
    per = int(np.prod(out_sp))
    kc = int(np.prod(ksize)) * xp.shape[-1]
    acc = None
    for i, j in _chunks(n, per * kc * xp.itemsize):
        if g3 is None:
            part = gyl[i * per:j * per].T @ win[i:j].reshape((j - i) * per, kc)
        else:
            part = np.matmul(g3[i:j], win[i:j].reshape(j - i, per, kc)).sum(0)
        if acc is None:
            acc = part
        else:
            acc += part
    return acc


def _scatter_cols(gyl, wmat_t, buf, ksize, stride, dilation, out_sp):
    """col2im of gyl @ wmat_t into the channels-last buf (N, *Sp, C), a chunk at a time."""
    n = buf.shape[0]
    per = int(np.prod(out_sp))
    c = buf.shape[-1]
    nsp = len(ksize)
    for i, j in _chunks(n, per * wmat_t.shape[1] * buf.itemsize):
        gc = (gyl[i * per:j * per] @ wmat_t).reshape((j - i,) + tuple(out_sp) + tuple(ksize) +
                                                     (c,))
        for pos in np.ndindex(*ksize):
            sl = tuple(slice(p * d, p * d + s * (o - 1) + 1, s)
                       for p, d, s, o in zip(pos, dilation, stride, out_sp))
            dst = buf[(slice(i, j),) + sl]
            src = gc[(slice(None),) * (1 + nsp) + pos]
            if ksize == (1,) * nsp:
                dst[...] = src  # one position: nothing to sum
            else:
                dst += src
    return buf


def _pairs(o, ksize, stride, dilation, out_sp):
    """Whether the forward GEMM takes two neighbouring output pixels per row: for few output
    channels (O <= 32), where BLAS runs (rows, K) @ (K, O) products well below its speed at
    2*O columns. A row's window is then kw + 1 wide (1.33x the FLOPs for 3x3 kernels, as fast
    at 2*O columns) and the column copy 0.67x as big: 5-20% less CPU time per forward on the
    yardsticks' 16-channel layers. Stride 1 and an even output width only."""
    return (o <= 32 and ksize[-1] >= 3 and all(s == 1 for s in stride) and dilation[-1] == 1
            and out_sp[-1] % 2 == 0)


def _cols_matmul_pairs(xp, w, dilation, out_sp):
    """_cols_matmul with two horizontally adjacent output pixels per row: (N*L/2, K'*C) @
    (K'*C, 2*O), K' the kernel widened by one column, the weight placed at column offsets
    0 and 1 of the two halves; the result read as (N*L, O) rows."""
    o, c = w.shape[:2]
    ksize = w.shape[2:]
    kw = ksize[-1]
    nsp = len(ksize)
    wt = np.moveaxis(w, (0, 1), (-1, -2))                       # (*K, C, O)
    wp = np.zeros(ksize[:-1] + (kw + 1, c, 2, o), dtype=w.dtype)
    lead = (slice(None),) * (nsp - 1)
    wp[lead + (slice(0, kw), slice(None), 0)] = wt
    wp[lead + (slice(1, kw + 1), slice(None), 1)] = wt
    wm = wp.reshape(-1, 2 * o)
    st = xp.strides
    n = xp.shape[0]
    shape = ((n,) + tuple(out_sp[:-1]) + (out_sp[-1] // 2,) + tuple(ksize[:-1]) + (kw + 1, c))
    strides = ((st[0],) + st[1:-2] + (2 * st[-2],) +
               tuple(a * d for a, d in zip(st[1:-2], dilation[:-1])) + (st[-2], st[-1]))
    win = _as_strided(xp, shape, strides)
    per = int(np.prod(out_sp)) // 2
    kc = wm.shape[0]
    y = np.empty((n * per, 2 * o), dtype=xp.dtype)
    for i, j in _chunks(n, per * kc * xp.itemsize):
        np.matmul(win[i:j].reshape((j - i) * per, kc), wm, out=y[i * per:j * per])
    return y.reshape(-1, o)


def _wmat(w):
    """(O, C, *K) -> the (K*C, O) matrix matching channels-last columns."""
    return np.ascontiguousarray(np.moveaxis(w, 1, -1)).reshape(w.shape[0], -1).T


def _first_layout(c, ksize, stride, dilation, out_sp):
    """True when (N, C, *K, *out) columns are the better choice: stride 1 and so few input
    channels that a channels-last window row (C*kw contiguous values) is shorter than both
    an output row (contiguous in NCHW) and 16 values (below that, copying channels-last
    columns crawls; above it, channels-last GEMMs and weight gradients are faster)."""
    return (all(s == 1 for s in stride) and dilation[-1] == 1 and
            c * ksize[-1] < min(16, out_sp[-1]))


def _cols_matmul_first(xp, wm, ksize, stride, dilation, out_sp, out):
    """NCHW im2col: per image (O, C*K) @ (C*K, L) straight into out (N, O, *out)."""
    st = xp.strides
    n, c = xp.shape[:2]
    win = _as_strided(xp, (n, c) + tuple(ksize) + tuple(out_sp),
                      st[:2] + tuple(a * d for a, d in zip(st[2:], dilation)) +
                      tuple(a * s for a, s in zip(st[2:], stride)))
    per = int(np.prod(out_sp))
    ck = wm.shape[1]
    o3 = out.reshape(n, out.shape[1], per)
    for i, j in _chunks(n, per * ck * xp.itemsize):
        np.matmul(wm, win[i:j].reshape(j - i, ck, per), out=o3[i:j])
    return win


def _pointwise(ksize, lo, hi):
    """True for a 1x1 kernel without padding: then a convolution is one (O, C) @ (C, L) GEMM
    per image on NCHW data (a strided one subsamples the input first), with no layout change
    and no columns (3-9x less CPU time than the channels-last engine on 1x1 layers)."""
    return all(k == 1 for k in ksize) and not any(lo) and not any(hi)


def _subsample(nsp, stride):
    return (slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride[:nsp])


def _corr_pointwise(x, w, b, stride, out=None):
    """_corr of a 1x1 unpadded kernel; saves the (subsampled) input as (N, C, L)."""
    n, c = x.shape[:2]
    o = w.shape[0]
    xs = x[_subsample(x.ndim - 2, stride)]
    x3 = np.ascontiguousarray(xs).reshape(n, c, -1)
    if out is None:
        out = np.empty((n, o) + xs.shape[2:], dtype=x.dtype)
    np.matmul(w.reshape(o, c), x3, out=out.reshape(n, o, -1))
    if b is not None:
        out += b.astype(x.dtype, copy=False).reshape((-1,) + (1,) * (x.ndim - 2))
    return out, (x3, None)


def _pointwise_backward(gy, x_shape, w, x3, stride, need, gx_out=None):
    """Input and weight gradients of _corr_pointwise (the bias one is the caller's)."""
    n, o = gy.shape[:2]
    c = x_shape[1]
    g3 = gy.reshape(n, o, -1)
    gx = gw = None
    if need[1]:
        # one (O, L) @ (L, C) GEMM per image, summed: no transposed copy of either operand
        gw = np.matmul(g3, x3.transpose(0, 2, 1)).sum(0).reshape(w.shape)
    if need[0]:
        wt = w.reshape(o, c).T
        if all(s == 1 for s in stride):
            if gx_out is None:
                return np.matmul(wt, g3).reshape(x_shape), gw
            np.matmul(wt, g3, out=gx_out.reshape(n, c, -1))
            return gx_out, gw
        gx = np.zeros(x_shape, dtype=gy.dtype) if gx_out is None else gx_out
        if gx_out is not None:
            gx[...] = 0
        gx[_subsample(len(x_shape) - 2, stride)] = np.matmul(wt, g3).reshape(
            (n, c) + gy.shape[2:])
    return gx, gw


# The compiled direct convolution (ember/_kernels/src/conv.c): no column copy, a whole image
# range per call with the GIL released (the parts of a batch split run at once), the output
# written straight into the NCHW result. Measured on one thread against the NumPy engine on
# the yardsticks' layers: 1.2-2.2x faster, except 8x8 images of 128 channels (as fast). On an
# AVX2 CPU (AMD Zen 3, its AVX2 path): forward 1.1-1.8x, LeNet's 1.5-2.5x, as fast at 128 ->
# 128 channels on 8x8 (0.97-1.06x: the kernel 0.81 ms, the weights' layout 0.2); none gated.
_kernels.declare('ember_conv2d_f32', None, 'i64', 'i64', 'i64', 'i64', 'a', 'i64', 'i64', 'i64',
                 'i64', 'a', 'a', 'i64', 'i64', 'i64', 'i64', 'a', 'i64', 'i64', 'i64')


# the float lanes of the conv kernels' fast paths (their portable C is slower than NumPy's BLAS):
# both have an AVX2 + FMA path besides their AVX-512 one
_CONV_LANES = 8
_WGRAD_LANES = 8


def _direct(x, w, stride, dilation):
    """The direct-convolution kernel when it takes this (groups=1) convolution: float32, one
    or two spatial dims, dilation 1, stride 1 or 2; else None (the NumPy engine)."""
    if (x.dtype != np.float32 or w.dtype != np.float32 or x.ndim not in (3, 4) or
            any(d != 1 for d in dilation) or any(s > 2 for s in stride)):
        return None
    return _kernels.get('ember_conv2d_f32') if _kernels.wide(_CONV_LANES) else None


def _direct_weights(w, b):
    """w (O, C, *K) and the bias as the kernel reads them: (*K, C, Opad) and (Opad,), Opad the
    output channels rounded up to 16, zero-filled."""
    o = w.shape[0]
    opad = -(-o // 16) * 16
    wk = np.zeros(tuple(w.shape[2:]) + (w.shape[1], opad), np.float32)
    wk[..., :o] = np.moveaxis(w, (0, 1), (-1, -2))
    bk = None
    if b is not None:
        bk = np.zeros(opad, np.float32)
        bk[:o] = b
    return wk, bk


def _corr_direct(fn, x, w, b, stride, lo, hi, out_sp, xp, out, prep):
    """_corr by the kernel; saves what the NumPy engine would (the weight gradient's input)."""
    n, c = x.shape[:2]
    o = w.shape[0]
    if xp is None and _first_layout(c, w.shape[2:], stride, (1,) * len(stride), out_sp):
        saved = (_pad_array(x, lo, hi), False)
        # one channel: the NCHW padded input is channels-last already
        xl = (np.ascontiguousarray(saved[0]).reshape((n,) + saved[0].shape[2:] + (1,))
              if c == 1 else _to_last(x, lo, hi))
    else:
        xl = _to_last(x, lo, hi) if xp is None else xp
        saved = (xl, True)
    wk, bk = _direct_weights(w, b) if prep is None else prep
    y = out if out is not None and out.flags.c_contiguous else np.empty(
        (n, o) + tuple(out_sp), np.float32)
    sp = (1,) * (4 - x.ndim) + tuple(xl.shape[1:-1])
    ks = (1,) * (4 - x.ndim) + tuple(w.shape[2:])
    st = (1,) * (4 - x.ndim) + tuple(stride)
    osp = (1,) * (4 - x.ndim) + tuple(out_sp)
    per = osp[0] * osp[1]
    fn(n, sp[0], sp[1], c, xl, ks[0], ks[1], o, wk.shape[-1], wk, bk, st[0], st[1], osp[0],
       osp[1], y, o * per, 1, per)
    if out is not None and y is not out:
        np.copyto(out, y)
        y = out
    return y, saved


def _corr(x, w, b, stride, lo, hi, dilation, xp=None, out=None, prep=None):
    """Cross-correlation of x (N, C, *S) with w (O, C, *K) (groups=1) -> (y, saved) where
    saved = (padded x, layout flag: True channels-last, False NCHW columns, None a pointwise
    kernel's (N, C, L) input) lets the weight gradient rebuild the columns. xp, when
    given, is x already padded channels-last (used when the caller needs it too); y is
    written into out when given; prep: the direct kernel's weights (_direct_weights)."""
    ksize = w.shape[2:]
    n, c = x.shape[:2]
    out_sp = tuple(_out_size(s + a + e, k, st, d) for s, a, e, k, st, d in
                   zip(x.shape[2:], lo, hi, ksize, stride, dilation))
    if xp is None and _pointwise(ksize, lo, hi):
        return _corr_pointwise(x, w, b, stride, out)
    fn = _direct(x, w, stride, dilation)
    if fn is not None:
        return _corr_direct(fn, x, w, b, stride, lo, hi, out_sp, xp, out, prep)
    if xp is None and _first_layout(c, ksize, stride, dilation, out_sp):
        xp = _pad_array(x, lo, hi)
        if out is None:
            out = np.empty((n, w.shape[0]) + out_sp, dtype=x.dtype)
        _cols_matmul_first(xp, w.reshape(w.shape[0], -1), ksize, stride, dilation, out_sp, out)
        if b is not None:
            out += b.astype(x.dtype, copy=False).reshape((-1,) + (1,) * len(out_sp))
        return out, (xp, False)
    if xp is None:
        xp = _to_last(x, lo, hi)
    if _pairs(w.shape[0], ksize, stride, dilation, out_sp):
        yl = _cols_matmul_pairs(xp, w, dilation, out_sp)
    else:
        yl = _cols_matmul(xp, _wmat(w), ksize, stride, dilation, out_sp)
    return _to_first(yl, n, out_sp, b, out), (xp, True)


class _Split(tuple):
    """What a forward split across threads saves: (image ranges, each range's saved)."""


def _col_work(n, c, o, ksize, lo, hi, out_sp):
    """What decides whether a convolution's batch split pays: its column elements, or for a
    1x1 kernel (no columns: one memory-bound GEMM per image) its multiply-adds / 8, which keeps
    U-Net's 16 -> 2 head (a 0.07 ms layer, 30% slower split) on one thread and splits ResNet's
    strided shortcuts (1.3-1.5x)."""
    if _pointwise(ksize, lo, hi):
        return n * c * o * int(np.prod(out_sp)) // 8
    return n * c * int(np.prod(ksize)) * int(np.prod(out_sp))


def _conv_forward_last(x, w, b, stride, lo, hi, dilation):
    """x (N, C, *S), w (O, C, *K) -> y (N, O, *out) and what the backward needs."""
    n, c = x.shape[:2]
    ksize = w.shape[2:]
    out_sp = tuple(_out_size(s + a + e, k, st, d) for s, a, e, k, st, d in
                   zip(x.shape[2:], lo, hi, ksize, stride, dilation))
    ranges = batch_ranges(n, _col_work(n, c, w.shape[0], ksize, lo, hi, out_sp))
    if ranges is None:
        return _corr(x, w, b, stride, lo, hi, dilation)
    out = np.empty((n, w.shape[0]) + out_sp, dtype=x.dtype)
    # the kernel's weights laid out once for both parts
    prep = (_direct_weights(w, b) if _direct(x, w, stride, dilation) is not None and
            not _pointwise(ksize, lo, hi) else None)
    # the direct kernel's parts are its calls and the layout kernel's: on the kernels' threads
    saved = run_ranges(lambda i, j: _corr(x[i:j], w, b, stride, lo, hi, dilation,
                                          out=out[i:j], prep=prep)[1], ranges,
                       deferred=prep is not None)
    return out, _Split((ranges, saved))


def _per_image_gemm(out_sp):
    """Whether the channels-last weight gradient takes gy as it is (N, O, L), one GEMM per
    image, when it would otherwise make a channels-last copy of gy: as fast from 256 output
    pixels up, plus the copy saved (7% less CPU time on the yardsticks' 16-channel layers),
    slower below (13% more at 8x8). Where the full-correlation input gradient has gy
    channels-last already, one GEMM over its rows stays faster (10-20% at 64-128 channels)."""
    return int(np.prod(out_sp)) >= 256


# The compiled weight gradient (ember/_kernels/src/conv_wgrad.c): no column copy, a whole image
# range per call with the GIL released.
_kernels.declare('ember_conv_wgrad4_f32', None, *(['a'] + ['i64'] * 4 + ['a'] + ['i64'] * 13 +
                                                  ['a'] * 4))

# Its AVX2 path (8-float vectors, gy packed), one thread, the yardsticks' layers, NumPy -> kernel
# ms on an AMD EPYC: lenet 1->6 1.15 -> 0.45, 6->16 0.88 -> 0.38; resnet 3->16 0.97 -> 0.43,
# 16->16 3.6 -> 1.8, 16->32 s2 1.36 -> 1.02, 32->32 2.5 -> 1.85, 32->64 s2 1.06 -> 1.07,
# 64->64 2.15 -> 1.90; unet 1->16 0.21-0.28 -> 0.13-0.18, 16->16 1.62 -> 0.87, 16->32 0.68 ->
# 0.49, 32->32 1.20 -> 0.86, 32->64 0.57 -> 0.51, 64->64 1.08 -> 0.93, 64->128 0.57 -> 0.50,
# 128->128 1.05 -> 1.0, 128->64 2.15 -> 2.0, 64->32 2.4 -> 1.8, 32->16 3.0 -> 1.95.


def _wgrad_kernel(x_dtype, gy_dtype, c, ksize, dilation):
    """The compiled weight gradient where it applies (see _weight_grad_kernel), else None."""
    fewest = 16 if _kernels.wide(16) else 9     # AVX-512 (or the tests' forced kernels): 16
    if (len(ksize) > 2 or x_dtype != np.float32 or gy_dtype != np.float32 or
            any(d != 1 for d in dilation) or c * int(np.prod(ksize)) < fewest):
        return None
    return _kernels.get('ember_conv_wgrad4_f32') if _kernels.wide(_WGRAD_LANES) else None


def _weight_grad_kernel(gy, xp, last, ksize, stride, dilation, gyl):
    """_weight_grad by the compiled kernel (conv_wgrad.c: no columns, the whole image range in
    one call without the GIL), or None where it does not apply: float32, 1-d and 2-d, no
    dilation, input and gy on whole-element strides, and at least 16 kernel taps times input
    channels (below that, as U-Net's 1-channel 3x3 first layer, its register tiles are too
    thin: 1.3-1.5x slower than the NumPy code on one thread; 1.2-1.5x faster at 25 and 27).
    The AVX2 path (no AVX-512) is taken from 9 (U-Net's first layer, 1.5-1.6x faster)."""
    nsp = len(ksize)
    c = xp.shape[-1] if last else xp.shape[1]
    fn = _wgrad_kernel(xp.dtype, gy.dtype, c, ksize, dilation)
    if fn is None:
        return None
    n, o = gy.shape[:2]
    out_sp = (1,) * (2 - nsp) + tuple(gy.shape[2:])
    k2 = (1,) * (2 - nsp) + tuple(ksize)
    s2 = (1,) * (2 - nsp) + tuple(stride)
    # element strides (image, output row, channel, pixel) of gy, from NCHW gy or from its
    # channels-last rows (N*L, O) or view (N, *out, O)
    if gyl is not None:
        g = gyl.reshape((n,) + tuple(gy.shape[2:]) + (o,)) if gyl.ndim == 2 else gyl
        st = g.strides
        gs = (st[0], st[1] if nsp == 2 else 0, st[-1], st[-2])
    else:
        g = gy
        st = g.strides
        gs = (st[0], st[2] if nsp == 2 else 0, st[1], st[-1])
    # and of the padded input (image, row, column, channel)
    st = xp.strides
    xs = (st[0], st[1] if nsp == 2 else 0, st[-2], st[-1]) if last else (
        st[0], st[2] if nsp == 2 else 0, st[-1], st[1])
    if any(a % 4 for a in xs + gs):
        return None
    gw = np.empty((o, c) + tuple(ksize), np.float32)
    acc = np.empty(gw.size, np.float32)
    scratch = None if gs[2] == 4 else np.empty(n * int(np.prod(out_sp)) * o, np.float32)
    fn(xp, *[a // 4 for a in xs], g, *[a // 4 for a in gs], n, c, o, *k2, *out_sp, *s2, scratch,
       acc, gw, None)
    return gw


def _weight_grad(gy, xp, last, ksize, stride, dilation, gyl=None):
    """dL/dw (O, C, *K) from gy (N, O, *out) (or its channels-last rows gyl: (N*L, O), or an
    (N, *out, O) view) and the saved padded input."""
    gw = _weight_grad_kernel(gy, xp, last, ksize, stride, dilation, gyl)
    if gw is not None:
        return gw
    n, o = gy.shape[:2]
    out_sp = gy.shape[2:]
    if gyl is not None and gyl.ndim > 2:
        gyl = np.ascontiguousarray(gyl).reshape(-1, o)
    if last:
        g3 = None
        if gyl is None and _per_image_gemm(out_sp):
            g3 = gy.reshape(n, o, -1)
        elif gyl is None:
            gyl = np.ascontiguousarray(np.moveaxis(gy, 1, -1)).reshape(-1, o)
        gw = _cols_t_matmul(xp, gyl, ksize, stride, dilation, out_sp, g3)
        return np.ascontiguousarray(np.moveaxis(gw.reshape((o,) + ksize + (xp.shape[-1],)),
                                                -1, 1))
    st = xp.strides
    c = xp.shape[1]
    win = _as_strided(xp, (n, c) + tuple(ksize) + tuple(out_sp),
                      st[:2] + tuple(a * d for a, d in zip(st[2:], dilation)) +
                      tuple(a * s for a, s in zip(st[2:], stride)))
    per = int(np.prod(out_sp))
    g3 = gy.reshape(n, o, per)
    acc = None
    for i, j in _chunks(n, per * c * int(np.prod(ksize)) * xp.itemsize):
        cols = win[i:j].reshape(j - i, -1, per)
        part = np.matmul(g3[i:j], cols.transpose(0, 2, 1)).sum(0)
        if acc is None:
            acc = part
        else:
            acc += part
    return acc.reshape((o, c) + tuple(ksize))


def _batch_last_wins(gy, w, x_shape, lo, hi):
    """Whether _grad_input_batch_last beats _grad_input_flat: when the padded input grid is
    much bigger than the output (small valid convolutions, as in LeNet: 1.3-3x less CPU time
    from 1.75x the area; slower at 1.3x and below) and its slabs stay small."""
    sp_pad = int(np.prod([s + a + c for s, a, c in zip(x_shape[2:], lo, hi)]))
    out = int(np.prod(gy.shape[2:]))
    slabs = w[0].size * out * gy.shape[0] * gy.itemsize
    return sp_pad >= 1.75 * out and slabs <= _CHUNK_BYTES * 8


def _grad_input_batch_last(gy, w, x_shape, lo, hi, dilation, gx_out=None):
    """Stride-1 input gradient with the batch as the innermost axis: one GEMM over gy's own
    pixels (no zero padding to the input grid) gives every kernel position's (C, *out, N)
    slab, each added into a (C, *Sp, N) buffer at its offset along runs of out[-1]*N values."""
    n, o = gy.shape[:2]
    nsp = gy.ndim - 2
    c = w.shape[1]
    ksize = w.shape[2:]
    out_sp = gy.shape[2:]
    sp_pad = tuple(s + a + e for s, a, e in zip(x_shape[2:], lo, hi))
    g = np.ascontiguousarray(np.moveaxis(gy, 0, -1)).reshape(o, -1)
    wk = np.ascontiguousarray(w.transpose(tuple(range(2, 2 + nsp)) + (1, 0))).reshape(-1, o)
    slabs = (wk @ g).reshape((-1, c) + tuple(out_sp[:-1]) + (out_sp[-1] * n,))
    buf = np.zeros((c,) + sp_pad[:-1] + (sp_pad[-1] * n,), dtype=gy.dtype)
    for k, pos in enumerate(np.ndindex(*ksize)):
        at = [p * d for p, d in zip(pos, dilation)]
        sl = tuple(slice(a, a + e) for a, e in zip(at[:-1], out_sp[:-1]))
        sl += (slice(at[-1] * n, (at[-1] + out_sp[-1]) * n),)
        buf[(slice(None),) + sl] += slabs[k]
    buf = buf.reshape((c,) + sp_pad + (n,))
    crop = buf[(slice(None),) + tuple(slice(a, a + s) for a, s in zip(lo, x_shape[2:]))]
    return _into(gx_out, np.moveaxis(crop, -1, 0))


def _grad_input_flat(gy, w, sp_pad, dilation):
    """Stride-1 input gradient on the padded grid, as (C, N, *Sp).

    gy is laid on the padded input grid (zeros elsewhere), so every kernel position's
    contribution is the same (C, rows) slab shifted by a flat offset: one GEMM yields all the
    slabs and each shift-add runs along one long contiguous row (a channels-last col2im
    would add C values at a time)."""
    n, o = gy.shape[:2]
    c = w.shape[1]
    ksize = w.shape[2:]
    g = np.zeros((o, n) + tuple(sp_pad), dtype=gy.dtype)
    g[(slice(None), slice(None)) + tuple(slice(0, s) for s in gy.shape[2:])] = gy.swapaxes(0, 1)
    per = int(np.prod(sp_pad))
    g2 = g.reshape(o, n * per)
    nsp = len(ksize)
    wk = np.ascontiguousarray(w.transpose(tuple(range(2, 2 + nsp)) + (1, 0))).reshape(-1, o)
    pitch = [int(np.prod(sp_pad[i + 1:])) for i in range(nsp)]
    offs = [sum(p * d * e for p, d, e in zip(pos, dilation, pitch))
            for pos in np.ndindex(*ksize)]
    buf = np.zeros((c, n * per), dtype=gy.dtype)
    # a chunk of images at a time (no slab crosses into the next image)
    for i, j in _chunks(n, per * wk.shape[0] * gy.itemsize):
        rows = (j - i) * per
        slabs = (wk @ g2[:, i * per:j * per]).reshape(-1, c, rows)
        dst = buf[:, i * per:j * per]
        for k, off in enumerate(offs):
            dst[:, off:] += slabs[k, :, :rows - off]
    return buf.reshape((c, n) + tuple(sp_pad))


# ---- a strided convolution's input gradient by phases (sub-pixel) -----------------------------
#
# With stride s, the input gradient's pixels (y, x) of one phase (y mod s, x mod s) are reached
# only by the kernel taps of that phase: they are the stride-1 full correlation of gy with that
# phase's sub-kernel (w[:, :, a::s, b::s], flipped). The direct kernel computes each phase
# (s*s calls, the FLOPs of the convolution itself, gy padded channels-last once), and
# depth-to-space interleaves them into the input gradient, where the NumPy form scatters
# K columns' worth of GEMM output (ResNet's 3x3 stride-2 layers: ~2x torch's time).
_kernels.declare('ember_depth_to_space_f32', None, *['i64'] * 6, 'a', 'a', 'a')


class _Phases(tuple):
    """The plan of a sub-pixel input gradient (2-d; a 1-d one as height 1): (stride, size of a
    phase (H/s_h, W/s_w), gy's padding (top, left) and (bottom, right), phases: [(a', b', row
    and column of the first window in the padded gy, the phase's kernel taps (row, column)
    in w)])."""


def _phase_axis(k, s, lo, q, out):
    """Per phase a' of one axis: (first window, tap slice) and the padding of gy it needs."""
    rows = []
    for ap in range(s):
        a = (ap + lo) % s
        rows.append(((ap + lo) // s, len(range(a, k, s)), slice(a, None, s)))
    top = max(m for _, m, _ in rows) - 1
    bottom = max(0, max(d + q for d, _, _ in rows) - out)
    return [(d + top - m + 1, sl) for d, m, sl in rows], top, bottom


def _subpixel(gy, x_shape, w, stride, lo, dilation):
    """_Phases when the direct kernel takes this strided input gradient: float32, dilation 1,
    from 8 input channels (as the stride-1 one), every stride at most its kernel size (each
    phase has taps) and dividing the input size; else None."""
    if (all(s == 1 for s in stride) or any(s > k for s, k in zip(stride, w.shape[2:]))
            or any(z % s for z, s in zip(x_shape[2:], stride))
            or not _direct_grad_input(gy, w, x_shape, dilation)
            or _kernels.get('ember_depth_to_space_f32') is None):
        return None
    pre = (1,) * (4 - len(x_shape))
    st, k, lo2 = pre + tuple(stride), pre + tuple(w.shape[2:]), (0,) * len(pre) + tuple(lo)
    q = tuple(z // s for z, s in zip(pre + tuple(x_shape[2:]), st))
    axes = [_phase_axis(*a) for a in zip(k, st, lo2, q, pre + tuple(gy.shape[2:]))]
    phases = [(ap, bp, r0, c0, (rs, cs)) for ap, (r0, rs) in enumerate(axes[0][0])
              for bp, (c0, cs) in enumerate(axes[1][0])]
    return _Phases((st, q, (axes[0][1], axes[1][1]), (axes[0][2], axes[1][2]), phases))


def _subpixel_weights(w, plan):
    """Each phase's kernel weights as the direct kernel reads them (its sub-kernel flipped)."""
    w4 = w.reshape(w.shape[:2] + (1,) * (4 - w.ndim) + w.shape[2:])
    return [_direct_weights(_flipped(w4[:, :, rs, cs]), None)[0]
            for _, _, _, _, (rs, cs) in plan[4]]


def _grad_input_subpixel(gy, x_shape, w, plan, gx_out=None, prep=None):
    """The input gradient of a strided convolution by phases (see _subpixel)."""
    (sh, sw), (hq, wq), tl, br, phases = plan
    n, o = gy.shape[:2]
    c = x_shape[1]
    gy4 = gy.reshape((n, o) + (1,) * (4 - gy.ndim) + gy.shape[2:])
    gyp = _to_last(gy4, tl, br)
    hg, wg = gyp.shape[1:3]
    cols = np.empty((n, c, sh, sw, hq, wq), np.float32)
    fn = _kernels.get('ember_conv2d_f32')
    per = sh * sw * hq * wq
    for (ap, bp, r0, c0, _), wk in zip(phases, prep or _subpixel_weights(w, plan)):
        # (views, not addresses: a deferred part keeps them, and so gyp and cols, alive)
        fn(n, hg, wg, o, gyp[:, r0:, c0:], wk.shape[0], wk.shape[1], c, wk.shape[-1], wk, None,
           1, 1, hq, wq, cols[:, :, ap, bp], c * per, 1, per)
    gx = gx_out if gx_out is not None else np.empty(x_shape, np.float32)
    _kernels.get('ember_depth_to_space_f32')(n, c, hq, wq, sh, sw, cols, None, gx)
    return gx


def _conv_backward_last(gy, x_shape, w, saved, stride, lo, hi, dilation, need):
    if isinstance(saved, _Split):
        return _conv_backward_split(gy, x_shape, w, saved, stride, lo, hi, dilation, need)
    return _conv_backward_part(gy, x_shape, w, saved, stride, lo, hi, dilation, need)


def _conv_backward_split(gy, x_shape, w, saved, stride, lo, hi, dilation, need):
    """The backward of a forward split across threads: the same split, the input gradient
    written range by range, the weight and bias gradients summed in range order."""
    ranges, parts = saved
    gx = np.empty(x_shape, dtype=gy.dtype) if need[0] else None
    # the parts are kernel calls only when both gradients are the kernels'
    direct = need[0] and _direct_input_grad(gy, x_shape, w, stride, lo, hi, dilation)
    sub = None if direct or not need[0] else _subpixel(gy, x_shape, w, stride, lo, dilation)
    deferred = ((not need[0] or direct or sub is not None)
                and (not need[1] or _wgrad_kernel(gy.dtype, gy.dtype, x_shape[1], w.shape[2:],
                                                  dilation) is not None)
                and all(p[1] is not None for p in parts))     # None: a 1x1 kernel's GEMMs

    # the input gradient's kernel weights laid out once for both parts
    prep = None
    if deferred and need[0]:
        prep = _subpixel_weights(w, sub) if sub is not None else _direct_weights(_flipped(w),
                                                                                 None)

    def part(i, j, saved_ij):
        return _conv_backward_part(gy[i:j], (j - i,) + tuple(x_shape[1:]), w, saved_ij, stride,
                                   lo, hi, dilation, need, None if gx is None else gx[i:j],
                                   prep)
    return _sum_ranges(gx, run_ranges(part, [r + (p,) for r, p in zip(ranges, parts)],
                                      deferred), need)


def _flipped(w):
    """The kernel of the input gradient's full correlation: w flipped, in and out swapped."""
    return w[(Ellipsis,) + (slice(None, None, -1),) * (w.ndim - 2)].swapaxes(0, 1)


def _direct_grad_input(gy, w, x_shape, dilation):
    """Whether a stride-1 input gradient is the direct kernel's full correlation of the padded
    gy with the flipped kernel (float32, dilation 1) rather than a NumPy form: from 8 input
    channels (the kernel's output channels: below that its registers are mostly masked off).
    Measured on one thread on the yardsticks' stride-1 layers: 1.4-2.3x faster than the NumPy
    forms from 16 channels, as fast at LeNet's 6, 0.4-0.9x at 1 and 3; on AVX2 (Zen 3)
    1.2-2.0x from 16 channels, as fast at 6, 0.35-0.7x at 1 and 3."""
    return x_shape[1] >= 8 and _direct(gy, w, (1,) * (gy.ndim - 2), dilation) is not None


def _direct_input_grad(gy, x_shape, w, stride, lo, hi, dilation):
    """Whether the input gradient is the direct kernel's (_direct_grad_input): stride 1, and
    padding that the full correlation's reach covers."""
    reach = [d * (k - 1) for d, k in zip(dilation, w.shape[2:])]
    return (all(s == 1 for s in stride) and
            all(r >= a and r >= c for r, a, c in zip(reach, lo, hi)) and
            _direct_grad_input(gy, w, x_shape, dilation))


def _conv_backward_part(gy, x_shape, w, saved, stride, lo, hi, dilation, need, gx_out=None,
                        prep=None):
    xp, last = saved
    n, o = gy.shape[:2]
    if last is None:
        gx, gw = _pointwise_backward(gy, x_shape, w, xp, stride, need, gx_out)
        gb = _channel_sums(gy.reshape(n, o, -1)) if need[2] else None
        return gx, gw, gb
    ksize = w.shape[2:]
    out_sp = gy.shape[2:]
    gx = gw = gb = gyl = gyp = None
    reach = [d * (k - 1) for d, k in zip(dilation, ksize)]
    # stride 1: the input gradient is a "full" correlation of gy with the flipped, transposed
    # kernel (one im2col + GEMM, no scatter), unless its columns would be bigger than the
    # scatter's (valid convs shrinking many channels to few, as in LeNet) or there are few
    # input channels: then the shifted-slab form (_grad_input_flat) is cheaper still
    unit = all(s == 1 for s in stride)
    reused = all(r >= a and r >= c for r, a, c in zip(reach, lo, hi))
    direct = need[0] and _direct_input_grad(gy, x_shape, w, stride, lo, hi, dilation)
    full = direct or (need[0] and unit and x_shape[1] > 16 and reused and
                      o * int(np.prod(x_shape[2:])) <= x_shape[1] * int(np.prod(out_sp)))
    if full:
        glo = tuple(r - a for r, a in zip(reach, lo))
        ghi = tuple(r - c for r, c in zip(reach, hi))
        tight = not _first_layout(o, ksize, stride, dilation, x_shape[2:])
        if direct or tight:
            # pad-and-transpose gy once; the weight gradient's rows are its interior
            gyp = _to_last(gy, glo, ghi)
            if need[1] and last and tight:
                gyl = gyp[(slice(None),) + tuple(slice(a, a + s) for a, s in zip(glo, out_sp))]
    sub = None if full or not need[0] or unit else _subpixel(gy, x_shape, w, stride, lo,
                                                              dilation)
    if need[0] and not unit and sub is None:
        # the scatter below and a channels-last weight gradient share gy's channels-last rows
        gyl = np.ascontiguousarray(np.moveaxis(gy, 1, -1)).reshape(-1, o)
    if need[1]:
        gw = _weight_grad(gy, xp, last, ksize, stride, dilation, gyl)
    if need[0]:
        if full:
            gx = _corr(gy, _flipped(w), None, stride, glo, ghi, dilation, gyp, gx_out,
                       prep)[0]
        elif sub is not None:
            gx = _grad_input_subpixel(gy, x_shape, w, sub, gx_out, prep)
        elif unit and _batch_last_wins(gy, w, x_shape, lo, hi):
            gx = _grad_input_batch_last(gy, w, x_shape, lo, hi, dilation, gx_out)
        elif unit:
            sp_pad = tuple(s + a + c for s, a, c in zip(x_shape[2:], lo, hi))
            buf = _grad_input_flat(gy, w, sp_pad, dilation)
            crop = (slice(None), slice(None)) + tuple(slice(a, a + s) for a, s in
                                                      zip(lo, x_shape[2:]))
            gx = _into(gx_out, buf[crop].swapaxes(0, 1))
        else:
            buf = np.zeros((n,) + tuple(s + a + c for s, a, c in zip(x_shape[2:], lo, hi)) +
                           (x_shape[1],), dtype=gy.dtype)
            _scatter_cols(gyl, _wmat(w).T, buf, ksize, stride, dilation, out_sp)
            crop = (slice(None),) + tuple(slice(a, a + s) for a, s in zip(lo, x_shape[2:]))
            gx = _into(gx_out, np.moveaxis(buf[crop], -1, 1))
    if need[2]:
        gb = _channel_sums(gy.reshape(n, o, -1))
    return gx, gw, gb


def _into(out, a):
    """a as a contiguous array: copied into out when given."""
    if out is None:
        return np.ascontiguousarray(a)
    np.copyto(out, a)
    return out


# a transposed convolution's parts are a few large NumPy calls each (one GEMM, one layout
# change): its split pays from smaller sizes than a convolution's (U-Net's 2x2 upsamplings,
# 4 images of 16x16 and 32x32: 1.4-1.7x at two threads; 8x8 gained nothing)
_TRANSPOSE_SPLIT_MIN = 1 << 17


def _transpose_work(x, w, groups):
    """The size of a transposed convolution's column matrix (Cout*K x N*L)."""
    return w.shape[1] * groups * int(np.prod(w.shape[2:])) * x.size // x.shape[1]


# The transposed convolution whose kernel size is its stride (U-Net's 2x2 up-sampling) by the
# kernels (src/gemm.c): one GEMM of NumPy's OpenBLAS per image, laid out into the output's
# blocks, on the kernels library's threads when split (no GIL between the calls).
_kernels.declare('ember_conv_transpose_block_f32', None, *['i64'] * 9, 'a', 'i64', 'a', 'a',
                 'a', 'a', 'i64')
_kernels.declare('ember_conv_transpose_block_backward_f32', None, *['i64'] * 9, 'a', 'i64', 'a',
                 'a', 'i64', 'a', 'a', 'a', 'a')
_BLOCK = 'block'    # what the forward saves when the kernel ran: the backward needs x and w


def _block_kernel(x, w, stride, padding, output_padding, dilation, groups):
    """(forward kernel, backward kernel, (gemm, thread count) addresses) when the kernels
    take this transposed convolution: float32, 1-d or 2-d, kernel size = stride, no padding,
    dilation 1, one group, and NumPy's OpenBLAS to call; else None."""
    if (x.dtype != np.float32 or w.dtype != np.float32 or x.ndim not in (3, 4) or groups != 1
            or tuple(w.shape[2:]) != tuple(stride) or any(padding) or any(output_padding)
            or any(d != 1 for d in dilation) or not _kernels.available()):
        return None
    blas = _cblas(x.dtype)
    fwd = _kernels.get('ember_conv_transpose_block_f32')
    bwd = _kernels.get('ember_conv_transpose_block_backward_f32')
    if blas is None or fwd is None or bwd is None:
        return None
    return fwd, bwd, blas


def _block_geometry(x, w):
    """(C_in, C_out, h, w, s_h, s_w, image stride of x) of a block transposed convolution,
    1-d as 2-d of height 1."""
    sp = (1,) * (4 - x.ndim) + tuple(x.shape[2:])
    st = (1,) * (4 - x.ndim) + tuple(w.shape[2:])
    return (x.shape[1], w.shape[1]) + sp + st


def _image_rows(a):
    """a, or a contiguous copy, whose images are each one contiguous block: with the element
    stride between images."""
    per = a[0].size if a.shape[0] else 0
    if not (a[0].flags.c_contiguous and a.strides[0] % a.itemsize == 0
            and a.strides[0] // a.itemsize >= per):
        a = np.ascontiguousarray(a)
    return a, a.strides[0] // a.itemsize


def _conv_transpose_block(kern, x, w, b):
    """y of a block transposed convolution (see _block_kernel), its images split across the
    kernels' threads from _TRANSPOSE_SPLIT_MIN."""
    fwd, _, (gemm, local) = kern
    cin, cout, h, wd, sh, sw = _block_geometry(x, w)
    n = x.shape[0]
    x, xs = _image_rows(x)
    wt = np.ascontiguousarray(w).reshape(cin, -1)
    bias = None if b is None else np.ascontiguousarray(b)
    out = np.empty((n, cout) + tuple(s * k for s, k in zip(x.shape[2:], w.shape[2:])),
                   np.float32)
    per = out[0].size

    def part(i, j):
        cols = np.empty(wt.size // cin * h * wd, np.float32)
        fwd(gemm, local, j - i, cin, cout, h, wd, sh, sw, x[i:], xs, wt, bias, cols, out[i:],
            per)
    ranges = batch_ranges(n, _transpose_work(x, w, 1), _TRANSPOSE_SPLIT_MIN)
    if ranges is None:
        part(0, n)
    else:
        run_ranges(part, ranges, deferred=True)
    return out


def _conv_transpose_block_backward(kern, gy, x, w, need):
    """(gx, gw, gb) of a block transposed convolution; split as its forward, the weight and
    bias gradients summed in range order."""
    _, bwd, (gemm, local) = kern
    cin, cout, h, wd, sh, sw = _block_geometry(x, w)
    n = x.shape[0]
    x, xs = _image_rows(x)
    gy, gys = _image_rows(gy)
    wt = np.ascontiguousarray(w).reshape(cin, -1)
    gx = np.empty(x.shape, np.float32) if need[0] else None

    def part(i, j):
        cols = np.empty(wt.size // cin * h * wd, np.float32)
        gw = np.empty(wt.shape, np.float32) if need[1] else None
        gb = np.empty(cout, np.float32) if need[2] else None
        bwd(gemm, local, j - i, cin, cout, h, wd, sh, sw, x[i:], xs, wt, gy[i:], gys, cols,
            None if gx is None else gx[i:], gw, gb)
        return None, gw, gb
    ranges = batch_ranges(n, _transpose_work(x, w, 1), _TRANSPOSE_SPLIT_MIN)
    if ranges is None:
        res = [part(0, n)]
    else:
        res = run_ranges(part, ranges, deferred=True)
    gx, gw, gb = _sum_ranges(gx, res, need)
    return gx, None if gw is None else gw.reshape(w.shape), gb


def _conv_transpose_forward(x, w, b, stride, padding, output_padding, dilation, groups):
    """x (N, Cin, *S), w (Cin, Cout/g, *K) -> y (N, Cout, *out), and what the backward needs:
    x as (g, Cin/g, N*L), or, for a batch split across threads (as the convolution's), the
    image ranges and each range's; or _BLOCK when the kernels ran it."""
    kern = _block_kernel(x, w, stride, padding, output_padding, dilation, groups)
    if kern is not None and x.shape[0]:
        return _conv_transpose_block(kern, x, w, b), _BLOCK
    ranges = batch_ranges(x.shape[0], _transpose_work(x, w, groups), _TRANSPOSE_SPLIT_MIN)
    if ranges is None:
        return _conv_transpose_part(x, w, b, stride, padding, output_padding, dilation, groups,
                                    _matmul)
    full, out_sp = _transpose_sizes(x, w, stride, padding, output_padding, dilation)
    out = np.empty((x.shape[0], w.shape[1] * groups) + out_sp, dtype=x.dtype)
    saved = run_ranges(lambda i, j: _conv_transpose_part(
        x[i:j], w, b, stride, padding, output_padding, dilation, groups, np.matmul,
        out[i:j])[1], ranges)
    return out, _Split((ranges, saved))


def _transpose_sizes(x, w, stride, padding, output_padding, dilation):
    """The uncropped (full) and the cropped output sizes of a transposed convolution."""
    full = tuple((s - 1) * st + d * (k - 1) + 1 + op for s, st, d, k, op in
                 zip(x.shape[2:], stride, dilation, w.shape[2:], output_padding))
    return full, tuple(f - 2 * p for f, p in zip(full, padding))


def _conv_transpose_part(x, w, b, stride, padding, output_padding, dilation, groups, mm,
                         out=None):
    """_conv_transpose_forward of a range of images, with the product mm, written into out
    when given."""
    nsp = x.ndim - 2
    n, cin = x.shape[:2]
    ksize = w.shape[2:]
    cout = w.shape[1] * groups
    x2 = np.ascontiguousarray(
        x.reshape(n, groups, cin // groups, -1).transpose(1, 2, 0, 3)).reshape(
            groups, cin // groups, -1)
    w2 = w.reshape(groups, cin // groups, -1)
    cols = mm(w2.transpose(0, 2, 1), x2).reshape((cout,) + ksize + (n,) + x.shape[2:])
    full, out_sp = _transpose_sizes(x, w, stride, padding, output_padding, dilation)
    whole = full == out_sp and (out is None or cols.dtype == out.dtype)
    buf = _col2im(_batch_first(cols, nsp), full, ksize, stride, dilation,
                  out if whole else None)
    crop = (slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(padding, out_sp))
    y = buf[crop]
    if out is not None and not whole:
        np.copyto(out, y, casting='unsafe')     # (bfloat16: rounded once here)
        y = out
    elif y.shape != buf.shape:
        y = np.ascontiguousarray(y)
    if b is not None:
        y += b.reshape((cout,) + (1,) * nsp)
    if y.dtype != x.dtype:      # bfloat16: ml_dtypes' matmul gives float32; round once here
        y = y.astype(x.dtype)
    return y, x2


def _conv_transpose_backward(gy, x, w, x2, stride, padding, output_padding, dilation,
                             groups, need):
    """The transposed convolution's gradients; a forward split across threads is split the
    same way (the input gradient written range by range, the weight and bias gradients
    summed in range order)."""
    if isinstance(x2, str):     # _BLOCK
        kern = _block_kernel(x, w, stride, padding, output_padding, dilation, groups)
        if kern is not None:
            return _conv_transpose_block_backward(kern, gy, x, w, need)
        # (the kernels switched off since the forward: as the unsplit NumPy forward saves it)
        x2 = _conv_transpose_part(x, w, None, stride, padding, output_padding, dilation,
                                  groups, _matmul)[1]
    if not isinstance(x2, _Split):
        return _conv_transpose_backward_part(gy, x, w, x2, stride, padding, output_padding,
                                             dilation, groups, need, _matmul)
    ranges, parts = x2
    gx = np.empty(x.shape, dtype=gy.dtype) if need[0] else None

    def part(i, j, x2_ij):
        return _conv_transpose_backward_part(gy[i:j], x[i:j], w, x2_ij, stride, padding,
                                             output_padding, dilation, groups, need, np.matmul,
                                             None if gx is None else gx[i:j])
    return _sum_ranges(gx, run_ranges(part, [r + (p,) for r, p in zip(ranges, parts)]), need)


def _sum_ranges(gx, res, need):
    """(gx, gw, gb) from the ranges' results: gw and gb summed in range order."""
    gw = gb = None
    if need[1]:
        gw = res[0][1]
        for r in res[1:]:
            gw += r[1]
    if need[2]:
        gb = res[0][2]
        for r in res[1:]:
            gb += r[2]
    return gx, gw, gb


def _conv_transpose_backward_part(gy, x, w, x2, stride, padding, output_padding, dilation,
                                  groups, need, mm, gx_out=None):
    nsp = x.ndim - 2
    n, cin = x.shape[:2]
    ksize = w.shape[2:]
    full = tuple((s - 1) * st + d * (k - 1) + 1 + op for s, st, d, k, op in
                 zip(x.shape[2:], stride, dilation, ksize, output_padding))
    hi = tuple(f - p - o for f, p, o in zip(full, padding, gy.shape[2:]))
    gyp = _pad_array(gy, padding, hi)
    gcols = _im2col(gyp, ksize, stride, dilation, x.shape[2:]).reshape(
        groups, -1, n * int(np.prod(x.shape[2:])))
    w2 = w.reshape(groups, cin // groups, -1)
    gx = gw = gb = None
    if need[0]:
        gx = mm(w2, gcols).reshape((cin, n) + x.shape[2:])
        gx = _into(gx_out, gx.swapaxes(0, 1))
    if need[1]:
        gw = mm(x2, gcols.transpose(0, 2, 1)).reshape(w.shape)
    if need[2]:
        gb = gy.sum(axis=(0,) + tuple(range(2, 2 + nsp)))
    return gx, gw, gb


# ---- the public functions ---------------------------------------------------------------------

def _needs(input, weight, bias):
    return (input._requires_grad, weight._requires_grad,
            bias is not None and bias._requires_grad)


def _convnd(name, nsp, input, weight, bias, stride, padding, dilation, groups):
    stride = _tuple(stride, nsp, 'stride')
    dilation = _tuple(dilation, nsp, 'dilation')
    if isinstance(padding, str):
        if padding == 'valid':
            lo = hi = (0,) * nsp
        elif padding == 'same':
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            lo, hi = _same_padding(tuple(weight.shape), dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        lo = hi = _tuple(padding, nsp, 'padding')
    _check_conv(name, input, weight, bias, nsp, stride, lo, dilation, groups, False)
    if input.dim() == nsp + 1:
        return _convnd(name, nsp, input.unsqueeze(0), weight, bias, stride,
                       padding, dilation, groups).squeeze(0)
    sp = tuple(input.shape[2:])
    ksize = tuple(weight.shape[2:])
    padded = tuple(s + a + b for s, a, b in zip(sp, lo, hi))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ksize, dilation))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be "
                           'greater than actual input size')
    if input.shape[1] == 0:
        # torch: no input channels give an empty result with no channels either (not
        # out_channels), whose graph reaches every argument with zero gradients
        out_sp = tuple(_out_size(p, k, s, d) for p, k, s, d in
                       zip(padded, ksize, stride, dilation))
        out = _wrap(np.zeros((input.shape[0], 0) + out_sp, input._data.dtype))
        for t in (input, weight, bias):
            if t is not None and t._requires_grad:
                out = out + t.sum() * 0
        return out
    return _conv_op(input, weight, bias, stride, lo, hi, dilation, groups)


@blas_held
def _conv_op(input, weight, bias, stride, lo, hi, dilation, groups):
    """The recorded convolution of a batched input padded by (lo, hi) (arguments checked)."""
    b = bias._data if bias is not None else None
    if groups == 1:
        out, cols = _conv_forward_last(input._data, weight._data, b, stride, lo, hi, dilation)
    else:
        out, cols = _conv_forward(input._data, weight._data, b, stride, lo, hi, dilation, groups)
    return _record(_convolution_backward, out, (input, weight, bias), input=input, weight=weight,
                   cols=cols, params=(stride, lo, hi, dilation, groups),
                   need=_needs(input, weight, bias))


@autocast('lower')
@_empty_batch(3)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) inputs."""
    return _convnd('conv1d', 1, input, weight, bias, stride, padding, dilation, groups)


@autocast('lower')
@_empty_batch(4)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) inputs."""
    return _convnd('conv2d', 2, input, weight, bias, stride, padding, dilation, groups)


@autocast('lower')
@_empty_batch(5)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) inputs."""
    return _convnd('conv3d', 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(name, nsp, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    stride = _tuple(stride, nsp, 'stride')
    padding = _tuple(padding, nsp, 'padding')
    output_padding = _tuple(output_padding, nsp, 'output_padding')
    dilation = _tuple(dilation, nsp, 'dilation')
    _check_conv(name, input, weight, bias, nsp, stride, padding, dilation, groups, True)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        dims = ['height', 'width'] if nsp == 2 else (['depth', 'height', 'width'] if nsp == 3
                                                     else ['width'])
        msg = ('output padding must be smaller than either stride or dilation, but got ' +
               ' '.join(f'output_padding_{n}: {v}' for n, v in zip(dims, output_padding)) + ' ' +
               ' '.join(f'stride_{n}: {v}' for n, v in zip(dims, stride)) + ' ' +
               ' '.join(f'dilation_{n}: {v}' for n, v in zip(dims, dilation)))
        raise RuntimeError(msg)
    if input.dim() == nsp + 1:
        return _conv_transposend(name, nsp, input.unsqueeze(0), weight, bias, stride, padding,
                                 output_padding, groups, dilation).squeeze(0)
    ksize = tuple(weight.shape[2:])
    out_sp = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, st, p, d, k, op in
                   zip(input.shape[2:], stride, padding, dilation, ksize, output_padding))
    if any(o <= 0 for o in out_sp):
        xs = 'x'.join(str(s) for s in input.shape[1:])
        os_ = 'x'.join(str(s) for s in (weight.shape[1] * groups,) + out_sp)
        raise RuntimeError(f'Given input size per channel: ({xs}). Calculated output size per '
                           f'channel: ({os_}). Output size is too small')
    return _conv_transpose_op(input, weight, bias, stride, padding, output_padding, dilation,
                              groups)


@blas_held
def _conv_transpose_op(input, weight, bias, stride, padding, output_padding, dilation, groups):
    """The recorded transposed convolution of a batched input (arguments checked)."""
    b = bias._data if bias is not None else None
    out, x2 = _conv_transpose_forward(input._data, weight._data, b, stride, padding,
                                      output_padding, dilation, groups)
    return _record(_convolution_transpose_backward, out, (input, weight, bias), input=input,
                   weight=weight, x2=x2,
                   params=(stride, padding, output_padding, dilation, groups),
                   need=_needs(input, weight, bias))


@autocast('lower')
@_empty_batch(3)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution ("deconvolution")."""
    return _conv_transposend('conv_transpose1d', 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


@autocast('lower')
@_empty_batch(4)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution")."""
    return _conv_transposend('conv_transpose2d', 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


@autocast('lower')
@_empty_batch(5)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution ("deconvolution")."""
    return _conv_transposend('conv_transpose3d', 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def _wrap_grads(gs):
    return tuple(_wrap(g) if g is not None else None for g in gs)


# ---- gradients as recorded ops (create_graph=True) --------------------------------------------

def _crop(t, starts, sizes):
    """t[:, :, a:a+n, ...] over the spatial dims (a recorded slice; t itself when whole)."""
    if all(a == 0 and n == s for a, n, s in zip(starts, sizes, t.shape[2:])):
        return t
    return t[(slice(None), slice(None)) + tuple(slice(a, a + n) for a, n in zip(starts, sizes))]


def _weight_grad_op(x, gy, ksize, stride, lo, hi, dilation, groups):
    """dL/dw of conv(x, w) (stride, pads lo/hi, dilation, groups) for output gradient gy, as a
    recorded convolution: channels become the batch, the batch becomes the channels and gy
    slides over x with stride and dilation swapped."""
    n, c = x.shape[:2]
    cg = c // groups
    inp = x.transpose(0, 1)
    if groups > 1:
        inp = inp.reshape((groups, cg, n) + tuple(x.shape[2:])).transpose(0, 1)
        inp = inp.reshape((cg, groups * n) + tuple(x.shape[2:]))
    r = _conv_op(inp, gy.transpose(0, 1), None, dilation, lo, hi, stride, groups)
    return _crop(r, (0,) * len(ksize), ksize).transpose(0, 1)


def _bias_grad_op(gy):
    return gy.sum((0,) + tuple(range(2, gy.dim())))


def _conv_backward_graph(grad, input, weight, stride, lo, hi, dilation, groups, need):
    """ConvolutionBackward0's gradients with recorded ops (differentiable again)."""
    gx = gw = gb = None
    sp = tuple(input.shape[2:])
    ksize = tuple(weight.shape[2:])
    if need[0]:
        # the transposed convolution spreads each output back over its window; output padding
        # makes it reach the input's far edge, the crop drops the padding
        used = tuple((o - 1) * s + d * (k - 1) + 1 for o, s, d, k in
                     zip(grad.shape[2:], stride, dilation, ksize))
        op = tuple(max(0, a + n - u) for a, n, u in zip(lo, sp, used))
        gx = _crop(_conv_transpose_op(grad, weight, None, stride, (0,) * len(sp), op, dilation,
                                      groups), lo, sp)
    if need[1]:
        gw = _weight_grad_op(input, grad, ksize, stride, lo, hi, dilation, groups)
    if need[2]:
        gb = _bias_grad_op(grad)
    return gx, gw, gb


def _conv_transpose_backward_graph(grad, input, weight, stride, padding, dilation, groups,
                                   need):
    """The transposed convolution's gradients with recorded ops: its input gradient is the
    convolution of the upstream gradient, its weight gradient the convolution's weight gradient
    with the roles of input and output swapped."""
    gx = gw = gb = None
    sp = tuple(input.shape[2:])
    if need[0]:
        gx = _crop(_conv_op(grad, weight, None, stride, padding, padding, dilation, groups),
                   (0,) * len(sp), sp)
    if need[1]:
        gw = _weight_grad_op(grad, input, tuple(weight.shape[2:]), stride, padding, padding,
                             dilation, groups)
    if need[2]:
        gb = _bias_grad_op(grad)
    return gx, gw, gb


# Fused NumPy nodes. cols: what the forward kept for the weight gradient (its im2col columns,
# or the padded input), params: (stride, pad lo, pad hi, dilation, groups), need: which of
# (input, weight, bias) require a gradient. Under create_graph=True they use the recorded
# ops above instead.
@derivative('ConvolutionBackward0')
def _convolution_backward(grad, input, weight, cols, params, need):
    stride, lo, hi, dilation, groups = params
    if _State.enabled:
        return _conv_backward_graph(grad, input, weight, stride, lo, hi, dilation, groups, need)
    if groups == 1:
        gs = _conv_backward_last(grad._data, input._data.shape, weight._data, cols, stride, lo,
                                 hi, dilation, need)
    else:
        gs = _conv_backward(grad._data, input._data.shape, weight._data, cols, stride, lo, hi,
                            dilation, groups, need)
    return _wrap_grads(gs)


# (torch names the transposed convolution's node ConvolutionBackward0 too)
@derivative('ConvolutionBackward0')
def _convolution_transpose_backward(grad, input, weight, x2, params, need):
    stride, padding, output_padding, dilation, groups = params
    if _State.enabled:
        return _conv_transpose_backward_graph(grad, input, weight, stride, padding, dilation,
                                              groups, need)
    gs = _conv_transpose_backward(grad._data, input._data, weight._data, x2, stride,
                                  padding, output_padding, dilation, groups, need)
    return _wrap_grads(gs)


# ---- unfold / fold ----------------------------------------------------------------------------

def _pair4(name, v):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(v) == 1:
        v = v * 2
    return tuple(int(e) for e in v)


@_empty_batch(4)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L) (torch's im2col)."""
    if input.dim() not in (3, 4):
        raise NotImplementedError('Input Error: Only 3D or 4D input Tensors are supported '
                                  f'(got {input.dim()}D)')
    if input.dim() == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    k = _pair4('kernel_size', kernel_size)
    d = _pair4('dilation', dilation)
    p = _pair4('padding', padding)
    s = _pair4('stride', stride)
    x = input._data
    out_sp = tuple(_out_size(sz + 2 * pp, kk, ss, dd)
                   for sz, pp, kk, ss, dd in zip(x.shape[2:], p, k, s, d))
    if any(o <= 0 for o in out_sp):
        raise RuntimeError(
            f'Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size=({k[0]}, '
            f'{k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), calculated shape of '
            f'the array of sliding blocks as ({out_sp[0]}, {out_sp[1]}), but its components must '
            'be at least one.')
    xp = _pad_array(x, p, p)
    n, c = x.shape[:2]
    out = _im2col(xp, k, s, d, out_sp, batch_last=False).reshape(n, c * k[0] * k[1], -1)
    return _record(Im2ColBackward0, out, (input,), sp=x.shape[2:], k=k, d=d, p=p, s=s)


def _fold_array(cols, output_size, k, d, p, s):
    n = cols.shape[0]
    c = cols.shape[1] // (k[0] * k[1])
    sp = tuple(o + 2 * pp for o, pp in zip(output_size, p))
    out_sp = tuple(_out_size(z, kk, ss, dd) for z, kk, ss, dd in zip(sp, k, s, d))
    c6 = cols.reshape(n, c, k[0], k[1], out_sp[0], out_sp[1])
    buf = _col2im(c6, sp, k, s, d)
    return np.ascontiguousarray(buf[:, :, p[0]:p[0] + output_size[0],
                                    p[1]:p[1] + output_size[1]])


@_empty_batch(3)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, H, W) (col2im)."""
    if input.dim() not in (2, 3):
        raise NotImplementedError('Input Error: Only unbatched (2D) or batched (3D) input Tensors '
                                  f'are supported (got {input.dim()}D)')
    if input.dim() == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding,
                    stride).squeeze(0)
    o = _pair4('output_size', output_size)
    k = _pair4('kernel_size', kernel_size)
    d = _pair4('dilation', dilation)
    p = _pair4('padding', padding)
    s = _pair4('stride', stride)
    x = input._data
    if x.shape[1] % (k[0] * k[1]):
        raise RuntimeError(
            'Expected size of input\'s dimension 1 to be divisible by the product of kernel_size, '
            f'but got input.size(1)={x.shape[1]} and kernel_size=({k[0]}, {k[1]})')
    blocks = [_out_size(z + 2 * pp, kk, ss, dd) for z, pp, kk, ss, dd in zip(o, p, k, s, d)]
    if blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(
            f'Given output_size=({o[0]}, {o[1]}), kernel_size=({k[0]}, {k[1]}), dilation=('
            f'{d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected '
            f'size of input\'s dimension 2 to match the calculated number of sliding blocks '
            f'{blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got '
            f'input.size(2)={x.shape[2]}.')
    return _record(Col2ImBackward0, _fold_array(x, o, k, d, p, s), (input,), o=o, k=k, d=d, p=p,
                   s=s)


# fold and unfold are each other's adjoints, so double backward works through them
@derivative
def Im2ColBackward0(grad, sp, k, d, p, s):
    return fold(grad, sp, k, d, p, s)


@derivative
def Col2ImBackward0(grad, o, k, d, p, s):
    return unfold(grad, k, d, p, s)

