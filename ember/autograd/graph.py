"""The autograd graph and its engine.

Every op that runs while grad mode is on, with an input that requires grad, returns a tensor
whose ``grad_fn`` is a ``Node``. A node knows its gradient formula (declared with
``derivative`` beside the op's forward in ``ember/_ops``), the values the formula needs (saved
by name at forward time, tensors checked against in-place changes at backward time) and one
edge per input: the node that produced that input, or the ``AccumulateGrad`` node of a leaf.

``backward`` walks the graph without recursion: one pass counts how many edges lead into each
node, a second pass runs a node once all of its gradients have arrived. Broadcasting is undone
here, once, when a gradient flows along an edge into an input of a smaller shape.
"""
import contextlib
import itertools
import sys
import traceback
import warnings
import weakref
from typing import NamedTuple, Optional

import numpy as np

from .. import _kernels
from .._dtype import from_numpy
from .._threads import blas_single, blas_restore, map_rows
from .._torch_function import State as _TF
from .grad_mode import _State

__all__ = ['Node', 'AccumulateGrad', 'backward', 'grad', 'GradientEdge', 'get_gradient_edge',
           'increment_version', 'saved_tensors_hooks', 'save_on_cpu',
           'disable_saved_tensors_hooks', 'register_multi_grad_hook',
           'allow_mutation_on_saved_tensors']

_RESULT = object()  # marks "the op's own output" in a saved tuple
_new = object.__new__


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


def _raise_freed():
    raise RuntimeError(_FREED)


def _saved_for_apply(node):
    """The saved values `node`'s formula takes: unpacked by their hooks, else checked against
    in-place changes since they were saved."""
    saved = node._saved
    if saved is None:
        _raise_freed()
    if type(saved) is _PackedSaved:
        return saved.unpacked()
    alias = node._result_alias
    if node._versions or alias is not None and alias._vc.value:
        _check_versions(node)
    return saved


class Node:
    """A recorded op: the ``grad_fn`` of the tensors it produced.

    A node built by ``_record`` holds its formula's saved values by name (``_saved``, a dict);
    ``_release`` frees them after a backward that does not retain the graph.
    """
    # _next: one entry per input, None for an input that gets no gradient, else the edge
    # (node, output_nr, shape, dtype): the node the gradient flows into and the input's shape
    # and NumPy dtype, which the engine sums and casts the gradient to (one tuple per edge)
    __slots__ = ('_next', '_saved', '_versions', '_result_alias', '_pre_hooks',
                 '_hooks', '_retains', '_metadata', '_anomaly', '__weakref__')
    _formula = None
    _saved_names = ()  # the formula's parameters after grad: what the forward saves
    _required = frozenset()  # those of them without a default
    _complex = None  # how the formula meets complex values: see _COMPLEX_RULES
    _n_outputs = 1  # _MultiOutputNode and autograd.Function nodes set their own

    def name(self):
        return type(self).__name__

    @property
    def metadata(self):
        """A dict the user may fill (torch's Node.metadata), made on first use."""
        m = self._metadata
        if m is None:
            m = self._metadata = {}
        return m

    def __getattr__(self, attr):
        # torch's grad_fn._saved_<name> (the saved value, unpacked) and _raw_saved_<name> (a
        # SavedTensor); the names are the formula's parameters
        if attr.startswith('_saved_') and attr[7:] in type(self)._saved_names:
            return _saved_value(self, attr[7:])
        if attr.startswith('_raw_saved_') and attr[11:] in type(self)._saved_names:
            if self._saved is None:
                _raise_freed()
            return SavedTensor(self, attr[11:])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self._next)

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return _Handle(self._pre_hooks, fn)

    def __call__(self, *grads):
        return self._apply(list(grads), False)

    # the engine's entry point: grads is a list with one entry per output of this node
    def _apply(self, grads, create_graph):
        saved = _saved_for_apply(self)
        if self._result_alias is not None and create_graph:
            # a saved output must lead back to this node when differentiating again, also from
            # the nodes this formula records (a third pass differentiates those): the formula
            # gets its own alias, linked to this node for good (no cycle: nothing here holds it)
            alias = self._result_alias
            linked = _result_of(self, alias)
            saved = {k: linked if v is alias else v for k, v in saved.items()}
        g = grads[0]
        state = _State
        prev = state.applying
        state.applying = self
        try:
            if self._complex is _HOLOMORPHIC and g is not None and g._data.dtype.kind == 'c':
                # written for real values; conj(f(conj(g))) = g * conj(f'(z)), torch's convention
                out = type(self)._formula(g.conj(), **saved)
                out = tuple(o.conj() if o is not None else None for o in out) \
                    if type(out) is tuple else out.conj()
            else:
                out = type(self)._formula(g, **saved)
        finally:
            state.applying = prev
        return out if type(out) is tuple else (out,)

    def _release(self):
        self._saved = None
        self._result_alias = None
        self._versions = None

    def __repr__(self):
        return f'<{self.name()} object at {hex(id(self))}>'


class _Handle:
    __slots__ = ('_list', '_fn')

    def __init__(self, lst, fn):
        self._list, self._fn = lst, fn

    def remove(self):
        try:
            self._list.remove(self._fn)
        except ValueError:
            pass


class AccumulateGrad(Node):
    """The node at a leaf: adds the incoming gradient into ``variable.grad``.

    As in torch, the node holds its leaf strongly (a graph keeps the leaves it accumulates into
    alive, so backward works after the caller dropped them) and the leaf refers to its node
    weakly (``_grad_acc``), so the pair forms no reference cycle; the node lives as long as
    some graph uses it and is built again by the next forward after that.
    """
    __slots__ = ('_variable',)

    def __init__(self, variable):
        self._variable = variable
        self._next = ()
        self._saved = ()
        self._versions = None
        self._result_alias = None
        self._pre_hooks = None
        self._hooks = None
        self._retains = None
        self._metadata = None
        self._anomaly = None

    @property
    def variable(self):
        return self._variable


