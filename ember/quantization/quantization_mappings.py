"""torch.quantization.quantization_mappings: re-exports torch.ao.quantization.quantization_mappings."""
from .. import _stubs
from ..ao.quantization.quantization_mappings import *  # noqa: F401,F403

_stubs.hook(__name__)
