"""Every recorded op agrees with its gradient formula, checked without running the op (issue 14).

A forward records its node with ``_record(NodeClass, data, inputs, name=value, ...)`` (or
``_attach(tensor, NodeClass, inputs, name=value, ...)``), where NodeClass comes from
``@derivative`` and the keywords are the formula's parameters after ``grad``. ``_record``
only checks that at forward time, and only on the paths a test happens to run; this reads every
call in ember/ from the source (AST) instead:

1. the node argument of each call is resolved to its class(es): a module-level name (the class
   itself, or a dict/tuple of classes subscripted), a conditional expression, a local variable
   assigned one of those, or a parameter of the enclosing function (a helper such as
   ``_resample(input, plan, node)`` or ``_fused(op, compute, inputs, **saved)``), followed to
   every call of that helper. The keywords must satisfy required <= given <= all parameters.
   A ``**`` splat is allowed only to forward a helper's own ``**saved`` to its callers, which
   are then checked instead. A helper may hold several ``_record`` calls and pick the one
   fitting its node (``_unary`` in elementwise.py): each class must fit one of them.
2. every class ``@derivative`` registered (graph._DERIVATIVES) is recorded by some call;
3. every node class has a torch-style grad_fn name.

`python tests/autograd/test_derivative_decls.py` prints the figures.
"""
import ast
import importlib
import os
import re

import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if __name__ == '__main__':
    sys.path.insert(0, ROOT)

import ember  # noqa: E402
from ember.autograd import graph  # noqa: E402

PKG = os.path.join(ROOT, 'ember')

# The old string-keyed table (autograd/derivatives.py) is gone: a call that names its node by a
# string (found after following helpers to their callers) is an error.
MAX_STRING_RECORDS = 0

RECORDERS = {'_record': 0, '_attach': 1, '_record_outputs': 0}  # name -> node argument's position

# torch's grad_fn names: <Op>Backward<N>, plus the few nodes torch names otherwise
NAME_RE = re.compile(r'^[A-Z][A-Za-z0-9]*Backward[0-9]+$')
OTHER_NAMES = {'CopySlices', 'CopyBackwards', 'NotImplemented', 'AccumulateGrad',
               'DiagonalBackward0_copy'}  # torch.diag of a matrix

LEGACY = 'string key'


class Unresolved(Exception):
    pass


# ---- reading the source ---------------------------------------------------------------------

def _modules():
    """(dotted name, path, tree, parent map) of every ember module that records a node."""
    out = []
    for dirpath, _, files in os.walk(PKG):
        for f in sorted(files):
            if not f.endswith('.py'):
                continue
            path = os.path.join(dirpath, f)
            with open(path, encoding='utf-8') as fh:
                src = fh.read()
            if '_record' not in src and '_attach(' not in src and 'derivative' not in src:
                continue
            rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
            name = rel[:-len('.__init__')] if rel.endswith('.__init__') else rel
            tree = ast.parse(src, path)
            parents = {}
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    parents[child] = node
            out.append((name, path, tree, parents))
    return out


MODULES = _modules()


def _callee(call):
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def _functions(node, parents):
    """The enclosing function definitions of node, innermost first."""
    out = []
    p = parents.get(node)
    while p is not None:
        if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            out.append(p)
        p = parents.get(p)
    return out


def _params(fn):
    a = fn.args
    return [x.arg for x in a.posonlyargs + a.args], [x.arg for x in a.kwonlyargs], \
        (a.kwarg.arg if a.kwarg else None)


def _local_values(fn, name):
    """The expressions assigned to `name` in fn's own body (not in nested functions), or None."""
    values = []
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Name) and t.id == name:
                    values.append(n.value)
                elif isinstance(t, (ast.Tuple, ast.List)):
                    for i, e in enumerate(t.elts):
                        if isinstance(e, ast.Name) and e.id == name:
                            values.append(_item(n.value, i))
        elif isinstance(n, (ast.AnnAssign, ast.AugAssign)) and isinstance(n.target, ast.Name) \
                and n.target.id == name and n.value is not None:
            values.append(n.value)
        elif isinstance(n, ast.For) and isinstance(n.target, ast.Name) and n.target.id == name:
            if not isinstance(n.iter, (ast.Tuple, ast.List)):
                raise Unresolved(f"loop variable {name} over a non-literal")
            values.extend(n.iter.elts)
        todo.extend(ast.iter_child_nodes(n))
    return values or None