def _needs_grad(i):
    """Whether the running formula's input i gets a gradient (torch's needs_input_grad /
    output_mask): a formula may skip the work for an input without an edge. True outside
    the engine (a formula called directly)."""
    node = _State.applying
    return node is None or node._next[i] is not None


def _check_versions(node):
    checks = node._versions or ()
    if node._result_alias is not None:
        # a saved output is not in _versions: it was saved fresh, at version 0
        checks = [(node._result_alias, 0), *checks]
    for t, v, *made_by in checks:       # made_by: the node of an output saved after an
        if t._vc.value != v:            # in-place op (relu_), which is not t's grad_fn
            shape = ', '.join(str(s) for s in t._data.shape)
            # torch names the op that produced the tensor, without the "BackwardN" suffix
            fn = node if t is node._result_alias or made_by else t.grad_fn
            where = ""
            if fn is not None:
                name = fn.name()
                cut = name.rfind('Backward')
                where = f", which is output {t._output_nr} of {name[:cut] if cut > 0 else name}"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [torch.{t.dtype._legacy or t.dtype.name} [{shape}]]{where},"
                f" is at version {t._vc.value}; expected version {v} instead. Hint: enable "
                "anomaly detection to find the operation that failed to compute its gradient, "
                "with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def _edge(t):
    """The (node, output_nr) a gradient for tensor t flows into, or None."""
    if not t._requires_grad:
        return None
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    ref = t._grad_acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._grad_acc = weakref.ref(acc)
    return (acc, 0)


# ---- declaring a gradient, and recording it --------------------------------------------------

_DERIVATIVES = []  # every declared node class, in declaration order (the catalogue)


# ---- complex values ------------------------------------------------------------------------
# torch's convention: the gradient of a real loss L with respect to z = x + iy is
# dL/dx + i dL/dy; for a holomorphic f that is grad * conj(f'(z)). A formula written for real
# values computes grad * f'(z), so for the nodes below (holomorphic or complex-linear ops,
# whose formulas are linear in grad) the node applies it as conj(formula(conj(grad))).
# NATIVE formulas handle complex values themselves. Any other node refuses a complex input at
# backward time (NotImplementedError naming it) instead of giving a wrong gradient.
_HOLOMORPHIC = 'holomorphic'
_NATIVE = 'native'
_COMPLEX_RULES = dict.fromkeys((
    # arithmetic and analytic functions
    'AddBackward0', 'SubBackward0', 'RsubBackward1', 'MulBackward0', 'DivBackward0',
    'DivBackward2', 'NegBackward0', 'ExpBackward0', 'Expm1Backward0', 'LogBackward0',
    'Log2Backward0', 'Log10Backward0', 'Log1PBackward0', 'SinBackward0', 'CosBackward0',
    'TanBackward0', 'SinhBackward0', 'CoshBackward0', 'TanhBackward0', 'SqrtBackward0',
    'RsqrtBackward0', 'ReciprocalBackward0', 'PowBackward0', 'SigmoidBackward0',
    'AddcmulBackward0', 'AddcdivBackward0',
    # linear algebra and reductions
    'MmBackward0', 'BmmBackward0', 'AddmmBackward0', 'AddmvBackward0', 'AddbmmBackward0',
    'BaddbmmBackward0', 'MvBackward0', 'DotBackward0', 'SumBackward0',
    'SumBackward1', 'MeanBackward0', 'MeanBackward1', 'CumsumBackward0',
    # views, copies and selections
    'ViewBackward0', 'UnsafeViewBackward0', 'ExpandBackward0', 'PermuteBackward0',
    'TransposeBackward0', 'TBackward0', 'SqueezeBackward0', 'SqueezeBackward1',
    'SqueezeBackward2', 'SqueezeBackward4', 'UnsqueezeBackward0', 'SelectBackward0',
    'SliceBackward0', 'IndexBackward0', 'IndexSelectBackward0', 'GatherBackward0',
    'TakeBackward0', 'CatBackward0', 'SplitBackward0', 'SplitWithSizesBackward0',
    'UnbindBackward0', 'FlipBackward0', 'RollBackward0', 'CloneBackward0', 'AliasBackward0',
    'RepeatBackward0', 'DiagonalBackward0', 'DiagEmbedBackward0', 'TrilBackward0',
    'TriuBackward0', 'ConstantPadNdBackward0', 'AsStridedBackward0', 'CopySlices',
    'MaskedFillBackward0', 'WhereBackward0', 'IndexAddBackward0', 'ScatterAddBackward0',
    'MaskedSelectBackward0', 'ToCopyBackward0', 'CopyBackwards', 'FftC2CBackward0',
    'StackBackward0', 'Rot90Backward0', 'TraceBackward0', 'LinalgCrossBackward0'),
    _HOLOMORPHIC)
_COMPLEX_RULES.update(dict.fromkeys((
    'AbsBackward0', 'AngleBackward0', 'RealBackward0', 'ImagBackward0', 'ConjBackward0',
    'SgnBackward0', 'ViewAsRealBackward0', 'ViewAsComplexBackward0', 'ComplexBackward0',
    'PolarBackward0', 'FftR2CBackward0', 'FftC2RBackward0', 'LinalgEigBackward0'), _NATIVE))


def _refuse_complex(node):
    raise NotImplementedError(
        f"ember does not implement the gradient of {node.name()} for complex tensors")


