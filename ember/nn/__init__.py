"""ember.nn: building networks from modules (torch.nn)."""
import importlib as _importlib

from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer  # noqa: F401
from .modules import *  # noqa: F401,F403
from . import functional, init  # noqa: F401

# the star import above also brings nn.modules.utils in under the name `utils`: nn.utils it is
utils = _importlib.import_module(__name__ + '.utils')
