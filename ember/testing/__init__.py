"""ember.testing (torch.testing): assert_close and make_tensor, with torch's semantics and messages.

FileCheck (TorchScript IR checks) is not part of ember: it resolves to a stub.
"""
import cmath
import collections.abc
import math
import warnings

import numpy as np

from .._ops.creation import as_tensor, empty, tensor
from .._dtype import finfo, iinfo, promote_types
from .._tensor import Tensor, _check_device
from .. import _dtype
from .._ops.random import randint
from .._ops.shape import view_as_real

__all__ = ['assert_close', 'assert_allclose', 'make_tensor']

_PRECISIONS = {'float16': (0.001, 1e-5), 'bfloat16': (0.016, 1e-5), 'float32': (1.3e-6, 1e-5),
               'float64': (1e-7, 1e-7), 'complex64': (1.3e-6, 1e-5),
               'complex128': (1e-7, 1e-7)}


class _Fail(Exception):
    def __init__(self, type, msg, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            text = self.msg
            if self.id:
                text += ("\n\nThe failure occurred for item "
                         + ''.join(str([i]) for i in self.id))
            msg = msg(text) if callable(msg) else text
        return self.type(msg)


class _Unsupported(Exception):
    pass


def _tolerances(dtype_names, rtol, atol, id, table=_PRECISIONS):
    if (rtol is None) ^ (atol is None):
        raise _Fail(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                                f"but got no {'rtol' if rtol is None else 'atol'}.", id)
    if rtol is not None:
        return rtol, atol
    pairs = [table.get(n, (0.0, 0.0)) for n in dtype_names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def line(kind, diff, idx, tol):
        if idx is None:
            s = f"{kind.title()} difference: {diff}"
        else:
            s = f"Greatest {kind} difference: {diff} at index {idx}"
        return s + ('' if equality else f" (up to {tol} allowed)") + '\n'

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += extra.strip() + '\n'
    msg += line('absolute', abs_diff, abs_idx, atol)
    msg += line('relative', rel_diff, rel_idx, rtol)
    return msg.strip()


def _compare_none(a, e, id, **_):
    if not (a is None or e is None):
        raise _Unsupported
    if not (a is None and e is None):
        raise _Fail(AssertionError, f"None mismatch: {a} is not {e}", id)


def _compare_bool(a, e, id, **_):
    if not all(isinstance(x, (bool, np.bool_)) for x in (a, e)):
        raise _Unsupported
    a, e = bool(a), bool(e)
    if a is not e:
        raise _Fail(AssertionError, f"Booleans mismatch: {a} is not {e}", id)


_NUMBER_DTYPE = {int: 'int64', float: 'float64', complex: 'complex128'}


def _compare_number(a, e, id, rtol, atol, equal_nan, check_dtype, **_):
    types = (int, float, complex, np.number)
    if not all(isinstance(x, types) and not isinstance(x, bool) for x in (a, e)):
        raise _Unsupported
    a, e = (x.item() if isinstance(x, np.number) else x for x in (a, e))
    rtol, atol = _tolerances([_NUMBER_DTYPE[type(a)], _NUMBER_DTYPE[type(e)]], rtol, atol, id)
    if check_dtype and type(a) is not type(e):
        raise _Fail(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.", id)
    if a == e:
        return
    if equal_nan and cmath.isnan(a) and cmath.isnan(e):
        return
    diff = abs(a - e)
    if cmath.isfinite(diff) and diff <= atol + rtol * abs(e):
        return
    rel = float('inf') if e == 0 else diff / abs(e)
    raise _Fail(AssertionError, _mismatch_msg('Scalars', f"Expected {e} but got {a}.", diff,
                                              None, atol, rel, None, rtol), id)


def _compare_tensor(a, e, id, rtol, atol, equal_nan, check_dtype, allow_subclasses,
                    check_stride, **_):
    if not (isinstance(a, type(e)) or isinstance(e, type(a))):
        raise _Unsupported
    if not allow_subclasses and type(a) is not type(e):
        raise _Unsupported
    try:
        a, e = (x if isinstance(x, Tensor) else as_tensor(x) for x in (a, e))
    except Exception:
        raise _Unsupported from None
    rtol, atol = _tolerances([a.dtype.name, e.dtype.name], rtol, atol, id)

    def attr_mismatch(name, x, y):
        raise _Fail(AssertionError,
                    f"The values for attribute '{name}' do not match: {x} != {y}.", id)

    if a.shape != e.shape:
        attr_mismatch('shape', a.shape, e.shape)
    if check_stride and a.stride() != e.stride():
        attr_mismatch('stride()', a.stride(), e.stride())
    if check_dtype and a.dtype != e.dtype:
        attr_mismatch('dtype', a.dtype, e.dtype)
    x, y = a.detach()._data, e.detach()._data
    if a.dtype != e.dtype:
        unsigned = ('uint16', 'uint32', 'uint64')
        da = 'int64' if a.dtype.name in unsigned else a.dtype
        de = 'int64' if e.dtype.name in unsigned else e.dtype
        da = getattr(_dtype, da) if isinstance(da, str) else da
        de = getattr(_dtype, de) if isinstance(de, str) else de
        common = promote_types(da, de)._np
        x, y = x.astype(common), y.astype(common)
    kind = x.dtype.kind
    with np.errstate(all='ignore'):
        matches = x == y
        if kind in 'fc':
            err = np.abs(x - y)
            allowed = (atol + np.abs(rtol * y)).astype(err.dtype)
            matches |= np.isfinite(err) & (err <= allowed)
            if equal_nan:
                matches |= np.isnan(x) & np.isnan(y)
        elif rtol or atol:
            err = np.abs(x.astype(np.int64) - y.astype(np.int64))
            matches |= err <= atol + rtol * np.abs(y.astype(np.float64))
    if matches.all():
        return
    if x.ndim == 0:
        msg = _mismatch_msg('Scalars', f"Expected {y.item()} but got {x.item()}.",
                            *_scalar_diffs(x.item(), y.item(), atol, rtol))
        raise _Fail(AssertionError, msg, id)
    n = matches.size
    bad = n - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    xf, yf, mf = x.reshape(-1), y.reshape(-1), matches.reshape(-1)
    with np.errstate(all='ignore'):
        if kind not in 'fc':  # torch widens integers to int64; true division gives float32
            xf, yf = xf.astype(np.int64), yf.astype(np.int64)
            abs_diff = np.abs(xf - yf)
            abs_diff[mf] = 0
            rel_diff = (abs_diff / np.abs(yf)).astype(np.float32)
        else:
            abs_diff = np.abs(xf - yf)
            abs_diff[mf] = 0
            rel_diff = abs_diff / np.abs(yf)
        rel_diff[mf] = 0
    ia, ir = _argmax(abs_diff), _argmax(rel_diff)
    shape = matches.shape
    msg = _mismatch_msg('Tensor-likes', extra, abs_diff[ia].item(),
                        tuple(int(i) for i in np.unravel_index(ia, shape)), atol,
                        rel_diff[ir].item(),
                        tuple(int(i) for i in np.unravel_index(ir, shape)), rtol)
    raise _Fail(AssertionError, msg, id)


def _argmax(v):
    # torch.max(dim) propagates NaN: the first NaN wins, else the first maximum
    nan = np.isnan(v) if v.dtype.kind in 'fc' else None
    if nan is not None and nan.any():
        return int(np.argmax(nan))
    return int(np.argmax(v))


def _scalar_diffs(a, e, atol, rtol):
    diff = abs(a - e)
    rel = float('inf') if e == 0 else diff / abs(e)
    return diff, None, atol, rel, None, rtol


_PAIRS = (_compare_none, _compare_bool, _compare_number, _compare_tensor)


def _compare(a, e, id, options):
    seq, mapping = collections.abc.Sequence, collections.abc.Mapping
    if isinstance(a, seq) and not isinstance(a, str) and isinstance(e, seq) \
            and not isinstance(e, str):
        if len(a) != len(e):
            raise _Fail(AssertionError,
                        f"The length of the sequences mismatch: {len(a)} != {len(e)}", id)
        for i in range(len(a)):
            _compare(a[i], e[i], (*id, i), options)
        return
    if isinstance(a, mapping) and isinstance(e, mapping):
        ka, ke = set(a.keys()), set(e.keys())
        if ka != ke:
            raise _Fail(AssertionError,
                        "The keys of the mappings do not match:\n"
                        f"Missing keys in the actual mapping: {sorted(ke - ka)}\n"
                        f"Additional keys in the actual mapping: {sorted(ka - ke)}", id)
        try:
            keys = sorted(ka)
        except Exception:
            keys = ka
        for k in keys:
            _compare(a[k], e[k], (*id, k), options)
        return
    for pair in _PAIRS:
        try:
            pair(a, e, id, **options)
            return
        except _Unsupported:
            continue
    raise _Fail(TypeError, "No comparison pair was able to handle inputs of type "
                           f"{type(a)} and {type(e)}.", id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Asserts that `actual` and `expected` are close (torch.testing.assert_close): tensors,
    NumPy arrays, Python scalars and (nested) sequences/mappings of them."""
    __tracebackhide__ = True
    try:
        _compare(actual, expected, (), dict(
            rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
            allow_subclasses=allow_subclasses, check_stride=check_stride))
    except _Fail as fail:
        raise fail.to_error(msg) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=''):
    """The deprecated torch.testing.assert_allclose."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed "
                  "in a future release. Please use `torch.testing.assert_close()` instead. You "
                  "can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _tolerances(
            [actual.dtype.name, expected.dtype.name], None, None, (),
            {'float16': (1e-3, 1e-3), 'float32': (1e-4, 1e-5), 'float64': (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_device=True, check_dtype=False, check_stride=False, msg=msg or None)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of `shape` with values drawn uniformly from [low, high) (torch.testing's
    defaults per dtype), drawing from the generator exactly as torch does."""
    _check_device(device)
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)

    def low_high(low, high, lowest, highest, default_low, default_high, integral):
        low = default_low if low is None else low
        high = default_high if high is None else high
        if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and "
                             f"high={high}")
        if low == high and not integral:
            warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                          "complex types is deprecated since 2.1 and will be removed in 2.3. "
                          "Use `torch.full(...)` instead.", FutureWarning, stacklevel=3)
        elif low >= high:
            raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
        elif high < lowest or low >= highest:
            raise ValueError(f"The value interval specified by `low` and `high` is [{low}, "
                             f"{high}), but {dtype} only supports [{lowest}, {highest})")
        low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
        return (math.ceil(low), math.ceil(high)) if integral else (low, high)

    if noncontiguous and len(shape) > 0:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype.name == 'bool':
        lo, hi = low_high(low, high, 0, 2, 0, 2, True)
        result = randint(lo, hi, shape, dtype=dtype)
    elif not dtype.is_floating_point and not dtype.is_complex:
        info = iinfo(dtype)
        lo, hi = low_high(low, high, info.min, info.max + (dtype.name != 'int64'), -9, 10,
                          True)
        result = randint(lo, hi, shape, dtype=dtype)
    else:
        info = finfo(dtype)
        lo, hi = low_high(low, high, info.min, info.max, -9, 9, False)
        result = empty(shape, dtype=dtype)
        target = view_as_real(result) if dtype.is_complex else result
        if hi - lo >= info.max:
            target.uniform_(lo / 2, hi / 2).mul_(2)
        else:
            target.uniform_(lo, hi)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        integral = dtype.name == 'bool' or not (dtype.is_floating_point or dtype.is_complex)
        result[result == 0] = 1 if integral else finfo(dtype).tiny
    if dtype.is_floating_point or dtype.is_complex:
        result.requires_grad = requires_grad
    return result


from .._stubs import hook as _hook  # noqa: E402
_hook(__name__)