def derivative(arg):
    """Declare the gradient formula of an op, beside its forward; gives the node class.

        @derivative
        def ExpBackward0(grad, result):
            return grad * result

    The function's name is torch's grad_fn name (``@derivative('AddBackward0')`` on a function
    of another name declares a variant under a shared torch name). The parameters after
    ``grad`` are the values the forward saves, bound by name:
    ``_record(ExpBackward0, r, (input,), result=_RESULT)``. The formula returns one gradient
    per recorded input (None where an input gets none), written with Tensor ops so that it
    can itself be differentiated; it may return a broadcast shape (the engine sums it down).
    """
    if isinstance(arg, str):
        return lambda formula: _node_type(arg, formula)
    return _node_type(arg.__name__, arg)


def _node_type(name, formula):
    code = formula.__code__
    names = code.co_varnames[1:code.co_argcount]
    n_default = len(formula.__defaults__ or ())
    # a formula whose first parameter is `grads` serves an op with several outputs
    base = _MultiOutputNode if code.co_varnames[0] == 'grads' else Node
    cls = type(name, (base,), {
        '__slots__': (), '_formula': staticmethod(formula), '_saved_names': names,
        '_required': frozenset(names[:len(names) - n_default]),
        '_saved_names_set': frozenset(names), '_complex': _COMPLEX_RULES.get(name)})
    _DERIVATIVES.append(cls)
    return cls


def _check_saved(cls, saved):
    """The names a forward saves must be the formula's parameters (an error in ember itself)."""
    names = saved.keys()
    if not (cls._required <= names and names <= set(cls._saved_names)):
        raise TypeError(f"{cls.__name__} saves {list(cls._saved_names)} (required: "
                        f"{sorted(cls._required)}); the op passed {sorted(names)}")


class _MultiOutputNode(Node):
    """The node of an op with several differentiable outputs (recorded by _record_outputs):
    its formula takes the list of their gradients, None where an output received none."""
    __slots__ = ('_n_outputs',)

    def _apply(self, grads, create_graph):
        saved = _saved_for_apply(self)
        if create_graph and self._versions:
            # saved outputs are plain aliases here: a second order would miss their part
            raise NotImplementedError(
                f"ember does not implement double backward through {self.name()}")
        out = type(self)._formula(list(grads), **saved)
        return out if type(out) is tuple else (out,)


# utils.checkpoint (non-reentrant) lists the nodes a checkpointed region creates here: a
# list while one is being recorded, else None
_CREATED = [None]
# False while the running backward is autograd.grad or backward(inputs=...): the reentrant
# checkpoint cannot serve those (torch.autograd._is_checkpoint_valid)
_CHECKPOINT_VALID = [True]


def _is_checkpoint_valid():
    return _CHECKPOINT_VALID[0]


def _init_node(node, inputs):
    """The one place a node gets its edges and bookkeeping: used by _record, _attach,
    autograd.Function and the fused RNN layers."""
    log = _CREATED[0]
    if log is not None:
        log.append(node)
    edges = []
    for t in inputs:  # one pass: each input's edge with its shape and dtype
        if t is None or not t._requires_grad:
            edges.append(None)
            continue
        d = t._data
        fn = t.grad_fn
        if fn is not None:
            edges.append((fn, t._output_nr, d.shape, d.dtype))
            continue
        ref = t._grad_acc  # a leaf: its AccumulateGrad node (_edge's work, inline)
        fn = ref() if ref is not None else None
        if fn is None:
            fn = AccumulateGrad(t)
            t._grad_acc = weakref.ref(fn)
        edges.append((fn, 0, d.shape, d.dtype))
    node._next = edges  # a list: iterated and indexed, never changed
    node._pre_hooks = node._hooks = node._retains = node._result_alias = node._metadata = \
        node._versions = None
    node._anomaly = _anomaly_trace() if _Anomaly.enabled else None


def _record(op, data, inputs, **saved):
    """Wrap `data` as the output of `op` (a class from @derivative) applied to `inputs`,
    recording a node when grad mode is on and some input requires grad.

    The saved values (`saved`, the formula's parameters) are kept on the node as given;
    _RESULT stands for the output (kept as an alias without a grad_fn, so the graph has no
    cycle). Saved tensors are checked against in-place changes at backward time."""
    out = _wrap(data)
    if not _State.enabled:
        return out
    for t in inputs:
        if t is not None and t._requires_grad:
            break
    else:
        return out
    if saved.keys() != op._saved_names_set:
        _check_saved(op, saved)
    node = _new(op)
    _init_node(node, inputs)
    if saved:
        if _SAVED_HOOKS:
            _save_packed(node, saved, out)
            return out
        versions = None
        for k, s in saved.items():
            if s is _RESULT:
                # checked at version 0 (_check_versions): out's counter is new
                saved[k] = node._result_alias = _alias(out)
                continue
            if s.__class__ is not Tensor and not isinstance(s, Tensor):
                continue
            if versions is None:
                versions = [(s, s._vc.value)]
            else:
                versions.append((s, s._vc.value))
        node._versions = versions
    node._saved = saved
    out.grad_fn = node
    out._requires_grad = True
    return out


def _record_outputs(op, datas, inputs, **saved):
    """_record for an op with several outputs (arrays `datas`): one node, one output number
    per tensor. A saved value that is one of `datas` is saved as that output (an alias, checked
    against in-place changes)."""
    outs = tuple(_wrap(d) for d in datas)
    if not _State.enabled or not any(t is not None and t._requires_grad for t in inputs):
        return outs
    _check_saved(op, saved)
    node = op.__new__(op)
    _init_node(node, inputs)
    node._n_outputs = len(outs)
    if _SAVED_HOOKS:
        for nr, out in enumerate(outs):
            out.grad_fn = node
            out._output_nr = nr
            out._requires_grad = True
        for k, v in saved.items():
            for out, d in zip(outs, datas):
                if v is d:
                    saved[k] = out
        _save_packed(node, saved, None)
        return outs
    versions = []
    for k, v in saved.items():
        for out, d in zip(outs, datas):
            if v is d:
                alias = _alias(out)
                saved[k] = alias
                versions.append((alias, alias._vc.value))
    node._versions = versions or None
    node._saved = saved
    for nr, out in enumerate(outs):
        out.grad_fn = node
        out._output_nr = nr
        out._requires_grad = True
    return outs


