"""torch.nn.modules.channelshuffle: where torch keeps ChannelShuffle (ember's is in
pixelshuffle.py; its ``__module__`` names torch's place, for pickles and reprs)."""
from .pixelshuffle import ChannelShuffle

__all__ = ['ChannelShuffle']

ChannelShuffle.__module__ = __name__
