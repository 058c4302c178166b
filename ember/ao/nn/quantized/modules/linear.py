"""Quantized Linear (torch.ao.nn.quantized.modules.linear): int8 weights, int32 accumulation,
the output requantized to the module's scale and zero point as fbgemm does."""
import numpy as np

from ..... import nn
from ....._dtype import qint8, float16, float32
from ....._ops.creation import zeros
from ....._ops.quantized import _qt, per_tensor_affine, _quantized_linear
from .....nn.utils.fusion import fuse_linear_bn_weights
from .utils import (_hide_packed_params_repr, _quantize_weight, WeightedQuantizedModule,
                    _OutputQParams)

__all__ = ['LinearPackedParams', 'Linear']


def _empty_qweight(shape):
    return _qt(np.zeros(shape, np.int8), qint8, per_tensor_affine, 1.0, 0)


class LinearPackedParams(nn.Module):
    """Holds a quantized Linear's weight and bias (fbgemm's packed form in torch; saved as the
    (weight, bias) tuple under `_packed_params`)."""
    _version = 3

    def __init__(self, dtype=qint8):
        super().__init__()
        self.dtype = dtype
        if dtype is qint8:
            wq = _empty_qweight((1, 1))
        elif dtype is float16:
            wq = zeros(1, 1)
        else:
            raise RuntimeError("Unsupported dtype on dynamic quantized linear!")
        self.set_weight_bias(wq, None)

    def set_weight_bias(self, weight, bias):
        if self.dtype not in (qint8, float16):
            raise RuntimeError("Unsupported dtype on dynamic quantized linear!")
        if self.dtype is float16:
            weight = weight.to(float16).to(float32)  # fp16 storage, float compute
        self._packed_params = (weight, bias)

    def _weight_bias(self):
        return self._packed_params

    def forward(self, x):
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + 'dtype'] = self.dtype
        destination[prefix + '_packed_params'] = self._weight_bias()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version', None)
        if version is None or version < 2:
            self.dtype = qint8
        else:
            self.dtype = state_dict.pop(prefix + 'dtype')
        if version is None or version < 3:
            self.set_weight_bias(state_dict.pop(prefix + 'weight'),
                                 state_dict.pop(prefix + 'bias'))
        if version == 3:
            weight, bias = state_dict.pop(prefix + '_packed_params')
            self.set_weight_bias(weight, bias)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs)

    def __repr__(self):
        return repr(self._weight_bias())


class Linear(_OutputQParams, WeightedQuantizedModule):
    """A Linear on quantized tensors: quint8 input, qint8 weight, float bias, quint8 output
    with the module's scale and zero point."""
    _version = 3
    _FLOAT_MODULE = (nn.Linear, nn.modules.linear.NonDynamicallyQuantizableLinear)
    _RELU = False

    def __init__(self, in_features, out_features, bias_=True, dtype=qint8):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        bias = zeros(out_features) if bias_ else None
        if dtype is qint8:
            qweight = _empty_qweight((out_features, in_features))
        elif dtype is float16:
            qweight = zeros(out_features, in_features)
        else:
            raise RuntimeError("Unsupported dtype specified for quantized Linear!")
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(qweight, bias)
        self.scale = 1.0
        self.zero_point = 0

    def _get_name(self):
        return 'Quantized' + type(self).__name__     # and the fused ...ReLU forms

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"scale={self.scale}, zero_point={self.zero_point}, "
                f"qscheme={self.weight().qscheme()}")

    def __repr__(self):
        return _hide_packed_params_repr(self, LinearPackedParams)

    def forward(self, x):
        w, b = self._weight_bias()
        return _quantized_linear(x, w, None if b is None else b._data, self.scale,
                                 self.zero_point, relu=self._RELU)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version', None)
        if version is None or version == 1:
            weight = state_dict.pop(prefix + 'weight')
            bias = state_dict.pop(prefix + 'bias')
            state_dict.update({prefix + '_packed_params.weight': weight,
                               prefix + '_packed_params.bias': bias})
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def _weight_bias(self):
        return self._packed_params._weight_bias()

    def weight(self):
        return self._weight_bias()[0]

    def bias(self):
        return self._weight_bias()[1]

    def set_weight_bias(self, w, b):
        self._packed_params.set_weight_bias(w, b)

    @classmethod
    def _float_parts(cls, mod):
        """(the float Linear, its weight observer, the output observer) of a float, fused or
        QAT module."""
        if hasattr(mod, 'weight_fake_quant'):
            if type(mod).__name__ == 'LinearBn1d' and hasattr(mod, 'bn'):
                mod.weight, mod.bias = fuse_linear_bn_weights(
                    mod.weight, mod.bias, mod.bn.running_mean, mod.bn.running_var, mod.bn.eps,
                    mod.bn.weight, mod.bn.bias)
            return mod, mod.weight_fake_quant, mod.activation_post_process
        floats = cls._FLOAT_MODULE if isinstance(cls._FLOAT_MODULE, tuple) else \
            (cls._FLOAT_MODULE,)
        if type(mod) not in floats:
            names = ', '.join(f.__name__ for f in floats)
            raise AssertionError(f"nnq.{cls.__name__}.from_float only works for {names}, but "
                                 f"got: {type(mod)}")
        if not hasattr(mod, 'qconfig'):
            raise AssertionError("Input float module must have qconfig defined")
        act = mod.activation_post_process
        if isinstance(mod, nn.Sequential):  # a fused LinearReLU
            mod = mod[0]
        return mod, mod.qconfig.weight(), act

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        mod, weight_post_process, act = cls._float_parts(mod)
        if not use_precomputed_fake_quant:
            weight_post_process(mod.weight)
        dtype = weight_post_process.dtype
        act_scale, act_zp = act.calculate_qparams()
        if dtype is not qint8:
            raise AssertionError(f"Weight observer must have dtype torch.qint8, got {dtype}")
        qweight = _quantize_weight(mod.weight.float(), weight_post_process)
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        qlinear.set_weight_bias(qweight, mod.bias)
        qlinear.scale = float(act_scale)
        qlinear.zero_point = int(act_zp)
        return qlinear

    @classmethod
    def from_reference(cls, ref_qlinear, output_scale, output_zero_point):
        qlinear = cls(ref_qlinear.in_features, ref_qlinear.out_features)
        qlinear.set_weight_bias(ref_qlinear.get_quantized_weight(), ref_qlinear.bias)
        qlinear.scale = float(output_scale)
        qlinear.zero_point = int(output_zero_point)
        return qlinear


