"""Quantized convolution (torch.ao.nn.quantized.modules.conv): Conv2d on quint8 inputs with a
qint8 weight, computed as fbgemm does."""
import numpy as np

from ..... import nn
from ....._dtype import qint8
from ....._ops.creation import zeros
from ....._ops.quantized import _qt, per_tensor_affine, _quantized_conv2d
from .....nn.modules.utils import _pair
from .....nn.utils.fusion import fuse_conv_bn_weights
from .utils import (_quantize_weight, WeightedQuantizedModule, _save_scale_zero_point,
                    _load_scale_zero_point)

__all__ = ['Conv2d']


class _ConvNd(WeightedQuantizedModule):
    _RELU = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode='zeros', device=None, dtype=None):
        super().__init__()
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != 'zeros':
            raise NotImplementedError("ember's quantized convolutions pad with zeros only")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.transposed = False
        self.output_padding = _pair(0)
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups) + self.kernel_size
        qweight = _qt(np.zeros(shape, np.int8), qint8, per_tensor_affine, 1.0, 0)
        self.set_weight_bias(qweight, zeros(out_channels) if bias else None)
        self.scale = 1.0
        self.zero_point = 0

    def set_weight_bias(self, w, b):
        self._packed_params = (w, b)

    def _weight_bias(self):
        return self._packed_params

    def weight(self):
        return self._packed_params[0]

    def bias(self):
        return self._packed_params[1]

    def extra_repr(self):
        s = ('{in_channels}, {out_channels}, kernel_size={kernel_size}'
             ', stride={stride}, scale={scale}, zero_point={zero_point}')
        if self.padding != (0,) * len(self.padding):
            s += ', padding={padding}'
        if self.dilation != (1,) * len(self.dilation):
            s += ', dilation={dilation}'
        if self.output_padding != (0,) * len(self.output_padding):
            s += ', output_padding={output_padding}'
        if self.groups != 1:
            s += ', groups={groups}'
        if self.bias() is None:
            s += ', bias=False'
        return s.format(**self.__dict__)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        w, b = self._weight_bias()
        destination[prefix + 'weight'] = w
        destination[prefix + 'bias'] = b
        _save_scale_zero_point(self, destination, prefix)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        self.set_weight_bias(state_dict.pop(prefix + 'weight'), state_dict.pop(prefix + 'bias'))
        _load_scale_zero_point(self, state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs)

    @classmethod
    def get_qconv(cls, mod, activation_post_process, weight_post_process=None):
        if weight_post_process is None:
            weight_post_process = mod.qconfig.weight()
        weight_post_process(mod.weight)
        if weight_post_process.dtype is not qint8:
            raise AssertionError("Weight observer must have a dtype of qint8, got "
                                 f"{weight_post_process.dtype}")
        qweight = _quantize_weight(mod.weight.float(), weight_post_process)
        qconv = cls(mod.in_channels, mod.out_channels, mod.kernel_size, mod.stride, mod.padding,
                    mod.dilation, mod.groups, mod.bias is not None, mod.padding_mode)
        qconv.set_weight_bias(qweight, mod.bias)
        if activation_post_process is None or activation_post_process.dtype.is_floating_point:
            return qconv
        act_scale, act_zp = activation_post_process.calculate_qparams()
        qconv.scale = float(act_scale)
        qconv.zero_point = int(act_zp)
        return qconv

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        if hasattr(mod, 'weight_fake_quant'):
            if hasattr(mod, 'bn'):  # a QAT Conv+BN: fold the statistics into the weight
                mod.weight, mod.bias = fuse_conv_bn_weights(
                    mod.weight, mod.bias, mod.bn.running_mean, mod.bn.running_var, mod.bn.eps,
                    mod.bn.weight, mod.bn.bias)
            if not hasattr(mod, 'activation_post_process'):
                raise AssertionError("Input QAT module must have observer attached")
            return cls.get_qconv(mod, mod.activation_post_process, mod.weight_fake_quant)
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f"nnq.{cls.__name__}.from_float only works for "
                                 f"{cls._FLOAT_MODULE.__name__} but got: {type(mod).__name__}")
        if not hasattr(mod, 'qconfig'):
            raise AssertionError("Input float module must have qconfig defined.")
        act = getattr(mod, 'activation_post_process', None)
        if isinstance(mod, nn.Sequential):  # fused: Conv(+BN)(+ReLU)
            if len(mod) > 1 and isinstance(mod[1], nn.modules.batchnorm._BatchNorm):
                conv, bn = mod[0], mod[1]
                conv.weight, conv.bias = fuse_conv_bn_weights(
                    conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
                    bn.bias)
            mod = mod[0]
        return cls.get_qconv(mod, act)

    @classmethod
    def from_reference(cls, ref_qconv, output_scale, output_zero_point):
        qconv = cls(ref_qconv.in_channels, ref_qconv.out_channels, ref_qconv.kernel_size,
                    ref_qconv.stride, ref_qconv.padding, ref_qconv.dilation, ref_qconv.groups,
                    ref_qconv.bias is not None, ref_qconv.padding_mode)
        qconv.set_weight_bias(ref_qconv.get_quantized_weight(), ref_qconv.bias)
        qconv.scale = float(output_scale)
        qconv.zero_point = int(output_zero_point)
        return qconv


class Conv2d(_ConvNd):
    """A 2-D convolution on quantized tensors."""
    _FLOAT_MODULE = nn.Conv2d

    def _get_name(self):
        return 'Quantized' + type(self).__name__     # and the fused ...ReLU forms

    def forward(self, input):
        if input.ndim != 4:
            raise ValueError("Input shape must be `(N, C, H, W)`!")
        w, b = self._weight_bias()
        return _quantized_conv2d(input, w, None if b is None else b._data, self.stride,
                                 self.padding, self.dilation, self.groups, self.scale,
                                 self.zero_point, relu=self._RELU)
