"""Activation layers (torch.nn.modules.activation), thin wrappers over nn.functional."""
import warnings

from ... import _tensor
from ..._ops import activation as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import _class_constants, _Functional
from ..._ops.creation import empty

__all__ = ['Threshold', 'ReLU', 'RReLU', 'Hardtanh', 'ReLU6', 'Sigmoid', 'Hardsigmoid', 'Tanh',
           'SiLU', 'Mish', 'Hardswish', 'ELU', 'CELU', 'SELU', 'GLU', 'GELU', 'Hardshrink',
           'LeakyReLU', 'LogSigmoid', 'Softplus', 'Softshrink', 'PReLU', 'Softsign',
           'Tanhshrink', 'Softmin', 'Softmax', 'Softmax2d', 'LogSoftmax']


def _inplace_str(inplace):
    return ', inplace=True' if inplace else ''


class Threshold(_Functional, fn=F.threshold):
    """y = x if x > threshold else value."""


class _Activation(Module):
    """An activation calling one functional, named in its class statement:
    `class Tanh(_Activation, fn=F.tanh)`."""

    __init_subclass__ = _class_constants
    _fn = None

    def forward(self, input):
        return self._fn(input)


class _InplaceOnly(_Activation):
    """An activation whose only argument is `inplace`."""

    __constants__ = ['inplace']

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return self._fn(input, inplace=self.inplace)

    def extra_repr(self):
        return 'inplace=True' if self.inplace else ''


class ReLU(_InplaceOnly, fn=F.relu):
    """max(x, 0)."""


class SELU(_InplaceOnly, fn=F.selu):
    """Scaled ELU with the self-normalising constants."""


class SiLU(_InplaceOnly, fn=F.silu):
    """x * sigmoid(x)."""


class Mish(_InplaceOnly, fn=F.mish):
    """x * tanh(softplus(x))."""


class Hardswish(_InplaceOnly, fn=F.hardswish):
    """x * relu6(x + 3) / 6."""

    def extra_repr(self):
        return ''


class Hardsigmoid(_InplaceOnly, fn=F.hardsigmoid):
    """relu6(x + 3) / 6."""

    def extra_repr(self):
        return ''


class RReLU(Module):
    """Randomised leaky ReLU: random negative slopes in training, their mean in eval."""

    __constants__ = ['lower', 'upper', 'inplace']

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f'lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}'


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    __constants__ = ['min_val', 'max_val', 'inplace']

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f"max_val ({self.max_val}) must be greater than min_val "
                                 f"({self.min_val})")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f'min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}'


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return 'inplace=True' if self.inplace else ''


class Sigmoid(_Activation, fn=F.sigmoid):
    """1 / (1 + exp(-x))."""


class Tanh(_Activation, fn=F.tanh):
    """tanh(x)."""


class _AlphaInplace(_Activation):
    """ELU and CELU (unrelated classes in torch): `alpha` and `inplace`."""

    __constants__ = ['alpha', 'inplace']

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return self._fn(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f'alpha={self.alpha}{_inplace_str(self.inplace)}'


class ELU(_AlphaInplace, fn=F.elu):
    """x if x > 0 else alpha * (exp(x) - 1)."""


class CELU(_AlphaInplace, fn=F.celu):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""


class GLU(_Functional, fn=F.glu):
    """a * sigmoid(b) for the two halves a, b of the input along `dim`."""


class GELU(Module):
    """x * Phi(x), exact ('none') or with the tanh approximation."""

    __constants__ = ['approximate']

    def __init__(self, approximate='none'):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f'approximate={self.approximate!r}'


class _Shrink(_Activation):
    """Hardshrink and Softshrink (unrelated classes in torch): `lambd`."""

    __constants__ = ['lambd']

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return self._fn(input, self.lambd)

    def extra_repr(self):
        return f'{self.lambd}'


class Hardshrink(_Shrink, fn=F.hardshrink):
    """x where |x| > lambd, else 0."""


class Softshrink(_Shrink, fn=F.softshrink):
    """Shrink x towards 0 by lambd (0 inside [-lambd, lambd])."""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    __constants__ = ['inplace', 'negative_slope']

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f'negative_slope={self.negative_slope}{_inplace_str(self.inplace)}'


class LogSigmoid(_Activation, fn=F.logsigmoid):
    """log(sigmoid(x))."""


class Softplus(_Functional, fn=F.softplus):
    """log(1 + exp(beta * x)) / beta."""


class PReLU(Module):
    """Leaky ReLU with a learnt slope (one, or one per channel)."""

    __constants__ = ['num_parameters']

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        _tensor._check_device(device)
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f'num_parameters={self.num_parameters}'


class Softsign(_Activation, fn=F.softsign):
    """x / (1 + |x|)."""


class Tanhshrink(_Activation, fn=F.tanhshrink):
    """x - tanh(x)."""


class _SoftmaxBase(_Activation):
    __constants__ = ['dim']

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, 'dim'):
            self.dim = None

    def forward(self, input):
        return self._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f'dim={self.dim}'


class Softmin(_SoftmaxBase, fn=F.softmin):
    """softmax(-x) along dim."""


class Softmax(_SoftmaxBase, fn=F.softmax):
    """exp(x) / sum(exp(x)) along dim."""


class LogSoftmax(_SoftmaxBase, fn=F.log_softmax):
    """log(softmax(x)) along dim."""


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) inputs."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             "instead")
        return F.softmax(input, -3, _stacklevel=5)
