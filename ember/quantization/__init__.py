"""torch.quantization: the legacy name of torch.ao.quantization."""
from .. import _stubs
# the submodules first: fuse_modules and quantize are also functions, bound last (as torch's)
from . import (fake_quantize, fuse_modules, fuser_method_mappings, observer,  # noqa: F401
               qconfig, quant_type, quantization_mappings, quantize, stubs)
from ..ao.quantization import *  # noqa: F401,F403,E402

_stubs.hook(__name__)
