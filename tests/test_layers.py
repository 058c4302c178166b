"""The import-direction contract (issue 14): ember's modules form layers that import only
downward, and an import inside a function body is the exception, with its reason beside it.

Read from the source (AST), so every import counts, at module level or inside a function,
whether or not it runs. `python tests/test_layers.py` prints the current figures.

Rules:
- each module of ember belongs to one layer of LAYERS (the first matching pattern); an import
  of an ember module of a higher layer fails, wherever it is written. Importing the facade
  (`import ember`, `from .. import zeros`) is importing layer 5.
- an import inside a function body carries a reason comment on its line or the line above:
  `# cycle: ...`, `# optional: ...` (a package ember does not require) or `# lazy: ...`
  (import time), each saying why; there are at most MAX_FUNCTION_IMPORTS of them.
- ALLOWED lists, per file, the violations not fixed yet (upward imports, and function-body
  imports without a reason): a file may have at most that many. Shrink it; never grow it.
"""
import ast
import os
import re
import sys
from fnmatch import fnmatchcase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, 'ember')

# layer: module patterns (dotted names under `ember.`, fnmatch style; first match wins).
# A module may import its own layer and those below.
LAYERS = [
    (0, 'leaf helpers: dtypes, RNG, constants, torch\'s API tables, grad-mode state, threads',
     ['_dtype', '_random', '_values', '_torch_api', '_torch_modules', 'autograd.grad_mode',
      'backends._flags', '_threads', 'torch_version', '_torch_function', '_enums', '_shm',
      '_kernels', '_cpu', '_lazy']),
    (1, 'Tensor and the autograd engine',
     ['_tensor', '_tensor_str', '_storage', 'storage', '_stubs', 'types', 'version',
      'autograd.graph', 'autograd.function', 'autograd.anomaly_mode', 'autograd.forward_ad']),
    (2, 'ops: the op families and the namespaces built on them',
     ['_ops', '_ops.*', 'linalg', 'fft', 'special', 'signal', 'signal.*', 'random', 'autograd',
      'autograd.functional', 'autograd.gradcheck', 'autograd.variable', 'utils.hooks',
      'autograd.profiler', 'autograd.profiler_util', 'autograd.profiler_legacy', 'futures',
      'distributed', 'distributed.*', 'sparse', 'masked', 'masked.*', '_higher_order',
      'return_types', 'nested', 'nested.*', '_extras', '_jit_types']),
    (3, 'nn: modules, parameters, init, F., nn.utils',
     ['nn', 'nn.*', 'func', 'ao.nn', 'ao.nn.*']),
    (4, 'what trains and stores models',
     ['optim', 'optim.*', 'utils', 'utils.*', 'serialization', 'serialization.*',
      'distributions', 'distributions.*', 'amp', 'amp.*', 'testing', 'ao', 'ao.*',
      'quantization', 'quantization.*', 'multiprocessing', 'multiprocessing.*']),
    (5, 'the facade (functional is a view of it), devices and tools',
     ['', 'functional', '__main__', '_misc', '_cli', '_hook', '_runner', '_launch', '_compat',
      '_compile', 'compiler', 'compiler.*', 'profiler', 'profiler.*', 'hub', 'overrides',
      'library', '_oplib', '_schema', '_C',
      '_demo*', 'jit', 'jit.*', 'onnx', 'onnx.*', 'cuda', 'cuda.*', 'cpu', 'cpu.*', 'mps',
      'mps.*', 'accelerator', 'accelerator.*', 'backends',
      'backends.*', 'xpu', 'mtia', 'monitor', '_nodevice']),
]

MAX_FUNCTION_IMPORTS = 16
REASON = re.compile(r'#\s*(cycle|optional|lazy):\s*\S')

# Violations not fixed yet, per file: (upward imports, function-body imports without a reason).
# Being cleaned file by file (issue 14); an entry may only shrink.
ALLOWED = {}


