"""torch.quantization.observer: re-exports torch.ao.quantization.observer."""
from .. import _stubs
from ..ao.quantization.observer import *  # noqa: F401,F403

_stubs.hook(__name__)
