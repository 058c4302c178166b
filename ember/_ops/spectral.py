"""The short-time Fourier transform and its inverse (torch.stft, torch.istft), built from ember
ops (pad, unfold, fft, fold), so both differentiate."""
import math

from .. import fft as _fft
from .._tensor import tensor_op
from ._util import _warn_once
from .complex import view_as_complex, view_as_real
from .conv import fold
from .. import _dtype
from .creation import arange, empty, ones
from .elementwise import cos, sqrt
from .special import i0
from .sampling import pad as _pad
from .shape import stack

__all__ = ['stft', 'istft', 'hann_window', 'hamming_window', 'blackman_window',
           'bartlett_window', 'kaiser_window']



_TYPE = {'float32': 'Float', 'float64': 'Double', 'complex64': 'ComplexFloat',
         'complex128': 'ComplexDouble', 'float16': 'Half', 'bfloat16': 'BFloat16'}


def _flag(v):
    return 'None' if v is None else str(int(bool(v)))


def _legacy(t, style):
    """A tensor as torch's messages print it: torch.FloatTensor[3, 4] / CPUFloatType[3, 4]."""
    if t is None:
        return 'None'
    name = _TYPE.get(str(t.dtype).split('.')[-1], 'Float')
    shape = ', '.join(str(s) for s in t.shape)
    if style == 'cpu':
        return f'CPU{name}Type[{shape}]'
    return f'torch.{name}Tensor{{[{shape}]}}' if style == 'window' else \
        f'torch.{name}Tensor[{shape}]'


def _full_window(window, n_fft, win_length, dtype, fail):
    """The window padded with zeros on both sides to n_fft (ones when none is given)."""
    if window is None:
        window = ones(win_length, dtype=dtype)
    elif window.dim() != 1 or window.shape[0] != win_length:
        fail(f"expected a 1D window tensor of size equal to win_length={win_length}, but got "
             f"window with size {list(window.shape)}")
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    return _pad(window, [left, n_fft - win_length - left])


def _lengths(n_fft, hop_length, win_length):
    hop_length = n_fft >> 2 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    return hop_length, win_length


