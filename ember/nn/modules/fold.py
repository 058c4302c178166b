"""nn.Fold and nn.Unfold: the module forms of F.fold / F.unfold."""
from .. import functional as F
from .utils import _Functional

__all__ = ['Fold', 'Unfold']


class Fold(_Functional, fn=F.fold):
    """Combine sliding local blocks into a large tensor (torch.nn.Fold)."""


class Unfold(_Functional, fn=F.unfold):
    """Extract sliding local blocks from a batched input tensor (torch.nn.Unfold)."""
