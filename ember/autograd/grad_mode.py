"""Grad modes: whether ops record the graph (torch.no_grad and friends).

As in torch the modes are per thread: a mode set in one thread never changes another, and a new
thread starts with grad enabled and inference mode off.
"""
import functools
import threading

__all__ = ['no_grad', 'enable_grad', 'set_grad_enabled', 'inference_mode', 'is_grad_enabled',
           'is_inference_mode_enabled']


class _ThreadState(threading.local):
    # Read by every op as `_State.enabled`: one thread-local attribute lookup. The class
    # attributes are what every thread sees until it sets its own.
    enabled = True
    inference = False
    applying = None  # the autograd node whose formula runs in this thread (graph._needs_grad)


_State = _ThreadState()


class _Forward:
    """How many dual tensors of torch.autograd.forward_ad are alive; forward_ad sets `refuse`,
    which turning grad mode off calls while there are some (their tangents come from the
    graph)."""
    duals = 0
    refuse = None
    used = False  # set by the first make_dual: Tensor.requires_grad then asks `real`
    real = None


def is_grad_enabled():
    return _State.enabled


def is_inference_mode_enabled():
    return _State.inference


class _DecoratorContextManager:
    """Usable as `with no_grad():` and as `@no_grad()` (also bare `@no_grad`)."""

    def __new__(cls, orig_func=None, *args, **kwargs):
        if cls is not set_grad_enabled and callable(orig_func) and not args and not kwargs:
            return cls()(orig_func)  # bare decorator: @no_grad
        return super().__new__(cls)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class _GradModeSetter(_DecoratorContextManager):
    """Sets grad mode to `_mode` inside the block and restores the previous one on exit."""
    _mode = False

    def __init__(self, orig_func=None):
        self.prev = False

    def __enter__(self):
        if _Forward.duals and not self._mode:
            _Forward.refuse()
        self.prev = _State.enabled
        _State.enabled = self._mode

    def __exit__(self, *exc):
        _State.enabled = self.prev


class no_grad(_GradModeSetter):
    _mode = False


class enable_grad(_GradModeSetter):
    _mode = True


class set_grad_enabled(_DecoratorContextManager):
    """Takes effect at once (as torch's does), and restores the old mode on exit."""

    def __init__(self, mode):
        self.prev = _State.enabled
        self.mode = bool(mode)
        if _Forward.duals and not self.mode:
            _Forward.refuse()
        _State.enabled = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _State.enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)


class _FlagSetter(_DecoratorContextManager):
    """A thread-local engine flag set at once and restored on exit (torch's
    set_multithreading_enabled and _force_original_view_tracking). ember keeps the flag only:
    its backward runs on the calling thread and replays no views."""
    _flags = None
    _name = None

    def __init__(self, mode):
        self.prev = getattr(self._flags, self._name, self._default)
        self.mode = bool(mode)
        setattr(self._flags, self._name, self.mode)

    def __enter__(self):
        setattr(self._flags, self._name, self.mode)

    def __exit__(self, *exc):
        setattr(self._flags, self._name, self.prev)

    def clone(self):
        return self.__class__(self.mode)


class _Flags(threading.local):
    multithreading = True
    view_replay = False
    grad_layout = True


_flags = _Flags()


class set_multithreading_enabled(_FlagSetter):
    _flags, _name, _default = _flags, 'multithreading', True


class _force_original_view_tracking(_FlagSetter):
    _flags, _name, _default = _flags, 'view_replay', False


class enforce_grad_layout_policy(_FlagSetter):
    """Whether accumulated gradients must take their parameter's strides (torch's gradient
    layout contract). ember keeps the flag: its gradients are always fresh row-major arrays."""
    _flags, _name, _default = _flags, 'grad_layout', True

    def __init__(self, enable=True):
        super().__init__(enable)


def is_multithreading_enabled():
    return _flags.multithreading


def is_view_replay_enabled():
    return _flags.view_replay


class inference_mode(_DecoratorContextManager):
    """Like no_grad (ember keeps no separate inference tensors)."""

    def __init__(self, mode=True):
        self.mode = mode
        self.prev = None

    def __new__(cls, mode=True):
        if callable(mode):  # bare decorator: @inference_mode
            inst = object.__new__(cls)
            inst.__init__(True)
            return inst(mode)
        return object.__new__(cls)

    def __enter__(self):
        self.prev = (_State.enabled, _State.inference)
        if self.mode and _Forward.duals:
            _Forward.refuse()
        if self.mode:
            _State.enabled = False
            _State.inference = True

    def __exit__(self, *exc):
        _State.enabled, _State.inference = self.prev

    def clone(self):
        return self.__class__(self.mode)
