"""torch.backends.mkl."""
__all__ = ['is_available', 'verbose', 'VERBOSE_OFF', 'VERBOSE_ON']

VERBOSE_OFF, VERBOSE_ON = 0, 1


def is_available():
    return True


class verbose:
    def __init__(self, enable):
        self.enable = enable

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
