"""QAT Linear + ReLU (torch.ao.nn.intrinsic.qat.modules.linear_relu)."""
from ...... import nn
from ....qat.modules import linear as nnqat_linear
from ...modules import fused as nni

__all__ = ['LinearReLU']


class LinearReLU(nnqat_linear.Linear, nni._FusedModule):
    """The fused Linear + ReLU with a fake-quantized weight."""
    _FLOAT_MODULE = nni.LinearReLU

    def __init__(self, in_features, out_features, bias=True, qconfig=None):
        super().__init__(in_features, out_features, bias, qconfig)

    def forward(self, input):
        return super().forward(input).relu()

    def to_float(self):
        return nni.LinearReLU(super().to_float(), nn.ReLU())
