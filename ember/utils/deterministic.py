"""torch.utils.deterministic: `fill_uninitialized_memory`, a module property (on by default):
under torch.use_deterministic_algorithms(True), uninitialised memory (torch.empty) is filled."""
import sys
import types

__all__ = []

_fill = [True]


class _Deterministic(types.ModuleType):
    @property
    def fill_uninitialized_memory(self):
        """Whether uninitialised memory is filled when deterministic algorithms are on."""
        return _fill[0]

    @fill_uninitialized_memory.setter
    def fill_uninitialized_memory(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f'expected a bool, but got {type(mode).__name__}')
        _fill[0] = mode


sys.modules[__name__].__class__ = _Deterministic
