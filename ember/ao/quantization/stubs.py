"""QuantStub, DeQuantStub and QuantWrapper: where a model's tensors enter and leave the
quantized domain (torch.ao.quantization.stubs)."""
from ... import nn

__all__ = ['QuantStub', 'DeQuantStub', 'QuantWrapper']


class _Stub(nn.Module):
    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class QuantStub(_Stub):
    """An identity before calibration; convert swaps it for a quantize module."""


class DeQuantStub(_Stub):
    """An identity before calibration; convert swaps it for a dequantize module."""


class QuantWrapper(nn.Module):
    """Wraps a module between a QuantStub and a DeQuantStub."""

    def __init__(self, module):
        super().__init__()
        qconfig = getattr(module, 'qconfig', None)
        self.add_module('quant', QuantStub(qconfig))
        self.add_module('dequant', DeQuantStub(qconfig))
        self.add_module('module', module)
        self.train(module.training)

    def forward(self, X):
        return self.dequant(self.module(self.quant(X)))
