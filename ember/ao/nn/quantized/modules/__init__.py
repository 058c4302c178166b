"""torch.ao.nn.quantized.modules: Quantize/DeQuantize and the quantized layers."""
from ..... import nn
from ....._ops.creation import tensor
from ....._dtype import int64
from ....._ops.quantized import quantize_per_tensor
from .activation import ReLU6
from .conv import Conv2d
from .functional_modules import FloatFunctional, FXFloatFunctional, QFunctional
from .linear import Linear, LinearPackedParams
from . import activation, conv, functional_modules, linear, utils  # noqa: F401

__all__ = ['Conv2d', 'DeQuantize', 'FloatFunctional', 'FXFloatFunctional', 'Linear',
           'LinearPackedParams', 'QFunctional', 'Quantize', 'ReLU6']


class Quantize(nn.Module):
    """Quantizes its input with a fixed scale and zero point (what QuantStub becomes)."""

    def __init__(self, scale, zero_point, dtype, factory_kwargs=None):
        super().__init__()
        self.register_buffer('scale', tensor([scale]))
        self.register_buffer('zero_point', tensor([zero_point], dtype=int64))
        self.dtype = dtype

    def forward(self, X):
        return quantize_per_tensor(X, float(self.scale), int(self.zero_point), self.dtype)

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        if not hasattr(mod, 'activation_post_process'):
            raise AssertionError(f"Module {type(mod).__name__} must have "
                                 "activation_post_process attribute")
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return Quantize(scale.float().item(), zero_point.long().item(),
                        mod.activation_post_process.dtype)

    def extra_repr(self):
        return f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}"


class DeQuantize(nn.Module):
    """Dequantizes its input (what DeQuantStub becomes)."""

    def forward(self, Xq):
        return Xq.dequantize()

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return DeQuantize()
