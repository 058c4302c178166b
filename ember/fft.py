"""ember.fft (torch.fft): discrete Fourier transforms on NumPy's pocketfft, with gradients.

As in torch, every transform is built from three primitives, each a node with its gradient:
``_c2c`` (complex to complex, FftC2CBackward0), ``_r2c`` (real to complex, the one-sided half
or the full spectrum, FftR2CBackward0) and ``_c2r`` (a one-sided half spectrum to a real
signal, FftC2RBackward0). A primitive computes the unnormalised transform times ``scale``
(the ``norm=`` factor). Inputs are first cut (a slice) or zero-padded to the requested sizes,
with those ops' own gradients.

Gradients follow torch's convention for complex values (see autograd.graph._COMPLEX_RULES):
for y = scale * T x the gradient is scale * T^H grad, T^H being the opposite-sign transform.
"""
import math

import numpy as np

from . import _dtype
from ._tensor import Tensor, _wrap, _wrap_dim, _check_device
from .autograd.graph import _record, derivative
from ._ops.complex import conj
from ._ops._util import _legacy
from ._ops.sampling import _constant_pad
from ._ops.shape import narrow, roll

__all__ = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft', 'fft2', 'ifft2', 'rfft2', 'irfft2',
           'hfft2', 'ihfft2', 'fftn', 'ifftn', 'rfftn', 'irfftn', 'hfftn', 'ihfftn', 'fftfreq',
           'rfftfreq', 'fftshift', 'ifftshift', 'Tensor']

_NORMS = (None, 'backward', 'ortho', 'forward')


def _complex_dtype(np_dtype):
    return np.complex64 if np_dtype in (np.float32, np.complex64) else np.complex128


# ---- the three primitives ----------------------------------------------------------------

def _c2c(x, dims, scale, inverse):
    d = x._data
    r = np.fft.ifftn(d, axes=dims, norm='forward') if inverse else np.fft.fftn(d, axes=dims)
    if scale != 1:
        r *= scale
    return _record(FftC2CBackward0, r.astype(d.dtype, copy=False), (x,), dims=dims,
                   scale=scale, inverse=inverse)


@derivative
def FftC2CBackward0(grad, dims, scale, inverse):
    # a DFT matrix is symmetric: the formula for real values is the same transform; the
    # engine's rule for complex-linear ops conjugates around it, giving the opposite sign
    return _c2c(grad, dims, scale, inverse)


def _r2c(x, dims, scale, onesided):
    d = x._data
    r = np.fft.rfftn(d, axes=dims) if onesided else np.fft.fftn(d, axes=dims)
    if scale != 1:
        r *= scale
    return _record(FftR2CBackward0, r.astype(_complex_dtype(d.dtype), copy=False), (x,),
                   dims=dims, scale=scale, onesided=onesided, n_last=d.shape[dims[-1]])


@derivative
def FftR2CBackward0(grad, dims, scale, onesided, n_last):
    if onesided:   # the dropped half of the spectrum receives no gradient
        grad = _pad_to(grad, dims[-1], n_last)
    return _c2c(grad, dims, scale, True).real


def _c2r(z, dims, scale, n_last):
    d = z._data
    s = [d.shape[a] for a in dims[:-1]] + [n_last]
    r = np.fft.irfftn(d, s=s, axes=dims, norm='forward')
    if scale != 1:
        r *= scale
    return _record(FftC2RBackward0, r.astype(d.real.dtype, copy=False), (z,), dims=dims,
                   scale=scale, n_half=d.shape[dims[-1]])


@derivative
def FftC2RBackward0(grad, dims, scale, n_half):
    g = _r2c(grad, dims, scale, True)
    # the half spectrum stands for both halves: entries 1 .. n - n_half count twice
    double = grad.shape[dims[-1]] - n_half
    if double > 0:
        w = np.ones(n_half, dtype=grad._data.dtype)
        w[1:1 + double] = 2
        shape = [1] * grad.ndim
        shape[dims[-1]] = n_half
        g = g * _wrap(w.reshape(shape))
    return g


