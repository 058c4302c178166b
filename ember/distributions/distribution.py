"""Distribution: the base class of every distribution (torch.distributions.distribution)."""
import inspect
import warnings

from .._tensor import Tensor, Size
from ..autograd.grad_mode import no_grad
from . import constraints
from .utils import broadcast_all, lazy_property, _batch_shape_of

__all__ = ['Distribution']


class Distribution:
    """The abstract base class for probability distributions: a batch of independent
    distributions (``batch_shape``) over events of ``event_shape``."""
    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for every distribution made afterwards."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = batch_shape
        self._event_shape = event_shape
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(f"{self.__class__} does not define `arg_constraints`. Please set "
                              "`arg_constraints = {}` or initialize the distribution with "
                              "`validate_args=False` to turn off validation.", stacklevel=2)
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue  # cannot be checked
                if param not in self.__dict__ and isinstance(getattr(type(self), param),
                                                             lazy_property):
                    continue  # computed lazily from the argument that was given
                value = getattr(self, param)
                if not bool(constraint.check(value).all()):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{value}")
        super().__init__()

    def __init_subclass__(cls, params=None, **kwargs):
        """``class Normal(ExponentialFamily, params=('loc', 'scale'))`` gives Normal the
        ``__init__(loc, scale, validate_args=None)`` that broadcasts its parameters together
        (numbers alone give batch shape ()) and the ``expand`` that expands them."""
        super().__init_subclass__(**kwargs)
        if params is None:
            return
        sig = inspect.Signature(
            [inspect.Parameter('self', inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            + [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in params]
            + [inspect.Parameter('validate_args', inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                 default=None)])

        def __init__(self, *args, **kwargs):
            bound = sig.bind(self, *args, **kwargs)
            bound.apply_defaults()
            batch = self._set_params(params, [bound.arguments[n] for n in params])
            Distribution.__init__(self, batch, validate_args=bound.arguments['validate_args'])

        def expand(self, batch_shape, _instance=None):
            return self._expand_params(cls, batch_shape, _instance, params)

        __init__.__signature__ = sig
        __init__.__qualname__ = f'{cls.__qualname__}.__init__'
        expand.__qualname__ = f'{cls.__qualname__}.expand'
        cls.__init__, cls.expand = __init__, expand

    def _set_params(self, names, values):
        """Broadcast `values` together, store them under `names`, and return the batch shape
        torch gives them (() when all were numbers)."""
        tensors = broadcast_all(*values)
        for n, t in zip(names, tensors):
            setattr(self, n, t)
        return _batch_shape_of(values, tensors)

    def _expand_params(self, cls, batch_shape, _instance, names, event_shape=None):
        """The body of most ``expand`` methods: a new `cls` whose tensors `names` are expanded
        to `batch_shape` (+ the rightmost dims of each tensor beyond the batch), unchecked."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = Size(batch_shape)
        for n in names:
            if n in self.__dict__:
                v = self.__dict__[n]
                extra = tuple(v.shape[len(self._batch_shape):])
                setattr(new, n, v.expand(tuple(batch_shape) + extra))
        Distribution.__init__(new, batch_shape,
                              self._event_shape if event_shape is None else event_shape,
                              validate_args=False)
        new._validate_args = self._validate_args
        return new

    def expand(self, batch_shape, _instance=None):
        """A new distribution with batch dimensions expanded to `batch_shape` (parameters are
        expanded views, not copies; arguments are not checked again)."""
        raise NotImplementedError

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def arg_constraints(self):
        raise NotImplementedError

    @property
    def support(self):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """A sample of shape sample_shape + batch_shape + event_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """A reparameterised sample: gradients flow to the parameters."""
        raise NotImplementedError

    def sample_n(self, n):
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()):
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        return Size(sample_shape + self._batch_shape + self._event_shape)

    def _validate_sample(self, value):
        """Check that `value` broadcasts with batch_shape + event_shape and lies in the
        support, with torch's ValueErrors."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        start = len(value.size()) - len(self._event_shape)
        if value.size()[start:] != self._event_shape:
            raise ValueError("The right-most size of value must match event_shape: "
                             f"{value.size()} vs {self._event_shape}.")
        actual, expected = value.size(), self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError("Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{self.__class__} does not define `support` to enable sample "
                          "validation. Please initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=2)
            return
        if support is None:
            raise AssertionError("support is unexpectedly None")
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ', '.join(
            f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}"
            for p in names)
        return f"{self.__class__.__name__}({args})"
