"""torch.ao.nn.intrinsic: fused float modules (Conv+ReLU, Linear+ReLU, Conv+BN, ...)."""
from .modules import *  # noqa: F401,F403
from .modules import _FusedModule  # noqa: F401
from . import modules, qat, quantized  # noqa: F401
from .modules import __all__  # noqa: F401,E402
