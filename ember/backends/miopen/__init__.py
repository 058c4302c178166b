"""torch.backends.miopen: AMD's MIOpen flag (ROCm builds use it; kept here as torch keeps it)."""
import sys

from .. import _flags
from .._flags import ContextProp, PropModule

__all__ = ['set_flags', 'flags', 'immediate', 'MiopenModule']

_PROPS = (_flags.legacy_flag('miopen'),)


def set_flags(_immediate=None):
    return _flags.set_all(_PROPS, (_immediate,))


def flags(immediate=False):
    return _flags.scoped(set_flags, immediate)


class MiopenModule(PropModule):
    immediate = ContextProp(*_PROPS[0])


sys.modules[__name__] = MiopenModule(sys.modules[__name__], __name__)
