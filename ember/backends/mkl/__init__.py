"""torch.backends.mkl."""
from .. import _flags

__all__ = ['is_available', 'verbose', 'VERBOSE_OFF', 'VERBOSE_ON']

VERBOSE_OFF, VERBOSE_ON = 0, 1


def is_available():
    return True


class verbose(_flags._Verbose):
    def __init__(self, enable):
        self.enable = enable
