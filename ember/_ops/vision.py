"""Spatial sampling: F.grid_sample and F.affine_grid (torch.grid_sampler, grid_sampler_2d/3d,
affine_grid_generator).

grid_sample is separable: along each spatial dim a sample point has a few taps (2 for
bilinear, 1 for nearest, 4 for bicubic), each with an index and a 1-D weight, and the output
is the sum over every combination of taps of the product of their weights times the input value
there. A tap outside the input reads zero (its weight is dropped). The forward gathers each
combination from a channels-last copy of the input; the backward scatters the weighted output
gradient back (one bincount) and, for the grid, sums the weights' derivatives times the values
the taps read. As in torch, that backward is not differentiable again.
"""
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from ..autograd.graph import _record, derivative
from ..autograd.grad_mode import _State
from .creation import linspace
from .shape import stack
from ._util import _legacy

__all__ = ['grid_sample', 'affine_grid']

_MODES = {'bilinear': 0, 'nearest': 1, 'bicubic': 2}
_PADDINGS = {'zeros': 0, 'border': 1, 'reflection': 2}
_CUBIC_A = -0.75


# ---- coordinates ------------------------------------------------------------------------------

def _unnormalize(c, size, align_corners):
    """[-1, 1] -> pixel coordinates, and d(pixel)/d(c)."""
    if align_corners:
        return (c + 1) / 2 * (size - 1), (size - 1) / 2
    return ((c + 1) * size - 1) / 2, size / 2


def _clip(x, size):
    """Border padding: x clipped to [0, size - 1]; its derivative is 0 where clipped."""
    hi = size - 1
    return np.clip(x, 0, hi), ((x > 0) & (x < hi)).astype(x.dtype)


def _reflect(x, twice_low, twice_high):
    """x reflected off the bounds until it lies between them, and dx'/dx (+1 or -1)."""
    if twice_low == twice_high:
        return np.zeros_like(x), np.zeros_like(x)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    x = x - lo
    sign = np.where(x < 0, -1, 1).astype(x.dtype)
    x = np.abs(x)
    extra = np.fmod(x, span)
    even = np.floor(x / span) % 2 == 0
    return (np.where(even, extra + lo, span - extra + lo).astype(x.dtype),
            np.where(even, sign, -sign))


def _pad_coords(x, size, padding, align_corners):
    """Apply the padding mode to pixel coordinates: (coordinates, derivative factor)."""
    if padding == 0:
        return x, None
    if padding == 1:
        return _clip(x, size)
    if align_corners:
        x, d = _reflect(x, 0, 2 * (size - 1))
    else:
        x, d = _reflect(x, -1, 2 * size - 1)
    x, dc = _clip(x, size)
    return x, d * dc


def _cubic_weights(t):
    """The 4 cubic-convolution weights (torch's A = -0.75) at fraction t, and d/dt."""
    a = _CUBIC_A

    def near(x):      # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1, (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far(x):       # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, (3 * a * x - 10 * a) * x + 8 * a

    w0, d0 = far(t + 1)
    w1, d1 = near(t)
    w2, d2 = near(1 - t)
    w3, d3 = far(2 - t)
    return [w0, w1, w2, w3], [d0, d1, -d2, -d3]


def _taps(grid, sizes, mode, padding, align_corners):
    """Per spatial dim (input order): a list of taps (index int array, valid mask, weight,
    d weight / d grid coordinate) for every sample point of the grid."""
    nd = len(sizes)
    dims = []
    for d, size in enumerate(sizes):
        c = grid[..., nd - 1 - d]       # the grid lists x (the last dim) first
        x, mul = _unnormalize(c, size, align_corners)
        taps = []
        if mode == 2:
            base = np.floor(x)
            ws, ds = _cubic_weights(x - base)
            for k in range(4):
                pos, _ = _pad_coords(base + (k - 1), size, padding, align_corners)
                taps.append((pos, ws[k], ds[k] * mul))
        else:
            x, dpad = _pad_coords(x, size, padding, align_corners)
            if dpad is not None:
                mul = mul * dpad
            if mode == 1:
                taps.append((np.round(x), np.ones_like(x), np.zeros_like(x)))
            else:
                base = np.floor(x)
                frac = x - base
                taps.append((base, 1 - frac, -mul * np.ones_like(x)))
                taps.append((base + 1, frac, mul * np.ones_like(x)))
        out = []
        for pos, w, dw in taps:
            idx = pos.astype(np.int64)
            valid = (pos >= 0) & (pos < size)
            out.append((np.where(valid, idx, 0), valid, w, dw))
        dims.append(out)
    return dims


