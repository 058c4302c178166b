"""ember.signal.windows (torch.signal.windows): SciPy's window functions, computed as torch
computes them."""
from .windows import (bartlett, blackman, cosine, exponential, gaussian, general_cosine,
                      general_hamming, hamming, hann, kaiser, nuttall)

__all__ = ['bartlett', 'blackman', 'cosine', 'exponential', 'gaussian', 'general_cosine',
           'general_hamming', 'hamming', 'hann', 'kaiser', 'nuttall']

from ..._stubs import hook as _hook  # noqa: E402
_hook(__name__)
