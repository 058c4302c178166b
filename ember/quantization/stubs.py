"""torch.quantization.stubs: re-exports torch.ao.quantization.stubs."""
from .. import _stubs
from ..ao.quantization.stubs import *  # noqa: F401,F403

_stubs.hook(__name__)