def _item(value, i):
    """Item i of an unpacked assignment's value: `a, b = (X, 1) if c else (Y, 2)`."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return value.elts[i]
    if isinstance(value, ast.IfExp):
        return ast.IfExp(value.test, _item(value.body, i), _item(value.orelse, i))
    raise Unresolved(f"unpacking {ast.unparse(value)}")


def _call_sites(mod, fn_name):
    """Calls of the helper fn_name: in its own module and in modules importing it by name."""
    short = mod[0].rsplit('.', 1)[-1]
    for m in MODULES:
        if m is not mod:
            imported = any(isinstance(n, ast.ImportFrom) and (n.module or '').endswith(short)
                           and any(a.name == fn_name and a.asname is None for a in n.names)
                           for n in ast.walk(m[2]))
            if not imported:
                continue
        for n in ast.walk(m[2]):
            if isinstance(n, ast.Call) and _callee(n) == fn_name:
                yield m, n


def _argument(call, fn, param, default=False):
    """The expression call passes for fn's parameter `param`; if left out, None (or with
    default=True the parameter's default value)."""
    pos, kwonly, _ = _params(fn)
    for kw in call.keywords:
        if kw.arg == param:
            return kw.value
    if param in pos:
        i = pos.index(param)
        if any(isinstance(a, ast.Starred) for a in call.args[:i + 1]):
            raise Unresolved(f"*args passed to {fn.name}")
        if i < len(call.args):
            return call.args[i]
    if not default:
        return None
    a = fn.args
    if param in pos:
        defaults = a.defaults
        i = pos.index(param) - (len(pos) - len(defaults))
        return defaults[i] if i >= 0 else None
    d = a.kw_defaults[kwonly.index(param)]
    return d


def _module_function(mod, name):
    for n in mod[2].body:
        if isinstance(n, ast.FunctionDef) and n.name == name:
            return n
    return None


# ---- resolving the node argument ------------------------------------------------------------

def _runtime(mod, expr):
    """Evaluate an expression of module-level names in the imported module."""
    module = importlib.import_module(mod[0])
    try:
        return eval(compile(ast.Expression(expr), mod[1], 'eval'), vars(module))
    except Exception as e:  # a local name or something else not known at module level
        raise Unresolved(f"{ast.unparse(expr)}: {e}") from None


def _classify(obj, expr):
    if isinstance(obj, str):
        return [LEGACY]
    if isinstance(obj, type) and issubclass(obj, graph.Node) and obj._formula is not None:
        return [obj]
    if isinstance(obj, dict):
        return [c for v in obj.values() for c in _classify(v, expr)]
    if isinstance(obj, (tuple, list)):
        return [c for v in obj for c in _classify(v, expr)]
    raise Unresolved(f"{ast.unparse(expr)} is {obj!r}, not a @derivative class")


