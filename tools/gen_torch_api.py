"""Write ember/_torch_api.py: torch's public API, namespace by namespace.

Run with torch installed:  python tools/gen_torch_api.py [--check]
ember never imports torch; this script does, once, and commits what it saw. The API-contract
test (tests/test_api_contract.py) re-enumerates live torch with the same `enumerate_api()` and
fails when the committed file has drifted.

What counts as public (torch's own rule, as its test_public_bindings applies it): names without
a leading underscore; where a module defines ``__all__``, the names it lists; otherwise the
names whose object belongs to torch (its ``__module__``, or its type's, starts with ``torch``),
which leaves out the standard-library modules and typing helpers torch's files import. Submodules
count where they are torch's own children (``torch.nn.functional.grad`` is an alias of
``torch.nn.grad`` and is left out there).
"""
import importlib
import inspect
import os
import sys
import textwrap
import types
import warnings

# the namespaces whose names are enumerated one by one (issue 11's list, and the submodules
# programs commonly reach into)
NAMESPACES = [
    'torch', 'torch.nn', 'torch.nn.functional', 'torch.nn.init', 'torch.nn.parameter',
    'torch.nn.utils', 'torch.nn.utils.rnn', 'torch.nn.utils.parametrize',
    'torch.nn.utils.parametrizations', 'torch.nn.utils.stateless', 'torch.nn.utils.prune',
    'torch.nn.parallel', 'torch.nn.attention',
    'torch.optim', 'torch.optim.lr_scheduler', 'torch.optim.swa_utils',
    'torch.utils', 'torch.utils.data', 'torch.utils.checkpoint', 'torch.utils.hooks',
    'torch.autograd', 'torch.autograd.functional', 'torch.autograd.forward_ad',
    'torch.autograd.graph', 'torch.autograd.profiler',
    'torch.linalg', 'torch.fft', 'torch.special', 'torch.func',
    'torch.distributions', 'torch.distributions.constraints', 'torch.distributions.transforms',
    'torch.distributions.kl',
    'torch.cuda', 'torch.cuda.amp', 'torch.backends', 'torch.backends.cudnn',
    'torch.backends.cuda', 'torch.backends.mps', 'torch.backends.mkldnn',
    'torch.backends.openmp', 'torch.backends.opt_einsum', 'torch.backends.mkl',
    'torch.backends.cpu', 'torch.amp', 'torch.cpu', 'torch.mps', 'torch.accelerator',
    'torch.distributed', 'torch.onnx', 'torch.jit', 'torch.sparse', 'torch.testing',
    'torch.hub', 'torch.profiler', 'torch.overrides', 'torch.types', 'torch.random',
    'torch.library', 'torch.export', 'torch.quantization', 'torch.signal',
    'torch.signal.windows', 'torch.masked', 'torch.nested', 'torch.compiler',
]
TENSOR = 'torch.Tensor'
# names torch's files import from elsewhere and that no program reaches for through torch
_SKIP = {'torch': {'TYPE_CHECKING', 'USE_GLOBAL_DEPS', 'USE_RTLD_GLOBAL_WITH_LIBTORCH', 'torch'}}

MODULE, CLASS, EXCEPTION, FUNCTION, VALUE = 'm', 'c', 'e', 'f', 'v'
_BUILTIN_BASES = (Warning, RuntimeError, Exception)


def _kind(obj):
    if isinstance(obj, types.ModuleType):
        return MODULE
    if isinstance(obj, type):
        if issubclass(obj, BaseException):
            # an exception class, recorded with the builtin base ember derives its own from
            base = next(b for b in _BUILTIN_BASES if issubclass(obj, b))
            return f'{EXCEPTION}:{base.__name__}'
        return CLASS
    return FUNCTION if callable(obj) else VALUE


def _torch_owned(obj):
    for mod in (getattr(obj, '__module__', None), getattr(type(obj), '__module__', None)):
        if isinstance(mod, str) and (mod == 'torch' or mod.startswith('torch.')):
            return True
    return False


