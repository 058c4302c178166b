"""Quantized Linear with a fused ReLU (torch.ao.nn.intrinsic.quantized.modules.linear_relu)."""
from ....quantized.modules import linear as nnq_linear
from ...modules import fused as nni

__all__ = ['LinearReLU']


class LinearReLU(nnq_linear.Linear):
    """Linear + ReLU in one quantized kernel."""
    _FLOAT_MODULE = nni.LinearReLU
    _RELU = True
