"""torch.backends.nnpack: reported as torch's x86 CPU wheel reports it (built in, enabled); the
switch is kept (ember's convolutions are NumPy's either way)."""
from .. import _flags

__all__ = ['is_available', 'flags', 'set_flags']

_get, _set = _flags.legacy_flag('nnpack')


def is_available():
    return True


def set_flags(_enabled):
    orig = (_get(),)
    _set(_enabled)
    return orig


def flags(enabled=False):
    """`with torch.backends.nnpack.flags(enabled=...)`: NNPACK's switch for a block."""
    return _flags.scoped(set_flags, enabled)
