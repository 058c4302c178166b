"""Tensor printing: ``repr(tensor)`` exactly as torch 2.13 prints it.

The rules follow torch/_tensor_str.py: one formatter per tensor decides the number style
(integers shown as ``1.``, fixed point with ``precision`` digits, or scientific) and the column
width; rows wrap at ``linewidth``; tensors with more than ``threshold`` elements are summarised
to ``edgeitems`` entries at each end of every dimension.  Everything works on ``t._data``
(a NumPy array); large tensors are cut down to their edges *before* any formatting.
"""
import contextlib
import math

import numpy as np

from . import _dtype

__all__ = ['set_printoptions', 'get_printoptions', 'printoptions']


class _PrinterOptions:
    """The global print options (torch keeps them in ``PRINT_OPTS``)."""

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None


PRINT_OPTS = _PrinterOptions()

_PROFILES = {
    'default': dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    'short': dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    'full': dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set the options for printing tensors (see ``torch.set_printoptions``).

    ``profile`` ('default', 'short' or 'full') is applied first; the other arguments override
    it.  ``sci_mode`` is always assigned, so omitting it returns to automatic choice.
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options, as keyword arguments for :func:`set_printoptions`."""
    return {'precision': PRINT_OPTS.precision, 'threshold': PRINT_OPTS.threshold,
            'edgeitems': PRINT_OPTS.edgeitems, 'linewidth': PRINT_OPTS.linewidth,
            'sci_mode': PRINT_OPTS.sci_mode}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options and restores the previous ones on exit."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---- number formatting ------------------------------------------------------------------------

class _Formatter:
    """Chooses one style and width for every element of a (real) array.

    For floats torch looks only at the nonzero finite values: all integral -> ``int_mode``
    (printed ``3.``); a spread over 1000x, or a value above 1e8 or below 1e-4 -> ``sci_mode``.
    """

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if values.size == 0:
            return
        if not floating:
            self.max_width = max(len(str(v)) for v in _extremes(values))
            return

        values = values.astype(np.float64, copy=False).ravel()
        nonzero_finite = values[np.isfinite(values) & (values != 0)]
        if nonzero_finite.size == 0:
            return
        magnitudes = np.abs(nonzero_finite)
        vmin, vmax = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(nonzero_finite == np.ceil(nonzero_finite)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        # The printed length grows with |x| (fixed point) or with |exponent| (scientific), so
        # the widest string comes from one of the extreme values of each sign.
        candidates = _signed_extremes(nonzero_finite)
        precision = PRINT_OPTS.precision
        if self.sci_mode:
            widths = [len(f'{v:.{precision}e}') for v in candidates]
        elif self.int_mode:
            # the trailing '.' that marks a float is counted too
            widths = [len(f'{v:.0f}') + 1 for v in candidates]
        else:
            widths = [len(f'{v:.{precision}f}') for v in candidates]
        self.max_width = max(self.max_width, *widths)

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating:
            if self.sci_mode:
                text = f'{value:{self.max_width}.{PRINT_OPTS.precision}e}'
            elif self.int_mode:
                text = f'{value:.0f}'
                if math.isfinite(value):
                    text += '.'
            else:
                text = f'{value:.{PRINT_OPTS.precision}f}'
        else:
            text = f'{value}'
        return text.rjust(self.max_width)


def _extremes(values):
    """The largest and smallest element as Python scalars (the widest integers or bools)."""
    return [values.max().item(), values.min().item()]


def _signed_extremes(values):
    """Largest and smallest magnitude among the positive and among the negative values."""
    out = []
    for part in (values[values > 0], values[values < 0]):
        if part.size:
            out += [float(part.min()), float(part.max())]
    return out


def _complex_str(value, real_fmt, imag_fmt):
    real = real_fmt.format(value.real)
    imag = (imag_fmt.format(value.imag) + 'j').lstrip()
    # a sign (including that of -0.0 or -inf) already separates the parts
    if imag[0] in '+-':
        return real + imag
    return real + '+' + imag


# ---- layout -----------------------------------------------------------------------------------

def _summarize(data):
    """Keep ``edgeitems`` entries at both ends of every long axis; report which axes were cut."""
    edge = PRINT_OPTS.edgeitems
    cut = tuple(n > 2 * edge for n in data.shape)
    if any(cut):
        index = tuple(np.r_[0:edge, n - edge:n] if c else slice(None)
                      for n, c in zip(data.shape, cut))
        # one axis at a time: NumPy's fancy indexing with several arrays would pair them up
        for axis, idx in enumerate(index):
            if not isinstance(idx, slice):
                data = np.take(data, idx, axis=axis)
    return data, cut


def _vector_str(row, cut, indent, element_str, element_length):
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    items = [element_str(v) for v in row]
    if cut:
        edge = PRINT_OPTS.edgeitems
        items = items[:edge] + [' ...'] + items[edge:]
    lines = [', '.join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return '[' + (',\n' + ' ' * (indent + 1)).join(lines) + ']'


def _nested_str(values, cuts, indent, element_str, element_length):
    """Render nested Python lists (from ``ndarray.tolist``) the way torch nests brackets."""
    if len(cuts) == 1:
        return _vector_str(values, cuts[0], indent, element_str, element_length)
    slices = [_nested_str(v, cuts[1:], indent + 1, element_str, element_length)
              for v in values]
    if cuts[0]:
        edge = PRINT_OPTS.edgeitems
        slices = slices[:edge] + ['...'] + slices[edge:]
    return '[' + (',' + '\n' * (len(cuts) - 1) + ' ' * (indent + 1)).join(slices) + ']'


def _values_str(data, dtype, indent):
    """The bracketed values of a non-empty tensor (torch's ``_tensor_str``)."""
    summarize = data.size > PRINT_OPTS.threshold
    if summarize and data.ndim > 0 and not PRINT_OPTS.edgeitems:
        return '[...]'
    if summarize and data.ndim > 0:
        data, cuts = _summarize(data)
    else:
        cuts = (False,) * data.ndim
    if dtype.is_floating_point and data.dtype.kind != 'f':
        data = data.astype(np.float32)  # bfloat16 (ml_dtypes): exact in float32

    if dtype.is_complex:
        real_fmt = _Formatter(data.real, True)
        imag_fmt = _Formatter(data.imag, True)

        def element_str(v):
            return _complex_str(v, real_fmt, imag_fmt)
        # each element: real, imaginary part, 'j', and ', '
        element_length = real_fmt.width() + imag_fmt.width() + 3
    else:
        fmt = _Formatter(data, dtype.is_floating_point)
        element_str = fmt.format
        element_length = fmt.width() + 2

    values = data.tolist()
    if data.ndim == 0:
        return element_str(values)
    return _nested_str(values, cuts, indent, element_str, element_length)


def _add_suffixes(text, suffixes, indent, force_newline=False):
    """Append ', name=value' pieces, starting a new line when one would pass ``linewidth``
    (and for the first one with ``force_newline``, as torch prints a sparse COO tensor)."""
    parts = [text]
    # (torch's arithmetic, kept as is: it counts two more than the last line's length)
    last_line_len = len(text) - text.rfind('\n') + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(',\n' + ' ' * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(', ' + suffix)
            last_line_len += len(suffix) + 2
    parts.append(')')
    return ''.join(parts)


# ---- the repr ---------------------------------------------------------------------------------

# The classes that print as 'tensor(': 'Tensor' and 'Parameter', registered by _tensor and
# nn.parameter when they define them (both import this module).
_TENSOR_CLASSES = {}
_DUAL = []  # forward_ad's (tensor -> (tangent, requires grad for the caller) or None), once loaded


def _prefix(t):
    """'tensor(' for Tensor and Parameter; a subclass prints its own class name."""
    Tensor, Parameter = _TENSOR_CLASSES.get('Tensor'), _TENSOR_CLASSES.get('Parameter')
    cls = type(t)
    if Tensor is None or not isinstance(t, Tensor) or cls is Tensor or cls is Parameter:
        return 'tensor(', False
    return cls.__name__ + '(', Parameter is not None and isinstance(t, Parameter)


def _grad_fn_name(t):
    try:
        grad_fn = t.grad_fn
    except RuntimeError:
        return 'Invalid'
    if grad_fn is None:
        return None
    name = getattr(grad_fn, 'name', None)
    return name() if callable(name) else type(grad_fn).__name__


def _tensor_repr(t, tensor_contents=None):
    """``repr(t)`` / ``str(t)`` of an ember Tensor, character for character as torch.

    ``tensor_contents`` replaces the bracketed values (torch's ``Tensor.__repr__`` hook);
    the suffixes are still those of ``t``.
    """
    data = t._data
    dtype = t.dtype
    prefix, parameter_subclass = _prefix(t)
    indent = len(prefix)
    default = _dtype.get_default_dtype()
    suffixes = []
    if data.size == 0:
        # torch, like NumPy, spells out any shape other than (0,)
        if data.ndim != 1:
            suffixes.append('size=' + str(tuple(data.shape)))
        # nothing to infer an int64 from, so any non-default dtype is shown
        if dtype is not default:
            suffixes.append(f'dtype={dtype!r}')
        text = '[]' if tensor_contents is None else tensor_contents
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append('size=' + str(tuple(data.shape)))
        if dtype not in (default, _dtype._default_complex(), _dtype.int64, _dtype.bool):
            suffixes.append(f'dtype={dtype!r}')
        text = (_values_str(data, dtype, indent) if tensor_contents is None
                else tensor_contents)

    grad_fn_name = _grad_fn_name(t)
    dual = _DUAL[0](t) if _DUAL else None
    if dual is not None and not dual[1]:
        grad_fn_name = None  # recorded for the tangent only (forward_ad): torch shows none
    if grad_fn_name is not None:
        suffixes.append(f'grad_fn=<{grad_fn_name}>')
    elif t.requires_grad:
        suffixes.append('requires_grad=True')
    if dual is not None and dual[0] is not None:
        suffixes.append(f'tangent={dual[0]}')

    out = _add_suffixes(prefix + text, suffixes, indent)
    if parameter_subclass:
        out = f'Parameter({out})'
    return out


_str = _tensor_repr

_UNSIGNED_NAMES = {'uint16': 'UInt16Tensor', 'uint32': 'UInt32Tensor', 'uint64': 'UInt64Tensor'}


def _type_name(t):
    """The legacy type name torch's ``t.type()`` returns, e.g. 'torch.FloatTensor'."""
    dtype = t.dtype
    legacy = getattr(dtype, '_legacy', None) or _UNSIGNED_NAMES.get(dtype.name)
    if legacy is None:
        raise NotImplementedError(f'no legacy tensor type name for {dtype!r}')
    return 'torch.' + legacy
