"""torch's module paths: every class and function ember has is reachable where torch keeps it.

Walks torch's public namespaces live, reads each object's ``__module__`` and ``__qualname__``
in torch, and checks that where ember has the object the same dotted path imports in ember and
gives that very object (``torch.nn.modules.batchnorm.BatchNorm2d``, ``torch.optim.adam.Adam``,
``torch.utils.data.dataloader.DataLoader``...). For layers and optimizers ember's own
``__module__`` must name torch's place too: whole-model pickles are written from it.
"""
import importlib
import importlib.util
import inspect
import pkgutil
import sys

import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402

ROOTS = ['torch', 'torch.nn', 'torch.nn.functional', 'torch.nn.init', 'torch.nn.parameter',
         'torch.nn.modules', 'torch.nn.utils', 'torch.optim', 'torch.optim.lr_scheduler',
         'torch.utils.data', 'torch.autograd', 'torch.linalg', 'torch.random',
         'torch.functional', 'torch.serialization']
PACKAGES = ['torch.nn.modules', 'torch.nn.utils', 'torch.optim', 'torch.utils.data',
            'torch.autograd']


def _namespaces():
    out = list(ROOTS)
    for pkg in PACKAGES:
        for m in pkgutil.iter_modules(importlib.import_module(pkg).__path__):
            if not m.name.startswith('_'):
                out.append(f'{pkg}.{m.name}')
    return out


def _is_stub(obj):
    return bool(getattr(obj, '_ember_missing', False))


def _ember_counterpart(ns, name):
    ename = 'ember' + ns[len('torch'):]
    try:
        # never import a placeholder module (it would replace a same-named function on its
        # package, as torch.nn.parallel.data_parallel): only modules ember has a file for
        if ename not in sys.modules:
            spec = importlib.util.find_spec(ename)
            if spec is None or not spec.has_location:
                return None
        emod = importlib.import_module(ename)
    except ImportError:
        return None
    if _is_stub(emod):
        return None
    # what the module defines or names in __all__; never a stub made on first access (that
    # would cache it on the module and change what later imports of the same name see)
    obj = vars(emod).get(name)
    if obj is None and name in getattr(emod, '__all__', ()):
        try:
            obj = getattr(emod, name, None)
        except Exception:
            return None
    return None if obj is None or _is_stub(obj) else obj


def _has_file(ename):
    mod = sys.modules.get(ename)
    if mod is not None:
        return not getattr(mod, '_ember_missing', False)
    try:
        spec = importlib.util.find_spec(ename)
    except ImportError:
        return False
    return spec is not None and spec.has_location


def _pairs():
    """(torch path, ember object) for each public class/function ember has."""
    seen = {}
    for ns in _namespaces():
        try:
            tmod = importlib.import_module(ns)
        except Exception:
            continue
        for name in dir(tmod):
            if name.startswith('_'):
                continue
            tobj = getattr(tmod, name, None)
            if not (inspect.isclass(tobj) or inspect.isfunction(tobj)):
                continue
            mod, qual = getattr(tobj, '__module__', None) or '', tobj.__qualname__
            # torch's own public places only (not torch._C, not private wrappers' names)
            if not mod.startswith('torch.') or any(p.startswith('_') for p in mod.split('.')):
                continue
            if any(p.startswith('_') or p == '<locals>' for p in qual.split('.')):
                continue
            # namespaces outside this check (function transforms, TorchScript, typing aliases)
            if mod.split('.')[1] in ('func', 'jit', 'types'):
                continue
            if not _has_file('ember' + mod[len('torch'):]):
                continue   # ember keeps no module there (the API contract's placeholders)
            eobj = _ember_counterpart(ns, name)
            if eobj is not None and (inspect.isclass(eobj) or callable(eobj)):
                seen.setdefault(f'{mod}.{qual}', (eobj, inspect.isclass(tobj)))
    return seen


PAIRS = _pairs()




def _import_path(ember_path, qual):
    mod = importlib.import_module(ember_path)
    for part in qual.split('.'):
        mod = getattr(mod, part)
    return mod


def test_walk_found_enough():
    # the walk itself works: it sees the layers, optimizers and data classes ember has
    for path in ('torch.nn.modules.batchnorm.BatchNorm2d', 'torch.nn.modules.linear.Linear',
                 'torch.optim.adam.Adam', 'torch.utils.data.dataloader.DataLoader',
                 'torch.nn.modules.activation.ReLU', 'torch.nn.parameter.Parameter',
                 'torch.optim.lr_scheduler.StepLR', 'torch.utils.data.sampler.RandomSampler',
                 'torch.nn.modules.activation.MultiheadAttention',
                 'torch.nn.modules.instancenorm.InstanceNorm1d'):
        assert path in PAIRS, path
    assert len(PAIRS) > 300


@pytest.mark.parametrize('path', sorted(PAIRS))
def test_reachable_where_torch_keeps_it(path):
    eobj, _ = PAIRS[path]
    tobj_mod, qual = None, None
    # split the torch path into an importable module and a qualified name
    parts = path.split('.')
    for n in range(len(parts) - 1, 0, -1):
        try:
            importlib.import_module('.'.join(parts[:n]))
        except ImportError:
            continue
        tobj_mod, qual = '.'.join(parts[:n]), '.'.join(parts[n:])
        break
    assert tobj_mod is not None
    got = _import_path('ember' + tobj_mod[len('torch'):], qual)
    if _is_stub(got) and _is_stub(eobj):
        return  # ember lacks it under both names: the API contract's test covers stubs
    assert got is eobj, f"ember{tobj_mod[5:]}.{qual} is not ember's {path.rpartition('.')[2]}"


@pytest.mark.parametrize('path', sorted(p for p, (o, cls) in PAIRS.items() if cls and (
    p.startswith('torch.nn.modules.') or p.startswith('torch.optim.')
    or p.startswith('torch.nn.parameter.'))))
def test_layer_and_optimizer_classes_name_torch_module(path):
    # a whole-model pickle names a class by its __module__: it must be torch's place
    eobj, _ = PAIRS[path]
    mod, _, qual = path.rpartition('.')
    assert f'{eobj.__module__}.{eobj.__qualname__}' == 'ember' + path[len('torch'):]


def test_import_forms_under_hook(tmp_path):
    # the same paths through `import torch...` in a program run by ember
    from _subproc import run_ember, write
    write(tmp_path, 'p.py', '''
        import ember
        from torch.nn.modules.batchnorm import BatchNorm2d
        from torch.nn.modules.linear import Linear
        from torch.optim.adam import Adam
        from torch.utils.data.dataloader import DataLoader
        from torch.nn.modules.activation import ReLU
        from torch.nn.parameter import Parameter
        import torch.nn.functional as F
        print(BatchNorm2d is ember.nn.BatchNorm2d, Linear is ember.nn.Linear,
              Adam is ember.optim.Adam, DataLoader is ember.utils.data.DataLoader,
              ReLU is ember.nn.ReLU, Parameter is ember.nn.Parameter,
              F is ember.nn.functional)
    ''')
    r = run_ember('run', 'p.py', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ['True'] * 7