def _namespace(ns):
    """{name: kind} of one torch module's public names."""
    import torch  # noqa: F401
    mod = importlib.import_module(ns)
    inner = getattr(mod, 'm', None)
    if type(mod) is not types.ModuleType and isinstance(inner, types.ModuleType):
        # torch.backends.cudnn & co.: a ModuleType subclass whose properties are the flags,
        # wrapping the real module (`.m`), to which other attributes are delegated
        names = _namespace_of(inner, ns)
        names.update({n: VALUE for n, v in vars(inner).items()
                      if not n.startswith('_') and isinstance(v, (bool, int, float, str, type(None)))
                      and n != 'TYPE_CHECKING'})
        names.update({n: _kind(getattr(mod, n)) for n in vars(type(mod))
                      if not n.startswith('_')})
        return names
    return _namespace_of(mod, ns)


def _namespace_of(mod, ns):
    listed = getattr(mod, '__all__', None)
    names = {}
    candidates = set(listed) if listed is not None else set()
    candidates.update(n for n in dir(mod) if not n.startswith('_'))
    for name in sorted(candidates):
        if name.startswith('_') or name in _SKIP.get(ns, ()):
            continue
        try:
            obj = getattr(mod, name)
        except Exception:  # a lazily failing attribute (a missing optional dependency)
            continue
        if isinstance(obj, types.ModuleType):
            if obj.__name__ == f'{ns}.{name}':
                names[name] = MODULE
            continue
        if (listed is not None and name in listed) or _torch_owned(obj):
            names[name] = _kind(obj)
    return names


def _tensor():
    import torch
    names = {}
    for name in dir(torch.Tensor):
        if name.startswith('_'):
            continue
        raw = inspect.getattr_static(torch.Tensor, name)
        if isinstance(raw, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
            names[name] = VALUE
        else:
            names[name] = FUNCTION
    return names


def enumerate_api():
    """{namespace: {name: kind}}; 'torch.Tensor' holds Tensor's methods (f) and attributes (v)."""
    import torch
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        api = {ns: _namespace(ns) for ns in NAMESPACES}
        api[TENSOR] = _tensor()
    api['torch']['Tensor'] = CLASS
    assert torch.__version__.split('+')[0] == '2.13.0', torch.__version__
    return api


def _files():
    """{module: is_package} for every public module file of torch's installation: no
    underscore-prefixed component (torch.testing._internal and torch._C are private)."""
    import torch
    root = os.path.dirname(torch.__file__)
    base = os.path.dirname(root)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, base).split(os.sep)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('_')
                             and os.path.exists(os.path.join(dirpath, d, '__init__.py')))
        pkg = '.'.join(rel)
        out[pkg] = True
        for f in filenames:
            if f.endswith('.py') and not f.startswith('_'):
                out[f'{pkg}.{f[:-3]}'] = False
    return out


def _packages(api):
    """{module: is_package} for every public torch module: its files, and the module objects
    the API names (torch.ops, torch.classes)."""
    out = _files()
    for ns, names in api.items():
        if ns == TENSOR:
            continue
        out[ns] = hasattr(sys.modules[ns], '__path__')
        for name, kind in names.items():
            if kind == MODULE:
                full = f'{ns}.{name}'
                out[full] = hasattr(sys.modules[full], '__path__')
    return dict(sorted(out.items()))


def _homes(api, modules):
    """{file module: {name: namespace}}: where torch defines the names an enumerated namespace
    re-exports (torch.nn.BatchNorm2d lives in torch.nn.modules.batchnorm)."""
    import importlib
    out = {}
    for ns in NAMESPACES:
        mod = importlib.import_module(ns)
        for name, kind in api[ns].items():
            if kind not in (CLASS, FUNCTION) and not kind.startswith(EXCEPTION):
                continue
            home = getattr(getattr(mod, name, None), '__module__', None)
            if home in modules and home != ns and name not in out.get(home, {}):
                out.setdefault(home, {})[name] = ns
    return out


