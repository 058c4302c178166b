"""torch.futures: a Future holds the result (or the exception) of work that completes later;
callbacks run when it completes, `wait()` blocks until it does. `torch.Future` is the bare
class (torch._C.Future, made with a list of devices) and `torch.futures.Future` (printed as
torch.jit.Future) the generic one code subclasses and annotates with."""
import threading
import traceback
from typing import Generic, TypeVar

__all__ = ['Future', 'collect_all', 'wait_all']

T = TypeVar('T')
S = TypeVar('S')


class _CFuture:
    """torch.Future (torch._C.Future): thread-safe, completed once by set_result or
    set_exception."""

    def __init__(self, devices=()):
        for d in devices:
            if str(d) == 'cpu':
                raise ValueError(f"Expected devices to have indices, got {d}")
        self._cond = threading.Condition()
        self._done = False
        self._result = None
        self._error = None
        self._callbacks = []

    def done(self):
        """Whether a result or an exception has been set."""
        return self._done

    def wait(self):
        """Block until the future completes; return its result or raise its exception."""
        with self._cond:
            while not self._done:
                self._cond.wait()
        if self._error is not None:
            raise self._error
        return self._result

    def value(self):
        """The result of a completed future (its exception is raised)."""
        if not self._done:
            raise RuntimeError("Future::value() called on a Future that has not completed "
                               "yet")
        if self._error is not None:
            raise self._error
        return self._result

    def then(self, callback):
        """A new future completed with callback(self) once this one completes (with the
        callback's exception, wrapped, if it raises)."""
        fut = type(self)() if isinstance(self, Future) else _CFuture()

        def run(this):
            try:
                fut.set_result(callback(this))
            except Exception as e:
                fut.set_exception(_callback_error(e))
        self.add_done_callback(run)
        return fut

    def add_done_callback(self, callback):
        """Run callback(self) when the future completes (now, if it has)."""
        with self._cond:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    def _complete(self, result, error):
        with self._cond:
            if self._done:
                raise RuntimeError("Attempting to mark a completed Future as complete again. "
                                   "Note that a Future can only be marked completed once.")
            self._result, self._error, self._done = result, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for cb in callbacks:
            try:
                cb(self)
            except Exception:  # torch logs a failing done-callback and goes on
                traceback.print_exc()

    def set_result(self, result):
        """Complete the future with `result`, running its callbacks."""
        self._complete(result, None)

    def set_exception(self, result):
        """Complete the future with an exception, which wait() and value() raise."""
        if not isinstance(result, Exception):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)


_CFuture.__name__ = _CFuture.__qualname__ = 'Future'
_CFuture.__module__ = 'ember'  # torch.Future


def _callback_error(e):
    lines = ''.join(traceback.format_tb(e.__traceback__))
    err = RuntimeError(f"Got the following error when running the callback: "
                       f"{type(e).__name__}: {e}\n\nAt:\n{lines}")
    err.__cause__ = e
    return err


class Future(_CFuture, Generic[T]):
    """torch.futures.Future: `Future[int]` annotates; devices name the accelerators whose
    tensors the result may hold (none on this machine)."""

    def __init__(self, *, devices=None):
        super().__init__([] if devices is None else devices)


Future.__module__ = 'ember.jit'  # torch's Future is torch.jit.Future


def collect_all(futures):
    """A future that completes, with the list of `futures`, once all of them have (with the
    first exception among them, if any failed)."""
    out = Future()
    pending = [len(futures)]
    lock = threading.Lock()
    if not futures:
        out.set_result([])
        return out

    def one_done(_):
        with lock:
            pending[0] -= 1
            last = pending[0] == 0
        if last:
            for f in futures:
                if f._error is not None:
                    out.set_exception(f._error)
                    return
            out.set_result(list(futures))
    for f in futures:
        f.add_done_callback(one_done)
    return out


def wait_all(futures):
    """Wait for every future; their results as a list (the first exception is raised)."""
    return [fut.wait() for fut in collect_all(futures).wait()]


def _fork(func, *args, **kwargs):
    """Run func now (eagerly, as torch does outside TorchScript); a completed future of its
    result. Its exception propagates at once."""
    fut = _CFuture()
    fut.set_result(func(*args, **kwargs))
    return fut


def _wait(future):
    """The result of a future (torch.wait)."""
    return future.wait()


_fork.__name__ = _fork.__qualname__ = 'fork'  # torch.fork, torch.wait
_wait.__name__ = _wait.__qualname__ = 'wait'


from .._stubs import hook as _hook  # noqa: E402

_hook(__name__)