# ---- arguments ------------------------------------------------------------------------------

def _check_input(name, input, norm):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    kind = input._data.dtype
    if kind == np.float16:
        raise RuntimeError("Unsupported dtype Half")
    if kind.kind in 'biu':   # integers become the default float dtype, as in torch
        input = input.to(_dtype.get_default_dtype())
    elif kind.kind not in 'fc':
        raise NotImplementedError(f"ember does not implement torch.fft.{name} for "
                                  f"{input.dtype}")
    return input


def _scale(norm, n, forward):
    """The factor a transform of n points applies under norm=."""
    if norm == 'ortho':
        return 1 / math.sqrt(n) if n else 1.0
    if (norm == 'forward') == forward:
        return 1 / n if n else 1.0
    return 1.0


def _pad_to(x, dim, size):
    """x cut (a slice) or zero-padded along dim to size, as torch resizes fft inputs."""
    n = x.shape[dim]
    if size < n:
        return narrow(x, dim, 0, size)
    if size > n:
        pad = [0, 0] * (x.ndim - dim)
        pad[2 * (x.ndim - 1 - dim) + 1] = size - n
        return _constant_pad(x, pad, 0)
    return x


def _dims_and_sizes(name, input, s, dim, last_half=False):
    """(dims, signal sizes) from torch's s= and dim= rules; sizes are the output signal's."""
    nd = input.ndim
    if dim is not None and not isinstance(dim, (list, tuple)):
        dim = (dim,)
    if s is not None and dim is not None and len(s) != len(dim):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if dim is None:
        dims = list(range(nd - len(s), nd)) if s is not None else list(range(nd))
        if s is not None and len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{nd} dimensions.")
    else:
        dims = [_wrap_dim(d, nd) for d in dim]
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = [input.shape[d] for d in dims]
        if last_half and dims:
            sizes[-1] = 2 * (input.shape[dims[-1]] - 1)
    else:
        sizes = [input.shape[d] if n == -1 else int(n) for d, n in zip(dims, s)]
        if last_half and dims and s[-1] == -1:
            sizes[-1] = 2 * (input.shape[dims[-1]] - 1)
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return dims, sizes


def _resized(x, dims, sizes):
    for d, n in zip(dims, sizes):
        x = _pad_to(x, d, n)
    return x


def _as_complex(x):
    if x._data.dtype.kind == 'c':
        return x
    return x.to(_dtype.from_numpy(np.dtype(_complex_dtype(x._data.dtype))))


def _require_real(name, x):
    if x._data.dtype.kind == 'c':
        got = _legacy(x._data.dtype)
        if name == 'ihfftn':
            raise RuntimeError(f"Only supports floating-point dtypes, but found: {got}")
        what = 'real-valued' if name == 'rfftn' else 'real'
        raise RuntimeError(f"{name} expects a {what} input tensor, but got {got}")


def _finish(result, out):
    if out is None:
        return result
    if tuple(out.shape) != tuple(result.shape):
        out.resize_(result.shape)
    out._data[...] = result._data
    return out


# ---- the transforms --------------------------------------------------------------------

def _forward_c2c(name, input, s, dim, norm, inverse, out):
    x = _check_input(name, input, norm)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    x = _resized(x, dims, sizes)
    scale = _scale(norm, math.prod(sizes), not inverse)
    if x._data.dtype.kind != 'c' and name in ('fft', 'ifft'):
        # a real signal: the full spectrum from the real transform (conjugated for the inverse)
        r = _r2c(x, dims, scale, False)
        return _finish(conj(r) if inverse else r, out)
    return _finish(_c2c(_as_complex(x), dims, scale, inverse), out)


def _forward_r2c(name, input, s, dim, norm, out):
    x = _check_input(name, input, norm)
    _require_real(name, x)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    x = _resized(x, dims, sizes)
    return _finish(_r2c(x, dims, _scale(norm, math.prod(sizes), True), True), out)


