"""The compiled graph recorder (ember/_kernels/cgraph.c, issue 15): _wrap, _alias and _record in
C build exactly what the Python functions build, hand every uncommon case to the Python _record,
and leak nothing. The whole suite runs on the compiled path when it is built; the last test runs
autograd's recording tests on the Python path (EMBER_KERNELS=0) in a fresh process."""
import gc
import shutil
import subprocess
import sys
import sysconfig
import weakref

import numpy as np
import pytest

import ember
from ember import _kernels, _tensor
from ember._ops.elementwise import AddBackward0, MulBackward0, ReluBackward0
from ember._ops.reduce import SumBackward0
from ember.autograd import graph
from tests import _subproc

CG = _kernels.cgraph()
needs_cgraph = pytest.mark.skipif(CG is None, reason='the compiled recorder is not built')


def _compiler():
    return shutil.which(sysconfig.get_config_var('CC').split()[0] if sysconfig.get_config_var(
        'CC') else 'cc') is not None


def test_the_compiled_recorder_is_used_when_built():
    if CG is None:
        # only a machine without a C compiler (or EMBER_KERNELS=0) runs the Python recorder
        assert not _compiler() or _kernels.why_not() is not None
        assert _tensor._wrap is _tensor._py_wrap and graph._record is graph._py_record
        return
    assert _tensor._wrap is CG.wrap and _tensor._alias is CG.alias
    assert graph._record is CG.record and graph._wrap is CG.wrap
    from ember._ops import _util
    assert _util._record is CG.record


# ---- what a call builds, described without object identities of new objects ----------------

def _tensor_fields(t, inputs):
    def ref(x):  # an input or saved object by its position, anything else by value
        for i, s in enumerate(inputs):
            if x is s:
                return ('input', i)
        return x
    acc = t._grad_acc
    return dict(type=type(t), data=ref(t._data), requires_grad=t._requires_grad,
                grad=t._grad, output_nr=t._output_nr, vc=(type(t._vc), t._vc.value),
                base=t._base, grad_acc=None if acc is None else ref(acc()), hooks=t._hooks,
                grad_fn=None if t.grad_fn is None else _node_fields(t.grad_fn, t, inputs))


def _node_fields(node, out, inputs):
    def ref(x):
        for i, s in enumerate(inputs):
            if x is s:
                return ('input', i)
        return x
    edges = []
    for e in node._next:
        if e is None:
            edges.append(None)
            continue
        fn, nr, shape, dtype = e
        owner = [i for i, t in enumerate(inputs)
                 if isinstance(t, ember.Tensor)
                 and (t.grad_fn is fn or (t._grad_acc and t._grad_acc() is fn))]
        edges.append((type(fn), owner, nr, shape, dtype))
    saved = {}
    for k, v in node._saved.items():
        if v is node._result_alias and v is not None:
            assert v._data is out._data and v._vc is out._vc and v.grad_fn is None
            saved[k] = 'result alias'
        else:
            saved[k] = ref(v)
    versions = None if node._versions is None else [(ref(s), v) for s, v in node._versions]
    return dict(type=type(node), next=edges, saved=saved, versions=versions,
                alias=node._result_alias is not None, pre_hooks=node._pre_hooks,
                hooks=node._hooks, retains=node._retains, metadata=node._metadata,
                anomaly=node._anomaly is not None)


def _both(op, data, inputs, **saved):
    """The compiled and the Python _record's results for one call, described."""
    out_c = CG.record(op, data, inputs, **saved)
    out_p = graph._py_record(op, data, inputs, **saved)
    keys = tuple(inputs) + (data,) + tuple(saved.values())
    return _tensor_fields(out_c, keys), _tensor_fields(out_p, keys), out_c


def _leaf(shape=(2, 3), requires_grad=True, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return ember.tensor(a, requires_grad=requires_grad)


@needs_cgraph
def test_leaf_and_plain_inputs():
    a, b = _leaf(), _leaf(requires_grad=False, seed=1)
    c, p, out = _both(AddBackward0, a._data + b._data, (a, b), alpha=1)
    assert c == p
    assert out.requires_grad and type(out.grad_fn) is AddBackward0
    assert out.grad_fn._next[1] is None and out.grad_fn._next[0][0] is a._grad_acc()


@needs_cgraph
def test_nonleaf_inputs_and_output_numbers():
    x = _leaf((3, 4))
    vals, _ = x.max(dim=1)  # a two-output node's first output
    h = x * 2
    c, p, _ = _both(MulBackward0, vals._data * 2, (vals, h[:, 0]), self=vals, other=h[:, 0])
    assert c == p and c['grad_fn']['versions'] is not None
    c, p, _ = _both(AddBackward0, x._data, (None, x, None), alpha=1)
    assert c == p and c['grad_fn']['next'][0] is None


@needs_cgraph
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_saved_output_and_saved_inputs_with_versions(dtype):
    a = ember.tensor(np.arange(-3, 3, dtype=dtype), requires_grad=True)
    h = a * 1
    h.add_(1)  # h's counter at 1: the versions entry keeps it
    c, p, out = _both(ReluBackward0, np.maximum(h._data, 0), (h,), result=graph._RESULT)
    assert c == p and c['grad_fn']['saved'] == {'result': 'result alias'}
    assert out.grad_fn._versions is None
    c, p, out = _both(MulBackward0, h._data * a._data, (h, a), self=h, other=a)
    assert c == p and c['grad_fn']['versions'] == [(('input', 0), 1), (('input', 1), 0)]
    out.sum().backward()  # the node built in C runs in the engine
    np.testing.assert_array_equal(a.grad.numpy(), (h._data + a._data).astype(dtype))


@needs_cgraph
def test_parameters_and_tensor_subclasses_as_inputs():
    w = ember.nn.Parameter(ember.ones(3))
    x = _leaf((3,), requires_grad=False)
    c, p, out = _both(MulBackward0, w._data * x._data, (w, x), self=None, other=x)
    assert c == p
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), x.numpy())


