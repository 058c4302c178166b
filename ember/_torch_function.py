"""The state of the __torch_function__ protocol (torch.overrides), read by Tensor and the engine.

ember's ops are plain functions attached without a wrapper, so a plain program pays nothing for
the protocol: `ember.overrides` puts dispatching wrappers on the public functions and Tensor's
methods only while something can be dispatched to (`State.armed`: a Tensor subclass that
defines __torch_function__ exists, or a TorchFunctionMode is on), and takes them off again.
"""

__all__ = ['DisableTorchFunction', 'DisableTorchFunctionSubclass',
           '_disabled_torch_function_impl']


class State:
    armed = False  # the dispatching wrappers are installed
    subclass_off = 0  # > 0 inside DisableTorchFunctionSubclass (and Tensor's default handler)
    all_off = 0  # > 0 inside DisableTorchFunction (modes and subclasses both skipped)
    skip_one = False  # redispatch_function: the next dispatch check answers "nothing"
    on_subclass = None  # set by ember.overrides: called with each new Tensor subclass
    arm = disarm = None  # set by ember.overrides: put the wrappers on, take them off


class _Unwrapped:
    """A block run with the dispatching wrappers off, put back on after it if they were on:
    code that swaps ember's functions in and out (the profiler's timing wrappers) then works on
    the functions themselves, and the dispatching wrappers wrap what it installed."""

    def __enter__(self):
        self._was = State.armed
        if self._was:
            State.disarm()

    def __exit__(self, *exc):
        if self._was:
            State.arm()


def _original(fn):
    """fn itself, or the function its dispatching wrapper wraps (an identity test against a
    function taken before the wrappers went on, such as a default argument)."""
    return getattr(fn, '_ember_dispatch', fn)


def _loaded():
    """A module was loaded on first use (ember._lazy, a Tensor placeholder, a namespace): while
    the protocol is armed, its functions and methods get the dispatching wrappers too."""
    if State.armed:  # from scratch: _arm finds the new module's functions as the others
        State.disarm()
        State.arm()


MODES = []  # the TorchFunctionMode stack, innermost last


def _disabled_torch_function_impl(func, types, args=(), kwargs=None):
    """A class that sets `__torch_function__ = _disabled_torch_function_impl` takes no part
    in dispatch (torch's Parameter): its instances act as plain tensors."""
    if kwargs is None:
        kwargs = {}
    with DisableTorchFunctionSubclass():
        return func(*args, **kwargs)


class _Off:
    _counter = None  # the State attribute this context manager raises

    def __enter__(self):
        setattr(State, self._counter, getattr(State, self._counter) + 1)
        return self

    def __exit__(self, *exc):
        setattr(State, self._counter, getattr(State, self._counter) - 1)


class DisableTorchFunctionSubclass(_Off):
    """Inside it, Tensor subclasses' __torch_function__ is not consulted (modes still are)."""
    _counter = 'subclass_off'


class DisableTorchFunction(_Off):
    """Inside it, neither modes nor subclasses are consulted."""
    _counter = 'all_off'


def _is_torch_function_enabled():
    return State.all_off == 0 and State.subclass_off == 0


def _is_torch_function_mode_enabled():
    return State.all_off == 0 and bool(MODES)