def _attach(tensor, op, inputs, **saved):
    """Make `tensor` the output of a new node of class `op` (in-place rebasing)."""
    _check_saved(op, saved)
    node = op.__new__(op)
    _init_node(node, inputs)
    node._saved = saved
    tensor.grad_fn = node
    tensor._output_nr = 0
    tensor._requires_grad = True
    if _SAVED_HOOKS:
        _save_packed(node, saved, tensor)


# ---- the engine -------------------------------------------------------------------------------

def _sum_to(g, shape):
    """Sum gradient g down to `shape` (undoing broadcasting)."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if not _State.enabled:
        # no graph wanted (the usual backward): plain NumPy, no intermediate tensors
        d = g._data
        if dims:
            d = d.sum(axis=dims, keepdims=True)
        return _wrap(d.reshape(shape))
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    if lead or g._data.shape != shape:
        g = g.reshape(shape)
    return g


def _root_edge(t):
    """The edge of a root or an input of a backward: a tensor's, or a GradientEdge itself."""
    if type(t) is GradientEdge:
        return (t.node, t.output_nr)
    return _edge(t)


# elements from which two branches' gradients are added on ember's threads
_SPLIT_ADD = 1 << 18


def _add_grads(a, b):
    """a + b for two gradients reaching one input (a residual connection's): large ones of one
    shape over ranges of their first axis, one per thread, as the split ops before and after
    lay out their batch (each core adds the images it wrote)."""
    if a.size < _SPLIT_ADD:     # the kernels' loop (split from 32K elements) or NumPy's
        fop = _kernels.float_op
        r = None if fop is None else fop(_kernels.FLOAT_ADD, None, a, b)
        return np.add(a, b) if r is None else r
    if a.shape != b.shape or a.dtype != b.dtype or not (a.flags.c_contiguous and
                                                        b.flags.c_contiguous):
        return np.add(a, b)
    out = np.empty_like(a)
    map_rows(lambda lo, hi: np.add(a[lo:hi], b[lo:hi], out=out[lo:hi]), a.shape[0],
             a.size // a.shape[0])
    return out


def _run_backward(roots, root_grads, retain_graph, create_graph, inputs=None,
                  allow_unused=False, accumulate=True, api_grad=False):
    """Propagate root_grads from roots. With `inputs` (autograd.grad), return their grads."""
    # 1. the nodes reachable from the roots, and how many edges lead into each
    deps = {}
    stack = []
    root_edges = [_root_edge(t) for t in roots]
    for e in root_edges:
        if e is not None and e[0] not in deps:
            deps[e[0]] = 0
            stack.append(e[0])
    while stack:
        node = stack.pop()
        for e in node._next:
            if e is None:
                continue
            child = e[0]
            if child in deps:
                deps[child] += 1
            else:
                deps[child] = 1
                stack.append(child)

    captured = None
    wanted = None
    if inputs is not None:
        captured = {}
        wanted = {}
        for i, t in enumerate(inputs):
            e = _root_edge(t)
            if e is not None:
                wanted.setdefault(e[0], []).append((i, e[1]))

    # 2. gradient buffers, one list per node (one slot per output of that node)
    buffers = {}
    ready = []
    for e, g in zip(root_edges, root_grads):
        if e is None:
            continue
        node, nr = e
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    for e in root_edges:
        if e is not None and deps.get(e[0]) == 0 and e[0] not in ready:
            ready.append(e[0])

    prev_task = _TASK[0]
    task = _TASK[0] = _GraphTask(deps, wanted, api_grad)
    # with inputs, only the nodes on a path to one of them run (torch's exec_info)
    run = task.run_set() if wanted is not None else None
    prev = _State.enabled
    _State.enabled = create_graph
    prev_valid = _CHECKPOINT_VALID[0]
    _CHECKPOINT_VALID[0] = inputs is None
    # the formulas are torch's C++ kernels: they see no __torch_function__ (ember.overrides)
    _TF.all_off += 1
    blas = blas_single()    # BLAS's own threads would spin on the core ember's splits use
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if grads is None:
                grads = [None] * node._n_outputs
            if node._pre_hooks and (run is None or node in run or node in wanted):
                for hook in node._pre_hooks:
                    res = hook(tuple(grads))
                    if res is not None:
                        grads = list(res)
            if type(node) is AccumulateGrad:
                if grads[0] is None:
                    continue
                if captured is not None:
                    if node in wanted:
                        if node._variable._hooks:  # a leaf's hooks run before capture
                            grads[0] = _tensor_hooks(node._variable, grads[0])
                        for i, nr in wanted[node]:
                            captured[i] = grads[0]
                elif accumulate:
                    # the list lets go of the gradient: _accumulate may then keep its memory
                    g = grads.pop()
                    grads = None
                    _accumulate(node._variable, g, create_graph, owned=not create_graph)
                continue
            if captured is not None and node in wanted:
                for i, nr in wanted[node]:
                    captured[i] = grads[nr]
            if run is not None and node not in run:
                # not on the way to an input: not run (no hooks, nothing freed), as in torch
                for e in node._next:
                    if e is not None:
                        d = deps[e[0]] - 1
                        deps[e[0]] = d
                        if d == 0:
                            ready.append(e[0])
                continue
            if node._retains:
                for ref in node._retains:
                    rt = ref()
                    if rt is not None and grads[rt._output_nr] is not None:
                        _accumulate_retained(rt, grads[rt._output_nr], create_graph)
            if grads[0] is None and (len(grads) == 1 or all(g is None for g in grads)):
                out = (None,) * len(node._next)
            else:
                if _Anomaly.enabled:
                    out = _apply_with_anomaly(node, grads, create_graph)
                else:
                    out = node._apply(grads, create_graph)
            nxt = node._next
            if node._hooks:
                # post-hooks see gradients already shaped like the node's inputs, None for an
                # input that gets none (torch computes no gradient there)
                out = tuple(_shape_grad(g, e) if g is not None and e is not None else None
                            for g, e in zip(out, nxt))
                for hook in node._hooks:
                    res = hook(out, tuple(grads))
                    if res is not None:
                        out = tuple(res)
            if not retain_graph:
                node._release()
            if len(out) < len(nxt):  # a formula returning fewer: None for the rest
                out = tuple(out) + (None,) * (len(nxt) - len(out))
            i = -1
            for e in nxt:
                i += 1
                if e is None:
                    continue
                child, nr, shape, dtype = e
                if dtype.kind == 'c' and node._complex is None:
                    _refuse_complex(node)
                g = out[i]
                if g is not None:
                    if g.__class__ is not Tensor and not isinstance(g, Tensor):
                        g = Tensor._from_array(np.asarray(g))
                    d = g._data
                    if d.shape != shape:
                        _check_grad_shape(node, i, d.shape, shape)
                        g = _sum_to(g, shape)
                        d = g._data
                    if d.dtype != dtype:
                        g = _cast_grad(g, dtype)
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child._n_outputs
                    prev_g = buf[nr]
                    if prev_g is None:
                        buf[nr] = g
                    elif create_graph:
                        buf[nr] = prev_g + g
                    else:
                        try:
                            buf[nr] = _wrap(_add_grads(prev_g._data, g._data))
                        except NotImplementedError:  # a sparse gradient: its own add
                            buf[nr] = prev_g + g
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    ready.append(child)
            # drop this node's references to the gradients it passed on (see _sole_grad)
            out = g = d = prev_g = grads = None
    finally:
        blas_restore(blas)
        _State.enabled = prev
        _CHECKPOINT_VALID[0] = prev_valid
        _TASK[0] = prev_task
        _TF.all_off -= 1

    if inputs is not None:
        result = []
        for i, t in enumerate(inputs):
            g = captured.get(i)
            if g is None and not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
            result.append(g)
        return tuple(result)
    return None


def _check_grad_shape(node, i, gshape, shape):
    """A gradient must broadcast from the input's shape (torch's validate_outputs)."""
    ok = len(gshape) >= len(shape) and all(
        s == gs or s == 1 for s, gs in zip(shape[::-1], gshape[::-1]))
    if not ok:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {i} - got "
            f"{list(gshape)} but expected shape compatible with {list(shape)}")


