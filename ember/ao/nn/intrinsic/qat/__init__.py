"""torch.ao.nn.intrinsic.qat: fused QAT modules."""
from .modules import *  # noqa: F401,F403
from . import modules  # noqa: F401
from .modules import __all__  # noqa: F401,E402
