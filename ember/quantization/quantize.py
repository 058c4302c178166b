"""torch.quantization.quantize: re-exports torch.ao.quantization.quantize."""
from .. import _stubs
from ..ao.quantization.quantize import *  # noqa: F401,F403

_stubs.hook(__name__)
