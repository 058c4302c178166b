"""Eager-mode quantization (torch.ao.quantization): observers, fake quantization, QConfigs
and stubs."""
from ... import _stubs
from .fake_quantize import *  # noqa: F401,F403
from .observer import *  # noqa: F401,F403
from .qconfig import *  # noqa: F401,F403
from .quant_type import *  # noqa: F401,F403
from .stubs import *  # noqa: F401,F403
from . import fake_quantize, observer, qconfig, quant_type, stubs, utils  # noqa: F401

__all__ = (fake_quantize.__all__ + observer.__all__ + qconfig.__all__ + quant_type.__all__
           + stubs.__all__ + ['default_eval_fn'])


def default_eval_fn(model, calib_data):
    """Run the model on each (data, target) of calib_data (calibration)."""
    for data, _target in calib_data:
        model(data)


_stubs.hook(__name__)
