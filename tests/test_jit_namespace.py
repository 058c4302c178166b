"""torch.jit's remaining names against torch: the legacy script_method, the fuser and
optimisation switches, run_frozen_optimizations' refusal of a plain module, the traced-module
classes, annotations/frontend helpers."""
import pytest

import ember

torch = pytest.importorskip('torch')

from _oracle import assert_same as _assert_same_both  # noqa: E402


def assert_same(fn):
    return _assert_same_both(fn, torch)


def _ctx(cm):
    with cm:
        return 'entered'


def documented(x, y=2, *, z='a'):
    # type: (int, int, str) -> int
    return x


CASES = {
    'fuser': lambda L: [_ctx(L.jit.fuser(n)) for n in ('fuser0', 'fuser1', 'fuser2', 'none')],
    'fuser_bad': lambda L: _ctx(L.jit.fuser('x')),
    'optimized_execution': lambda L: (_ctx(L.jit.optimized_execution(False)),
                                      _ctx(L.jit.optimized_execution(True))),
    'run_frozen_plain': lambda L: L.jit.run_frozen_optimizations(L.nn.Linear(1, 1)),
    'script_method_no_source': lambda L: L.jit.script_method(eval('lambda self, x: x')),
    'set_module': lambda L: L.jit.set_module is L.utils.set_module,
    'classes': lambda L: [[c.__name__ for c in cls.__mro__ if c.__name__ not in (
        'RecursiveScriptModule',)] for cls in (L.jit.TracedModule, L.jit.ONNXTracedModule,
                                               L.jit.RecursiveScriptClass)],
    'traced_isinstance': lambda L: isinstance(
        L.jit.trace(L.nn.Linear(2, 2), L.ones(1, 2)), (L.jit.TracedModule, L.jit.ScriptModule)),
    'onnx_traced': lambda L: (lambda m: (m.strict, type(m.inner).__name__, list(
        dict(m.named_parameters()))))(L.jit.ONNXTracedModule(L.nn.Linear(1, 1))),
    'frontend_defaults': lambda L: L.jit.frontend.get_default_args(documented),
    'frontend_none': lambda L: L.jit.frontend.get_default_args(None),
    'frontend_reserved': lambda L: [L.jit.frontend.is_reserved_name(n)
                                    for n in ('print', '__jit_x', 'x')],
    'frontend_errors': lambda L: [c.__mro__[1].__name__ for c in (
        L.jit.frontend.NotSupportedError, L.jit.frontend.UnsupportedNodeError,
        L.jit.frontend.FrontendTypeError)],
    'annotations_type_line': lambda L: L.jit.annotations.get_type_line(
        'def f(x):\n    # type: (int) -> int\n    return x\n'),
    'annotations_split': lambda L: L.jit.annotations.split_type_line('# type: (int) -> int'),
    'annotations_split_bad': lambda L: L.jit.annotations.split_type_line('# type: (int)'),
    'annotations_vararg': lambda L: [L.jit.annotations.is_vararg(f) for f in (
        documented, lambda *a: a)],
    'annotations_params': lambda L: L.jit.annotations.get_param_names(documented, 3),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_as_torch(name):
    assert_same(CASES[name])


class Legacy(ember.jit.ScriptModule):
    def __init__(self):
        super().__init__()
        self.w = ember.nn.Parameter(ember.ones(2))

    @ember.jit.script_method
    def forward(self, x):
        return x * self.w


def test_script_method_runs_eagerly():
    assert Legacy()(ember.full((2,), 3.)).tolist() == [3., 3.]


def test_onnx_traced_module_refuses_to_record():
    with pytest.raises(NotImplementedError, match='ONNXTracedModule'):
        ember.jit.ONNXTracedModule(ember.nn.Linear(1, 1))(ember.ones(1, 1))


def test_flatbuffer_refused_and_counted_missing():
    from ember._compat import status
    missing = {n for n, _, ok in status('torch.jit') if not ok}
    assert missing == {'jit_module_from_flatbuffer', 'save_jit_module_to_flatbuffer'}
    with pytest.raises(NotImplementedError, match='flatbuffer'):
        ember.jit.save_jit_module_to_flatbuffer(ember.jit.script(ember.nn.Linear(1, 1)), 'x.ff')


def test_last_graph_of_a_fresh_process(tmp_path):
    """Nothing executed yet: no graph (in this process torch's answer depends on which tests
    traced something before, so each library asks in a process of its own)."""
    import _subproc
    code = 'import {0}; print({0}.jit.last_executed_optimized_graph())'
    got = [_subproc.python('-c', code.format(lib), cwd=tmp_path).stdout for lib in
           ('torch', 'ember')]
    assert got[0] == got[1] == 'None\n'
