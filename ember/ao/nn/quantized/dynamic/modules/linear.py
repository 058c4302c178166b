"""Dynamically quantized Linear (torch.ao.nn.quantized.dynamic.modules.linear): float in and
out, the input quantized from its own range at each call, int8 weights."""
from ...... import nn
from ......_dtype import qint8, float16
from ......_ops.quantized import _dynamic_linear
from ...modules import linear as nnq_linear
from ...modules.utils import _quantize_weight

__all__ = ['Linear']


class Linear(nnq_linear.Linear):
    """A Linear whose weight is int8 and whose input is quantized per call."""
    _version = 4

    def __init__(self, in_features, out_features, bias_=True, dtype=qint8):
        super().__init__(in_features, out_features, bias_, dtype=dtype)
        self.version = 4

    def forward(self, x):
        w, b = self._weight_bias()
        if self._packed_params.dtype is qint8:
            return _dynamic_linear(x, w, b, reduce_range=True)
        if self._packed_params.dtype is float16:
            return nn.functional.linear(x, w, b)
        raise RuntimeError("Unsupported dtype on dynamic quantized linear!")

    def _get_name(self):
        return 'DynamicQuantizedLinear'

    def extra_repr(self):
        s = (f"in_features={self.in_features}, out_features={self.out_features}, "
             f"dtype={self._packed_params.dtype}")
        if self._packed_params.dtype is qint8:
            s += f", qscheme={self.weight().qscheme()}"
        return s

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        self.version = local_metadata.get('version', None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        float_modules = (nn.Linear, nn.modules.linear.NonDynamicallyQuantizableLinear)
        if type(mod) not in float_modules and type(mod).__name__ != 'LinearReLU':
            raise AssertionError("nn.quantized.dynamic.Linear.from_float only works for one "
                                 "of " + str([float_mod.__name__ for float_mod in
                                              float_modules]))
        if not hasattr(mod, 'qconfig'):
            raise AssertionError("Input float module must have qconfig defined")
        if isinstance(mod, nn.Sequential):
            mod = mod[0]
        if mod.qconfig is None or mod.qconfig.weight is None:
            raise AssertionError("ember's dynamic Linear needs a qconfig with a weight "
                                 "observer (quantize_dynamic gives one)")
        weight_observer = mod.qconfig.weight()
        dtype = weight_observer.dtype
        if dtype not in (qint8, float16):
            raise AssertionError("The only supported dtypes for dynamic quantized linear are "
                                 f"qint8 and float16 got: {dtype}")
        weight_observer(mod.weight)
        if dtype is qint8:
            qweight = _quantize_weight(mod.weight.float(), weight_observer)
        else:
            qweight = mod.weight.float()
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        qlinear.set_weight_bias(qweight, mod.bias)
        return qlinear

