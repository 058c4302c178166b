"""QAT Linear (torch.ao.nn.qat.modules.linear): its weight passes through fake quantization."""
from ..... import nn
from .....nn import functional as F

__all__ = ['Linear']


def _qat_from_float(cls, mod, make):
    """The QAT module of float `mod` (or of a fused one: its first part): `make(float_mod,
    qconfig)` builds it; weight and bias are the float module's own parameters."""
    if type(mod) is not cls._FLOAT_MODULE:
        raise AssertionError(" qat." + cls.__name__ + ".from_float only works for " +
                             cls._FLOAT_MODULE.__name__)
    if not hasattr(mod, 'qconfig'):
        raise AssertionError("Input float module must have qconfig defined")
    if not mod.qconfig:
        raise AssertionError("Input float module must have a valid qconfig")
    qconfig = mod.qconfig
    if isinstance(mod, nn.Sequential):
        mod = mod[0]
    qat = make(mod, qconfig)
    qat.weight = mod.weight
    qat.bias = mod.bias
    return qat


def _attach_qconfig(qat, qconfig):
    """Give a QAT module its qconfig and the weight's fake quantizer built from it."""
    if not qconfig:
        raise AssertionError("qconfig must be provided for QAT module")
    qat.qconfig = qconfig
    qat.weight_fake_quant = qconfig.weight()


def _copy_params(qat, float_mod):
    """Give the float module made by to_float detached copies of the QAT module's parameters."""
    float_mod.weight = nn.Parameter(qat.weight.detach())
    if qat.bias is not None:
        float_mod.bias = nn.Parameter(qat.bias.detach())


class Linear(nn.Linear):
    """A Linear whose weight is fake-quantized by qconfig.weight() in forward."""
    _FLOAT_MODULE = nn.Linear

    def __init__(self, in_features, out_features, bias=True, qconfig=None, device=None,
                 dtype=None):
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        _attach_qconfig(self, qconfig)

    def forward(self, input):
        return F.linear(input, self.weight_fake_quant(self.weight), self.bias)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return _qat_from_float(cls, mod, lambda m, q: cls(m.in_features, m.out_features,
                                                          bias=m.bias is not None, qconfig=q))

    def to_float(self):
        linear = nn.Linear(self.in_features, self.out_features, self.bias is not None)
        _copy_params(self, linear)
        linear.train(self.training)
        return linear
