"""ember.signal (torch.signal): window functions for spectral analysis and filter design."""
from . import windows

__all__ = ['windows']

from .._stubs import hook as _hook  # noqa: E402
_hook(__name__)
