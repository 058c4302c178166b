"""Convolution layers (torch.nn.modules.conv): Conv1d/2d/3d, ConvTranspose1d/2d/3d and their
lazy forms. The math is in ember/_ops/conv.py."""
import math

from ..._ops import conv as _F
from .. import init
from .lazy import LazyModuleMixin
from .module import Module
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .utils import _class_constants, _lazy_weight_and_bias, _ntuple, _weight_and_bias

__all__ = ['Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d',
           'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d',
           'LazyConvTranspose2d', 'LazyConvTranspose3d']

_PADDING_MODES = ('zeros', 'reflect', 'replicate', 'circular')


class _ConvNd(Module):
    """What Conv and ConvTranspose share: arguments, parameters, init and repr. A layer names
    its number of spatial dimensions and its functional: `class Conv2d(_Conv, nd=2,
    fn=F.conv2d)`."""

    __constants__ = ['stride', 'padding', 'dilation', 'groups', 'padding_mode',
                     'output_padding', 'in_channels', 'out_channels', 'kernel_size']
    __init_subclass__ = _class_constants
    _nd = 0
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError('groups must be a positive integer')
        if in_channels % groups != 0:
            raise ValueError('in_channels must be divisible by groups')
        if out_channels % groups != 0:
            raise ValueError('out_channels must be divisible by groups')
        if isinstance(padding, str):
            if padding not in ('same', 'valid'):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == 'same' and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            # a set, printed as torch prints its own (same order within one process)
            valid = {'zeros', 'reflect', 'replicate', 'circular'}
            raise ValueError(f"padding_mode must be one of {valid}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad wants the last dim first, each side twice
        if isinstance(padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * len(kernel_size)
            if padding == 'same':
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    left = total // 2
                    self._reversed_padding_repeated_twice[2 * i] = left
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding) for _ in (0, 1)]
        if transposed:
            shape = (in_channels, out_channels // groups) + tuple(kernel_size)
        else:
            shape = (out_channels, in_channels // groups) + tuple(kernel_size)
        _weight_and_bias(self, shape, out_channels, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        # torch's order of draws: all of weight, then all of bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = (f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, '
             f'stride={self.stride}')
        if self.padding != (0,) * len(self.padding):
            s += f', padding={self.padding}'
        if self.dilation != (1,) * len(self.dilation):
            s += f', dilation={self.dilation}'
        if self.output_padding != (0,) * len(self.output_padding):
            s += f', output_padding={self.output_padding}'
        if self.groups != 1:
            s += f', groups={self.groups}'
        if self.bias is None:
            s += ', bias=False'
        if self.padding_mode != 'zeros':
            s += f', padding_mode={self.padding_mode}'
        return s

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, 'padding_mode'):
            self.padding_mode = 'zeros'


def _conv_args(n, kernel_size, stride, padding, dilation):
    padding = padding if isinstance(padding, str) else _ntuple(n)(padding)
    return _ntuple(n)(kernel_size), _ntuple(n)(stride), padding, _ntuple(n)(dilation)


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode='zeros', device=None, dtype=None):
        k, s, p, d = _conv_args(self._nd, kernel_size, stride, padding, dilation)
        super().__init__(in_channels, out_channels, k, s, p, d, False, (0,) * self._nd, groups,
                         bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = self._fn
        if self.padding_mode != 'zeros':
            return fn(F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode),
                      weight, bias, self.stride, (0,) * self._nd, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv, nd=1, fn=_F.conv1d):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out)."""


class Conv2d(_Conv, nd=2, fn=_F.conv2d):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""


class Conv3d(_Conv, nd=3, fn=_F.conv3d):
    """3-D convolution over (N, C_in, D, H, W)."""


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros',
                 device=None, dtype=None):
        if padding_mode != 'zeros':
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{self.__class__.__name__}')
        n = self._nd
        k, s, p, d = _conv_args(n, kernel_size, stride, padding, dilation)
        super().__init__(in_channels, out_channels, k, s, p, d, True, _ntuple(n)(output_padding),
                         groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size,
                        num_spatial_dims, dilation=None):
        if output_size is None:
            return _ntuple(num_spatial_dims)(self.output_padding)
        has_batch = input.dim() == num_spatial_dims + 2
        non_spatial = 2 if has_batch else 1
        output_size = list(output_size)
        if len(output_size) == non_spatial + num_spatial_dims:
            output_size = output_size[non_spatial:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f'ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, '
                             f'output_size must have {num_spatial_dims} or '
                             f'{non_spatial + num_spatial_dims} elements (got {len(output_size)})')
        mins, maxs = [], []
        for i in range(num_spatial_dims):
            size = ((input.shape[i + non_spatial] - 1) * stride[i] - 2 * padding[i] +
                    (dilation[i] if dilation is not None else 1) * (kernel_size[i] - 1) + 1)
            mins.append(size)
            maxs.append(size + stride[i] - 1)
        for i, size in enumerate(output_size):
            if size < mins[i] or size > maxs[i]:
                raise ValueError(f'requested an output size of {output_size}, but valid sizes '
                                 f'range from {mins} to {maxs} (for an input of '
                                 f'{input.shape[non_spatial:]})')
        return tuple(output_size[i] - mins[i] for i in range(num_spatial_dims))

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, self._nd, self.dilation)
        return self._fn(input, self.weight, self.bias, self.stride, self.padding,
                        output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd, nd=1, fn=_F.conv_transpose1d):
    """1-D transposed convolution (the gradient of Conv1d w.r.t. its input)."""


class ConvTranspose2d(_ConvTransposeNd, nd=2, fn=_F.conv_transpose2d):
    """2-D transposed convolution (the gradient of Conv2d w.r.t. its input)."""


class ConvTranspose3d(_ConvTransposeNd, nd=3, fn=_F.conv_transpose3d):
    """3-D transposed convolution (the gradient of Conv3d w.r.t. its input)."""


# ---- lazy forms -------------------------------------------------------------------------------

class _LazyConvXdMixin(LazyModuleMixin):
    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input):
        n = self._nd
        if input.dim() not in (n + 1, n + 2):
            raise RuntimeError(f'Expected {n + 1}D (unbatched) or {n + 2}D (batch mode) input to '
                               f'{self.__class__.__name__}, but got input of size: {input.shape}')
        return input.shape[1] if input.dim() == n + 2 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError('in_channels must be divisible by groups')
            with no_grad():
                if self.transposed:
                    self.weight.materialize((self.in_channels, self.out_channels // self.groups)
                                            + tuple(self.kernel_size))
                else:
                    self.weight.materialize((self.out_channels, self.in_channels // self.groups)
                                            + tuple(self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()


def _lazy_class(name, base, __init__):
    """The lazy form of `base`: built with in_channels 0 by `__init__` (which takes base's
    arguments less in_channels), it becomes `base` on the first input."""
    __init__.__qualname__ = f'{name}.__init__'
    return type(name, (_LazyConvXdMixin, base),
                {'__init__': __init__, 'cls_to_become': base, '__module__': __name__,
                 '__doc__': f'A {base.__name__} whose in_channels is inferred from the first '
                            'input.'})


def _lazy_conv(name, base):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode='zeros', device=None, dtype=None):
        # through LazyModuleMixin.__init__, which installs the initialising hooks
        _LazyConvXdMixin.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups,
                                  False, padding_mode)
        _lazy_weight_and_bias(self, bias, device, dtype)
        self.out_channels = out_channels
    return _lazy_class(name, base, __init__)


def _lazy_conv_transpose(name, base):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode='zeros', device=None,
                 dtype=None):
        _LazyConvXdMixin.__init__(self, 0, 0, kernel_size, stride, padding, output_padding,
                                  groups, False, dilation, padding_mode)
        _lazy_weight_and_bias(self, bias, device, dtype)
        self.out_channels = out_channels
    return _lazy_class(name, base, __init__)


LazyConv1d = _lazy_conv('LazyConv1d', Conv1d)
LazyConv2d = _lazy_conv('LazyConv2d', Conv2d)
LazyConv3d = _lazy_conv('LazyConv3d', Conv3d)
LazyConvTranspose1d = _lazy_conv_transpose('LazyConvTranspose1d', ConvTranspose1d)
LazyConvTranspose2d = _lazy_conv_transpose('LazyConvTranspose2d', ConvTranspose2d)
LazyConvTranspose3d = _lazy_conv_transpose('LazyConvTranspose3d', ConvTranspose3d)
