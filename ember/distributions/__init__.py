"""ember.distributions: the common torch.distributions, sampling torch's exact streams.

Each sampler makes the same calls torch's does (torch.normal, torch.rand, torch.bernoulli,
torch.multinomial), so with the same seed the samples are torch's, bit for bit.
Distributions not listed here raise AttributeError, as any missing attribute does.
"""
import math
import numbers
import sys
import types

from .. import _dtype
from .._tensor import Tensor, Size
from .._ops.creation import empty, full, ones_like, tensor
from .._ops.shape import broadcast_tensors
from ..autograd.grad_mode import no_grad
from .._ops.random import (bernoulli as _bernoulli, multinomial as _multinomial,
                          normal as _normal, rand)
from ..nn.functional import binary_cross_entropy_with_logits, one_hot

__all__ = ['Distribution', 'Normal', 'Uniform', 'Bernoulli', 'Categorical', 'Multinomial',
           'OneHotCategorical', 'Exponential']


def broadcast_all(*values):
    """Tensors of one broadcast shape; numbers become tensors of the default dtype."""
    ref = next((v for v in values if isinstance(v, Tensor)), None)
    dt = ref.dtype if ref is not None else _dtype.get_default_dtype()
    vals = [v if isinstance(v, Tensor) else tensor(float(v), dtype=dt) for v in values]
    return broadcast_tensors(*vals)


def _broadcast_params(*values):
    """broadcast_all(*values) and the batch shape they give a distribution: () when every
    value is a number, else the broadcast shape."""
    tensors = broadcast_all(*values)
    if all(isinstance(v, numbers.Number) for v in values):
        return tensors, Size()
    return tensors, tensors[0].size()


def _size(sample_shape):
    return Size(sample_shape) if not isinstance(sample_shape, Size) else sample_shape


class Distribution:
    """Base class: batch_shape, event_shape, sample/rsample/log_prob and friends."""
    has_rsample = False
    _validate_args = __debug__

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=Size()):
        with no_grad():
            return self.rsample(sample_shape)

    def sample_n(self, n):
        return self.sample(Size((n,)))

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__}.rsample")

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_prob")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__}.entropy")

    def perplexity(self):
        return self.entropy().exp()

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _check(self, ok, name, constraint):
        if self._validate_args and not bool(ok):
            raise ValueError(f"Expected parameter {name} to satisfy the constraint "
                             f"{constraint}, but found invalid values")

    def __repr__(self):
        params = ', '.join(
            f"{k}: {getattr(self, k) if getattr(self, k).numel() == 1 else getattr(self, k).size()}"
            for k in self._param_names)
        return f"{type(self).__name__}({params})"


class Normal(Distribution):
    has_rsample = True
    _param_names = ('loc', 'scale')

    def __init__(self, loc, scale, validate_args=None):
        (self.loc, self.scale), batch = _broadcast_params(loc, scale)
        super().__init__(batch, validate_args=validate_args)
        self._check((self.scale > 0).all(), 'scale', 'GreaterThan(lower_bound=0.0)')

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(_size(sample_shape))
        with no_grad():
            return _normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(_size(sample_shape))
        eps = empty(shape, dtype=self.loc.dtype).normal_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - \
            math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() /
                           math.sqrt(2)).erf())

    def icdf(self, value):
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Uniform(Distribution):
    has_rsample = True
    _param_names = ('low', 'high')

    def __init__(self, low, high, validate_args=None):
        (self.low, self.high), batch = _broadcast_params(low, high)
        super().__init__(batch, validate_args=validate_args)
        self._check((self.low < self.high).all(), 'low', 'LessThan')

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(_size(sample_shape))
        r = rand(shape, dtype=self.low.dtype)
        return self.low + r * (self.high - self.low)

    def log_prob(self, value):
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return (lb * ub).log() - (self.high - self.low).log()

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def entropy(self):
        return (self.high - self.low).log()


