"""torch.nn.quantized: the legacy name of torch.ao.nn.quantized."""
from ... import _stubs
from ...ao.nn.quantized import *  # noqa: F401,F403
from . import dynamic  # noqa: F401

_stubs.hook(__name__)