def _combos(dims, sizes, n):
    """Every combination of one tap per dim: (flat row index into the (N*prod(S), C) input,
    the per-dim tap tuple), with invalid taps pointing at row 0."""
    strides = [int(np.prod(sizes[d + 1:])) for d in range(len(sizes))]
    per = int(np.prod(sizes))
    batch = (np.arange(n) * per).reshape((n,) + (1,) * (dims[0][0][0].ndim - 1))
    for choice in np.ndindex(*[len(t) for t in dims]):
        taps = [dims[d][k] for d, k in enumerate(choice)]
        row = batch
        valid = None
        for (idx, ok, _, _), s in zip(taps, strides):
            row = row + idx * s
            valid = ok if valid is None else valid & ok
        yield np.where(valid, row, 0), valid, taps


def _weight(taps, valid, skip=None):
    w = None
    for d, (_, _, wd, dwd) in enumerate(taps):
        f = dwd if d == skip else wd
        w = f if w is None else w * f
    return np.where(valid, w, 0)


def _grid_sample_forward(x, grid, mode, padding, align_corners):
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)
    dims = _taps(grid, sizes, mode, padding, align_corners)
    out = np.zeros(grid.shape[:-1] + (c,), dtype=x.dtype)
    for row, valid, taps in _combos(dims, sizes, n):
        out += _weight(taps, valid)[..., None] * rows[row]
    return np.ascontiguousarray(np.moveaxis(out, -1, 1))


def _grid_sample_backward(g, x, grid, mode, padding, align_corners, need):
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    nd = len(sizes)
    gl = np.moveaxis(g, 1, -1)          # (N, *out, C)
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)
    dims = _taps(grid, sizes, mode, padding, align_corners)
    gx = gg = None
    idx_parts, val_parts = [], []
    ggrid = [np.zeros(grid.shape[:-1], dtype=x.dtype) for _ in range(nd)] if need[1] else None
    for row, valid, taps in _combos(dims, sizes, n):
        if need[0]:
            w = _weight(taps, valid)
            idx_parts.append((row[..., None] * c + np.arange(c)).reshape(-1))
            val_parts.append((w[..., None] * gl).reshape(-1))
        if need[1] and mode != 1:
            gv = np.einsum('...c,...c->...', gl, rows[row])
            for d in range(nd):
                ggrid[d] += _weight(taps, valid, skip=d) * gv
    if need[0]:
        flat = np.bincount(np.concatenate(idx_parts), np.concatenate(val_parts),
                           minlength=rows.size)
        gx = np.ascontiguousarray(np.moveaxis(
            flat.astype(x.dtype).reshape((n,) + tuple(sizes) + (c,)), -1, 1))
    if need[1]:
        gg = np.stack(ggrid[::-1], axis=-1).astype(x.dtype, copy=False)
    return gx, gg


# ---- the ops ----------------------------------------------------------------------------------

def _check_grid_sampler(input, grid, mode, padding):
    if input.dtype != grid.dtype:
        raise RuntimeError(f'expected scalar type {_legacy(input._data.dtype)} but found '
                           f'{_legacy(grid._data.dtype)}')
    if input.dim() != grid.dim() or input.dim() not in (4, 5):
        raise RuntimeError(
            'grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, '
            f'but got input with sizes {list(input.shape)} and grid with sizes '
            f'{list(grid.shape)}')
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            'grid_sampler(): expected grid and input to have same batch size, but got input '
            f'with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}')
    nd = input.dim() - 2
    if grid.shape[-1] != nd:
        raise RuntimeError(
            f'grid_sampler(): expected grid to have size {nd} in last dimension, but got grid '
            f'with sizes {list(grid.shape)}')
    for i in range(2, input.dim()):
        if input.shape[i] <= 0:
            raise RuntimeError(
                f'grid_sampler(): expected input to have non-empty spatial dimensions, but '
                f'input has sizes {list(input.shape)} with dimension {i} being empty')
    if mode == 2 and nd == 3:
        raise RuntimeError('grid_sampler(): bicubic interpolation only supports 4D input')
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'"grid_sampler_{nd}d_cpu" not implemented for '
                           f"'{input.dtype._legacy or input.dtype.name}'")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """torch.grid_sampler: the integer-coded op behind F.grid_sample."""
    _check_grid_sampler(input, grid, interpolation_mode, padding_mode)
    x, gr = input._data, grid._data
    if x.shape[0] == 0 or 0 in grid.shape[1:-1] or x.shape[1] == 0:
        out = np.zeros(x.shape[:2] + grid.shape[1:-1], dtype=x.dtype)
    else:
        out = _grid_sample_forward(x, gr, interpolation_mode, padding_mode, bool(align_corners))
    node = GridSampler2DBackward0 if input.dim() == 4 else GridSampler3DBackward0
    return _record(node, out, (input, grid), input=input, grid=grid,
                   params=(interpolation_mode, padding_mode, bool(align_corners)),
                   need=(input._requires_grad, grid._requires_grad))


