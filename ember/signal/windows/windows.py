"""The window functions of torch.signal.windows. Each is a length-M window, symmetric
(`sym=True`, for filter design) or periodic (`sym=False`, for spectral analysis: the first M
points of the symmetric window of length M + 1), built from `linspace` over the window's
argument as torch builds it (linspace is torch's to the bit); the values agree with torch's
within a unit or two in the last place, where torch's vectorised sin/cos round otherwise than
NumPy's."""
from collections.abc import Iterable
import math

from ... import _dtype
from ..._ops.creation import arange, empty, linspace, ones, tensor
from ..._ops.elementwise import abs, cos, exp, sin, sqrt
from ..._ops.special import i0
from ..._values import strided

__all__ = ['bartlett', 'blackman', 'cosine', 'exponential', 'gaussian', 'general_cosine',
           'general_hamming', 'hamming', 'hann', 'kaiser', 'nuttall']


def _checked(name, M, dtype, layout):
    """torch's checks common to every window; the dtype to compute in."""
    dtype = _dtype.get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _trivial(M, dtype, requires_grad, one_at_one=True):
    """The window of length 0 (empty), or of length 1 (ones) where torch special-cases it."""
    if M == 0:
        return empty((0,), dtype=dtype, requires_grad=requires_grad)
    if M == 1 and one_at_one:
        return ones((1,), dtype=dtype, requires_grad=requires_grad)
    return None


def _span(M, sym):
    """The length the window's formula is spread over: M - 1 when symmetric, M when
    periodic (a window of length 1 is symmetric either way)."""
    return M if not sym and M > 1 else M - 1


def _grid(start, scale, M, dtype, requires_grad):
    """M points from start * scale to (start + M - 1) * scale (the end rounded as torch
    rounds it)."""
    return linspace(start * scale, (start + (M - 1)) * scale, M, dtype=dtype,
                    requires_grad=requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=strided, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau) (the Poisson window)."""
    dtype = _checked('exponential', M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    trivial = _trivial(M, dtype, requires_grad, one_at_one=False)
    if trivial is not None:
        return trivial
    center = _span(M, sym) / 2.0 if center is None else center
    return exp(-abs(_grid(-center, 1 / tau, M, dtype, requires_grad)))


def cosine(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / M): a simple cosine (sine) lobe."""
    dtype = _checked('cosine', M, dtype, layout)
    trivial = _trivial(M, dtype, requires_grad, one_at_one=False)
    if trivial is not None:
        return trivial
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return sin(_grid(0.5, step, M, dtype, requires_grad))


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=strided, device=None,
             requires_grad=False):
    """exp(-(n - (M - 1)/2)^2 / (2 std^2))."""
    dtype = _checked('gaussian', M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    trivial = _trivial(M, dtype, requires_grad, one_at_one=False)
    if trivial is not None:
        return trivial
    step = 1 / (std * math.sqrt(2))
    return exp(-(_grid(-_span(M, sym) / 2.0, step, M, dtype, requires_grad) ** 2))


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=strided, device=None,
           requires_grad=False):
    """I0(beta sqrt(1 - (2n/N - 1)^2)) / I0(beta), N = M - 1 (M when periodic)."""
    dtype = _checked('kaiser', M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    trivial = _trivial(M, dtype, requires_grad)
    if trivial is not None:
        return trivial
    b = tensor(beta, dtype=dtype)  # beta in the window's dtype, as torch: no nan at the ends
    step = 2.0 * b / (M if not sym else M - 1)
    end = (-b + (M - 1) * step).minimum(b)
    k = linspace(-b, end, M, dtype=dtype, requires_grad=requires_grad)
    return i0(sqrt(b * b - k ** 2)) / i0(b)


def general_cosine(M, *, a, sym=True, dtype=None, layout=strided, device=None,
                   requires_grad=False):
    """sum_i (-1)^i a_i cos(2 pi i n / N), N = M - 1 (M when periodic)."""
    dtype = _checked('general_cosine', M, dtype, layout)
    trivial = _trivial(M, dtype, requires_grad)
    if trivial is not None:
        return trivial
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    k = _grid(0, 2 * math.pi / (M if not sym else M - 1), M, dtype, requires_grad)
    coef = tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype,
                  requires_grad=requires_grad)
    i = arange(coef.shape[0], dtype=dtype, requires_grad=requires_grad)
    return (coef.unsqueeze(-1) * cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=strided, device=None,
                    requires_grad=False):
    """alpha - (1 - alpha) cos(2 pi n / N)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """The Hamming window: general_hamming with alpha = 0.54."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """The Hann window: general_hamming with alpha = 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """The Blackman window: general_cosine with a = (0.42, 0.5, 0.08)."""
    dtype = _checked('blackman', M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """Nuttall's minimum 4-term Blackman-Harris window."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """The triangular window 1 - |2n/N - 1|, N = M - 1 (M when periodic)."""
    dtype = _checked('bartlett', M, dtype, layout)
    trivial = _trivial(M, dtype, requires_grad)
    if trivial is not None:
        return trivial
    step = 2 / (M if not sym else M - 1)
    return 1 - abs(linspace(-1, -1 + (M - 1) * step, M, dtype=dtype,
                            requires_grad=requires_grad))
