"""torch.ao.nn.quantized: modules that run on quantized tensors."""
from .modules import *  # noqa: F401,F403
from . import dynamic, modules  # noqa: F401
from .modules import __all__  # noqa: F401,E402
