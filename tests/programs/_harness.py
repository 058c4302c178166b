"""Run one PyTorch program twice, on torch and on ember, and compare what it prints.

A program is ordinary PyTorch source (`import torch`, `import torch.nn as nn`,
`from torch.utils.data import DataLoader`, ...). For the ember run, the `torch*` entries of
sys.modules are swapped for ember's own modules while the program executes, so the program
text is the same for both libraries: exactly the promise `import ember as torch` makes.
"""
import contextlib
import importlib
import importlib.abc
import io
import pkgutil
import re
import sys
import types

import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


def _ember_modules():
    """Every ember submodule, imported once, keyed by the torch name it stands for."""
    for info in pkgutil.walk_packages(ember.__path__, 'ember.'):
        try:
            importlib.import_module(info.name)
        except Exception:  # an optional backend that cannot load here stays absent
            pass
    return {'torch' + name[len('ember'):]: mod for name, mod in sys.modules.items()
            if name == 'ember' or name.startswith('ember.')}


class _NoRealTorch(importlib.abc.MetaPathFinder):
    """While ember stands in for torch, a torch submodule ember lacks must not load torch's."""

    def find_spec(self, name, path=None, target=None):
        if name == 'torch' or name.startswith('torch.'):
            raise ModuleNotFoundError(f"ember has no module {name!r}", name=name)
        return None


@contextlib.contextmanager
def _as_torch(lib):
    if lib is torch:
        yield
        return
    saved = {k: v for k, v in sys.modules.items() if k == 'torch' or k.startswith('torch.')}
    for k in saved:
        del sys.modules[k]
    sys.modules.update(_ember_modules())
    finder = _NoRealTorch()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if k == 'torch' or k.startswith('torch.')]:
            del sys.modules[k]
        sys.modules.update(saved)


def run(source, lib, name='program'):
    """Execute `source` with `lib` as torch; return (stdout text, the program's globals)."""
    out = io.StringIO()
    # a real module, so that torch.save(model) can pickle classes the program defines
    mod = types.ModuleType(f'_program_{name}')
    mod.__file__ = f'<{name}>'
    glb = mod.__dict__
    code = compile(source, f'<{name}>', 'exec')
    sys.modules[mod.__name__] = mod
    try:
        with _as_torch(lib), contextlib.redirect_stdout(out):
            exec(code, glb)
    finally:
        del sys.modules[mod.__name__]
    ember.autograd.grad_mode._State.enabled = True
    torch.set_grad_enabled(True)
    return out.getvalue(), glb


_NUM = re.compile(r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf')


_ADDR = re.compile(r' at 0x[0-9a-fA-F]+')


def assert_same_output(e_out, t_out, rtol=0.0, atol=0.0):
    """Equal line by line; with a tolerance, printed numbers may differ by that much.

    The text around the numbers must match exactly either way (reprs, names, formatting).
    Object addresses (`<AddBackward0 object at 0x...>`) are the only thing masked.
    """
    e_out, t_out = _ADDR.sub(' at 0x?', e_out), _ADDR.sub(' at 0x?', t_out)
    if rtol == 0 and atol == 0:
        assert e_out == t_out
        return
    e_lines, t_lines = e_out.splitlines(), t_out.splitlines()
    assert len(e_lines) == len(t_lines), (e_out, t_out)
    for el, tl in zip(e_lines, t_lines):
        if el == tl:
            continue
        assert _NUM.sub('#', el) == _NUM.sub('#', tl), (el, tl)
        for a, b in zip(_NUM.findall(el), _NUM.findall(tl)):
            if a == b:
                continue
            fa, fb = float(a), float(b)
            assert abs(fa - fb) <= atol + rtol * abs(fb), (el, tl)


def compare(source, rtol=0.0, atol=0.0, name='program'):
    """Run on both libraries and compare; returns both globals for further checks."""
    t_out, t_glb = run(source, torch, name)
    e_out, e_glb = run(source, ember, name)
    assert_same_output(e_out, t_out, rtol, atol)
    return t_glb, e_glb
