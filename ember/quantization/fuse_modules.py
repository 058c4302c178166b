"""torch.quantization.fuse_modules: re-exports torch.ao.quantization.fuse_modules."""
from .. import _stubs
from ..ao.quantization.fuse_modules import *  # noqa: F401,F403

_stubs.hook(__name__)
