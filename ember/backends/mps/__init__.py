"""torch.backends.mps on a machine without Metal."""
__all__ = ['get_core_count', 'get_name', 'is_built', 'is_available', 'is_macos13_or_newer',
           'is_macos_or_newer']


def is_built():
    return False


def is_available():
    return False


def is_macos_or_newer(major, minor):
    return False


def is_macos13_or_newer(minor=0):
    return False


def get_name():
    # torch's Metal bindings are absent from a build without MPS
    raise AttributeError("module 'torch._C' has no attribute '_mps_get_name'")


def get_core_count():
    raise AttributeError("module 'torch._C' has no attribute '_mps_get_core_count'")