def _resolve(mod, expr, parents, depth=0):
    """[(class or LEGACY, call that gives it or None, helper fn or None)] for a node argument.

    The second and third items say where a helper's parameter was bound: the keywords to check
    may then come from that call (a forwarded **saved)."""
    if depth > 6:
        raise Unresolved("helpers nested too deep")
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [(LEGACY, None, None)]
    if isinstance(expr, ast.JoinedStr) or isinstance(expr, ast.BinOp) and any(
            isinstance(x, ast.Constant) and isinstance(x.value, str)
            for x in (expr.left, expr.right)):
        return [(LEGACY, None, None)]
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and \
            _module_function(mod, expr.func.id) is not None:
        # a helper choosing the node: whatever it returns
        fn = _module_function(mod, expr.func.id)
        returns = [n.value for n in ast.walk(fn) if isinstance(n, ast.Return)
                   and n.value is not None and _functions(n, parents)[0] is fn]
        if not returns:
            raise Unresolved(f"{fn.name} returns nothing")
        return [r for v in returns for r in _resolve(mod, v, parents, depth + 1)]
    if isinstance(expr, ast.IfExp):
        return _resolve(mod, expr.body, parents, depth) + \
            _resolve(mod, expr.orelse, parents, depth)
    if isinstance(expr, ast.Subscript) and not isinstance(expr.value, ast.Name):
        raise Unresolved(ast.unparse(expr))
    if isinstance(expr, ast.Subscript):
        inner = _resolve(mod, expr.value, parents, depth)
        return inner
    if isinstance(expr, ast.Name):
        for fn in _functions(expr, parents):
            if isinstance(fn, ast.Lambda):
                continue
            values = _local_values(fn, expr.id)
            if values is not None:
                return [r for v in values for r in _resolve(mod, v, parents, depth)]
            pos, kwonly, _ = _params(fn)
            if expr.id in pos or expr.id in kwonly:
                out = []
                for m, call in _call_sites(mod, fn.name):
                    arg = _argument(call, fn, expr.id)
                    where = m
                    if arg is None:  # left to its default, written in the helper's module
                        arg, where = _argument(call, fn, expr.id, default=True), mod
                    if arg is None:
                        raise Unresolved(f"{fn.name} called without {expr.id}")
                    out += [(c, call, fn)
                            for c, _, _ in _resolve(where, arg, where[3], depth + 1)]
                if not out:
                    raise Unresolved(f"helper {fn.name} is never called")
                return out
    if isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript)):
        return [(c, None, None) for c in _classify(_runtime(mod, expr), expr)]
    raise Unresolved(ast.unparse(expr))


def _sites():
    """Every _record/_attach call: (where, [(class or LEGACY, keyword names, problem)])."""
    sites = []
    for mod in MODULES:
        _, path, tree, parents = mod
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or _callee(call) not in RECORDERS:
                continue
            k = RECORDERS[_callee(call)]
            where = f"{os.path.relpath(path, ROOT)}:{call.lineno}"
            if len(call.args) <= k:
                sites.append((where, call, [], f"no node argument"))
                continue
            try:
                resolved = _resolve(mod, call.args[k], parents)
            except Unresolved as e:
                sites.append((where, call, [], f"node argument not resolvable: {e}"))
                continue
            sites.append((where, call, resolved, None))
    return sites


def _given(call, k, helper, site_call, outer):
    """The keyword names saved for one resolution, and a problem (or None)."""
    names = set()
    for kw in call.keywords:
        if kw.arg is not None:
            names.add(kw.arg)
            continue
        # a ** splat: only a helper forwarding its own **saved, checked at its caller
        fns = [f for f in _functions(call, outer) if not isinstance(f, ast.Lambda)]
        kwarg = _params(fns[0])[2] if fns else None
        if not (isinstance(kw.value, ast.Name) and kw.value.id == kwarg and helper is fns[0]
                and site_call is not None):
            return None, f"** splat {ast.unparse(kw.value)} (name the saved values)"
        pos, kwonly, _ = _params(helper)
        names |= {kw2.arg for kw2 in site_call.keywords
                  if kw2.arg is not None and kw2.arg not in pos + kwonly}
    extra = call.args[k + 3:]
    if extra:  # positional saved values: the string path's tuple, or a helper forwarding it
        for a in extra:
            if isinstance(a, ast.Name) and helper is not None and site_call is not None \
                    and _argument(site_call, helper, a.id) is None:
                continue  # the helper's positional tuple, left empty by this caller
            return None, "saved values passed by position"
    return names, None


def _check():
    """(problems, string-keyed count, recorded classes)."""
    problems, legacy, recorded = [], 0, set()
    # calls inside one helper that share a node parameter: a class must fit one of them
    groups = {}
    for where, call, resolved, problem in SITES:
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        k = RECORDERS[_callee(call)]
        mod = next(m for m in MODULES if m[1] == os.path.join(ROOT, where.split(':')[0]))
        for cls, site_call, helper in resolved:
            if cls is LEGACY:
                legacy += 1
                continue
            recorded.add(cls)
            given, problem = _given(call, k, helper, site_call, mod[3])
            if problem:
                problems.append(f"{where}: {cls.__name__}: {problem}")
                continue
            fits = cls._required <= given <= set(cls._saved_names)
            key = (id(helper), id(site_call), cls) if helper is not None else (where, cls)
            g = groups.setdefault(key, [where, cls, False, []])
            g[2] = g[2] or fits
            g[3].append(sorted(given))
    for where, cls, fits, given in groups.values():
        if not fits:
            problems.append(
                f"{where}: {cls.__name__} saves {list(cls._saved_names)} (required "
                f"{sorted(cls._required)}); the call passes {' or '.join(map(str, given))}")
    return problems, legacy, recorded


