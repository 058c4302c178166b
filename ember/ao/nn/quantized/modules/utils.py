"""Helpers of the quantized modules (torch.ao.nn.quantized.modules.utils)."""
import numpy as np

from ..... import nn
from ....._dtype import qint8, quint8, qint32, float32, float64, int64
from ....._ops.quantized import (quantize_per_tensor, quantize_per_channel, _like, _QINFO,
                                 per_tensor_affine, per_tensor_symmetric, per_channel_affine,
                                 per_channel_symmetric, per_channel_affine_float_qparams)
from ....._ops.creation import tensor

__all__ = ['WeightedQuantizedModule']


class WeightedQuantizedModule(nn.Module):
    """Base of the quantized modules that can be lowered from reference modules."""

    @classmethod
    def from_reference(cls, ref_module, output_scale, output_zero_point):
        raise NotImplementedError


def _get_weight_observer(observer):
    return getattr(observer, 'activation_post_process', observer)


def _clamp_weights(qweight, observer, scale, zp):
    """Clamp the integers to the observer's range when it is narrower than the dtype's."""
    observer = _get_weight_observer(observer)
    if qweight.dtype not in (qint8, quint8, qint32):
        return qweight
    lo, hi = _QINFO[qweight.dtype][:2]
    qmin, qmax = getattr(observer, 'quant_min', None), getattr(observer, 'quant_max', None)
    if qmin is None or qmax is None or (qmin, qmax) == (lo, hi):
        return qweight
    return _like(qweight, np.clip(qweight._int, qmin, qmax).astype(qweight._int.dtype))


def _quantize_weight(float_wt, observer):
    """The weight quantized with its observer's parameters (per tensor or per channel)."""
    wt_scale, wt_zp = observer.calculate_qparams()
    if observer.qscheme in (per_tensor_symmetric, per_tensor_affine):
        qweight = quantize_per_tensor(float_wt, float(wt_scale), int(wt_zp), qint8)
    elif observer.qscheme in (per_channel_symmetric, per_channel_affine):
        qweight = quantize_per_channel(float_wt, wt_scale.to(float64), wt_zp.to(int64),
                                       observer.ch_axis, qint8)
    elif observer.qscheme is per_channel_affine_float_qparams:
        qweight = quantize_per_channel(float_wt, wt_scale.to(float32), wt_zp.to(float32),
                                       observer.ch_axis, observer.dtype)
    else:
        raise ValueError("Unexpected qscheme " + str(observer.qscheme))
    return _clamp_weights(qweight, observer, wt_scale, wt_zp)


def _hide_packed_params_repr(self, params):
    """nn.Module's repr without the packed-parameters child."""
    extra = self.extra_repr()  # (it reads the packed parameters: before they are hidden)
    modules = self.__dict__['_modules']
    self.__dict__['_modules'] = {k: m for k, m in modules.items() if not isinstance(m, params)}
    self.__dict__['extra_repr'] = lambda: extra
    try:
        return nn.Module.__repr__(self)
    finally:
        self.__dict__['_modules'] = modules
        del self.__dict__['extra_repr']


def _save_scale_zero_point(self, destination, prefix):
    destination[prefix + 'scale'] = tensor(self.scale)
    destination[prefix + 'zero_point'] = tensor(self.zero_point)


def _load_scale_zero_point(self, state_dict, prefix):
    self.scale = float(state_dict.pop(prefix + 'scale'))
    self.zero_point = int(state_dict.pop(prefix + 'zero_point'))


class _OutputQParams:
    """A module whose output scale and zero point (numbers) are saved as tensors."""

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        _save_scale_zero_point(self, destination, prefix)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        _load_scale_zero_point(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs)
