"""The contract for what ember lacks.

Every public name of torch 2.13 (listed in ``_torch_api.py``) resolves on ember: to ember's own
object where ember implements it, otherwise to a stub that raises
``NotImplementedError("ember does not implement torch.fft.fft yet")`` when it is used (called,
instantiated, truth-tested). Attribute access itself never raises, so ``hasattr(torch, 'fft')``
is True as on torch and feature-probing libraries keep working. Stubs carry
``_ember_missing = True`` so that ``ember compat`` and the API-contract test can tell them apart.

The mechanism:
- a module-level ``__getattr__`` (PEP 562) on every ember module that mirrors a listed torch
  namespace; it runs only when normal lookup fails, so ember's own names are never shadowed and
  cost nothing extra. `install()` adds it to the modules ``import ember`` loads; a namespace
  module imported lazily ends with ``_stubs.hook(__name__)``.
- a finder at the end of ``sys.meta_path`` that makes ``import ember.X`` work for every public
  torch module ember has no file for: a placeholder module whose names are stubs.
- namespaces that ``import ember`` leaves for later (ember.distributions, ember.cuda, ...; kept
  out of the import for its speed) get the fallback when they load: through ``resolve`` when
  reached as an attribute, through a finder at the front of ``sys.meta_path`` when imported.
- Tensor's missing methods are set on the class itself (a class ``__getattr__`` would slow every
  attribute access on every tensor).
"""
import functools
import importlib
import importlib.util
import inspect
import sys

from . import _torch_function
from ._tensor import Tensor, _register_method, _has_attribute
from ._torch_api import API, PACKAGES

__all__ = []

_KINDS = {}


def _modules():
    """_torch_modules (MODULES, HOMES): loaded on the first missing name, not at import."""
    return importlib.import_module('ember._torch_modules')


def kinds(ns):
    """{name: kind} of one torch namespace ('torch.nn'); kinds as in _torch_api."""
    k = _KINDS.get(ns)
    if k is None:
        k = {}
        for kind, names in API.get(ns, {}).items():
            for n in names:
                if kind == 'e':
                    n, base = n.split(':')
                    k[n] = 'e:' + base
                else:
                    k[n] = kind
        _KINDS[ns] = k
    return k


def _message(qualname):
    return f"ember does not implement {qualname} yet"


def missing_function(qualname, module='ember'):
    """A function that raises NotImplementedError naming `qualname` when called."""
    name = qualname.rpartition('.')[2]

    def stub(*args, **kwargs):
        raise NotImplementedError(_message(qualname))

    stub.__name__ = stub.__qualname__ = name
    stub.__module__ = module
    stub.__doc__ = f"{qualname}: not implemented by ember (calling it raises NotImplementedError)."
    stub._ember_missing = True
    stub._ember_qualname = qualname
    return stub


class _MissingClassMeta(type):
    """The type of a missing class: its public class attributes (an enum's members, a
    classmethod) are stubs too."""

    def __getattr__(cls, name):
        if name.startswith('_'):
            raise AttributeError(name)
        qualname = cls.__dict__.get('_ember_qualname') or cls._ember_qualname
        return missing_function(f'{qualname}.{name}', cls.__module__)


def _missing_new(cls, *args, **kwargs):
    raise NotImplementedError(_message(cls._ember_qualname))


def missing_class(qualname, module='ember'):
    """A class that can be subclassed and isinstance-checked; instantiating it (or a subclass)
    raises NotImplementedError naming `qualname`."""
    name = qualname.rpartition('.')[2]
    return _MissingClassMeta(name, (), {
        '__new__': _missing_new, '__module__': module, '__qualname__': name,
        '__doc__': f"{qualname}: not implemented by ember (instantiating it raises "
                   "NotImplementedError).",
        '__class_getitem__': classmethod(lambda cls, item: cls),  # Future[int] in annotations
        '_ember_missing': True, '_ember_qualname': qualname})


_EXC_BASES = {'RuntimeError': RuntimeError, 'Exception': Exception, 'Warning': Warning}


