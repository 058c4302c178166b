"""The flag bookkeeping that torch.backends.cudnn and .mkldnn share, and the context manager
behind .mkl and .mkldnn's `verbose`."""
import contextlib


def swap(module_globals, names, values):
    """Set each module-level flag in `names` to its value (None keeps it); return the old ones."""
    orig = tuple(module_globals[n] for n in names)
    for name, value in zip(names, values):
        if value is not None:
            module_globals[name] = value
    return orig


@contextlib.contextmanager
def scoped(set_flags, *values):
    """`with flags(...)`: set the flags, restore them on the way out."""
    orig = set_flags(*values)
    try:
        yield
    finally:
        set_flags(*orig)


class _Verbose:
    """`with verbose(...)`: MKL's and oneDNN's verbose logging; ember has nothing to log."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
