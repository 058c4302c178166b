"""torch.ao.nn.qat: float modules that fake-quantize their weights (quantization-aware
training)."""
from .modules import *  # noqa: F401,F403
from . import modules  # noqa: F401
from .modules import __all__  # noqa: F401,E402
