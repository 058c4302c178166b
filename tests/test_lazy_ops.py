"""The op families `import ember` leaves for first use (ember/_ops/_lazy_ops.py): their Tensor
methods and functions must behave as if loaded. Each check runs in a fresh interpreter, as a
user's program starts."""
import os
import subprocess
import sys
import textwrap

from _subproc import env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(source):
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(source)], env=env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_committed_table_is_up_to_date():
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'gen_lazy_ops.py'),
                        '--check'], env=env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout


def test_import_ember_leaves_the_families_unloaded():
    out = _run('''
        import sys, ember
        from ember._ops import _lazy_ops
        later = _lazy_ops.FAMILIES + ['ember.optim', 'ember.optim.sgd', 'ember.optim.adam',
                                      'ember.linalg', 'ember.sparse', 'ember.utils.dlpack']
        print(sorted(m for m in later if m in sys.modules), len(_lazy_ops.METHODS) > 20,
              len(_lazy_ops.TOP) > 20)
    ''')
    assert out == '[] True True'


def test_each_placeholder_loads_its_family_and_gives_the_declared_method():
    # every name, through an instance and through the class, each in a fresh interpreter per
    # family (the first lookup is the one that loads)
    out = _run('''
        import subprocess, sys
        from ember._ops import _lazy_ops
        bad = []
        for family in _lazy_ops.FAMILIES:
            names = sorted(n for n, f in _lazy_ops.METHODS.items() if f == family)
            if not names:  # a family of functions only
                continue
            src = f"""
        import sys, ember
        from ember import _tensor
        t = ember.ones(2)
        first = {names[0]!r}
        assert {family!r} not in sys.modules
        by_instance = getattr(t, first)
        assert {family!r} in sys.modules
        bad = []
        for n in {names!r}:
            declared = _tensor._DECLARED[n][1]
            got = ember.Tensor.__dict__[n]
            if got is not declared or isinstance(got, _tensor._LazyMethod):
                bad.append(n)
            member = getattr(ember.Tensor, n)
            if callable(declared) and not isinstance(declared, property) and member is not declared:
                bad.append(n)
        if isinstance(ember.Tensor.__dict__[first], property):
            pass
        elif getattr(by_instance, '__func__', None) is not _tensor._DECLARED[first][1]:
            bad.append('instance:' + first)
        print(bad)
        """
            r = subprocess.run([sys.executable, '-c', src], capture_output=True, text=True)
            if r.returncode or r.stdout.strip() != '[]':
                bad.append((family, r.stdout.strip(), r.stderr[-500:]))
        print(bad)
    ''')
    assert out == '[]'


def test_placeholders_on_a_subclass_and_class_access():
    out = _run('''
        import sys, ember

        class Mine(ember.Tensor):
            def igamma(self, other):  # a subclass's own method wins over the placeholder
                return 'mine'

        x = ember.tensor([0.5, 1.5])
        m = x.as_subclass(Mine)
        print(m.igamma(x), 'ember._ops.special' in sys.modules)
        # the first call through the placeholder returns what a loaded op returns
        print(type(m.i0()) is type(m.exp()), 'ember._ops.special' in sys.modules)
        print(Mine.polygamma is ember.Tensor.polygamma, hasattr(x, 'q_scale'))
    ''')
    assert out.split('\n') == ['mine False', 'True True', 'True True']


def test_values_match_the_loaded_families():
    # the first call through a placeholder computes what the family computes
    out = _run('''
        import ember
        x = ember.tensor([0.25, 1.0, 2.5], dtype=ember.float64)
        a = x.i0().tolist()
        b = ember.i0(x).tolist()
        y = x.clone().requires_grad_()
        y.polygamma(1).sum().backward()
        c = y.grad.tolist()
        d = ember.hann_window(5, periodic=False).tolist()
        print(a == b, c == ember.polygamma(2, x).tolist(), d == [0.0, 0.5, 1.0, 0.5, 0.0])
    ''')
    assert out == 'True True True'


def test_top_level_names_are_the_families_objects_and_not_stubs():
    out = _run('''
        import importlib, ember
        from ember import _stubs
        from ember._ops import _lazy_ops
        bad = []
        for name, family in sorted(_lazy_ops.TOP.items()):
            got = getattr(ember, name)
            if got is not getattr(importlib.import_module(family), name) or _stubs.is_missing(got):
                bad.append(name)
        for name in _lazy_ops.METHODS:
            if _stubs.is_missing(ember.Tensor.__dict__[name]):
                bad.append('Tensor.' + name)
        print(bad)
    ''')
    assert out == '[]'


def test_in_place_function_forms_of_lazy_methods():
    # torch.i0_(x): made from the Tensor method at import, without loading the family
    out = _run('''
        import sys, ember
        x = ember.tensor([0.0, 1.0])
        print('ember._ops.special' in sys.modules, ember.i0_(x) is x, x.tolist()[0])
    ''')
    assert out == 'False True 1.0'


def test_optimizers_load_on_first_use():
    out = _run('''
        import sys, ember
        import ember.optim as optim
        names = [n for n in optim.__all__ if n not in ('lr_scheduler', 'swa_utils')]
        loaded = [getattr(optim, n) for n in names]
        from ember.optim import SGD
        print(all(isinstance(c, type) and issubclass(c, optim.Optimizer) for c in loaded),
              SGD is optim.sgd.SGD, optim.AdamW.__module__)
    ''')
    assert out == 'True True ember.optim.adamw'
