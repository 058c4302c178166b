"""torch.quantization.qconfig: re-exports torch.ao.quantization.qconfig."""
from .. import _stubs
from ..ao.quantization.qconfig import *  # noqa: F401,F403

_stubs.hook(__name__)
