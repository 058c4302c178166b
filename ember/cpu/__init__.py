"""torch.cpu: the CPU device module (always available; one device)."""
import contextlib

from . import amp  # noqa: F401

__all__ = ['is_available', 'is_initialized', 'synchronize', 'current_device', 'current_stream',
           'stream', 'set_device', 'device_count', 'Stream', 'StreamContext', 'Event',
           'get_capabilities', 'amp']


def is_available():
    return True


def is_initialized():
    return True


def synchronize(device=None):
    return None


def current_device():
    return 'cpu'


def set_device(device):
    return None


def device_count():
    return 1


class Stream:
    """The CPU has one stream, and work on it is already synchronous."""

    def __init__(self, priority=-1):
        pass

    def wait_stream(self, stream):
        pass

    def synchronize(self):
        pass

    def query(self):
        return True


class Event:
    def query(self):
        return True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass

    def wait(self, stream=None):
        pass


_default_stream = Stream()


def current_stream(device=None):
    return _default_stream


class StreamContext(contextlib.AbstractContextManager):
    def __init__(self, stream):
        self.stream = stream

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)


def get_capabilities():
    return {}
