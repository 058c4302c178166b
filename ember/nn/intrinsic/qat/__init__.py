"""torch.nn.intrinsic.qat: the legacy name of torch.ao.nn.intrinsic.qat."""
from .... import _stubs
from ....ao.nn.intrinsic.qat import *  # noqa: F401,F403

_stubs.hook(__name__)
