"""QAT Conv2d + ReLU (torch.ao.nn.intrinsic.qat.modules.conv_fused)."""
from ....qat.modules import conv as nnqat_conv
from ...modules import fused as nni

__all__ = ['ConvReLU2d']


class ConvReLU2d(nnqat_conv.Conv2d, nni._FusedModule):
    """The fused Conv2d + ReLU with a fake-quantized weight."""
    _FLOAT_MODULE = nni.ConvReLU2d

    def forward(self, input):
        return super().forward(input).relu()