def _modules():
    """{dotted name: path} for every module of ember."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(PKG):
        dirnames[:] = sorted(d for d in dirnames if d != '__pycache__')
        for fn in sorted(filenames):
            if fn.endswith('.py'):
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
                out[rel[:-len('.__init__')] if rel.endswith('.__init__') else rel] = path
    return out


MODULES = _modules()


def layer_of(module):
    name = module[len('ember.'):] if module != 'ember' else ''
    for layer, _, patterns in LAYERS:
        if any(fnmatchcase(name, p) for p in patterns):
            return layer
    raise AssertionError(f'{module} is in no layer: add it to LAYERS in tests/test_layers.py')


def _targets(module, node, is_pkg):
    """The ember modules an import statement imports."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split('.')[0] == 'ember']
    if node.level:
        base = module.split('.') if is_pkg else module.split('.')[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = '.'.join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ''
    if target.split('.')[0] != 'ember':
        return []
    out = []
    for a in node.names:
        sub = f'{target}.{a.name}'
        out.append(sub if sub in MODULES else target)  # `from . import x`: x may be a module
    return sorted(set(out))


class Import:
    def __init__(self, module, path, node, in_function, targets, reason):
        self.module, self.path, self.node = module, path, node
        self.in_function, self.targets, self.reason = in_function, targets, reason

    @property
    def file(self):
        return os.path.relpath(self.path, ROOT).replace(os.sep, '/')

    def upward(self):
        here = layer_of(self.module)
        return [t for t in self.targets if layer_of(t) > here]

    def __str__(self):
        return f'{self.file}:{self.node.lineno}: {ast.unparse(self.node)}'


def imports():
    out = []
    for module, path in sorted(MODULES.items()):
        with open(path, encoding='utf-8') as f:
            source = f.read()
        lines = source.splitlines()
        is_pkg = path.endswith('__init__.py')

        def walk(node, in_function):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    around = lines[max(child.lineno - 2, 0):child.end_lineno]
                    reason = any(REASON.search(line) for line in around)
                    out.append(Import(module, path, child, in_function,
                                      _targets(module, child, is_pkg), reason))
                walk(child, in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
        walk(ast.parse(source, path), False)
    return out


def violations():
    """{file: (upward imports, function-body imports without a reason)} and the reasoned
    function-body imports."""
    per_file, reasoned = {}, []
    for imp in imports():
        up = bool(imp.upward())
        unreasoned = imp.in_function and not imp.reason
        if imp.in_function and imp.reason:
            reasoned.append(imp)
        if up or unreasoned:
            u, n = per_file.get(imp.file, ([], []))
            if up:
                u.append(imp)
            if unreasoned:
                n.append(imp)
            per_file[imp.file] = (u, n)
    return per_file, reasoned


def test_every_module_has_a_layer():
    for module in MODULES:
        assert layer_of(module) in {layer for layer, _, _ in LAYERS}


def test_imports_go_only_downward_and_function_imports_say_why():
    per_file, _ = violations()
    errors = []
    for file, (up, unreasoned) in sorted(per_file.items()):
        max_up, max_unreasoned = ALLOWED.get(file, (0, 0))
        if len(up) > max_up:
            errors.append(f'{file}: {len(up)} upward imports (allowed {max_up}):')
            errors += [f'    {i}  -> layer {max(layer_of(t) for t in i.upward())} from '
                       f'{layer_of(i.module)}' for i in up]
        if len(unreasoned) > max_unreasoned:
            errors.append(f'{file}: {len(unreasoned)} function-body imports without a '
                          f'"# cycle:/optional:/lazy:" reason (allowed {max_unreasoned}):')
            errors += [f'    {i}' for i in unreasoned]
    assert not errors, '\n'.join(errors)


def test_allow_list_names_existing_files():
    for file in ALLOWED:
        assert os.path.exists(os.path.join(ROOT, file)), file


def test_at_most_forty_function_body_imports():
    _, reasoned = violations()
    assert len(reasoned) <= MAX_FUNCTION_IMPORTS, '\n'.join(map(str, reasoned))


def test_the_checker_sees_both_kinds_of_violation(tmp_path):
    # the rules themselves, on a made-up module: an upward import and a bare lazy import
    node = ast.parse('def f():\n    from ..nn import functional\n').body[0].body[0]
    imp = Import('ember._ops.loss', 'ember/_ops/loss.py', node, True,
                 _targets('ember._ops.loss', node, False), False)
    assert imp.targets == ['ember.nn.functional'] and imp.upward() == ['ember.nn.functional']
    facade = ast.parse('from .. import zeros').body[0]
    assert _targets('ember.nn.init', facade, False) == ['ember']
    assert layer_of('ember') == 5 and layer_of('ember._tensor') == 1
    assert REASON.search('    import scipy  # optional: scipy is not a dependency')
    assert not REASON.search('    import scipy  # needed')


def report():
    per_file, reasoned = violations()
    all_imports = imports()
    fb = [i for i in all_imports if i.in_function]
    up = [i for i in all_imports if i.upward()]
    print(f'function-body imports: {len(fb)} ({len(reasoned)} with a reason, '
          f'at most {MAX_FUNCTION_IMPORTS} allowed)')
    print(f'upward imports: {len(up)}')
    for file, (u, n) in sorted(per_file.items()):
        print(f'  {file}: {len(u)} upward, {len(n)} function-body without a reason')


if __name__ == '__main__':
    sys.path.insert(0, ROOT)
    if '--allowed' in sys.argv:  # print the ALLOWED table for today's violations
        for file, (u, n) in sorted(violations()[0].items()):
            print(f"    '{file}': ({len(u)}, {len(n)}),")
    else:
        report()
