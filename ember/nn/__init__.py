"""ember.nn: building networks from modules (torch.nn)."""
import importlib as _importlib

from .. import _lazy

from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer  # noqa: F401
from .modules import *  # noqa: F401,F403
from . import functional, init  # noqa: F401

# the star import above also brings nn.modules.utils in under the name `utils`: nn.utils it is
utils = _importlib.import_module(__name__ + '.utils')

# the layers nn.modules loads on first use (its _LAZY table)
_LAZY = {name: ('modules.' + home, name) for name, home in modules._LAZY.items() if home}
__getattr__ = _lazy.loader(__name__, _LAZY)
__dir__ = _lazy.lister(__name__, _LAZY)


def factory_kwargs(kwargs):
    """The factory keywords (device, dtype, memory_format) of `kwargs` as one dict, with
    torch's checks: an unknown keyword, or one given twice (directly and inside a
    `factory_kwargs` entry), is a TypeError."""
    if kwargs is None:
        return {}
    simple = {'device', 'dtype', 'memory_format'}
    expected = simple | {'factory_kwargs'}
    if not kwargs.keys() <= expected:
        raise TypeError(f"unexpected kwargs {kwargs.keys() - expected}")
    r = dict(kwargs.get('factory_kwargs', {}))
    for k in simple:
        if k in kwargs:
            if k in r:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            r[k] = kwargs[k]
    return r
