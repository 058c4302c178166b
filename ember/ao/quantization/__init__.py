"""Eager-mode quantization (torch.ao.quantization): observers, fake quantization, QConfigs
and stubs."""
from ... import _stubs
from .fake_quantize import *  # noqa: F401,F403
from .observer import *  # noqa: F401,F403
from .qconfig import *  # noqa: F401,F403
from .quant_type import *  # noqa: F401,F403
from .stubs import *  # noqa: F401,F403
from .fuse_modules import fuse_modules, fuse_modules_qat  # noqa: F401
from .fuser_method_mappings import *  # noqa: F401,F403
from .quantization_mappings import *  # noqa: F401,F403
from .quantize import *  # noqa: F401,F403
from .quantize import __all__ as _quantize_all
from . import (fake_quantize, fuser_method_mappings, observer, qconfig, quant_type,  # noqa
               quantization_mappings, stubs, utils)

__all__ = (fake_quantize.__all__ + observer.__all__ + qconfig.__all__ + quant_type.__all__
           + stubs.__all__ + fuser_method_mappings.__all__ + quantization_mappings.__all__
           + _quantize_all + ['default_eval_fn', 'fuse_modules', 'fuse_modules_qat'])


def default_eval_fn(model, calib_data):
    """Run the model on each (data, target) of calib_data (calibration)."""
    for data, _target in calib_data:
        model(data)


_stubs.hook(__name__)
