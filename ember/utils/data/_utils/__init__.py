"""Helpers of the DataLoader that also run inside worker processes (torch.utils.data._utils).

Worker processes can only run functions that live at module level, so the collate functions,
the fetchers and the worker loop each have a module here, as in torch.
"""
import atexit
import sys
import traceback

IS_WINDOWS = sys.platform == "win32"

# How often (seconds) a blocked queue read wakes up to check that the other side is alive.
MP_STATUS_CHECK_INTERVAL = 5.0

# Set when the interpreter shuts down: iterators then skip their worker shutdown handshake,
# because the multiprocessing machinery may already be half torn down.
python_exit_status = False

HAS_NUMPY = True


def _set_python_exit_flag():
    global python_exit_status
    python_exit_status = True


atexit.register(_set_python_exit_flag)


class KeyErrorMessage(str):
    """A str whose repr is itself, so that a re-raised KeyError prints its traceback readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, carried from a worker to the main process."""

    def __init__(self, exc_info=None, where="in background"):
        # Keep only the type and the text: a live traceback would pin the worker's frames.
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception type again, with the worker's traceback as its text."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # The type needs other constructor arguments: fall back to a RuntimeError.
            raise RuntimeError(msg) from None
        raise exception


from . import collate, fetch, worker  # noqa: E402,F401
