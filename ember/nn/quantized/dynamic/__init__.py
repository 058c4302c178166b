"""torch.nn.quantized.dynamic: the legacy name of torch.ao.nn.quantized.dynamic."""
from .... import _stubs
from ....ao.nn.quantized.dynamic import *  # noqa: F401,F403

_stubs.hook(__name__)
