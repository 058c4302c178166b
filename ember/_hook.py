"""The torch import hook: every ``torch`` / ``torch.*`` import is answered by ember.

A finder on ``sys.meta_path`` maps ``torch.x.y`` to ``ember.x.y`` and hands back the very module
object ember already has (importing it under its ember name first), so ``sys.modules['torch']
is ember`` and ``torch.nn is ember.nn``: one module object per name, never a second copy.
The program's files are not rewritten. ``ember run`` installs the hook before running a
program; ``ember.install_as_torch()`` installs it in a running interpreter (notebooks).
"""
import importlib
import importlib.abc
import importlib.machinery
import sys

import ember

__all__ = ['install_as_torch', 'TorchModuleNotImplementedError']

_PREFIX = 'torch'


class TorchModuleNotImplementedError(ModuleNotFoundError, NotImplementedError):
    """``import torch.x`` where ember has no ``x``.

    A ModuleNotFoundError (so ``try: import torch.x / except ImportError`` still falls back)
    and a NotImplementedError (ember's contract for what it lacks)."""


def _ember_name(fullname):
    return 'ember' + fullname[len(_PREFIX):]


def _torch_name(ember_name):
    return _PREFIX + ember_name[len('ember'):]


def _missing(fullname, cause=None):
    err = TorchModuleNotImplementedError(
        f"ember does not implement {fullname} (torch imports are answered by ember, which "
        f"has no module {_ember_name(fullname)})", name=fullname)
    err.__cause__ = cause
    err.__suppress_context__ = True
    return err


def _resolve(fullname):
    """The ember module object that answers `fullname` (``torch`` or ``torch.*``)."""
    ename = _ember_name(fullname)
    mod = sys.modules.get(ename)
    if mod is not None:
        return mod
    try:
        return importlib.import_module(ename)
    except ModuleNotFoundError as e:
        # only "this module (or a parent of it) does not exist" means ember lacks it; a missing
        # third-party dependency inside an existing ember module keeps its own error
        if e.name is None or not (ename == e.name or ename.startswith(e.name + '.')):
            raise
        parent, _, child = ename.rpartition('.')
        obj = getattr(sys.modules.get(parent), child, None)
        if isinstance(obj, type(sys)):
            # a namespace ember keeps as a module object rather than a file
            return obj
        raise _missing(fullname, e) from None


class _AliasLoader(importlib.abc.Loader):
    """Loads nothing: hands the import system ember's existing module."""

    def __init__(self, module):
        self._module = module

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        # already executed under its ember name; module attributes (__name__, __spec__) are
        # left as they are, which the import system does when they are set
        pass


class TorchFinder(importlib.abc.MetaPathFinder):
    """Answers ``torch`` and ``torch.*`` with ember's modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + '.'):
            return None
        mod = _resolve(fullname)
        is_pkg = hasattr(mod, '__path__')
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(mod), is_package=is_pkg)
        if is_pkg:
            spec.submodule_search_locations = list(mod.__path__)
        return spec

    def invalidate_caches(self):
        pass

    def __repr__(self):
        return '<ember torch import hook>'


_finder = None


def _real_torch_loaded():
    """Names of torch modules in sys.modules that are not ember's."""
    bad = []
    for name, mod in list(sys.modules.items()):
        if name == _PREFIX or name.startswith(_PREFIX + '.'):
            if mod is None:
                continue
            mname = getattr(mod, '__name__', '') or ''
            if mod is ember or mname == 'ember' or mname.startswith('ember.'):
                continue
            bad.append(name)
    return bad


def is_installed():
    """True when the torch import hook is on ``sys.meta_path``."""
    return _finder is not None and _finder in sys.meta_path


def install_as_torch():
    """Make ``import torch`` (and every ``torch.*``) give ember, in this interpreter.

    The same hook ``ember run`` uses: ``sys.modules['torch'] is ember``, ``torch.nn is
    ember.nn``. Idempotent. Refuses (RuntimeError) when the real torch is already imported,
    since two libraries answering to one name would mix their tensors."""
    global _finder
    bad = _real_torch_loaded()
    if bad:
        raise RuntimeError(
            "ember.install_as_torch(): the real torch is already imported in this interpreter "
            f"({', '.join(sorted(bad)[:3])}{', ...' if len(bad) > 3 else ''}); call "
            "install_as_torch() before anything imports torch (restart the kernel), or run "
            "the program with `ember run`")
    if _finder is None:
        _finder = TorchFinder()
    if _finder not in sys.meta_path:
        # first, so that no finder after it can reach an installed torch
        sys.meta_path.insert(0, _finder)
    sys.modules[_PREFIX] = ember
    # every ember module already loaded answers its torch name at once: an import of it then
    # finds it in sys.modules, and the import system does not rebind the parent's attribute
    # (torch.nn.utils.weight_norm stays the function, as in torch, not its module)
    for name, mod in list(sys.modules.items()):
        if name.startswith('ember.') and mod is not None:
            sys.modules.setdefault(_torch_name(name), mod)
    return ember


def uninstall():
    """Remove the hook and the torch names it put in sys.modules (tests use this)."""
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name, mod in list(sys.modules.items()):
        if (name == _PREFIX or name.startswith(_PREFIX + '.')) and (
                mod is ember or (getattr(mod, '__name__', '') or '').startswith('ember')):
            del sys.modules[name]
