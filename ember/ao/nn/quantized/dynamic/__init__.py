"""torch.ao.nn.quantized.dynamic: modules that quantize their input on the fly."""
from .modules import *  # noqa: F401,F403
from . import modules  # noqa: F401
from .modules import __all__  # noqa: F401,E402