def exception_class(qualname, base, module='ember'):
    """torch's exception classes are plain subclasses of a builtin one: ember's are real."""
    name = qualname.rpartition('.')[2]
    return type(name, (_EXC_BASES[base],), {'__module__': module, '__qualname__': name})


class MissingValue:
    """A missing non-callable (a constant, a flag object): repr and identity work; using it
    raises NotImplementedError naming it."""
    __slots__ = ('_ember_qualname',)
    _ember_missing = True

    def __init__(self, qualname):
        self._ember_qualname = qualname

    def __repr__(self):
        return f"<{self._ember_qualname}: not implemented by ember>"

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(_message(self._ember_qualname))

    def __bool__(self):
        raise NotImplementedError(_message(self._ember_qualname))

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return missing_function(f'{self._ember_qualname}.{name}')

    # a name whose kind torch's list does not record may be a class: subclassing it gives a
    # class whose instantiation raises; isinstance/issubclass against it are False
    def __mro_entries__(self, bases):
        return (missing_class(self._ember_qualname),)

    def __instancecheck__(self, obj):
        return False

    def __subclasscheck__(self, cls):
        return False


def unimplemented(qualname):
    """Mark a function of ember's own that only raises NotImplementedError (naming torch's
    `qualname`) as missing, so that `ember compat` does not count it as implemented. Called
    with arguments it does not take, it raises NotImplementedError too, as a stub does."""
    def deco(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def stub(*args, **kwargs):
            try:
                sig.bind(*args, **kwargs)
            except TypeError:
                raise NotImplementedError(f"ember does not implement {qualname} yet") from None
            return fn(*args, **kwargs)
        stub._ember_missing = True
        return stub
    return deco


def is_missing(obj):
    """True for ember's stand-ins (stub functions, classes, values and placeholder modules)."""
    try:
        return bool(obj.__dict__.get('_ember_missing')) if isinstance(obj, type) else \
            getattr(obj, '_ember_missing', False) is True
    except Exception:
        return False


def make(kind, qualname, module):
    if kind == 'c':
        return missing_class(qualname, module)
    if kind.startswith('e:'):
        return exception_class(qualname, kind[2:], module)
    if kind == 'v':
        return MissingValue(qualname)
    return missing_function(qualname, module)


def _torch_name(modname):
    return 'torch' + modname[len('ember'):]


def resolve(module, name):
    """The object torch's `<module>.<name>` stands for on ember, made on first use and kept in
    the module (one object per name, so identity and pickling by reference hold)."""
    if name.startswith('_'):  # torch's public names never are
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
    ns = _torch_name(module.__name__)
    kind = kinds(ns).get(name)
    if kind is None and f'{ns}.{name}' in _modules().MODULES:
        kind = 'm'
    if kind is None and module.__dict__.get('_ember_missing') and not name.startswith('_'):
        # a placeholder for one of torch's files (torch.nn.modules.batchnorm): torch's packages
        # re-export what their files define, so ember's nearest real package may have it
        for home_ns, names in _modules().HOMES.get(ns, {}).items():
            if name in names:
                # ember's object, or the namespace's stub of the right kind
                return getattr(importlib.import_module('ember' + home_ns[len('torch'):]), name)
        if ns not in API:
            kind = 'v'  # a name torch's list does not enumerate: a stand-in of unknown kind
    if kind is None:
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
    if kind == 'm':
        sub = importlib.import_module(f'{module.__name__}.{name}')
        hook_loaded()
        return sub
    obj = make(kind, f'{ns}.{name}', module.__name__)
    setattr(module, name, obj)
    return obj


def _module_getattr(module, previous=None):
    def __getattr__(name):
        if previous is not None:
            try:
                return previous(name)
            except AttributeError:
                pass
        return resolve(module, name)

    __getattr__._ember_stub_hook = True
    return __getattr__


def hook(modname):
    """Give module `modname` the stub fallback (keeping a __getattr__ it already has)."""
    module = sys.modules[modname]
    if _torch_name(modname) in PACKAGES and not hasattr(module, '__path__'):
        module.__path__ = []  # a package on torch: its submodules import (as placeholders)
    previous = module.__dict__.get('__getattr__')
    if getattr(previous, '_ember_stub_hook', False):
        return
    module.__getattr__ = _module_getattr(module, previous)


def hook_loaded():
    """Hook every loaded ember module that mirrors a listed torch namespace (a namespace
    loaded after ``import ember``, and the submodules its package imported)."""
    _torch_function._loaded()
    for ns in API:
        if ns != 'torch.Tensor':
            module = sys.modules.get('ember' + ns[len('torch'):])
            if module is not None and not getattr(module.__dict__.get('__getattr__'),
                                                  '_ember_stub_hook', False):
                hook(module.__name__)


class _HookAfterLoad:
    """A module's own loader, which also gives the module the stub fallback once executed."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        hook_loaded()

    def __getattr__(self, name):  # get_source, get_resource_reader, ...: the real loader's
        return getattr(self._loader, name)


class _LoadedFinder:
    """First on sys.meta_path: finds an ember namespace module with the other finders and
    wraps its loader so that `import ember.cuda` after `import ember` gets the fallback."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not fullname.startswith('ember.') or _torch_name(fullname) not in API:
            return None
        for finder in sys.meta_path:
            if finder is _LoadedFinder or finder is _PlaceholderFinder:
                continue
            find = getattr(finder, 'find_spec', None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, 'exec_module'):
                    spec.loader = _HookAfterLoad(spec.loader)
                return spec
        return None

    @staticmethod
    def invalidate_caches():
        pass


class _ExistingLoader:
    """Imports a module object ember made in code (types.ModuleType) under its dotted name."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        hook(module.__name__)


class _PlaceholderLoader:
    def __init__(self, torch_name):
        self.torch_name = torch_name

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__doc__ = (f"{self.torch_name}: not implemented by ember; a placeholder whose "
                          "names raise NotImplementedError when used.")
        module._ember_missing = True
        module.__getattr__ = _module_getattr(module)


class _PlaceholderFinder:
    """Makes `import ember.X` succeed for every public torch module X that ember has no file
    for. It sits last on sys.meta_path, so ember's real modules always win."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not fullname.startswith('ember.'):
            return None
        parent, _, child = fullname.rpartition('.')
        existing = getattr(sys.modules.get(parent), '__dict__', {}).get(child)
        if isinstance(existing, type(sys)) and getattr(existing, '__name__', None) == fullname:
            # a module ember built in code and set as an attribute: import that very object
            return importlib.util.spec_from_loader(fullname, _ExistingLoader(existing))
        torch_name = _torch_name(fullname)
        modules = _modules().MODULES
        if torch_name not in modules:
            return None
        spec = importlib.util.spec_from_loader(fullname, _PlaceholderLoader(torch_name),
                                               origin='not implemented by ember',
                                               is_package=modules[torch_name])
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def _install_tensor():
    for name, kind in kinds('torch.Tensor').items():
        if _has_attribute(name):
            continue
        if kind == 'f':
            stub = missing_function(f'torch.Tensor.{name}', 'ember')
            stub.__qualname__ = f'Tensor.{name}'
        else:
            stub = property((lambda q: lambda self: MissingValue(q))(f'torch.Tensor.{name}'),
                            doc=f"torch.Tensor.{name}: not implemented by ember")
        _register_method(name, stub, __name__)


def install():
    """Called once at the end of `import ember`."""
    if _PlaceholderFinder not in sys.meta_path:
        sys.meta_path.append(_PlaceholderFinder)
    if _LoadedFinder not in sys.meta_path:
        sys.meta_path.insert(0, _LoadedFinder)
    for ns in API:
        modname = 'ember' + ns[len('torch'):]
        if ns != 'torch.Tensor' and modname in sys.modules:
            hook(modname)
    _install_tensor()
