"""What torch.cuda's CPU build raises, shared by ember.cuda's modules."""
from ..backends._flags import no_binding  # noqa: F401 (shared with torch.backends)

NOT_COMPILED = 'Torch not compiled with CUDA enabled'


def lazy_init():
    """torch.cuda._lazy_init on a CPU build."""
    raise AssertionError(NOT_COMPILED)



def dummy(name):
    """The RuntimeError of instantiating one of torch._C's dummy CUDA base classes."""
    return RuntimeError(f'Tried to instantiate dummy base class {name}')


def refusing(name, binding):
    """A function `name` that calls straight into the absent binding torch._C.<binding> (a
    binding ending in '_' is completed with the name)."""
    if binding.endswith('_'):
        binding += name
    def fn(*args, **kwargs):
        raise no_binding(binding)
    fn.__name__ = fn.__qualname__ = name
    return fn
