"""torch.nn.intrinsic.quantized: the legacy name of torch.ao.nn.intrinsic.quantized."""
from .... import _stubs
from ....ao.nn.intrinsic.quantized import *  # noqa: F401,F403

_stubs.hook(__name__)
