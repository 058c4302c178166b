"""torch.accelerator.graphs: capture and replay of accelerator work (needs an accelerator)."""
from . import _none

__all__ = ['Graph']


class Graph:
    """A captured sequence of accelerator operations; making one needs an accelerator."""

    def __new__(cls, keep_graph=False, *, pool=None, capture_error_mode='default'):
        _none()
