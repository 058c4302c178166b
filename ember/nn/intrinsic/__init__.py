"""torch.nn.intrinsic: the legacy name of torch.ao.nn.intrinsic."""
from ... import _stubs
from ...ao.nn.intrinsic import *  # noqa: F401,F403
from . import qat, quantized  # noqa: F401

_stubs.hook(__name__)
