"""torch.masked's reductions and normalisations on strided tensors: the masked-out elements are
replaced by the operation's identity (torch's _reduction_identity) and the plain op runs, so the
values, dtypes and gradients are torch's. A MaskedTensor argument brings its own mask."""
import numpy as np

from .. import _dtype
from .._tensor import _wrap
from .._ops.creation import ones
from .._ops.elementwise import where, logaddexp as _logaddexp, maximum, divide, subtract
from .._ops.linalg import vector_norm

__all__ = ['sum', 'prod', 'cumsum', 'cumprod', 'amax', 'amin', 'argmax', 'argmin', 'mean',
           'median', 'logsumexp', 'logaddexp', 'norm', 'var', 'std', 'softmax', 'log_softmax',
           'softmin', 'normalize']

_SMALL_INTS = ('uint8', 'bool', 'int8', 'int16', 'int32')


def _is_mt(x):
    return getattr(x, '_is_masked_tensor', False)


def _reduction_identity(op_name, input, *args):
    """The value that leaves the reduction unchanged (None where it is not defined)."""
    dt = input.dtype
    flt = dt.is_floating_point
    if op_name in ('sum', 'cumsum'):
        v = 0
    elif op_name in ('prod', 'cumprod'):
        v = 1
    elif op_name in ('amax', 'argmax', 'logaddexp', 'logsumexp'):
        if flt or dt.is_complex:
            v = -np.inf
        elif dt.is_signed or dt == _dtype.uint8:
            v = np.iinfo(dt._np).min
        else:
            return None
    elif op_name in ('amin', 'argmin'):
        if flt:
            v = np.inf
        elif dt.is_signed or dt == _dtype.uint8:
            v = np.iinfo(dt._np).max
        else:
            return None
    elif op_name == 'norm':
        ord = args[0] if args else 2
        v = np.inf if ord == float('-inf') else 0
    elif op_name == 'median':
        return _wrap(np.array(np.nan, dt._np if flt else np.float32))
    elif op_name in ('mean', 'var', 'std'):
        return None
    else:
        raise NotImplementedError(f"identity of {op_name} on {dt} input")
    return _wrap(np.array(v, dt._np))


def _canonical_dim(dim, ndim):
    """dim as a sorted tuple of non-negative dims (None or () mean every dim)."""
    if dim == () or dim is None:
        return tuple(range(ndim))
    ndim = max(ndim, 1)
    dims = []
    for d in ((dim,) if isinstance(dim, int) else dim):
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                             f"{ndim - 1}], but got {d})")
        dims.append(d % ndim)
    return tuple(sorted(dims))


def _input_mask(input, *args, **kwargs):
    """The mask broadcast to input's shape, as bool."""
    mask = kwargs.get('mask')
    if mask is None:
        raise ValueError("_input_mask requires explicit mask")
    if getattr(mask, '_sparse', False) or getattr(input, '_sparse', False):
        raise NotImplementedError("ember does not implement torch.masked operations on sparse "
                                  "tensors or masks")
    if tuple(mask.shape) != tuple(input.shape):
        if mask.ndim > input.ndim:
            raise IndexError("_input_mask expected broadcastable mask (got mask dimensionality "
                             "higher than of the input)")
        mask = mask.clone().broadcast_to(input.shape)
    return mask.to(_dtype.bool)


def _split(input, mask):
    """(data, mask) of a MaskedTensor argument, else the arguments as given."""
    if _is_mt(input):
        return input.get_data(), input.get_mask()
    return input, mask


def _combine_input_and_mask(op_name, input, mask, *args):
    """input with its masked-out elements replaced by op's identity."""
    input, mask = _split(input, mask)
    if mask is None:
        return input
    m = _input_mask(input, mask=mask)
    return where(m, input, _reduction_identity(op_name, input, *args))


def _output_mask(op, input, *args, **kwargs):
    """Which outputs of the masked operation `op` have at least one masked-in input."""
    name = op.__name__
    if name in ('softmax', 'log_softmax', 'softmin', 'normalize', 'cumsum', 'cumprod'):
        return _input_mask(input, *args, **kwargs)
    if name == 'norm' and args:
        args = args[1:]
    dim = args[0] if args else kwargs.get('dim')
    outmask = _input_mask(input, *args, **kwargs)
    dims = _canonical_dim(dim, input.ndim)
    return outmask.any(dims, keepdim=bool(kwargs.get('keepdim', False))) if dims else outmask