def _shape_grad(g, edge):
    """g summed and cast to the shape and dtype of the input along `edge`."""
    if not isinstance(g, Tensor):
        g = Tensor._from_array(np.asarray(g))
    if g._data.shape != edge[2]:
        g = _sum_to(g, edge[2])
    if g._data.dtype != edge[3]:
        g = _cast_grad(g, edge[3])
    return g


def _cast_grad(g, np_dtype):
    if g._data.dtype.kind == 'c' and np_dtype.kind != 'c':
        g = g.real  # a real input's gradient is the real part (torch's engine does the same)
    return g.to(from_numpy(np_dtype))


def _tensor_hooks(t, g):
    """Run t's register_hook hooks on its gradient g; a hook may return a replacement."""
    for hook in t._hooks:
        res = hook(g)
        if res is not None:
            g = res
    return g


_getrefcount = sys.getrefcount
# references to a gradient tensor that the engine handed over and nobody else holds: the
# engine's name, _accumulate's and _sole_grad's parameters, getrefcount's argument; to an
# array held by one tensor (or view) and one name: those two and getrefcount's argument.
# Checked at import (_calibrate_sole); None turns stealing off.
_SOLE_REFS = [4, 3]


def _sole_grad(g):
    """Whether nobody but the caller holds gradient g, its array and the array's memory, so
    that .grad may keep them without a copy (torch's AccumulateGrad steals a gradient whose
    use count says the same). Only C-contiguous arrays covering their whole buffer."""
    limits = _SOLE_REFS
    if limits is None or g._base is not None or _getrefcount(g) > limits[0]:
        return False
    d = g._data
    if type(d) is not np.ndarray or not d.flags.c_contiguous or _getrefcount(d) > limits[1]:
        return False
    owner = d.base
    if owner is None:
        return True
    return (type(owner) is np.ndarray and owner.base is None and owner.nbytes == d.nbytes
            and _getrefcount(owner) <= limits[1])


class _Probe:
    __slots__ = ('_data', '_base')


def _calibrate_sole():
    """Check _SOLE_REFS against this interpreter's reference counts in the engine's own call
    shape (a name in the caller, a parameter in the callee); on any surprise never steal."""
    def engine(arr, hold_tensor, hold_array):
        g = _Probe()
        g._base, g._data = None, arr
        held = (g if hold_tensor else None, arr if hold_array else None)
        del arr
        ok = accumulate(g)
        del held
        return ok

    def accumulate(g):
        return _sole_grad(g)

    cases = [(lambda: np.zeros(4), False, False, True), (lambda: np.zeros(4), True, False, False),
             (lambda: np.zeros(4), False, True, False),
             (lambda: np.zeros((2, 2)).T.T, False, False, True),
             (lambda: np.zeros((2, 2)).T, False, False, False)]
    for make, hold_tensor, hold_array, want in cases:
        if engine(make(), hold_tensor, hold_array) is not want:
            return None
    owner = np.zeros(4)
    if engine(owner.reshape(2, 2), False, False):  # its memory held elsewhere
        return None
    return _SOLE_REFS


