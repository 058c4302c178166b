"""Padding layers (torch.nn.modules.padding): Zero, Constant, Reflection, Replication and
Circular padding of the last 1, 2 or 3 dimensions."""
from ..._ops import sampling as F
from .module import Module
from .utils import _class_constants, _ntuple

__all__ = ['CircularPad1d', 'ReflectionPad1d', 'ReplicationPad1d', 'ConstantPad1d', 'ZeroPad1d',
           'CircularPad2d', 'ReflectionPad2d', 'ReplicationPad2d', 'ConstantPad2d',
           'ZeroPad2d', 'CircularPad3d', 'ReflectionPad3d', 'ReplicationPad3d',
           'ConstantPad3d', 'ZeroPad3d']


class _PadNd(Module):
    """What the padding layers share; a layer names its kind's base and its `nd`, the number
    of trailing dimensions it pads: `class ReflectionPad2d(_ReflectionPadNd, nd=2)`."""
    __constants__ = ['padding']
    __init_subclass__ = _class_constants
    _mode = None
    _nd = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(2 * self._nd)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f'{self.padding}'


class _ConstantPadNd(_PadNd):
    __constants__ = ['padding', 'value']
    _mode = 'constant'

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, 'constant', self.value)

    def extra_repr(self):
        return f'padding={self.padding}, value={self.value}'


class _ZeroPad:
    """ZeroPad1d/2d/3d: their ConstantPad with the value 0, printing only the padding."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class _CircularPadNd(_PadNd):
    _mode = 'circular'

    def _check_input_dim(self, input):
        n = self._nd
        if input.dim() not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        return F.pad(input, self.padding, 'circular')


class _ReflectionPadNd(_PadNd):
    _mode = 'reflect'


class _ReplicationPadNd(_PadNd):
    _mode = 'replicate'


class CircularPad1d(_CircularPadNd, nd=1):
    """Pad the last dimension by wrapping around (circular padding)."""


class CircularPad2d(_CircularPadNd, nd=2):
    """Pad the last 2 dimensions by wrapping around (circular padding)."""


class CircularPad3d(_CircularPadNd, nd=3):
    """Pad the last 3 dimensions by wrapping around (circular padding)."""


class ReflectionPad1d(_ReflectionPadNd, nd=1):
    """Pad the last dimension by reflecting the input at its border."""


class ReflectionPad2d(_ReflectionPadNd, nd=2):
    """Pad the last 2 dimensions by reflecting the input at its border."""


class ReflectionPad3d(_ReflectionPadNd, nd=3):
    """Pad the last 3 dimensions by reflecting the input at its border."""


class ReplicationPad1d(_ReplicationPadNd, nd=1):
    """Pad the last dimension by repeating the border values."""


class ReplicationPad2d(_ReplicationPadNd, nd=2):
    """Pad the last 2 dimensions by repeating the border values."""


class ReplicationPad3d(_ReplicationPadNd, nd=3):
    """Pad the last 3 dimensions by repeating the border values."""


class ConstantPad1d(_ConstantPadNd, nd=1):
    """Pad the last dimension with a constant value."""


class ConstantPad2d(_ConstantPadNd, nd=2):
    """Pad the last 2 dimensions with a constant value."""


class ConstantPad3d(_ConstantPadNd, nd=3):
    """Pad the last 3 dimensions with a constant value."""


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dimension with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last 2 dimensions with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last 3 dimensions with zeros."""
