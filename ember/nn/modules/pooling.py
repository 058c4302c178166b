"""Pooling layers (torch.nn.modules.pooling). The math is in ember/_ops/pooling.py."""
from ..._ops import fractional_pool as _FP, pooling as _F
from .module import Module
from .utils import _class_constants, _ntuple, _single

__all__ = ['MaxPool1d', 'MaxPool2d', 'MaxPool3d', 'MaxUnpool1d', 'MaxUnpool2d', 'MaxUnpool3d',
           'AvgPool1d', 'AvgPool2d', 'AvgPool3d', 'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d',
           'AdaptiveAvgPool3d', 'AdaptiveMaxPool1d', 'AdaptiveMaxPool2d', 'AdaptiveMaxPool3d',
           'LPPool1d', 'LPPool2d', 'LPPool3d', 'FractionalMaxPool2d', 'FractionalMaxPool3d']


class _PoolNd(Module):
    """What the pooling layers share: a layer names its functional (and, where its family
    needs it, its number of dimensions): `class MaxPool2d(_MaxPoolNd, fn=F.max_pool2d)`."""
    __init_subclass__ = _class_constants
    _fn = None
    _nd = 0


class _MaxPoolNd(_PoolNd):
    __constants__ = ['kernel_size', 'stride', 'padding', 'dilation', 'return_indices',
                     'ceil_mode']

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, '
                f'dilation={self.dilation}, ceil_mode={self.ceil_mode}')

    def forward(self, input):
        return self._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                        ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd, fn=_F.max_pool1d):
    """Max over sliding windows of (N, C, L)."""


class MaxPool2d(_MaxPoolNd, fn=_F.max_pool2d):
    """Max over sliding windows of (N, C, H, W)."""


class MaxPool3d(_MaxPoolNd, fn=_F.max_pool3d):
    """Max over sliding windows of (N, C, D, H, W)."""


class _MaxUnpoolNd(_PoolNd):

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        ntuple = _ntuple(self._nd)
        self.kernel_size = ntuple(kernel_size)
        self.stride = ntuple(stride if stride is not None else kernel_size)
        self.padding = ntuple(padding)

    def extra_repr(self):
        return f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}'

    def forward(self, input, indices, output_size=None):
        return self._fn(input, indices, self.kernel_size, self.stride, self.padding,
                        output_size)


class MaxUnpool1d(_MaxUnpoolNd, nd=1, fn=_F.max_unpool1d):
    """Partial inverse of MaxPool1d: maxima back in place, zeros elsewhere."""


class MaxUnpool2d(_MaxUnpoolNd, nd=2, fn=_F.max_unpool2d):
    """Partial inverse of MaxPool2d: maxima back in place, zeros elsewhere."""


class MaxUnpool3d(_MaxUnpoolNd, nd=3, fn=_F.max_unpool3d):
    """Partial inverse of MaxPool3d: maxima back in place, zeros elsewhere."""


class _AvgPoolNd(_PoolNd):
    __constants__ = ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad']

    def extra_repr(self):
        return f'kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}'


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows of (N, C, L)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return _F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)


class _AvgPoolDivisorNd(_AvgPoolNd):
    """AvgPool2d and AvgPool3d: they also take a divisor_override."""
    __constants__ = ['kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad',
                     'divisor_override']

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return self._fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                        self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPoolDivisorNd, fn=_F.avg_pool2d):
    """Mean over sliding windows of (N, C, H, W)."""


class AvgPool3d(_AvgPoolDivisorNd, fn=_F.avg_pool3d):
    """Mean over sliding windows of (N, C, D, H, W)."""


class _AdaptivePoolNd(_PoolNd):
    """What _AdaptiveAvgPoolNd and _AdaptiveMaxPoolNd share (unrelated classes in torch)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f'output_size={self.output_size}'


class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    __constants__ = ['output_size']

    def forward(self, input):
        return self._fn(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd, fn=_F.adaptive_avg_pool1d):
    """Average pooling to a fixed output length."""


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd, fn=_F.adaptive_avg_pool2d):
    """Average pooling to a fixed output size (None keeps that input dim)."""


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd, fn=_F.adaptive_avg_pool3d):
    """Average pooling to a fixed (D, H, W) output size."""


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    __constants__ = ['output_size', 'return_indices']

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return self._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd, fn=_F.adaptive_max_pool1d):
    """Max pooling to a fixed output length."""


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd, fn=_F.adaptive_max_pool2d):
    """Max pooling to a fixed output size."""


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd, fn=_F.adaptive_max_pool3d):
    """Max pooling to a fixed (D, H, W) output size."""


class _LPPoolNd(_PoolNd):
    __constants__ = ['norm_type', 'kernel_size', 'stride', 'ceil_mode']

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f'norm_type={self.norm_type}, kernel_size={self.kernel_size}, '
                f'stride={self.stride}, ceil_mode={self.ceil_mode}')

    def forward(self, input):
        return self._fn(input, float(self.norm_type), self.kernel_size, self.stride,
                        self.ceil_mode)


class LPPool1d(_LPPoolNd, fn=_F.lp_pool1d):
    """Power-average pooling: (sum of x**p over the window) ** (1/p)."""


class LPPool2d(_LPPoolNd, fn=_F.lp_pool2d):
    """2-D power-average pooling."""


class LPPool3d(_LPPoolNd, fn=_F.lp_pool3d):
    """3-D power-average pooling."""


class _FractionalMaxPoolNd(Module):
    """Fractional max pooling to an output size or ratio; the window starts are drawn anew
    every call unless `_random_samples` (a buffer) fixes them."""

    __constants__ = ['kernel_size', 'return_indices', 'output_size', 'output_ratio']
    __init_subclass__ = _class_constants
    _fn = None
    _nd = 0

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        tup = _ntuple(self._nd)
        self.kernel_size = tup(kernel_size)
        self.return_indices = return_indices
        self.register_buffer('_random_samples', _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{type(self).__name__} requires specifying either an output "
                             f"size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return self._fn(input, self.kernel_size, self.output_size, self.output_ratio,
                        self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd, fn=_FP.fractional_max_pool2d, nd=2):
    """Fractional max pooling over (N, C, H, W) or (C, H, W)."""


class FractionalMaxPool3d(_FractionalMaxPoolNd, fn=_FP.fractional_max_pool3d, nd=3):
    """Fractional max pooling over (N, C, T, H, W) or (C, T, H, W)."""
