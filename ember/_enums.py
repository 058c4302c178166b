"""Enums as torch binds its C++ ones through pybind11 (ProfilerActivity, TrainingMode,
nn.functional's ScalingType, ...): they print `<Name.MEMBER: 1>` and `Name.MEMBER`, convert
with int(), and `Name(1)` looks a member up by value."""

__all__ = ['PybindEnum', 'pybind_enum']


class PybindEnum:
    """An enum as torch's C++ ones print: `<ProfilerActivity.CPU: 0>`, str
    'ProfilerActivity.CPU', hashable, comparable with its int value."""

    def __init__(self, *args):
        pass

    def __repr__(self):
        return f"<{type(self).__name__}.{self.name}: {self.value}>"

    def __str__(self):
        return f"{type(self).__name__}.{self.name}"

    def __int__(self):
        return self.value

    __index__ = __int__

    def __eq__(self, other):
        if isinstance(other, PybindEnum):
            return type(self) is type(other) and self.value == other.value
        return NotImplemented

    def __hash__(self):
        return hash(self.value)

    def __reduce__(self):
        return getattr, (type(self), self.name)


def pybind_enum(name, members, module):
    """A PybindEnum class `name` with the (name, value) `members`, as a class attribute each
    and in `__members__`; `Cls(value)` gives the member of that value."""
    cls = type(name, (PybindEnum,), {'__module__': module, '__qualname__': name,
                                      '__new__': _member_of})
    cls.__members__ = {}
    for n, v in members:
        m = object.__new__(cls)
        m.name, m.value = n, v
        setattr(cls, n, m)
        cls.__members__[n] = m
    return cls


def _member_of(cls, value):
    for m in cls.__members__.values():
        if m.value == int(value):
            return m
    raise ValueError(f"{value!r} is not a valid {cls.__name__}")