_SOLE_REFS = _calibrate_sole()


def _accumulate(t, g, create_graph, hooks=True, owned=False):
    """Add gradient g into t.grad. `owned`: the engine holds g once and lets go of it here."""
    if hooks and t._hooks:
        g = _tensor_hooks(t, g)
        owned = False
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    if g._sparse or (t._grad is not None and t._grad._sparse):
        _accumulate_sparse(t, g, create_graph)
    elif t._grad is None:
        if create_graph:
            t._grad = g
        else:
            # memory nobody else holds is kept (torch's stealing), anything else copied
            t._grad = _wrap(g._data if owned and _sole_grad(g) else g._data.copy())
    elif create_graph or t._grad._requires_grad:
        t._grad = t._grad + g
    else:
        d, gd, fop = t._grad._data, g._data, _kernels.float_op
        # (the kernels' loop reads and writes in pieces: NumPy's add where the two may overlap)
        if fop is None or np.may_share_memory(d, gd) or fop(_kernels.FLOAT_ADD, d, d, gd) is None:
            np.add(d, gd, out=d, casting='unsafe')
        t._grad._vc.value += 1
    for hook in getattr(t, '_post_acc_hooks', None) or ():
        hook(t)


def _accumulate_sparse(t, g, create_graph):
    """A sparse gradient, or a gradient meeting a sparse .grad (torch's AccumulateGrad):
    the first is kept as is, dense += sparse adds in place, anything else is a new sum."""
    old = t._grad
    if old is None:
        t._grad = g if create_graph else g.detach()
    elif not old._sparse and not create_graph and not old._requires_grad:
        g._add_to_dense(old._data)
        old._vc.value += 1
    elif not old._sparse or not g._sparse:
        t._grad = (g + old) if old._sparse else (old + g)
    else:
        t._grad = old + g


def _accumulate_retained(t, g, create_graph):
    if t._hooks:
        g = _tensor_hooks(t, g)
    g = g if create_graph else g.detach()
    if t._grad is None:
        t._grad = g.clone() if not create_graph else g
    else:
        t._grad = t._grad + g


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """ember.autograd.backward: accumulate d(tensors)/d(leaves) into the leaves' .grad."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, (Tensor, GradientEdge)) else tuple(inputs)
        got = _run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                            allow_unused=True, accumulate=False)
        for t, g in zip(inputs, got):
            if g is None:
                continue
            if type(t) is GradientEdge:
                if type(t.node) is AccumulateGrad:
                    _accumulate(t.node.variable, g, create_graph, hooks=False)
            elif t.grad_fn is None:
                _accumulate(t, g, create_graph, hooks=False)  # hooks ran in the engine
            else:
                _accumulate_retained(t, g, create_graph)
        return
    _run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """ember.autograd.grad: the gradients of outputs w.r.t. inputs, leaving .grad untouched."""
    single = isinstance(inputs, (Tensor, GradientEdge))
    outputs = (outputs,) if isinstance(outputs, (Tensor, GradientEdge)) else tuple(outputs)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    for t in inputs:
        if type(t) is not GradientEdge and not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, tuple(grad_outputs))
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    res = _run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                        allow_unused=allow_unused, accumulate=False, api_grad=True)
    if materialize_grads:
        res = tuple(g if g is not None else _wrap(np.zeros_like(_edge_data(t)))
                    for g, t in zip(res, inputs))
    return res


def _make_grads(outputs, grads):
    out = []
    for t, g in zip(outputs, grads):
        if type(t) is GradientEdge:
            if not isinstance(g, Tensor):
                raise RuntimeError("grad_outputs must be given for a GradientEdge output")
            out.append(g)
            continue
        if not t._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn")
        if g is None:
            d = t._data
            if d.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if d.dtype.kind != 'f' and not t.dtype.is_floating_point and \
                    not t.dtype.is_complex:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{t.dtype!r}")
            # np.array of a number is the cheapest fresh array (np.ones_like costs ~1 us)
            g = _wrap(np.array(1, d.dtype) if d.ndim == 0 else np.ones(d.shape, d.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor._from_array(np.asarray(g, dtype=t._data.dtype))
        elif g._data.shape != t._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and "
                f"output[0] has a shape of {tuple(t.shape)}.")
        out.append(g)
    return out


# ---- anomaly mode -----------------------------------------------------------------------------

class _Anomaly:
    enabled = False
    check_nan = True


def _anomaly_trace():
    return ''.join(traceback.format_stack()[:-3])


def _apply_with_anomaly(node, grads, create_graph):
    try:
        out = node._apply(grads, create_graph)
    except Exception:
        if node._anomaly:
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that "
                          f"caused the error:\n{node._anomaly}")
        raise
    if _Anomaly.check_nan:
        for i, g in enumerate(out):
            if g is not None and np.isnan(g._data).any():
                if node._anomaly:
                    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call "
                                  f"that caused the error:\n{node._anomaly}")
                raise RuntimeError(
                    f"Function '{node.name()}' returned nan values in its {i}th output.")
    return out




# ---- torch.autograd.graph: gradient edges, versions, the graph task -----------------------

class GradientEdge(NamedTuple):
    """Where a tensor's gradient is computed: (node, output_nr); usable as `inputs=` (and,
    with grad_outputs, as `outputs=`) of autograd.grad and backward."""
    node: Node
    output_nr: int
    ownership_token: Optional[Node] = None


def _grad_fn_or_acc(t):
    if type(t) is GradientEdge:
        return t.node
    e = _edge(t)
    if e is None:
        raise AssertionError("Expected gradient function to be set")
    return e[0]


def get_gradient_edge(tensor):
    """The GradientEdge of tensor: autograd.grad(loss, get_gradient_edge(x)) is
    autograd.grad(loss, x)."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    return GradientEdge(_grad_fn_or_acc(tensor), tensor._output_nr)