@tensor_op
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode='reflect', normalized=False, onesided=None, return_complex=None,
         align_to_window=None):
    """The STFT of a 1-D signal or a batch of them: (*, n_fft // 2 + 1 (or n_fft), frames),
    complex, of frames hop_length apart, each multiplied by the window."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if window is None:
        _warn_once('stft_window', "A window was not provided. A rectangular window will be "
                   "applied,which is known to cause spectral leakage. Other windows such as "
                   "torch.hann_window or torch.hamming_window are recommended to reduce "
                   "spectral leakage.To suppress this warning and use a rectangular window, "
                   "explicitly set `window=torch.ones(n_fft, device=<device>)`.")
    real = not (input.is_complex() or (window is not None and window.is_complex()))
    if return_complex is None:
        if real:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and "
                "will further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    elif not return_complex:
        _warn_once('stft_real', "stft with return_complex=False is deprecated. In a future "
                   "pytorch release, stft will return complex tensors for all inputs, and "
                   "return_complex=False will raise an error.\nNote: you can still call "
                   "torch.view_as_real on the complex output to recover the old return format.")
    x = input
    if center:  # pad the signal by n_fft // 2 at both ends (pad_mode), as torch.stft does
        dims, half = x.dim(), n_fft // 2
        x = _pad(x.view([1] * (3 - dims) + list(x.shape)), [half, half], mode=pad_mode)
        x = x.view(x.shape[-dims:])
    hop_length, win_length = _lengths(n_fft, hop_length, win_length)

    shown = x  # the (padded) signal, as torch's messages show it

    def fail(message):
        raise RuntimeError(
            f"stft({_legacy(shown, 'input')}, n_fft={n_fft}, hop_length={hop_length}, "
            f"win_length={win_length}, window={_legacy(window, 'window')}, "
            f"normalized={_flag(normalized)}, onesided={_flag(onesided)}, "
            f"return_complex={_flag(return_complex)}, align_to_window="
            f"{_flag(align_to_window)}) : {message}")
    if x.dim() not in (1, 2):
        fail("expected a 1D or 2D tensor")
    x = x.unsqueeze(0) if x.dim() == 1 else x
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        fail(f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        fail(f"expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        fail(f"expected 0 < win_length <= n_fft, but got win_length={win_length}")
    w = _full_window(window, n_fft, win_length, x.dtype if real else None, fail)
    if align_to_window and win_length < n_fft:
        # the frames start where the window's nonzero part does
        left = (n_fft - win_length) // 2
        x = _pad(x.unsqueeze(1), [left, n_fft - win_length - left], mode='constant').squeeze(1)
    frames = x.unfold(-1, n_fft, hop_length) * w  # (batch, frames, n_fft)
    onesided = real if onesided is None else onesided
    norm = 'ortho' if normalized else 'backward'
    spec = _fft.rfft(frames, dim=-1, norm=norm) if onesided else _fft.fft(frames, dim=-1,
                                                                          norm=norm)
    spec = spec.transpose(-1, -2)
    if input.dim() == 1:
        spec = spec.squeeze(0)
    return spec if return_complex else view_as_real(spec)


@tensor_op
def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """The inverse of stft: overlap-add of the inverse FFTs of the frames, divided by the
    overlap-added squared window."""
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop_length, win_length = _lengths(n_fft, hop_length, win_length)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex "
                           f"dtype, but got {input.dim()}D")
    spec = input.unsqueeze(0) if input.dim() == 2 else input
    n_frames = spec.shape[-1]
    onesided_arg = onesided
    onesided = (spec.shape[-2] != n_fft) if onesided is None else onesided
    expected = n_fft // 2 + 1 if onesided else n_fft
    if spec.shape[-2] != expected:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft / 2 + 1 when onesided=True, but got "
                           f"{spec.shape[-2]}" if onesided else
                           f"istft: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got "
                           f"{spec.shape[-2]}")
    if onesided and return_complex:
        raise RuntimeError("cannot have onesided output if window or input is complex")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"istft: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win_length}")
    def fail(message, sep=' : '):
        raise RuntimeError(
            f"istft({_legacy(input, 'cpu')}, n_fft={n_fft}, hop_length={hop_length}, "
            f"win_length={win_length}, window={_legacy(window, 'window')}, "
            f"center={_flag(center)}, normalized={_flag(normalized)}, "
            f"onesided={_flag(onesided_arg)}, length={length}, "
            f"return_complex={_flag(return_complex)}){sep}{message}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        fail("Invalid window shape. window has to be 1D and length of `win_length`")
    w = _full_window(window, n_fft, win_length, view_as_real(spec).dtype, fail)
    norm = 'ortho' if normalized else 'backward'
    spec = spec.transpose(-1, -2)  # (batch, frames, freq)
    if return_complex:
        frames = _fft.ifft(spec, n=n_fft, dim=-1, norm=norm)
    else:
        frames = _fft.irfft(spec, n=n_fft, dim=-1, norm=norm) if onesided else \
            _fft.ifft(spec, n=n_fft, dim=-1, norm=norm).real
    frames = frames * w
    total = n_fft + hop_length * (n_frames - 1)
    y = _overlap_add(frames, total, n_fft, hop_length)
    envelope = _overlap_add((w * w).expand(1, n_frames, n_fft), total, n_fft, hop_length)
    start = n_fft // 2 if center else 0
    end = total if length is None else start + length
    if length is None and center:
        end = total - n_fft // 2
    y = y[..., start:min(end, total)]
    envelope = envelope[..., start:min(end, total)]
    if bool((envelope.abs() < 1e-11).any()):
        fail("window overlap add min: 1\n[ CPUBoolType{} ]", sep=' ')
    y = y / envelope
    if length is not None and y.shape[-1] < length:
        y = _pad(y, [0, length - y.shape[-1]])
    return y.squeeze(0) if input.dim() == 2 else y


def _overlap_add(frames, total, n_fft, hop_length):
    """Sum (batch, frames, n_fft) frames placed hop_length apart into (batch, total)."""
    if frames.is_complex():
        parts = view_as_real(frames)
        re = _overlap_add(parts[..., 0], total, n_fft, hop_length)
        im = _overlap_add(parts[..., 1], total, n_fft, hop_length)
        return view_as_complex(stack([re, im], -1))
    cols = frames.transpose(1, 2)  # (batch, n_fft, frames): fold's columns
    out = fold(cols, (1, total), (1, n_fft), stride=(1, hop_length))
    return out.reshape(out.shape[0], total)



# ---- the windows of torch.* (torch's formulas, in the window's dtype) --------------------------

def _window_length(name, window_length, dtype):
    dtype = _dtype.get_default_dtype() if dtype is None else dtype
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    return dtype


def _finish(window, periodic, requires_grad):
    """Drop the extra point of a periodic window; set requires_grad."""
    if periodic:
        window = window[:-1]
    window = window.detach().clone() if window._base is not None else window
    return window.requires_grad_() if requires_grad else window


def _window_of(name, window_length, periodic, dtype, requires_grad, body):
    """A window of torch.*: empty at length 0, [1] at length 1, else body(n, dtype) over
    n = window_length (+ 1 when periodic) points."""
    dtype = _window_length(name, window_length, dtype)
    if window_length <= 1:
        w = ones(window_length, dtype=dtype) if window_length else empty(0, dtype=dtype)
        return w.requires_grad_() if requires_grad else w
    n = window_length + 1 if periodic else window_length
    return _finish(body(n, dtype), periodic, requires_grad)


def _cosine_sum(n, dtype, alpha, beta):
    return cos(arange(n, dtype=dtype) * (2 * math.pi / (n - 1))) * -beta + alpha


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, pin_memory=False, requires_grad=False):
    """alpha - beta cos(2 pi n / (N - 1))."""
    return _window_of('hamming_window', window_length, periodic, dtype, requires_grad,
                      lambda n, dt: _cosine_sum(n, dt, alpha, beta))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                pin_memory=False, requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / (N - 1))."""
    return _window_of('hann_window', window_length, periodic, dtype, requires_grad,
                      lambda n, dt: _cosine_sum(n, dt, 0.5, 0.5))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    def body(n, dt):
        k = arange(n, dtype=dt) * (math.pi / (n - 1))
        return cos(k * 4) * 0.08 - cos(k * 2) * 0.5 + 0.42
    return _window_of('blackman_window', window_length, periodic, dtype, requires_grad, body)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """The triangle 2n / (N - 1), folded down after its middle."""
    def body(n, dt):
        k = arange(n, dtype=dt) * (2.0 / (n - 1))
        first = ((n - 1) >> 1) + 1
        k[first:] = 2 - k[first:]
        return k
    return _window_of('bartlett_window', window_length, periodic, dtype, requires_grad, body)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), a = (N - 1) / 2."""
    def body(n, dt):
        a = (n - 1) / 2.0
        r = (arange(n, dtype=_dtype.float64) - a) / a
        w = i0(sqrt((1 - r * r).clamp(min=0)) * beta) / i0(ones((), dtype=_dtype.float64) * beta)
        return w.to(dt)
    return _window_of('kaiser_window', window_length, periodic, dtype, requires_grad, body)
