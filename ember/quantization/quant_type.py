"""torch.quantization.quant_type: re-exports torch.ao.quantization.quant_type."""
from .. import _stubs
from ..ao.quantization.quant_type import *  # noqa: F401,F403

_stubs.hook(__name__)
