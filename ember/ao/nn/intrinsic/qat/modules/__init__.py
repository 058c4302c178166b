from .conv_fused import ConvReLU2d
from .linear_relu import LinearReLU
from . import conv_fused, linear_relu  # noqa: F401

__all__ = ['ConvReLU2d', 'LinearReLU']
