"""torch.mps.event: MPS events (need the Metal backend)."""
__all__ = ['Event']


class Event:
    """A synchronisation marker on the MPS stream; acquiring one needs the backend."""

    def __init__(self, enable_timing=False):
        raise RuntimeError('Cannot execute acquireEvent() without MPS backend.')
