"""ember.fft (torch.fft): discrete Fourier transforms on NumPy's pocketfft.

The transforms compute forward values only: differentiating through them raises
NotImplementedError naming the function rather than returning a wrong gradient. fftshift and
ifftshift are rolls and differentiate as such. hfft2/hfftn/ihfft2/ihfftn resolve to stubs.
"""
import numpy as np

from . import _dtype
from ._tensor import Tensor, _wrap
from .autograd.grad_mode import is_grad_enabled
from ._tensor import _check_device
from ._ops.shape import roll

__all__ = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft', 'fft2', 'ifft2', 'rfft2', 'irfft2',
           'fftn', 'ifftn', 'rfftn', 'irfftn', 'fftfreq', 'rfftfreq', 'fftshift', 'ifftshift',
           'Tensor']

_NORMS = (None, 'backward', 'ortho', 'forward')


def _prepare(name, input, norm, complex_input_ok=True):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    if input.requires_grad and is_grad_enabled():
        raise NotImplementedError(f"ember does not implement autograd through torch.fft.{name} "
                                  "yet (call it under torch.no_grad() or on a detached tensor)")
    a = input._data
    if a.dtype == np.float16:
        raise RuntimeError("Unsupported dtype Half")
    if a.dtype.kind in 'biu':
        a = a.astype(_dtype.get_default_dtype()._np)
    return a


def _complex_of(a):
    return np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128


def _real_of(a):
    return np.float32 if a.dtype in (np.float32, np.complex64) else np.float64


def _out(result, out):
    t = _wrap(np.ascontiguousarray(result))
    if out is not None:
        out.resize_(t.shape) if tuple(out.shape) != tuple(t.shape) else None
        out._data[...] = t._data
        return out
    return t


def _one_dim(name, np_fn, real_out=False):
    def f(input, n=None, dim=-1, norm=None, *, out=None):
        a = _prepare(name, input, norm)
        dt = _real_of(a) if real_out else _complex_of(a)
        if name in ('rfft', 'ihfft') and a.dtype.kind == 'c':
            raise RuntimeError(f"{name} expects a real input tensor, but got "
                               f"{input.dtype}")
        return _out(np_fn(a, n=n, axis=dim, norm=norm).astype(dt, copy=False), out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.fft.{name}: the 1-D transform along `dim` (forward values only)."
    return f


def _n_dim(name, np_fn, default_dim, real_out=False):
    def f(input, s=None, dim=default_dim, norm=None, *, out=None):
        a = _prepare(name, input, norm)
        dt = _real_of(a) if real_out else _complex_of(a)
        if name.startswith('rfft') and a.dtype.kind == 'c':
            raise RuntimeError(f"{name} expects a real-valued input tensor, but got "
                               f"{input.dtype}")
        axes = dim
        if isinstance(axes, int):
            axes = (axes,)
        if axes is None and s is not None:
            axes = tuple(range(-len(s), 0))
        return _out(np_fn(a, s=s, axes=axes, norm=norm).astype(dt, copy=False), out)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.fft.{name}: the transform over `dim` (forward values only)."
    return f


fft = _one_dim('fft', np.fft.fft)
ifft = _one_dim('ifft', np.fft.ifft)
rfft = _one_dim('rfft', np.fft.rfft)
irfft = _one_dim('irfft', np.fft.irfft, real_out=True)
hfft = _one_dim('hfft', np.fft.hfft, real_out=True)
ihfft = _one_dim('ihfft', np.fft.ihfft)
fft2 = _n_dim('fft2', np.fft.fftn, (-2, -1))
ifft2 = _n_dim('ifft2', np.fft.ifftn, (-2, -1))
rfft2 = _n_dim('rfft2', np.fft.rfftn, (-2, -1))
irfft2 = _n_dim('irfft2', np.fft.irfftn, (-2, -1), real_out=True)
fftn = _n_dim('fftn', np.fft.fftn, None)
ifftn = _n_dim('ifftn', np.fft.ifftn, None)
rfftn = _n_dim('rfftn', np.fft.rfftn, None)
irfftn = _n_dim('irfftn', np.fft.irfftn, None, real_out=True)


def _freq(np_fn, n, d, dtype, requires_grad, device):
    _check_device(device)
    dtype = dtype or _dtype.get_default_dtype()
    t = _wrap(np_fn(n, d).astype(dtype._np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of a length-`n` fft."""
    return _out(_freq(np.fft.fftfreq, n, d, dtype, requires_grad, device)._data, out) \
        if out is not None else _freq(np.fft.fftfreq, n, d, dtype, requires_grad, device)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of a length-`n` rfft."""
    return _out(_freq(np.fft.rfftfreq, n, d, dtype, requires_grad, device)._data, out) \
        if out is not None else _freq(np.fft.rfftfreq, n, d, dtype, requires_grad, device)


def _shift(input, dim, sign):
    if dim is None:
        dim = tuple(range(input.dim()))
    elif isinstance(dim, int):
        dim = (dim,)
    shifts = tuple(sign * (input.shape[d] // 2) if sign > 0 else -(input.shape[d] // 2)
                   for d in dim)
    return roll(input, shifts, tuple(dim))


def fftshift(input, dim=None):
    """Moves the zero-frequency term to the centre (a roll by n // 2 along `dim`)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of fftshift (a roll by -(n // 2) along `dim`)."""
    return _shift(input, dim, -1)


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
