"""torch.nn.qat: the legacy name of torch.ao.nn.qat."""
from ... import _stubs
from ...ao.nn.qat import *  # noqa: F401,F403

_stubs.hook(__name__)
