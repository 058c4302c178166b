"""The CPU autocast cast policy, as torch's dispatcher applies it (aten/src/ATen/autocast_mode).

Inside ``torch.autocast('cpu', dtype)`` an op listed for the lower precision casts its floating
tensor arguments (float64 excepted) to that dtype; an op listed for float32 casts them to
float32; cat/stack cast them to the widest floating type among them. While a listed op runs,
autocast is off for the ops it calls, as torch excludes its autocast dispatch key. The ops
carry the policy with the `autocast` decorator; ember.amp switches it on per thread.
"""
import functools
import threading

from .. import _dtype
from .._tensor import Tensor

__all__ = []


class _CPUState(threading.local):
    fast = None             # the lower-precision ember dtype while CPU autocast is on
    inside = False          # a listed op is running: no casts in the ops it calls


_cpu = _CPUState()


def _set_cpu(fast):
    """Turn the policy on (fast = ember.bfloat16 or float16) or off (None) in this thread."""
    _cpu.fast = fast


def _eligible(t):
    return isinstance(t, Tensor) and t.is_floating_point() and t._data.dtype.name != 'float64'


def _cast_all(args, kwargs, to):
    def cast(a):
        if _eligible(a):
            return a if a.dtype == to else a.to(to)
        if isinstance(a, (list, tuple)) and a and any(isinstance(x, Tensor) for x in a):
            return type(a)(cast(x) for x in a)
        return a
    return tuple(cast(a) for a in args), {k: cast(v) for k, v in kwargs.items()}


def _widest(args, kwargs, fast):
    """torch's autocast `prioritize`: float32 if any eligible tensor is float32, else fast;
    another half type is an error, as in torch."""
    seen = []

    def walk(a):
        if _eligible(a):
            seen.append(a.dtype)
        elif isinstance(a, (list, tuple)):
            for x in a:
                walk(x)
    for a in list(args) + list(kwargs.values()):
        walk(a)
    current = fast
    for d in seen:
        if current is _dtype.float32 or d is _dtype.float32:
            current = _dtype.float32
        elif d is not fast:
            raise RuntimeError('Unexpected floating ScalarType in at::autocast::prioritize')
    return current


def autocast(policy):
    """Decorate an op with its CPU autocast policy: 'lower', 'fp32' or 'promote'."""
    def deco(fn):
        @functools.wraps(fn)
        def op(*args, **kwargs):
            fast = _cpu.fast
            if fast is None or _cpu.inside:
                return fn(*args, **kwargs)
            if policy == 'lower':
                to = fast
            elif policy == 'fp32':
                to = _dtype.float32
            else:
                to = _widest(args, kwargs, fast)
            args, kwargs = _cast_all(args, kwargs, to)
            _cpu.inside = True
            try:
                return fn(*args, **kwargs)
            finally:
                _cpu.inside = False
        op._autocast_policy = policy
        return op
    return deco