def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    if input.dim() != 4:
        raise RuntimeError(f'grid_sampler_2d(): expected 4D input, got {input.dim()}D')
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    if input.dim() != 5:
        raise RuntimeError(f'grid_sampler_3d(): expected 5D input, got {input.dim()}D')
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def _attached(value, slope, c):
    """An ember tensor with NumPy `value` whose derivative with respect to the tensor c is
    `slope` (value + slope * (c - c), exact in value): piecewise-linear coordinate maps."""
    return _wrap(value) + (c - c.detach()) * _wrap(np.asarray(slope, dtype=value.dtype))


def _taps_graph(grid, sizes, mode, padding, align_corners):
    """_taps with the weights and their derivatives as ember tensors of grid (so they can be
    differentiated again): per dim a list of (index, valid, weight, d weight / d grid)."""
    nd = len(sizes)
    gd = grid._data
    dims = []
    for d, size in enumerate(sizes):
        ce = grid[..., nd - 1 - d]
        c = gd[..., nd - 1 - d]
        x, mul = _unnormalize(c, size, align_corners)
        taps = []
        if mode == 2:
            base = np.floor(x)
            t = _attached(x - base, mul, ce)
            ws, ds = _cubic_weights(t)
            for k in range(4):
                pos, _ = _pad_coords(base + (k - 1), size, padding, align_corners)
                taps.append((pos, ws[k], ds[k] * mul))
        else:
            x, dpad = _pad_coords(x, size, padding, align_corners)
            slope = mul * dpad if dpad is not None else np.full_like(x, mul)
            if mode == 1:
                taps.append((np.round(x), 1.0, 0.0))
            else:
                base = np.floor(x)
                frac = _attached(x - base, slope, ce)
                dslope = _wrap(np.asarray(slope, dtype=x.dtype))
                taps.append((base, 1 - frac, -dslope))
                taps.append((base + 1, frac, dslope))
        out = []
        for pos, w, dw in taps:
            valid = (pos >= 0) & (pos < size)
            out.append((np.where(valid, pos.astype(np.int64), 0), valid, w, dw))
        dims.append(out)
    return dims


def _grid_sample_backward_graph(grad, input, grid, mode, padding, align_corners, need):
    """The grid sampler's gradients as ember ops of grad, input and grid (create_graph=True):
    the input's is the weighted output gradient added back into the taps' rows, the grid's
    the weights' derivatives times the values the taps read."""
    n, c = input.shape[:2]
    sizes = tuple(input.shape[2:])
    nd = len(sizes)
    gl = grad.movedim(1, -1)
    rows = input.movedim(1, -1).reshape(-1, c)
    dims = _taps_graph(grid, sizes, mode, padding, align_corners)
    gx = _wrap(np.zeros(rows.shape, dtype=input._data.dtype)) if need[0] else None
    gg = [0.0] * nd
    for row, valid, taps in _combos(dims, sizes, n):
        keep = _wrap(~valid)

        def weight(skip=None):
            w = 1.0
            for d, (_, _, wd, dwd) in enumerate(taps):
                w = w * (dwd if d == skip else wd)
            if isinstance(w, Tensor):
                return w.masked_fill(keep, 0)
            return _wrap(np.where(valid, w, 0).astype(input._data.dtype))  # nearest: 1

        ridx = _wrap(row.reshape(-1))
        if need[0]:
            gx = gx.index_add(0, ridx, (weight()[..., None] * gl).reshape(-1, c))
        if need[1] and mode != 1:
            gv = (gl * rows.index_select(0, ridx).reshape(gl.shape)).sum(-1)
            for d in range(nd):
                gg[d] = gg[d] + weight(d) * gv
    if need[0]:
        gx = gx.reshape((n,) + sizes + (c,)).movedim(-1, 1)
    if need[1]:
        if mode == 1:
            gg = _wrap(np.zeros(grid.shape, dtype=grid._data.dtype))
        else:
            gg = stack(gg[::-1], -1)
    return gx, (gg if need[1] else None)