def render(api):
    import torch
    lines = [
        '"""torch ' + torch.__version__.split('+')[0] + "'s public API, namespace by namespace.",
        '',
        'Generated by tools/gen_torch_api.py from torch itself; do not edit by hand.',
        "Kinds: m submodule, c class, e exception class (Name:builtin base), f function (for",
        'torch.Tensor: method), v value (constant, flag, dtype, object; for torch.Tensor:',
        'attribute).',
        '"""',
        f"TORCH_VERSION = '{torch.__version__.split('+')[0]}'",
        '',
        'API = {',
    ]
    for ns in NAMESPACES + [TENSOR]:
        lines.append(f"    '{ns}': {{")
        by_kind = {}
        for name, kind in sorted(api[ns].items()):
            if kind.startswith(EXCEPTION):  # 'e:RuntimeError' -> listed as Name:RuntimeError
                kind, name = EXCEPTION, name + kind[1:]
            by_kind.setdefault(kind, []).append(name)
        for kind in (MODULE, CLASS, EXCEPTION, FUNCTION, VALUE):
            if kind not in by_kind:
                continue
            body = ' '.join(by_kind[kind])
            wrapped = textwrap.wrap(body, 84, break_on_hyphens=False, break_long_words=False)
            lines.append(f"        '{kind}': (")
            lines.extend(f"            '{w} '" for w in wrapped)
            lines.append("        ).split(),")
        lines.append('    },')
    lines.append('}')
    lines.append('')
    lines.append('# the namespaces above that are packages on torch')
    lines.append('PACKAGES = (')
    packages = [ns for ns in NAMESPACES if hasattr(sys.modules[ns], '__path__')]
    lines.extend(f"    '{w} '" for w in textwrap.wrap(' '.join(packages), 84,
                                                    break_on_hyphens=False))
    lines.append(').split()')
    api_text = '\n'.join(lines) + '\n'
    lines = [
        '"""torch ' + torch.__version__.split('+')[0] + "'s public modules (loaded only when a "
        'name is missing).',
        '',
        'Generated by tools/gen_torch_api.py from torch itself; do not edit by hand.',
        '"""',
        '# every public torch module: {name: is a package}',
        'MODULES = {']
    modules = _packages(api)
    for name, pkg in modules.items():
        lines.append(f"    '{name}': {pkg},")
    lines.append('}')
    lines.append('')
    lines.append('# {torch file module: {namespace that re-exports names defined there: names}}')
    lines.append('HOMES = {')
    for home, names in sorted(_homes(api, modules).items()):
        by_ns = {}
        for name, ns in sorted(names.items()):
            by_ns.setdefault(ns, []).append(name)
        lines.append(f"    '{home}': {{")
        for ns, ns_names in by_ns.items():
            wrapped = textwrap.wrap(' '.join(ns_names), 76, break_on_hyphens=False,
                                    break_long_words=False)
            lines.append(f"        '{ns}': (")
            lines.extend(f"            '{w} '" for w in wrapped)
            lines.append("        ).split(),")
        lines.append('    },')
    lines.append('}')
    return api_text, '\n'.join(lines) + '\n'


_EMBER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'ember')
OUT = [os.path.join(_EMBER, '_torch_api.py'), os.path.join(_EMBER, '_torch_modules.py')]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    texts = render(enumerate_api())
    if '--check' in argv:
        stale = []
        for path, text in zip(OUT, texts):
            with open(path) as f:
                if f.read() != text:
                    stale.append(path)
        for path in stale:
            print(f'{path} is stale: run tools/gen_torch_api.py')
        print('up to date' if not stale else '')
        return 1 if stale else 0
    for path, text in zip(OUT, texts):
        with open(path, 'w') as f:
            f.write(text)
        print('wrote', path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
