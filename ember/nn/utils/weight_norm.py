"""ember.nn.utils.weight_norm (torch.nn.utils.weight_norm): the legacy, hook-based weight
normalization (`weight_g`, `weight_v`, the weight recomputed before every forward)."""
import warnings

from ..._ops.weight_norm import _weight_norm, norm_except_dim
from ..parameter import Parameter, UninitializedParameter

__all__ = ['WeightNorm', 'weight_norm', 'remove_weight_norm']

_DEPRECATED = ("`torch.nn.utils.weight_norm` is deprecated in favor of "
               "`torch.nn.utils.parametrizations.weight_norm`.")


class WeightNorm:
    """The forward pre-hook that recomputes `module.<name>` from `<name>_g` and `<name>_v`."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + '_g')
        v = getattr(module, self.name + '_v')
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn(_DEPRECATED, FutureWarning, stacklevel=2)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "weight normalization")
        del module._parameters[name]
        module.register_parameter(name + '_g', Parameter(norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + '_v', Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + '_g']
        del module._parameters[self.name + '_v']
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name='weight', dim=0):
    """Replace `module.<name>` by `<name>_g * <name>_v / ||<name>_v||` (deprecated: see
    torch.nn.utils.parametrizations.weight_norm)."""
    WeightNorm.apply(module, name, dim)
    return module


def _remove_hook(module, hooks, cls, name):
    """Delete the first hook of class `cls` for parameter `name` from `hooks` (a hook dict of
    `module`), undoing what it did to the module first if it can; whether one was found."""
    for k, hook in hooks.items():
        if isinstance(hook, cls) and getattr(hook, 'fn', hook).name == name:
            if hasattr(hook, 'remove'):
                hook.remove(module)
            del hooks[k]
            return True
    return False


def remove_weight_norm(module, name='weight'):
    """Make `module.<name>` a plain parameter again, with its current value."""
    if not _remove_hook(module, module._forward_pre_hooks, WeightNorm, name):
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    return module

