"""PixelShuffle, PixelUnshuffle and ChannelShuffle."""
from ..._ops import sampling as F
from .utils import _Functional

__all__ = ['PixelShuffle', 'PixelUnshuffle', 'ChannelShuffle']


class PixelShuffle(_Functional, fn=F.pixel_shuffle):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r)."""


class PixelUnshuffle(_Functional, fn=F.pixel_unshuffle):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W)."""


class ChannelShuffle(_Functional, fn=F.channel_shuffle):
    """Interleave the channels of `groups` groups."""
