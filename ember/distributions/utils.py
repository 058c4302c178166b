"""Helpers every distribution shares (torch.distributions.utils): parameter broadcasting,
probs <-> logits, lazily computed attributes, packing lower triangles."""
import numbers
from functools import update_wrapper

from .. import _dtype
from .._tensor import Tensor, Size
from .._ops.creation import arange, empty, tensor
from .._ops.shape import broadcast_tensors
from ..autograd.grad_mode import enable_grad

__all__ = ['broadcast_all', 'logits_to_probs', 'clamp_probs', 'probs_to_logits',
           'lazy_property', 'tril_matrix_to_vec', 'vec_to_tril_matrix']

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant


def broadcast_all(*values):
    """Broadcast tensors and numbers to one shape; numbers become tensors of the first tensor's
    dtype (the default dtype when there is none)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        ref = next((v for v in values if isinstance(v, Tensor)), None)
        dt = ref.dtype if ref is not None else _dtype.get_default_dtype()
        values = [v if isinstance(v, Tensor) else tensor(v, dtype=dt) for v in values]
    return broadcast_tensors(*values)


def _batch_shape_of(values, tensors):
    """The batch shape torch gives a distribution whose parameters were `values`: () when
    every one is a number, else the broadcast shape."""
    if all(isinstance(v, numbers.Number) for v in values):
        return Size()
    return tensors[0].size()


def _standard_normal(shape, dtype, device=None):
    """N(0, 1) draws of `shape`, through normal_ as torch's CPU path draws them."""
    return empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value, dim):
    """Sum out the `dim` rightmost dimensions of `value`."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from (unnormalised) log-probabilities: sigmoid or softmax over -1."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs):
    """`probs` clamped into [eps, 1 - eps] of its dtype."""
    eps = _dtype.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (clamped away from 0 and 1 first)."""
    p = clamp_probs(probs)
    if is_binary:
        return p.log() - (-p).log1p()
    return p.log()


class _forwarded(property):
    """A read-only property that is the attribute of the same name of another attribute:
    ``mean = _forwarded('base_dist')`` in a class body reads ``self.base_dist.mean``."""

    def __init__(self, holder):
        super().__init__(self._get)
        self._holder = holder

    def __set_name__(self, owner, name):
        self._name = name
        self.__doc__ = f'{self._holder}.{name}'

    def _get(self, instance):
        return getattr(getattr(instance, self._holder), self._name)


def _slice_lengths(lengths, parts, what):
    """The lengths of the slices along `dim` that constraints.cat and CatTransform hand to
    their `parts` in turn: 1 each unless given, and one per part."""
    lengths = [1] * len(parts) if lengths is None else list(lengths)
    if len(lengths) != len(parts):
        raise AssertionError(f"lengths ({len(lengths)}) must match {what} ({len(parts)})")
    return lengths


class lazy_property:
    """A property computed on first access (with grad enabled) and then cached on the instance
    under the same name, so it is computed once."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property looks like on the class: a property too, for documentation tools."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n, diag):
    idx = arange(n)
    return idx < idx.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat, diag=0):
    """The lower triangle (below diagonal `diag`) of the last two dimensions, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag)]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of tril_matrix_to_vec: a square matrix with zeros above diagonal `diag`."""
    k = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > _dtype.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {k} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n)
    mat = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    mat[..., _tril_mask(n, diag)] = vec
    return mat


def _one_of(probs, logits):
    """Exactly one of the two parametrisations, as torch insists."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


_location = property(lambda self: self.loc, doc="The location parameter (mean or mode).")


class _BinaryParams:
    """probs/logits of a two-outcome distribution: the one given is stored (``_param``), the
    other is computed lazily from it."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    def _init_binary(self, probs, logits, total_count=None):
        """Store the one of probs/logits given (broadcast with total_count, when given, which
        takes its dtype) and return the batch shape torch gives it."""
        _one_of(probs, logits)
        given = probs if probs is not None else logits
        if total_count is None:
            (self._param,) = broadcast_all(given)
            batch = Size() if isinstance(given, numbers.Number) else self._param.size()
        else:
            count, self._param = broadcast_all(total_count, given)
            self.total_count = count.type_as(self._param)
            batch = self._param.size()
        setattr(self, 'probs' if probs is not None else 'logits', self._param)
        return batch

    def _expand_binary(self, cls, batch_shape, _instance, **attrs):
        """The expand of these distributions: probs/logits (and total_count) expanded, `attrs`
        copied, the rest of `cls`'s initialisation skipped."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = Size(batch_shape)
        for name in ('total_count', 'probs', 'logits'):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape))
                if name != 'total_count':
                    new._param = new.__dict__[name]
        for k, v in attrs.items():
            setattr(new, k, v)
        super(cls, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new


def _enumerate(d, values, expand):
    """enumerate_support's layout: values along dim 0, then the batch dimensions."""
    values = values.view((-1,) + (1,) * len(d._batch_shape))
    if expand:
        values = values.expand((-1,) + tuple(d._batch_shape))
    return values
