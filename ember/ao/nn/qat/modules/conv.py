"""QAT Conv2d (torch.ao.nn.qat.modules.conv): its weight passes through fake quantization."""
from ..... import nn
from .linear import _attach_qconfig, _copy_params, _qat_from_float

__all__ = ['Conv2d']


class Conv2d(nn.Conv2d):
    """A Conv2d whose weight is fake-quantized by qconfig.weight() in forward."""
    _FLOAT_MODULE = nn.Conv2d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode='zeros', qconfig=None, device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride,
                         padding=padding, dilation=dilation, groups=groups, bias=bias,
                         padding_mode=padding_mode, device=device, dtype=dtype)
        _attach_qconfig(self, qconfig)

    def forward(self, input):
        return self._conv_forward(input, self.weight_fake_quant(self.weight), self.bias)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return _qat_from_float(cls, mod, lambda m, q: cls(
            m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
            dilation=m.dilation, groups=m.groups, bias=m.bias is not None,
            padding_mode=m.padding_mode, qconfig=q))

    def to_float(self):
        conv = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, self.stride,
                         self.padding, self.dilation, self.groups, self.bias is not None,
                         self.padding_mode)
        _copy_params(self, conv)
        return conv
