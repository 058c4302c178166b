"""Pruning (torch.nn.utils.prune): zero parts of a parameter through a mask.

Pruning `module.<name>` moves the parameter to `<name>_orig`, stores the mask as the buffer
`<name>_mask`, and makes `<name>` a plain attribute `mask * <name>_orig`, recomputed by a
forward pre-hook (the pruning method itself) before every forward. Pruning the same parameter
again composes the masks in a PruningContainer; `remove` makes the pruned values permanent.
The state_dict keys, the hook and the random choices are torch's.
"""
from abc import ABC, abstractmethod
from collections.abc import Iterable
import numbers

from ..._ops.creation import ones_like, zeros_like
from ..._ops.elementwise import abs
from ..._ops.index import kthvalue, topk
from ..._ops.reduce import norm
from ..._ops.random import rand, rand_like
from ..._values import contiguous_format
from .convert_parameters import parameters_to_vector

__all__ = ['BasePruningMethod', 'PruningContainer', 'Identity', 'RandomUnstructured',
           'L1Unstructured', 'RandomStructured', 'LnStructured', 'CustomFromMask', 'identity',
           'random_unstructured', 'l1_unstructured', 'random_structured', 'ln_structured',
           'global_unstructured', 'custom_from_mask', 'remove', 'is_pruned']


class BasePruningMethod(ABC):
    """A way of computing a pruning mask; the instance attached to a module is also the
    forward pre-hook that reapplies its mask."""

    _tensor_name: str

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask for `t`, given the mask already in force (`default_mask`)."""

    def apply_mask(self, module):
        """The pruned tensor: the stored mask times the original parameter."""
        if self._tensor_name is None:
            raise AssertionError(f'Module {module} has to be pruned')
        mask = getattr(module, self._tensor_name + '_mask')
        orig = getattr(module, self._tensor_name + '_orig')
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune `module.<name>` with cls(*args, **kwargs), composing with earlier pruning."""
        method = _attach_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is None:
            importance_scores = orig
        elif importance_scores.shape != orig.shape:
            raise AssertionError(
                f'importance_scores should have the same shape as parameter {name} of '
                f'{module}, got {importance_scores.shape} vs {orig.shape}')
        first = not isinstance(method, PruningContainer)
        if first:  # the parameter moves to <name>_orig
            module.register_parameter(name + '_orig', orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + '_mask').detach().clone(
                memory_format=contiguous_format)
        try:
            module.register_buffer(name + '_mask',
                                   method.compute_mask(importance_scores, default_mask=default_mask))
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # undo the move
                module.register_parameter(name, getattr(module, name + '_orig'))
                del module._parameters[name + '_orig']
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t with this method's mask applied (no module involved)."""
        if importance_scores is None:
            importance_scores = t
        elif importance_scores.shape != t.shape:
            raise AssertionError(f'importance_scores should have the same shape as tensor t, '
                                 f'got {importance_scores.shape} vs {t.shape}')
        default_mask = ones_like(t) if default_mask is None else default_mask
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module):
        """Make the pruning permanent: `<name>` is a parameter again, holding the pruned
        values; `<name>_orig` and `<name>_mask` go."""
        if self._tensor_name is None:
            raise AssertionError(
                f'Module {module} has to be pruned before pruning can be removed')
        name = self._tensor_name
        pruned = self.apply_mask(module)
        if hasattr(module, name):
            delattr(module, name)
        orig = module._parameters[name + '_orig']
        orig.data = pruned.data
        del module._parameters[name + '_orig']
        del module._buffers[name + '_mask']
        setattr(module, name, orig)


def _attach_method(cls, module, name, *args, **kwargs):
    """cls(*args, **kwargs) for `module.<name>`, taking the place of the pruning hook already
    on that tensor (if any) inside a PruningContainer."""
    old = [(k, h) for k, h in module._forward_pre_hooks.items()
           if isinstance(h, BasePruningMethod) and h._tensor_name == name]
    if len(old) > 1:
        raise AssertionError(f'Avoid adding multiple pruning hooks to the same tensor {name} '
                             f'of module {module}. Use a PruningContainer.')
    for k, _ in old:
        del module._forward_pre_hooks[k]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not old:
        return method
    previous = old[0][1]
    if not isinstance(previous, PruningContainer):
        previous = PruningContainer(previous)
    previous.add_pruning_method(method)
    return previous


