"""torch.cuda.streams: Stream, ExternalStream and Event (none can be made without CUDA)."""
from . import Event, Stream, device

__all__ = ['Event', 'ExternalStream', 'Stream']


class ExternalStream(Stream):
    """A stream allocated by another library, wrapped (needs CUDA)."""

    def __new__(cls, stream_ptr, device=None, **kwargs):
        with _device(device):
            return super().__new__(cls, stream_ptr=stream_ptr, **kwargs)


_device = device
