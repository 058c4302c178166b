"""torch.quantization: the legacy name of torch.ao.quantization."""
from .. import _stubs
from ..ao.quantization import *  # noqa: F401,F403
from . import fake_quantize, observer, qconfig, quant_type, stubs  # noqa: F401

_stubs.hook(__name__)
