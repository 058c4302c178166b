"""docs/derivatives.md lists every gradient formula ember declares (tools/gen_derivatives.py)."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _generator():
    spec = importlib.util.spec_from_file_location(
        '_gen_derivatives', os.path.join(ROOT, 'tools', 'gen_derivatives.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_catalogue_is_current():
    gen = _generator()
    with open(gen.OUT, encoding='utf-8') as fh:
        committed = fh.read()
    assert committed == gen.render(), \
        "docs/derivatives.md is stale: run python tools/gen_derivatives.py"


def test_catalogue_lists_every_declared_node():
    from ember.autograd.graph import _DERIVATIVES
    text = _generator().render()
    # a formula shared by several nodes is listed once, under all their names
    listed = {n for line in text.splitlines() if line.startswith('### ')
              for n in line[4:].split(', ')}
    missing = [c.__name__ for c in _DERIVATIVES if c.__name__ not in listed]
    assert not missing
    assert len(_DERIVATIVES) > 200  # every op family has declared its formulas
