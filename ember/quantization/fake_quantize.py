"""torch.quantization.fake_quantize: re-exports torch.ao.quantization.fake_quantize."""
from .. import _stubs
from ..ao.quantization.fake_quantize import *  # noqa: F401,F403

_stubs.hook(__name__)