def _edge_data(t):
    if type(t) is GradientEdge:
        if type(t.node) is AccumulateGrad:
            return t.node.variable._data
        raise NotImplementedError(
            "ember does not implement materialize_grads for a GradientEdge of an op's output")
    return t._data


def increment_version(tensor):
    """Bump the version counter of a tensor (or of each tensor of an iterable) written in place
    behind autograd's back."""
    for t in ((tensor,) if isinstance(tensor, Tensor) else tensor):
        t._vc.value += 1


_TASK = [None]  # the running backward's _GraphTask (None outside a backward)
_TASK_IDS = itertools.count()


class _GraphTask:
    """The nodes a running backward reaches (deps), the ones it captures (wanted, with inputs=)
    and an id (torch._C._current_graph_task_id)."""
    __slots__ = ('id', 'deps', 'wanted', 'api_grad', '_needed')

    def __init__(self, deps, wanted, api_grad):
        self.id = next(_TASK_IDS)
        self.deps = deps
        self.wanted = wanted
        self.api_grad = api_grad
        self._needed = None

    def will_execute(self, node):
        if self.api_grad and type(node) is AccumulateGrad:
            raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are "
                               "currently running autograd.grad(). This is currently not "
                               "supported.")
        if node not in self.deps:
            return False
        if self.wanted is None:
            return True
        return node in self.wanted or node in self.run_set()

    def run_set(self):
        """The nodes with a path to a captured one: with inputs=, only they run."""
        if self._needed is None:
            self._needed = self._needed_nodes()
        return self._needed

    def _needed_nodes(self):
        needed = set()
        wanted = self.wanted
        order = []  # children after parents: a reverse walk decides each node once
        seen = set()
        for root in self.deps:
            if root in seen:
                continue
            stack = [(root, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    order.append(node)
                    continue
                if node in seen:
                    continue
                seen.add(node)
                stack.append((node, True))
                for e in node._next:
                    if e is not None and e[0] not in seen:
                        stack.append((e[0], False))
        for node in order:  # post-order: every child decided before its parent
            if any(e is not None and (e[0] in needed or e[0] in wanted) for e in node._next):
                needed.add(node)
        return needed


def _current_graph_task_id():
    return _TASK[0].id if _TASK[0] is not None else -1


def _will_engine_execute_node(node):
    task = _TASK[0]
    if task is None:
        raise RuntimeError("_will_engine_execute_node should only be called during the backward "
                           "pass")
    return task.will_execute(node)


class _MultiHandle:
    __slots__ = ('handles',)

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """fn(grads) once the gradients of all of `tensors` that this backward computes are known
    (None for the others; mode "all"), or fn(grad) with the first of them (mode "any")."""
    supported = ("all", "any")
    if mode not in supported:
        raise ValueError(f"Expects mode to be one of {supported} but got {mode}")
    tensors = list(tensors)
    if mode == "all":
        grad_fns = [_grad_fn_or_acc(t) for t in tensors]
        state = {}  # graph task id -> [calls so far, expected calls, grads]

        def inner(idx):
            def hook(grad):
                tid = _current_graph_task_id()
                if tid == -1:
                    raise AssertionError("expected this hook to be called inside a backward call")
                st = state.get(tid)
                if st is None:
                    n = sum(map(_will_engine_execute_node, grad_fns))
                    st = state[tid] = [0, n, [None] * len(tensors)]
                st[2][idx] = grad
                st[0] += 1
                if st[0] == st[1]:
                    del state[tid]
                    fn(st[2])
            return hook
        handles = tuple(t.register_hook(inner(i)) for i, t in enumerate(tensors))
    else:
        ran = set()

        def hook(grad):
            tid = _current_graph_task_id()
            if tid == -1:
                raise AssertionError("expected this hook to be called inside a backward call")
            if tid in ran:
                return
            ran.add(tid)
            fn(grad)
        handles = tuple(t.register_hook(hook) for t in tensors if t.requires_grad)
    return _MultiHandle(handles)


# ---- saved tensors hooks ------------------------------------------------------------------
# While hooks are on (saved_tensors_hooks), every tensor a node saves goes through the innermost
# pair's pack hook at forward time, and what it returned through the unpack hook when backward
# (or grad_fn._saved_x) uses it. Packed nodes keep no version check (torch's behaviour).

_SAVED_HOOKS = []  # (pack, unpack) pairs, innermost last
_HOOKS_DISABLED = [None]  # the error message while disable_saved_tensors_hooks is on


class _Packed:
    __slots__ = ('packed', 'unpack')

    def __init__(self, packed, unpack):
        self.packed, self.unpack = packed, unpack

    def get(self):
        t = self.unpack(self.packed)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        return t


class _PackedSaved(dict):
    """A node's saved values while some are packed by hooks."""
    __slots__ = ()

    def unpacked(self):
        return {k: v.get() if type(v) is _Packed else v for k, v in self.items()}


def _pack(t, hooks):
    pack, unpack = hooks
    return _Packed(pack(t), unpack)


def _save_packed(node, saved, out):
    hooks = _SAVED_HOOKS[-1]
    if out is not None:
        out.grad_fn = node  # the pack hook sees the output as torch shows it
        out._requires_grad = True
    packed = _PackedSaved()
    for k, v in saved.items():
        if v is _RESULT:
            v = out
        packed[k] = _pack(v, hooks) if isinstance(v, Tensor) else v
    node._versions = None
    node._result_alias = None
    node._saved = packed


def _saved_value(node, name):
    saved = node._saved
    if saved is None:
        _raise_freed()
    v = saved.get(name) if isinstance(saved, dict) else None
    if type(v) is _Packed:
        return v.get()
    return v


class SavedTensor:
    """A tensor a node saved (grad_fn._raw_saved_x): register_hooks(pack, unpack) packs it."""
    __slots__ = ('_node', '_name')

    def __init__(self, node=None, name=None):
        self._node, self._name = node, name

    def register_hooks(self, pack_hook, unpack_hook):
        node = self._node
        if node is None:
            raise RuntimeError("the SavedTensor is not bound to a node")
        saved = node._saved
        if saved is None:
            _raise_freed()
        v = saved.get(self._name)
        if type(v) is _Packed:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have "
                               "already been set. Hint: only one pair of hooks is allowed at a "
                               "time.")
        if not isinstance(v, Tensor):
            raise RuntimeError("None is forbidden")
        if type(saved) is not _PackedSaved:
            saved = _PackedSaved(saved)
        if v is node._result_alias:
            v = _result_of(node, v)
        saved[self._name] = _Packed(pack_hook(v), unpack_hook)
        node._saved = saved
        node._versions = None
        node._result_alias = None


def _result_of(node, alias):
    t = _alias(alias)
    t.grad_fn = node
    t._requires_grad = True
    return t


class saved_tensors_hooks:
    """Context manager: pack_hook(tensor) runs on every tensor an op saves for backward and
    unpack_hook(packed) gives it back when backward needs it (the innermost pair applies)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _HOOKS_DISABLED[0] is not None:
            raise RuntimeError(_HOOKS_DISABLED[0])
        _SAVED_HOOKS.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *args):
        _SAVED_HOOKS.pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU (a copy, as torch keeps a CPU tensor's) and returned to
    their device for backward."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return (t.device, t.detach().clone())

        def unpack(packed):
            device, t = packed
            return t.to(device, non_blocking=pin_memory)
        super().__init__(pack, unpack)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """While on, entering saved_tensors_hooks raises RuntimeError(error_message)."""
    prev = _HOOKS_DISABLED[0]
    try:
        _HOOKS_DISABLED[0] = error_message
        if _SAVED_HOOKS:
            raise RuntimeError(error_message)
        yield
    finally:
        _HOOKS_DISABLED[0] = prev


_MUTATION_ALLOWED = [False]


class _SnapshotOnSave(saved_tensors_hooks):
    """allow_mutation_on_saved_tensors' hooks: a saved tensor is kept with a copy of its values;
    backward gets the tensor itself if it was not written since, else the copy."""

    def __init__(self):
        def pack(t):
            return (t, t._vc.value, t._data.copy())

        def unpack(packed):
            t, version, copy = packed
            if t._vc.value == version:
                return t
            return _wrap(copy)
        super().__init__(pack, unpack)


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Tensors saved for backward may be written in place inside this context: backward uses
    the values they had when saved."""
    with _SnapshotOnSave():
        if _MUTATION_ALLOWED[0]:
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        _MUTATION_ALLOWED[0] = True
        try:
            yield _MutationContext()
        finally:
            _MUTATION_ALLOWED[0] = False


class _MutationContext:
    """What allow_mutation_on_saved_tensors yields (torch's _AllowMutationOnSavedContext)."""

    def __init__(self):
        self.cloned = {}
        self.original = {}
        self.tid_to_weakhandle = {}
        self.sid_to_tid = {}

    def clear(self):
        for d in (self.cloned, self.original, self.tid_to_weakhandle, self.sid_to_tid):
            d.clear()


_STREAM_FLAGS = {'warn_on_accumulate_grad_stream_mismatch': True,
                 'override_stale_capture_stream': False}


def set_warn_on_accumulate_grad_stream_mismatch(enabled):
    """Whether AccumulateGrad warns when its stream differs from the producer's (CUDA streams;
    on the CPU there is one stream, so the flag is only kept)."""
    _STREAM_FLAGS['warn_on_accumulate_grad_stream_mismatch'] = bool(enabled)


def set_override_stale_capture_stream(enabled):
    """CUDA graph capture's stale-stream policy (kept; ember captures no CUDA graphs)."""
    _STREAM_FLAGS['override_stale_capture_stream'] = bool(enabled)


def _bind_tensor(tensor_module):
    """Called by ember._tensor once Tensor exists (the two modules import each other)."""
    global Tensor, _wrap, _alias
    Tensor = tensor_module.Tensor
    _wrap = tensor_module._wrap
    _alias = tensor_module._alias


# _record compiled (ember._kernels.cgraph(), bound once _tensor bound its _wrap) when it is
# built: it records the common case itself and hands every other to the Python _record, which
# stays as _py_record (the tests compare the two).
_py_record = _record
_CGRAPH = _kernels.cgraph()
if _CGRAPH is not None:
    try:
        _CGRAPH.bind_graph(Node, tuple(n for n in Node.__slots__ if n != '__weakref__'),
                             _State, _Anomaly, AccumulateGrad, _RESULT, _SAVED_HOOKS, _CREATED,
                             _py_record)
    except (RuntimeError, TypeError, ValueError):  # not bound by _tensor, or other sources
        _CGRAPH = None
    else:
        _record = _CGRAPH.record
