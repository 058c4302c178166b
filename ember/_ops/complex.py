"""Complex numbers: the real/imag views, conj, angle, sgn, view_as_real/view_as_complex,
complex and polar, with torch's gradients.

torch's convention for a real loss L of z = x + iy is grad = dL/dx + i dL/dy. The ops here are
not holomorphic, so their formulas are written for complex values directly (they are NATIVE in
autograd.graph._COMPLEX_RULES); holomorphic ops elsewhere reuse their real formulas.
torch marks conj lazily (a conj bit); ember conjugates at once, which gives the same values.
"""
import numpy as np

from .. import _dtype
from .._tensor import _link_view
from ..autograd.graph import _record, _RESULT, derivative
from ._util import _out, _legacy, _bcast_errors, _zeros

__all__ = ['real', 'imag', 'conj', 'angle', 'sgn', 'view_as_real', 'view_as_complex', 'complex',
           'polar']


def _is_complex(t):
    return t._data.dtype.kind == 'c'


def _viewing(out, input):
    return _link_view(out, input)


@derivative
def RealBackward0(grad):
    return grad  # real; the engine casts it to the input's complex dtype (imaginary part 0)


def real(input):
    """The real part: a view of a complex tensor's memory; a real tensor itself."""
    if not _is_complex(input):
        return input
    return _viewing(_record(RealBackward0, input._data.real, (input,)), input)


@derivative
def ImagBackward0(grad):
    return grad * 1j


def imag(input):
    """The imaginary part, a view of a complex tensor's memory."""
    if not _is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _viewing(_record(ImagBackward0, input._data.imag, (input,)), input)


@derivative
def ConjBackward0(grad):
    return grad.conj()


def conj(input):
    if not _is_complex(input):
        return input
    return _record(ConjBackward0, np.conj(input._data), (input,))


@derivative
def AngleBackward0(grad, self):
    if not _is_complex(self):
        return _zeros(grad)   # zeros even where grad is inf/NaN, as torch
    # d angle = (x dy - y dx) / |z|^2, i.e. grad * i z / |z|^2; torch gives 0 at z = 0
    a2 = self.abs().pow(2)
    return (grad * self * 1j / a2).masked_fill(a2 == 0, 0)


def angle(input, *, out=None):
    """The argument of each element: atan2(imag, real); for real input 0 or pi (NaN kept)."""
    d = input._data
    if d.dtype.kind == 'c':
        r = np.angle(d)
    else:
        if d.dtype.kind in 'biu':
            d = d.astype(_dtype.get_default_dtype()._np)
        r = np.where(d < 0, np.pi, 0).astype(d.dtype)
        r = np.where(np.isnan(d), d, r)
    return _out(out, _record(AngleBackward0, np.asarray(r), (input,), self=input))


@derivative
def SgnBackward0(grad, self, result):
    # s = z / |z|: ds applied to grad gives (grad - Re(grad * conj(s)) * s) / |z|; 0 at z = 0
    a = self.abs()
    g = (grad - (grad * result.conj()).real * result) / a
    return g.masked_fill(a == 0, 0)


def sgn(input, *, out=None):
    """sign for real tensors; z / |z| (0 at 0) for complex ones."""
    if not _is_complex(input):
        return _out(out, input.sign())
    d = input._data
    a = np.abs(d)
    with np.errstate(invalid='ignore', divide='ignore'):
        r = np.where(a == 0, 0, d / np.where(a == 0, 1, a)).astype(d.dtype)
    return _out(out, _record(SgnBackward0, r, (input,), self=input, result=_RESULT))


@derivative
def ViewAsRealBackward0(grad):
    return view_as_complex(grad.contiguous())


def view_as_real(input):
    """A real view of a complex tensor, with a last dim of size 2 (real, imaginary)."""
    d = input._data
    if d.dtype.kind != 'c':
        raise RuntimeError("view_as_real is only supported for complex tensors")
    r = d[..., None].view(d.real.dtype)   # (..., 1) complex -> (..., 2) real, a view
    return _viewing(_record(ViewAsRealBackward0, r, (input,)), input)


@derivative
def ViewAsComplexBackward0(grad):
    return view_as_real(grad.contiguous())


def view_as_complex(input):
    """A complex view of a real tensor whose last dim has size 2 and stride 1."""
    d = input._data
    if d.dtype not in (np.float32, np.float64, np.float16):
        raise RuntimeError("view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {input.dtype}")
    if d.ndim == 0 or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if d.strides[-1] != d.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * d.itemsize) for s, n in zip(d.strides[:-1], d.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last "
                           "dimension")
    if d.dtype == np.float16:
        raise NotImplementedError("ember does not implement complex32 (view_as_complex of a "
                                  "float16 tensor)")
    r = d.view(np.complex64 if d.dtype == np.float32 else np.complex128)[..., 0]
    return _viewing(_record(ViewAsComplexBackward0, r, (input,)), input)


@derivative
def ComplexBackward0(grad):
    return grad.real, grad.imag


def _from_parts(a, b, real_part, imag_part):
    """The complex array real_part + i imag_part for two float inputs of one dtype (torch's
    checks and messages for complex() and polar())."""
    if a.dtype != b.dtype:
        raise RuntimeError(f"Expected object of scalar type {_legacy(a.dtype)} but got scalar "
                           f"type {_legacy(b.dtype)} for second argument")
    if a.dtype.kind != 'f':
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_legacy(a.dtype)} and {_legacy(b.dtype)}")
    c = np.empty(np.broadcast_shapes(a.shape, b.shape),
                 np.complex64 if a.dtype == np.float32 else np.complex128)
    c.real, c.imag = real_part(), imag_part()
    return c


@_bcast_errors
def complex(real, imag, *, out=None):
    """real + i imag, elementwise (both float, of the same dtype)."""
    r, i = real._data, imag._data
    c = _from_parts(r, i, lambda: r, lambda: i)
    return _out(out, _record(ComplexBackward0, c, (real, imag)))


@derivative
def PolarBackward0(grad, result, abs):
    # result = abs * e^{i angle}: d/dabs -> Re(grad * conj(sgn(result))), d/dangle -> Re(grad *
    # conj(i result)); torch uses e^{i angle} = result / abs only where abs != 0
    unit = result.sgn()
    return (grad * unit.conj()).real, (grad * (result * 1j).conj()).real


@_bcast_errors
def polar(abs, angle, *, out=None):
    """abs * (cos(angle) + i sin(angle)), elementwise."""
    a, t = abs._data, angle._data
    c = _from_parts(a, t, lambda: a * np.cos(t), lambda: a * np.sin(t))
    return _out(out, _record(PolarBackward0, c, (abs, angle), result=_RESULT, abs=abs))
