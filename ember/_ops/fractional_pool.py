"""Fractional max pooling (Graham, 2014): max over windows whose start points follow a
pseudo-random sequence drawn once per (sample, channel) plane, so the output size can be any
fraction of the input's. The sequences, the window maxima and the indices are torch's."""
import numpy as np

from .._tensor import _wrap
from ..autograd.graph import _record, derivative
from .creation import zeros
from .random import rand

__all__ = ['fractional_max_pool2d', 'fractional_max_pool2d_with_indices',
           'fractional_max_pool3d', 'fractional_max_pool3d_with_indices']


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _starts(samples, size, out, pool, dt):
    """The window starts along one dim for every plane: (planes, out) ints. Computed in the
    input's float type, as torch's kernel does: start_i = int((i + u) a) - int(u a), with
    a = (size - pool) / (out - 1), and the last window flush with the end."""
    seq = np.empty(samples.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = dt.type(size - pool) / dt.type(out - 1)
        i = np.arange(out - 1, dtype=dt)
        u = samples.astype(dt)[..., None]
        seq[..., :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    if out > 0:
        seq[..., -1] = size - pool
    return seq


def _pool(name, input, kernel_size, output_size, output_ratio, samples, nd):
    """(values array, flat plane indices array) of fractional max pooling over the last nd
    dims of input."""
    d = input._data
    spatial = d.shape[-nd:]
    kernel = _tuple(kernel_size, nd)
    out = _tuple(output_size, nd)
    for dim_name, o, k, s in zip(('time', 'height', 'width')[3 - nd:], out, kernel, spatial):
        if o + k - 1 > s:
            where = f"{name}()" if nd == 2 else f"{name}_out()"
            raise RuntimeError(f"{where}: pool {dim_name} {k} too large relative to input "
                               f"{dim_name} {s}")
    batched = d.ndim == nd + 2
    x = d if batched else d[None]
    n, c = x.shape[:2]
    u = samples._data.reshape(n, c, nd)
    dt = d.dtype
    # the sample for the last dim comes first: (w, h) in 2-D, (t, h, w) in 3-D as torch's
    order = (1, 0) if nd == 2 else (0, 1, 2)
    starts = [_starts(u[..., order[i]], spatial[i], out[i], kernel[i], dt) for i in range(nd)]
    # the index of every element of every window: (n, c, *out, *kernel) per dim
    coords = []
    for i in range(nd):
        s = starts[i][..., :, None] + np.arange(kernel[i])  # (n, c, out_i, k_i)
        shape = [n, c] + [1] * nd + [1] * nd
        shape[2 + i], shape[2 + nd + i] = out[i], kernel[i]
        coords.append(s.reshape(shape))
    flat = coords[0]
    for i in range(1, nd):
        flat = flat * spatial[i] + coords[i]
    flat = np.broadcast_to(flat, (n, c) + out + kernel).reshape(n, c, *out, -1)
    planes = x.reshape(n, c, -1)
    vals = np.take_along_axis(planes, flat.reshape(n, c, -1), -1).reshape(flat.shape)
    # torch keeps the first maximum, or the last nan
    pick = np.argmax(vals, axis=-1)
    nan = np.isnan(vals)
    if nan.any():
        last_nan = vals.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        pick = np.where(nan.any(-1), last_nan, pick)
    idx = np.take_along_axis(flat, pick[..., None], -1)[..., 0]
    res = np.take_along_axis(vals, pick[..., None], -1)[..., 0]
    if not batched:
        idx, res = idx[0], res[0]
    return res, idx


def _samples_for(input, nd, samples):
    if samples is not None:
        return samples
    n = 1 if input.dim() == nd + 1 else input.shape[0]
    return rand(n, input.shape[-nd - 1], nd, dtype=input.dtype)


def _output_size(name, input, output_size, output_ratio, nd):
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > nd:  # a bare number fails here on torch too (TypeError)
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple "
                             f"of Ints.")
        ratio = _tuple(output_ratio, nd)
        output_size = [int(input.shape[-nd + i] * ratio[i]) for i in range(nd)]
    return output_size


def _scatter_back(grad, shape, indices, nd):
    """Each pooled gradient added at its argmax in the input's plane."""
    lead = len(shape) - nd
    gi = zeros(tuple(shape[:lead]) + (int(np.prod(shape[lead:])),), dtype=grad.dtype)
    return gi.scatter_add(-1, indices.flatten(lead), grad.flatten(lead)).view(shape)


@derivative
def FractionalMaxPool2DBackward0(grad, shape, indices):
    return _scatter_back(grad, shape, indices, 2)


@derivative
def FractionalMaxPool3DBackward0(grad, shape, indices):
    return _scatter_back(grad, shape, indices, 3)


def _fractional(nd, node, input, kernel_size, output_size, output_ratio, return_indices,
                _random_samples):
    name = f'fractional_max_pool{nd}d'
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    output_size = _output_size(name, input, output_size, output_ratio, nd)
    samples = _samples_for(input, nd, _random_samples)
    res, idx = _pool(name, input, kernel_size, output_size, output_ratio, samples, nd)
    indices = _wrap(idx.astype(np.int64))
    out = _record(node, res, (input,), shape=tuple(input.shape), indices=indices)
    return out, indices


def _functions(nd, node):
    """fractional_max_pool{nd}d_with_indices and fractional_max_pool{nd}d."""
    def with_indices(input, kernel_size, output_size=None, output_ratio=None,
                     return_indices=False, _random_samples=None):
        return _fractional(nd, node, input, kernel_size, output_size, output_ratio,
                           return_indices, _random_samples)

    def pool(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
             _random_samples=None):
        out = with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                           _random_samples)
        return out if return_indices else out[0]
    name = f'fractional_max_pool{nd}d'
    with_indices.__name__ = with_indices.__qualname__ = name + '_with_indices'
    pool.__name__ = pool.__qualname__ = name
    with_indices.__doc__ = (f"(output, indices) of {nd}-D fractional max pooling: max over "
                            f"kernel_size windows at pseudo-random starts, to output_size (or "
                            f"output_ratio of the input size).")
    pool.__doc__ = f"{nd}-D fractional max pooling (the indices too if return_indices)."
    return with_indices, pool


fractional_max_pool2d_with_indices, fractional_max_pool2d = _functions(
    2, FractionalMaxPool2DBackward0)
fractional_max_pool3d_with_indices, fractional_max_pool3d = _functions(
    3, FractionalMaxPool3DBackward0)
