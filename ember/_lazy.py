"""Names a package loads on first use (PEP 562), to keep `import ember` short.

A package lists its lazy names in a table and sets ``__getattr__ = _lazy.loader(__name__,
table)``. Each name maps to where it lives, relative to the package:

- ``None``: the name is a submodule (``ember.optim.lr_scheduler``);
- ``'mod'``: the attribute of the same name in submodule ``mod``;
- ``('mod', 'attr')``: attribute ``attr`` of submodule ``mod`` (a name torch gives it anew).

A module named from ``ember.`` on is absolute (a name defined outside the package).

The value found is stored in the package, so later lookups are plain attribute reads.
"""
import importlib
import sys

from . import _torch_function


def loader(package, table):
    """The module ``__getattr__`` of `package` that loads the names of `table`."""
    def __getattr__(name):
        try:
            home = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        if home is None:
            # the import sets the attribute on the package (its module, or a PropModule)
            value = importlib.import_module(f'{package}.{name}')
            _torch_function._loaded()
            return value
        module, attr = (home, name) if isinstance(home, str) else home
        if not module.startswith('ember.'):
            module = f'{package}.{module}'
        value = getattr(importlib.import_module(module), attr)
        setattr(sys.modules[package], name, value)
        _torch_function._loaded()
        # (while armed, the package's entry is now the dispatching wrapper of value)
        return getattr(sys.modules[package], name)

    return __getattr__


def lister(package, table):
    """The module ``__dir__`` of `package`: its names so far and those of `table` (what
    ``dir(torch.nn)`` lists on torch, before anything loads)."""
    def __dir__():
        return sorted(set(sys.modules[package].__dict__) | set(table))

    return __dir__


def names(words, home):
    """A table entry for each space-separated name of `words`, all living in `home`."""
    return dict.fromkeys(words.split(), home)