SITES = _sites()
PROBLEMS, N_LEGACY, RECORDED = _check()


def _declared():
    for name, *_ in MODULES:
        importlib.import_module(name)  # each module declares its formulas on import
    return list(graph._DERIVATIVES)


# ---- the tests ------------------------------------------------------------------------------

def test_reader_finds_the_calls():
    # the reader must see the calls it checks (a broken walk would pass everything)
    assert len(SITES) > 100
    assert any(where.startswith(os.path.join('ember', '_ops', 'loss.py')) for where, *_ in SITES)


def test_every_record_call_matches_its_formula():
    assert not PROBLEMS, '\n'.join(PROBLEMS)


def test_string_keyed_records_only_shrink():
    assert N_LEGACY <= MAX_STRING_RECORDS, (
        f"{N_LEGACY} _record/_attach calls still use a string key (at most "
        f"{MAX_STRING_RECORDS}): declare new ops with @derivative beside their forward")


def test_every_declared_formula_is_recorded():
    missing = [f"{c.__name__} ({c._formula.__module__}.{c._formula.__qualname__})"
               for c in _declared() if c not in RECORDED]
    assert not missing, f"declared with @derivative but never recorded: {missing}"


def test_grad_fn_names_are_torch_style():
    classes = set(_declared()) | RECORDED
    # hand-written nodes (the fused RNN layer) too
    for name, path, tree, _ in MODULES:
        for n in ast.walk(tree):
            if isinstance(n, ast.ClassDef) and not n.name.startswith('_') and any(
                    isinstance(b, ast.Name) and b.id == 'Node' for b in n.bases):
                classes.add(getattr(importlib.import_module(name), n.name))
    bad = sorted(c.__name__ for c in classes
                 if not NAME_RE.match(c.__name__) and c.__name__ not in OTHER_NAMES)
    assert not bad, f"not torch-style grad_fn names: {bad}"


# ---- the checker itself, on small made-up modules --------------------------------------------

def test_checker_catches_a_wrong_keyword(tmp_path, monkeypatch):
    from ember.autograd.graph import derivative

    @derivative
    def FakeBackward0(grad, self, other=None):
        return grad, grad

    try:
        src = ("from ember.autograd.graph import _record\n"
               "def ok(x):\n    return _record(FakeBackward0, x, (x,), self=x)\n"
               "def bad(x):\n    return _record(FakeBackward0, x, (x,), selff=x)\n"
               "def splat(x, **kw):\n    return _record(FakeBackward0, x, (x,), **dict(kw))\n")
        tree = ast.parse(src)
        parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        mod = ('ember._ops.loss', os.path.join(PKG, '_ops', 'loss.py'), tree, parents)
        monkeypatch.setitem(vars(importlib.import_module('ember._ops.loss')),
                            'FakeBackward0', FakeBackward0)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _callee(n) == '_record']
        results = {}
        for call in calls:
            fn = _functions(call, parents)[0].name
            (cls, site, helper), = _resolve(mod, call.args[0], parents)
            assert cls is FakeBackward0
            given, problem = _given(call, 0, helper, site, parents)
            results[fn] = problem or (cls._required <= given <= set(cls._saved_names))
        assert results['ok'] is True
        assert results['bad'] is False
        assert 'splat' in results['splat']
    finally:
        graph._DERIVATIVES.remove(FakeBackward0)


if __name__ == '__main__':
    print(f"{len(SITES)} _record/_attach calls; {N_LEGACY} string-keyed; "
          f"{len(RECORDED)} node classes recorded; {len(PROBLEMS)} problems")
    for p in PROBLEMS:
        print(' ', p)