def _inverse_c2r(name, input, s, dim, norm, out, hermitian=False):
    x = _check_input(name, input, norm)
    dims, sizes = _dims_and_sizes(name, x, s, dim, last_half=True)
    half = sizes[:-1] + [sizes[-1] // 2 + 1]
    x = _resized(_as_complex(x), dims, half)
    if hermitian:   # hfft: the transform of a Hermitian signal is irfft of its conjugate
        x = conj(x)
    scale = _scale(norm, math.prod(sizes), hermitian)
    return _finish(_c2r(x, dims, scale, sizes[-1]), out)


def _inverse_hermitian(name, input, s, dim, norm, out):
    x = _check_input(name, input, norm)
    _require_real(name, x)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    x = _resized(x, dims, sizes)
    scale = _scale(norm, math.prod(sizes), False)
    if len(dims) == 1:
        return _finish(conj(_r2c(x, dims, scale, True)), out)
    # conj(F_all x) = F_others^H conj(F_last x), as torch computes it
    r = conj(_r2c(x, dims[-1:], 1.0, True))
    return _finish(_c2c(r, dims[:-1], scale, True), out)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The 1-D discrete Fourier transform along `dim`."""
    return _forward_c2c('fft', input, None if n is None else (n,), dim, norm, False, out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The 1-D inverse discrete Fourier transform along `dim`."""
    return _forward_c2c('ifft', input, None if n is None else (n,), dim, norm, True, out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-sided (n // 2 + 1 frequencies) transform of a real signal."""
    return _forward_r2c('rfft', input, None if n is None else (n,), dim, norm, out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The real signal (length n, default 2 * (m - 1)) of a one-sided spectrum."""
    return _inverse_c2r('irfft', input, None if n is None else (n,), dim, norm, out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The (real) transform of a Hermitian-symmetric signal given by its first half."""
    return _inverse_c2r('hfft', input, None if n is None else (n,), dim, norm, out, True)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of hfft: the one-sided inverse transform of a real signal."""
    return _inverse_hermitian('ihfft', input, None if n is None else (n,), dim, norm, out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _forward_c2c('fft2', input, s, dim, norm, False, out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _forward_c2c('ifft2', input, s, dim, norm, True, out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _forward_r2c('rfftn', input, s, dim, norm, out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _inverse_c2r('irfftn', input, s, dim, norm, out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _inverse_c2r('hfftn', input, s, dim, norm, out, True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _inverse_hermitian('ihfftn', input, s, dim, norm, out)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The n-D transform over `dim` (all dims by default)."""
    return _forward_c2c('fftn', input, s, dim, norm, False, out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _forward_c2c('ifftn', input, s, dim, norm, True, out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _forward_r2c('rfftn', input, s, dim, norm, out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _inverse_c2r('irfftn', input, s, dim, norm, out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _inverse_c2r('hfftn', input, s, dim, norm, out, True)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _inverse_hermitian('ihfftn', input, s, dim, norm, out)


# ---- frequencies and shifts ----------------------------------------------------------------

def _freq(np_fn, n, d, dtype, requires_grad, device, out):
    _check_device(device)
    dtype = dtype or _dtype.get_default_dtype()
    t = _wrap(np_fn(n, d).astype(dtype._np))
    if requires_grad:
        t.requires_grad_(True)
    return _finish(t, out)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of a length-`n` fft."""
    return _freq(np.fft.fftfreq, n, d, dtype, requires_grad, device, out)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of a length-`n` rfft."""
    return _freq(np.fft.rfftfreq, n, d, dtype, requires_grad, device, out)


def _shift(input, dim, sign):
    if dim is None:
        dim = tuple(range(input.dim()))
    elif isinstance(dim, int):
        dim = (dim,)
    shifts = tuple(input.shape[d] // 2 if sign > 0 else -(input.shape[d] // 2) for d in dim)
    return roll(input, shifts, tuple(dim))


def fftshift(input, dim=None):
    """Moves the zero-frequency term to the centre (a roll by n // 2 along `dim`)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of fftshift (a roll by -(n // 2) along `dim`)."""
    return _shift(input, dim, -1)


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
