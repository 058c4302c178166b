"""FloatFunctional and QFunctional: the arithmetic a model does between layers, observed
before conversion and run on quantized tensors after (torch's functional_modules)."""
import numpy as np

from ..... import nn
from ....._ops.shape import cat
from ....._ops.quantized import _qt, _quantize_array, _dequantize_array, per_tensor_affine, \
    _qcat
from .utils import _OutputQParams

__all__ = ['FloatFunctional', 'FXFloatFunctional', 'QFunctional']


class FloatFunctional(nn.Module):
    """add, cat, mul, ... as modules so that their outputs can be observed."""

    def __init__(self):
        super().__init__()
        self.activation_post_process = nn.Identity()

    def forward(self, x):
        raise RuntimeError("FloatFunctional is not intended to use the 'forward'. Please use "
                           "the underlying operation")

    def _observe(self, r):
        return self.activation_post_process(r)

    def add(self, x, y):
        return self._observe(x + y)

    def add_scalar(self, x, y):
        return x + y  # (not observed: the output has the input's parameters)

    def mul(self, x, y):
        return self._observe(x * y)

    def mul_scalar(self, x, y):
        return x * y

    def cat(self, x, dim=0):
        return self._observe(cat(x, dim))

    def add_relu(self, x, y):
        return self._observe((x + y).relu())

    def matmul(self, x, y):
        return self._observe(x.matmul(y))


class FXFloatFunctional(FloatFunctional):
    """FloatFunctional without observers (FX graph mode)."""

    def _observe(self, r):
        return r


class QFunctional(_OutputQParams, nn.Module):
    """The quantized counterpart of FloatFunctional: results requantized to this module's
    scale and zero point."""

    def __init__(self):
        super().__init__()
        self.scale = 1.0
        self.zero_point = 0
        self.activation_post_process = nn.Identity()

    def _get_name(self):
        return 'QFunctional'

    def extra_repr(self):
        return f"scale={self.scale}, zero_point={self.zero_point}"

    def forward(self, x):
        raise RuntimeError("Functional is not intended to use the 'forward'. Please use the "
                           "underlying operation")

    def _out(self, values, d, relu=False):
        ints = _quantize_array(values, self.scale, self.zero_point, d)
        if relu:
            ints = np.maximum(ints, ints.dtype.type(self.zero_point))
        return _qt(ints, d, per_tensor_affine, float(self.scale), int(self.zero_point))

    def add(self, x, y):
        return self._out(_dequantize_array(x) + _dequantize_array(y), x.dtype)

    def add_relu(self, x, y):
        return self._out(_dequantize_array(x) + _dequantize_array(y), x.dtype, relu=True)

    def mul(self, x, y):
        return self._out(_dequantize_array(x) * _dequantize_array(y), x.dtype)

    def add_scalar(self, x, y):
        return self._out(_dequantize_array(x) + np.float32(y), x.dtype)

    def mul_scalar(self, x, y):
        return self._out(_dequantize_array(x) * np.float32(y), x.dtype)

    def matmul(self, x, y):
        return self._out(_dequantize_array(x) @ _dequantize_array(y), x.dtype)

    def cat(self, x, dim=0):
        out = _qcat(x, dim)
        return self._out(_dequantize_array(out), out.dtype)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        if type(mod) is not FloatFunctional:
            raise AssertionError("QFunctional.from_float expects an instance of "
                                 "FloatFunctional")
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        new_mod = QFunctional()
        new_mod.scale = float(scale)
        new_mod.zero_point = int(zero_point)
        return new_mod
