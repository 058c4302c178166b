"""torch.quantization.fuser_method_mappings: re-exports torch.ao.quantization.fuser_method_mappings."""
from .. import _stubs
from ..ao.quantization.fuser_method_mappings import *  # noqa: F401,F403

_stubs.hook(__name__)