def _sum_dtype(input, dtype):
    if dtype is not None:
        return dtype
    return _dtype.int64 if str(input.dtype)[6:] in _SMALL_INTS else input.dtype


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = _sum_dtype(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    x = _combine_input_and_mask('sum', input, mask)
    return x.sum(dims, bool(keepdim), dtype=dtype)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = _sum_dtype(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    r = _combine_input_and_mask('prod', input, mask).to(dtype)
    for d in reversed(dims):
        r = r.prod(d, keepdim=bool(keepdim))
    return r


def cumsum(input, dim, *, dtype=None, mask=None):
    dtype = dtype or input.dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return _combine_input_and_mask('sum', input, mask).cumsum(d, dtype=dtype).to(dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    dtype = dtype or input.dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return _combine_input_and_mask('prod', input, mask).cumprod(d, dtype=dtype).to(dtype)


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = dtype or input.dtype
    x = _combine_input_and_mask('amax', input, mask)
    return x.amax(_canonical_dim(dim, x.ndim), bool(keepdim)).to(dtype)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = dtype or input.dtype
    x = _combine_input_and_mask('amin', input, mask)
    return x.amin(_canonical_dim(dim, x.ndim), bool(keepdim)).to(dtype)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = dtype or input.dtype
    return _combine_input_and_mask('argmax', input, mask).argmax(dim, bool(keepdim)).to(dtype)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = dtype or input.dtype
    return _combine_input_and_mask('argmin', input, mask).argmin(dim, bool(keepdim)).to(dtype)


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """sum / count of the masked-in elements (nan where every element is masked out)."""
    source = 'Optional'
    if dtype is None:
        dtype = input.dtype
        source = 'Input'
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either "
                         f"a floating point or complex dtype. Got: {dtype}")
    # as torch: a MaskedTensor's mask reaches the sum (through _combine_input_and_mask), not
    # the count, which then counts every element
    if mask is None:
        count = sum(ones(input.shape, dtype=_dtype.int64), dim, keepdim=keepdim)
        total = sum(input, dim, keepdim=keepdim, dtype=dtype)
    else:
        inmask = _input_mask(input, mask=mask)
        count = inmask.sum(_canonical_dim(dim, input.ndim), keepdim=bool(keepdim))
        total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=inmask)
    return total / count


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    dtype = dtype or input.dtype
    d = _canonical_dim(dim, input.ndim)[0]
    input, mask = _split(input, mask)
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(_dtype.float32)
    out = _combine_input_and_mask('median', input, mask).nanmedian(d, keepdim).values
    if is_float:
        return out
    if not bool(out.isnan().any()):
        return out.to(dtype)
    raise ValueError("masked median expects no fully masked out rows if dtype is not floating "
                     "point")


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = dtype or input.dtype
    dims = _canonical_dim(dim, input.ndim)
    return _combine_input_and_mask('logsumexp', input, mask).logsumexp(
        dims, keepdim=keepdim).to(dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    dtype = dtype or input.dtype
    a = _combine_input_and_mask('logaddexp', input, input_mask)
    b = _combine_input_and_mask('logaddexp', other, other_mask)
    return _logaddexp(a, b).to(dtype)


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    dtype = dtype or input.dtype
    x = _combine_input_and_mask('norm', input, mask, ord)
    return vector_norm(x, ord, _canonical_dim(dim, input.ndim), bool(keepdim), dtype=dtype)


def _std_var(input, dim, unbiased, *, correction_opt, keepdim, dtype, mask, take_sqrt):
    if unbiased is not None and correction_opt is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    correction = 1.0
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    if correction_opt is not None:
        correction = float(correction_opt)
    input, mt_mask = _split(input, None)
    if mask is None and mt_mask is not None:
        # as torch's mean: the MaskedTensor's mask reaches the sums, not the count
        inmask = _input_mask(input, mask=mt_mask)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = _dtype.float32
    compute = dtype if (dtype.is_floating_point or dtype.is_complex) else _dtype.float32
    dims = _canonical_dim(dim, input.ndim)
    if mask is None:
        count = sum(ones(input.shape, dtype=_dtype.int64), dim, keepdim=True)
        inmask = inmask if mt_mask is not None else None
        total = sum(input, dim, keepdim=True, dtype=dtype, mask=inmask)
    else:
        inmask = _input_mask(input, mask=mask)
        count = inmask.sum(dims, keepdim=True)
        total = sum(input, dim, keepdim=True, dtype=dtype, mask=inmask)
    x = subtract(input, divide(total, count))
    sq = x * x.conj()
    total = sum(sq, dim, keepdim=keepdim, dtype=compute, mask=inmask)
    if not keepdim:
        count = count.reshape(total.shape)
    if correction != 0:
        real = _dtype.float32 if compute == _dtype.complex64 else (
            _dtype.float64 if compute == _dtype.complex128 else compute)
        count = (count.to(real) - correction).clamp_min(0)
    out = divide(total, count).to(dtype)
    return out.sqrt() if take_sqrt else out


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    return _std_var(input, dim, unbiased, correction_opt=correction, keepdim=keepdim,
                    dtype=dtype, mask=mask, take_sqrt=False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    return _std_var(input, dim, unbiased, correction_opt=correction, keepdim=keepdim,
                    dtype=dtype, mask=mask, take_sqrt=True)


def softmax(input, dim, *, dtype=None, mask=None):
    dtype = dtype or input.dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return _combine_input_and_mask('amax', input, mask).softmax(d, dtype=dtype)


def log_softmax(input, dim, *, dtype=None, mask=None):
    dtype = dtype or input.dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return _combine_input_and_mask('amax', input, mask).log_softmax(d, dtype=dtype)


def softmin(input, dim, *, dtype=None, mask=None):
    dtype = dtype or input.dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return (-_combine_input_and_mask('amin', input, mask)).softmax(d, dtype=dtype)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    dtype = dtype or input.dtype
    x = _combine_input_and_mask('sum', input, mask)
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return divide(x, maximum(nrm, _wrap(np.array(eps, nrm._data.dtype))))


def _where(mask, input, fill_value):
    return where(mask, input, fill_value)