class Bernoulli(Distribution):
    _param_names = ('probs',)

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            eps = _dtype.finfo(self.probs.dtype).eps
            p = self.probs.clamp(min=eps, max=1 - eps)
            self.logits = p.log() - (-p).log1p()
            param, scalar = self.probs, isinstance(probs, numbers.Number)
        else:
            (self.logits,) = broadcast_all(logits)
            self.probs = self.logits.sigmoid()
            param, scalar = self.logits, isinstance(logits, numbers.Number)
        super().__init__(Size() if scalar else param.size(), validate_args=validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(_size(sample_shape))
        with no_grad():
            return _bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction='none')

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction='none')


class Categorical(Distribution):
    _param_names = ('probs',)

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            eps = _dtype.finfo(self.probs.dtype).eps
            self.logits = self.probs.clamp(min=eps, max=1 - eps).log()
            self._param = self.probs
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
            self._param = self.logits
        self._num_events = self._param.size()[-1]
        batch = self._param.size()[:-1] if self._param.ndimension() > 1 else Size()
        super().__init__(batch, validate_args=validate_args)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return full(self._extended_shape(), float('nan'), dtype=self.probs.dtype)

    @property
    def variance(self):
        return self.mean

    def sample(self, sample_shape=Size()):
        sample_shape = _size(sample_shape)
        with no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            samples_2d = _multinomial(probs_2d, sample_shape.numel(), True).T
            return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        value = value.long().unsqueeze(-1)
        value, log_pmf = (value, self.logits)
        value, log_pmf = broadcast_tensors(value, log_pmf)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = _dtype.finfo(self.logits.dtype).min
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)


class _OverCategorical(Distribution):
    """OneHotCategorical and Multinomial: their probs and logits are those of the Categorical
    they draw from."""
    _param_names = ('probs',)

    def __init__(self, probs, logits, validate_args):
        self._categorical = Categorical(probs=probs, logits=logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits


class OneHotCategorical(_OverCategorical):

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(probs, logits, validate_args)

    @property
    def mean(self):
        return self._categorical.probs

    def sample(self, sample_shape=Size()):
        idx = self._categorical.sample(sample_shape)
        return one_hot(idx, self._categorical._num_events).to(self.probs.dtype)

    def log_prob(self, value):
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self):
        return self._categorical.entropy()


class Multinomial(_OverCategorical):

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        super().__init__(probs, logits, validate_args)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        sample_shape = _size(sample_shape)
        samples = self._categorical.sample(Size((self.total_count,)) + sample_shape)
        # (total_count, sample, batch) -> (sample, batch, total_count), as torch does
        order = list(range(samples.dim()))
        order.append(order.pop(0))
        samples = samples.permute(*order)
        counts = samples.new_zeros(self._extended_shape(sample_shape))
        counts.scatter_add_(-1, samples, ones_like(samples))
        return counts.type_as(self.probs)

    def log_prob(self, value):
        logits, value = broadcast_all(self.logits, value)
        logits = logits.clone()
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        logits[(value == 0) & (logits == -math.inf)] = 0
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers


class Exponential(Distribution):
    has_rsample = True
    _param_names = ('rate',)

    def __init__(self, rate, validate_args=None):
        (self.rate,), batch = _broadcast_params(rate)
        super().__init__(batch, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(_size(sample_shape))
        return self.rate.new_empty(shape).exponential_() / self.rate

    def log_prob(self, value):
        return self.rate.log() - self.rate * value

    def entropy(self):
        return 1.0 - self.rate.log()


def _submodules():
    """torch.distributions.multinomial.Multinomial and friends (one class per module there);
    each class's ``__module__`` names that module, as torch's does (for pickles and reprs)."""
    for mod, cls in (('normal', Normal), ('uniform', Uniform), ('bernoulli', Bernoulli),
                     ('categorical', Categorical), ('multinomial', Multinomial),
                     ('one_hot_categorical', OneHotCategorical),
                     ('exponential', Exponential), ('distribution', Distribution)):
        m = types.ModuleType(f'{__name__}.{mod}')
        setattr(m, cls.__name__, cls)
        cls.__module__ = m.__name__
        m.__all__ = [cls.__name__]
        sys.modules[m.__name__] = m
        globals()[mod] = m


_submodules()
