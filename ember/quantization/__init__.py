"""torch.quantization: the legacy name of torch.ao.quantization."""
from .. import _stubs
from ..ao.quantization import *  # noqa: F401,F403
from . import (fake_quantize, fuser_method_mappings, observer, qconfig,  # noqa: F401
               quant_type, quantization_mappings, stubs)

_stubs.hook(__name__)
