"""skip_init (torch.nn.utils.init): a module whose parameters and buffers are left
uninitialised."""
import inspect

from ..._random import default_generator
from ..modules.module import Module

__all__ = ['skip_init']


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) without running its initialisation. torch builds it on the
    meta device and allocates empty storage; ember builds it, then empties it: the values are
    zeros (ember's "uninitialised" memory is deterministic) and, as on torch, the random
    generator is left where it was."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if 'device' not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    device = kwargs.pop('device', 'cpu')
    state = default_generator.get_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        default_generator.set_state(state)
    return module.to_empty(device=device)
