"""Quantized Conv2d with a fused ReLU (torch.ao.nn.intrinsic.quantized.modules.conv_relu)."""
from ....quantized.modules import conv as nnq_conv
from ...modules import fused as nni

__all__ = ['ConvReLU2d']


class ConvReLU2d(nnq_conv.Conv2d):
    """Conv2d + ReLU in one quantized kernel (the output clamped from its zero point)."""
    _FLOAT_MODULE = nni.ConvReLU2d
    _RELU = True
