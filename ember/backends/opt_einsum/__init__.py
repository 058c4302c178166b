"""torch.backends.opt_einsum: available when the opt_einsum package is importable (as in
torch). ember's einsum contracts with NumPy's own path optimiser either way."""
import importlib
import importlib.util
import sys

from .. import _flags
from .._flags import ContextProp, PropModule  # noqa: F401 (torch's names here)

__all__ = ['is_available', 'get_opt_einsum', 'enabled', 'strategy', 'set_flags', 'flags',
           'ContextProp', 'PropModule', 'OptEinsumModule']


def is_available():
    return importlib.util.find_spec('opt_einsum') is not None


def get_opt_einsum():
    # optional: opt_einsum is not a dependency of ember
    return importlib.import_module('opt_einsum') if is_available() else None


enabled = is_available()
strategy = 'auto' if enabled else None


def _set_enabled(_enabled):
    if not is_available() and _enabled:
        raise ValueError(
            f"opt_einsum is not available, so setting `enabled` to {_enabled} will not reap the "
            "benefits of calculating an optimal path for einsum. torch.einsum will fall back to "
            "contracting from left to right. To enable this optimal path calculation, please "
            "install opt-einsum.")
    global enabled
    enabled = _enabled


def _set_strategy(_strategy):
    if not is_available():
        raise ValueError(
            f"opt_einsum is not available, so setting `strategy` to {_strategy} will not be "
            "meaningful. torch.einsum will bypass path calculation and simply contract from "
            "left to right. Please install opt_einsum or unset `strategy`.")
    if not enabled:
        raise ValueError(
            f"opt_einsum is not enabled, so setting a `strategy` to {_strategy} will not be "
            "meaningful. torch.einsum will bypass path calculation and simply contract from "
            "left to right. Please set `enabled` to `True` as well or unset `strategy`.")
    if _strategy not in ['auto', 'greedy', 'optimal']:
        raise ValueError("`strategy` must be one of the following: [auto, greedy, optimal] but "
                         f"is {_strategy}")
    global strategy
    strategy = _strategy


def set_flags(_enabled=None, _strategy=None):
    orig = (enabled, strategy if is_available() else None)
    if _enabled is not None:
        _set_enabled(_enabled)
    if _strategy is not None:
        _set_strategy(_strategy)
    return orig


def flags(enabled=None, strategy=None):
    return _flags.scoped(set_flags, enabled, strategy)


class OptEinsumModule(PropModule):
    # torch's class body declares `global enabled` / `global strategy`, so its properties end
    # up as the module's plain values: assigning to the module sets an attribute, unchecked,
    # that set_flags (reading the module's globals) does not see. Kept so.
    pass


sys.modules[__name__] = OptEinsumModule(sys.modules[__name__], __name__)
