"""Dropout layers (torch.nn.modules.dropout): identity in eval mode."""
from ..._ops import dropout as F
from .module import Module
from .utils import _class_constants

__all__ = ['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout',
           'FeatureAlphaDropout']


class _DropoutNd(Module):
    """The dropout layers: `p` and `inplace`, and the functional named in the class statement."""

    __constants__ = ['p', 'inplace']
    __init_subclass__ = _class_constants
    _fn = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return self._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f'p={self.p}, inplace={self.inplace}'


class Dropout(_DropoutNd, fn=F.dropout):
    """Zero elements with probability p while training, scaling the rest by 1/(1-p)."""


class Dropout1d(_DropoutNd, fn=F.dropout1d):
    """Zero whole channels of (N, C, L) / (C, L) inputs."""


class Dropout2d(_DropoutNd, fn=F.dropout2d):
    """Zero whole channels of (N, C, H, W) inputs."""


class Dropout3d(_DropoutNd, fn=F.dropout3d):
    """Zero whole channels of (N, C, D, H, W) / (C, D, H, W) inputs."""


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's zero mean and unit variance."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """AlphaDropout of whole channels."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