class PruningContainer(BasePruningMethod):
    """The pruning methods applied one after another to one tensor; the last one prunes only
    what the earlier ones left."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if method is not None and not isinstance(method, BasePruningMethod):
            raise TypeError(f'{type(method)} is not a BasePruningMethod subclass')
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(
                "Can only add pruning methods acting on the parameter named "
                f"'{self._tensor_name}' to PruningContainer {self}. Found "
                f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """The last method's mask, computed on the part of t that the mask so far keeps (the
        unpruned entries, the kept channels along its dim, or all of t for a global method)."""
        method = self._pruning_methods[-1]
        mask = default_mask.to(dtype=t.dtype)
        kind = method.PRUNING_TYPE
        if kind == 'unstructured':
            part = default_mask == 1
        elif kind == 'structured':
            if not hasattr(method, 'dim'):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to '
                                     'have the attribute `dim` defined.')
            n, dim = t.dim(), method.dim
            dim = dim + n if dim < 0 else dim
            if dim < 0:
                raise IndexError(f'Index is out of bounds for tensor with dimensions {n}')
            kept = default_mask.sum(dim=[d for d in range(n) if d != dim]) != 0
            part = (slice(None),) * dim + (kept,)
        elif kind == 'global':
            part = (slice(None),) * len(t.shape)
        else:
            raise ValueError(f'Unrecognized PRUNING_TYPE {kind}')
        new = method.compute_mask(t[part], default_mask=default_mask[part])
        mask[part] = new.to(dtype=mask.dtype)
        return mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones."""

    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _check_amount(amount):
    """A fraction in [0, 1] or a count >= 0."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f'Invalid type for amount: {amount}. Must be int or float.')
    if isinstance(amount, numbers.Integral):
        bad = amount < 0
    else:
        bad = not 0.0 <= float(amount) <= 1.0
    if bad:
        raise ValueError(f'amount={amount} should either be a float in the range [0, 1] or a '
                         f'non-negative integer')


def _how_many(amount, size):
    """How many of `size` entries (or channels) `amount` prunes."""
    count = amount if isinstance(amount, numbers.Integral) else round(amount * size)
    if isinstance(count, numbers.Integral) and count > size:
        raise ValueError(f'amount={count} should be smaller than the number of parameters to '
                         f'prune={size}')
    return count


def _structured_size(t, dim):
    if len(t.shape) <= 1:
        raise ValueError(f'Structured pruning can only be applied to multidimensional tensors. '
                         f'Found tensor of shape {t.shape} with {len(t.shape)} dims')
    if dim >= t.dim():
        raise IndexError(f'Invalid index {dim} for tensor of size {t.shape}')
    return t.shape[dim]


def _channel_mask(t, dim, channels):
    """Ones on the chosen channels (a boolean mask or indices) along dim, zeros elsewhere."""
    mask = zeros_like(t)
    mask[(slice(None),) * (dim % len(t.shape)) + (channels,)] = 1
    return mask


class _Unstructured(BasePruningMethod):
    """Prunes the `amount` entries that rank first by `_pick` (a score, and whether the
    largest scores go)."""

    PRUNING_TYPE = 'unstructured'

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _how_many(self.amount, t.nelement())
        mask = default_mask.clone(memory_format=contiguous_format)
        if k:
            score, largest = self._pick(t)
            mask.view(-1)[topk(score.view(-1), k=k, largest=largest).indices] = 0
        return mask


class RandomUnstructured(_Unstructured):
    """Prunes `amount` entries chosen at random."""

    def _pick(self, t):
        return rand_like(t), True

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes the `amount` entries of smallest magnitude."""

    def _pick(self, t):
        return abs(t), False

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes `amount` whole channels along `dim`, chosen at random."""

    PRUNING_TYPE = 'structured'

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        size = _structured_size(t, self.dim)
        k = _how_many(self.amount, size)
        if not k:
            return default_mask
        score = rand(size)
        mask = _channel_mask(t, self.dim, score > kthvalue(score, k=k).values)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the `amount` channels along `dim` of smallest L`n` norm."""

    PRUNING_TYPE = 'structured'

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        size = _structured_size(t, self.dim)
        k = _how_many(self.amount, size)
        dim = self.dim % t.dim()
        norms = norm(t, p=self.n, dim=[d for d in range(t.dim()) if d != dim])
        keep = topk(norms, k=size - k, largest=True).indices
        if not k:
            return default_mask
        mask = _channel_mask(t, self.dim, keep)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is zero."""

    PRUNING_TYPE = 'global'

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f'default_mask shape {default_mask.shape} must match '
                                 f'self.mask shape {self.mask.shape}')
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Attach an all-ones mask to `module.<name>` (prunes nothing)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune `amount` random entries of `module.<name>`."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the `amount` entries of `module.<name>` of smallest magnitude (or score)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune `amount` random channels of `module.<name>` along `dim`."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the `amount` channels of `module.<name>` along `dim` of smallest Ln norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the (module, name) pairs in `parameters` together, as one flat tensor, with an
    unstructured `pruning_method` (e.g. L1Unstructured, amount=...)."""
    if not isinstance(parameters, Iterable):
        raise TypeError('global_unstructured(): parameters is not an Iterable')
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError('global_unstructured(): importance_scores must be of type dict')
    scores = parameters_to_vector([importance_scores.get((m, n), getattr(m, n))
                                   for m, n in parameters])
    masks = parameters_to_vector([getattr(m, n + '_mask', ones_like(getattr(m, n)))
                                  for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = 'temp'
    method = pruning_method(**kwargs)
    method._tensor_name = 'temp'
    if method.PRUNING_TYPE != 'unstructured':
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f'Found method {pruning_method} of type {method.PRUNING_TYPE}')
    container.add_pruning_method(method)
    flat = container.compute_mask(scores, masks)
    start = 0
    for m, n in parameters:
        param = getattr(m, n)
        custom_from_mask(m, n, mask=flat[start:start + param.numel()].view_as(param))
        start += param.numel()


def custom_from_mask(module, name, mask):
    """Prune `module.<name>` where `mask` is zero."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Make the pruning of `module.<name>` permanent (see BasePruningMethod.remove)."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     f"can be removed")


def is_pruned(module):
    """Whether any submodule of `module` carries a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for _, sub in module.named_modules() for hook in sub._forward_pre_hooks.values())