@needs_cgraph
def test_no_node_without_grad():
    a, b = _leaf(requires_grad=False), _leaf(requires_grad=False)
    c, p, out = _both(AddBackward0, a._data + b._data, (a, b), alpha=1)
    assert c == p and out.grad_fn is None and not out.requires_grad
    x = _leaf()
    with ember.no_grad():
        c, p, out = _both(SumBackward0, x._data.sum(), (x,), shape=(2, 3), axes=None,
                          keepdim=False)
    assert c == p and out.grad_fn is None


@needs_cgraph
def test_uncommon_cases_go_to_the_python_record():
    x = _leaf()
    # saved-tensor hooks: the saved value is packed
    packed = []
    with graph.saved_tensors_hooks(lambda t: packed.append(t) or ('packed', t), lambda p: p[1]):
        out = CG.record(MulBackward0, x._data * 2, (x, None), self=None, other=x)
    assert packed == [x] and out.grad_fn._saved_other is x
    # anomaly mode: the node keeps the forward's trace
    with ember.autograd.detect_anomaly():
        out = CG.record(AddBackward0, x._data, (x,), alpha=1)
    assert out.grad_fn._anomaly is not None
    # saved names that are not the formula's: the Python _record's error
    for kw in ({'self': x}, {'self': x, 'other': x, 'extra': 1}):
        with pytest.raises(TypeError) as c_err:
            CG.record(MulBackward0, x._data, (x,), **kw)
        with pytest.raises(TypeError) as p_err:
            graph._py_record(MulBackward0, x._data, (x,), **kw)
        assert str(c_err.value) == str(p_err.value)
    # a node log (graph._CREATED) sees the node
    log = []
    graph._CREATED[0] = log
    try:
        out = CG.record(AddBackward0, x._data, (x,), alpha=1)
    finally:
        graph._CREATED[0] = None
    assert log == [out.grad_fn]
    # inputs in a list, and an input that is not a Tensor: the Python function's answer
    c, p, _ = _both(AddBackward0, x._data, [x], alpha=1)
    assert c == p
    with pytest.raises(AttributeError):
        CG.record(AddBackward0, x._data, (x, object()), alpha=1)


@needs_cgraph
def test_wrap_and_alias():
    d = np.ones(3, np.float32)
    for args, kw in (((d,), {}), ((d, True), {}), ((d,), {'requires_grad': True})):
        c, p = CG.wrap(*args, **kw), _tensor._py_wrap(*args, **kw)
        assert _tensor_fields(c, (d,)) == _tensor_fields(p, (d,))
        assert c._vc is not p._vc and type(c) is ember.Tensor
    for bad_args, bad_kw in (((), {}), ((d, True, 1), {}), ((d,), {'grad': True})):
        with pytest.raises(TypeError):
            CG.wrap(*bad_args, **bad_kw)
    w = ember.nn.Parameter(ember.ones(2))
    for t in (_leaf(), w, _leaf() * 2):
        a, b = CG.alias(t), _tensor._py_alias(t)
        assert a._vc is t._vc and b._vc is t._vc and a._data is t._data
        assert _tensor_fields(a, (t._data,)) == _tensor_fields(b, (t._data,))
        assert type(a) is ember.Tensor and a.grad_fn is None and not a.requires_grad


@needs_cgraph
def test_binding_checks_the_slots():
    with pytest.raises(ValueError):
        CG.bind_tensor(ember.Tensor, _tensor._VersionCounter, _tensor._FIELDS[:-1])
    with pytest.raises(ValueError):
        CG.bind_graph(graph.Node, ('_next',), graph._State, graph._Anomaly, graph.AccumulateGrad,
                      graph._RESULT, graph._SAVED_HOOKS, graph._CREATED, graph._py_record)
    x = _leaf()
    assert (x * 3).grad_fn is not None  # still bound as before


@needs_cgraph
def test_nothing_leaks():
    x, b = _leaf(), _leaf(seed=2)
    d = x._data + b._data
    gc.collect()
    before = sys.getrefcount(d), sys.getrefcount(x), sys.getrefcount(AddBackward0)
    nodes = []
    for _ in range(200):
        out = CG.record(MulBackward0, d, (x, b), self=x, other=b)
        nodes.append(weakref.ref(out.grad_fn))
        r = CG.record(ReluBackward0, d, (out,), result=graph._RESULT)
        del out, r
    assert all(n() is None for n in nodes)  # freed by reference counting alone
    assert (sys.getrefcount(d), sys.getrefcount(x), sys.getrefcount(AddBackward0)) == before


def test_the_python_recorder_runs_autograd_tests(tmp_path):
    """EMBER_KERNELS=0: the Python _wrap, _alias and _record, through recording's own tests."""
    tests = [f'tests/autograd/{n}.py' for n in ('test_record_paths', 'test_graph_api',
                                                 'test_overhead_paths')]
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-x',
                        '-o', 'addopts=', *tests], cwd=_subproc.ROOT,
                       env=_subproc.env(EMBER_KERNELS='0'), capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    probe = subprocess.run(
        [sys.executable, '-c', 'from ember import _tensor; from ember.autograd import graph; '
         'print(_tensor._wrap is _tensor._py_wrap, graph._record is graph._py_record)'],
        env=_subproc.env(EMBER_KERNELS='0'), capture_output=True, text=True, timeout=120)
    assert probe.stdout.split() == ['True', 'True'], probe.stderr