def _grid_sampler_backward(grad, input, grid, params, need):
    if _State.enabled:
        return _grid_sample_backward_graph(grad, input, grid, *params, need)
    gx, gg = _grid_sample_backward(grad._data, input._data, grid._data, *params, need)
    return (_wrap(gx) if gx is not None else None, _wrap(gg) if gg is not None else None)


GridSampler2DBackward0 = derivative('GridSampler2DBackward0')(_grid_sampler_backward)
GridSampler3DBackward0 = derivative('GridSampler3DBackward0')(_grid_sampler_backward)


_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None):
    """Sample `input` (N, C, H, W) or (N, C, D, H, W) at the normalised [-1, 1] locations of
    `grid` (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3)."""
    for name, value, table, expected in (
            ('mode', mode, _MODES, "'bilinear', 'nearest' or 'bicubic'"),
            ('padding_mode', padding_mode, _PADDINGS, "'zeros', 'border', or 'reflection'")):
        if value not in table:
            raise ValueError(f"nn.functional.grid_sample(): expected {name} to be {expected}, "
                             f"but got: '{value}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return grid_sampler(input, grid, _MODES[mode], _PADDINGS[padding_mode], align_corners)


# ---- affine grids -----------------------------------------------------------------------------

def _base_grid(spatial, align_corners, dtype):
    """(*spatial, nd + 1): the normalised coordinates of each output point (x first), then 1."""
    axes = []
    for n in spatial:
        if n <= 1:
            axes.append(np.zeros(max(n, 0), dtype=dtype))
            continue
        # torch: linspace(-1, 1), scaled by (n - 1) / n without align_corners
        r = linspace(-1, 1, n, dtype=_dtype.from_numpy(dtype))._data
        if not align_corners:
            r = r * dtype.type(n - 1) / dtype.type(n)
        axes.append(r)
    mesh = np.meshgrid(*axes, indexing='ij')
    cols = [m for m in mesh[::-1]] + [np.ones(tuple(spatial), dtype=dtype)]
    return np.stack(cols, axis=-1)


@derivative
def AffineGridGeneratorBackward0(grad, base):
    # grid = base @ theta^T per sample, so dtheta = grad^T @ base summed over the points
    nd1 = base.shape[-1]
    b2 = base.reshape(-1, nd1)
    if _State.enabled:
        g2 = grad.reshape(grad.shape[0], -1, nd1 - 1)
        return g2.transpose(1, 2).matmul(_wrap(b2))
    g2 = grad._data.reshape(grad.shape[0], -1, nd1 - 1)
    return _wrap(np.matmul(g2.transpose(0, 2, 1), b2))


def affine_grid_generator(theta, size, align_corners):
    size = [int(s) for s in size]
    if len(size) not in (4, 5):
        raise RuntimeError('AffineGridGenerator needs 4d (spatial) or 5d (volumetric) inputs.')
    spatial = size[2:]
    base = _base_grid(spatial, align_corners, theta._data.dtype)
    n, nd1 = size[0], len(spatial) + 1
    if theta.shape[0] != n:
        raise RuntimeError(f'Expected size[0] == theta.size(0), got {n} and {theta.shape[0]}')
    out = np.matmul(base.reshape(1, -1, nd1), np.swapaxes(theta._data, 1, 2))
    out = out.reshape([n] + spatial + [nd1 - 1])
    return _record(AffineGridGeneratorBackward0, out, (theta,), base=base)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) or (N, D, H, W, 3) of a batch of affine matrices theta
    (N, 2, 3) or (N, 3, 4) over an output of `size` (N, C, H, W) or (N, C, D, H, W)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f'Expected theta to have floating point type, but got {theta.dtype}')
    shown = size
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError('Expected a batch of 2D affine matrices of shape Nx2x3 for size '
                             f'{shown}. Got {theta.shape}.')
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError('Expected a batch of 3D affine matrices of shape Nx3x4 for size '
                             f'{shown}. Got {theta.shape}.')
        spatial = size[-3:]
    else:
        raise NotImplementedError(
            'affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, '
            f'respectively. Got size {shown}.')
    if align_corners and min(spatial) == 1:
        warnings.warn('Since version 1.3.0, affine_grid behavior has changed for unit-size '
                      'grids when align_corners=True. This is not an intended use case of '
                      'affine_grid. See the documentation of affine_grid for details.',
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f'Expected non-zero, positive output size. Got {shown}')
    return affine_grid_generator(theta, size, align_corners)

