"""Padding layers (torch.nn.modules.padding): Zero, Constant, Reflection, Replication and
Circular padding of the last 1, 2 or 3 dimensions."""
from ..._ops import sampling as F
from .module import Module
from .utils import _ntuple

__all__ = ['CircularPad1d', 'ReflectionPad1d', 'ReplicationPad1d', 'ConstantPad1d', 'ZeroPad1d',
           'CircularPad2d', 'ReflectionPad2d', 'ReplicationPad2d', 'ConstantPad2d',
           'ZeroPad2d', 'CircularPad3d', 'ReflectionPad3d', 'ReplicationPad3d',
           'ConstantPad3d', 'ZeroPad3d']


class _PadNd(Module):
    __constants__ = ['padding']
    _mode = None
    _n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(2 * self._n)(padding)

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


class _CircularPadNd(_PadNd):
    _mode = 'circular'

    def _check_input_dim(self, input):
        n = self._n
        if input.dim() not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        return F.pad(input, self.padding, 'circular')


class _ReflectionPadNd(_PadNd):
    _mode = 'reflect'


class _ReplicationPadNd(_PadNd):
    _mode = 'replicate'


class CircularPad1d(_CircularPadNd):
    """Pad the last 1 dimension by wrapping around (circular padding)."""
    _n = 1


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last 1 dimension by reflecting the input at its border."""
    _n = 1


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last 1 dimension by repeating the border values."""
    _n = 1


class ConstantPad1d(_ConstantPadNd):
    """Pad the last 1 dimension with a constant value."""
    _n = 1


class ZeroPad1d(ConstantPad1d):
    """Pad the last 1 dimension with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dimensions by wrapping around (circular padding)."""
    _n = 2


class ReflectionPad2d(_ReflectionPadNd):
    """Pad the last 2 dimensions by reflecting the input at its border."""
    _n = 2


class ReplicationPad2d(_ReplicationPadNd):
    """Pad the last 2 dimensions by repeating the border values."""
    _n = 2


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dimensions with a constant value."""
    _n = 2


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dimensions with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dimensions by wrapping around (circular padding)."""
    _n = 3


class ReflectionPad3d(_ReflectionPadNd):
    """Pad the last 3 dimensions by reflecting the input at its border."""
    _n = 3


class ReplicationPad3d(_ReplicationPadNd):
    """Pad the last 3 dimensions by repeating the border values."""
    _n = 3


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dimensions with a constant value."""
    _n = 3


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dimensions with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'
