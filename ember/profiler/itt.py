"""torch.profiler.itt: Intel ITT annotations (ranges and marks for VTune). ember emits none,
so with no VTune attached these do what torch's do then: nothing visible."""
from contextlib import contextmanager

__all__ = ['is_available', 'range_push', 'range_pop', 'mark', 'range']


def is_available():
    """torch's CPU build has ITT compiled in."""
    return True


def range_push(msg):
    """Open a nested ITT range named `msg`."""


def range_pop():
    """Close the innermost ITT range."""


def mark(msg):
    """An instantaneous ITT event named `msg`."""


@contextmanager
def range(msg, *args, **kwargs):
    """An ITT range around a block; `msg` is formatted with `args`/`kwargs`."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
