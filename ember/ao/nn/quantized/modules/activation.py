"""Quantized activations (torch.ao.nn.quantized.modules.activation)."""
from ..... import nn
from ....._ops.quantized import _quantize_array, _like

__all__ = ['ReLU6']


class ReLU6(nn.ReLU):
    """min(max(x, 0), 6) on a quantized tensor, with its parameters."""

    def __init__(self, inplace=False):
        super().__init__(inplace)
        self.inplace = inplace

    def forward(self, input):
        six = _quantize_array(6.0, input._scale, input._zp, input._qd)
        zp = input._int.dtype.type(input._zp)
        return _like(input, input._int.clip(zp, six).astype(input._int.dtype))

    def _get_name(self):
        return 'QuantizedReLU6'

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return ReLU6(mod.inplace)
