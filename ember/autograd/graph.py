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
import traceback
import warnings
import weakref

import numpy as np

from .._dtype import from_numpy
from .grad_mode import _State

__all__ = ['Node', 'AccumulateGrad', 'backward', 'grad']

_RESULT = object()  # marks "the op's own output" in a saved tuple


_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


def _raise_freed():
    raise RuntimeError(_FREED)


class Node:
    """A recorded op: the ``grad_fn`` of the tensors it produced.

    A node built by ``_record`` holds its formula's saved values by name (``_saved``, a dict);
    ``_release`` frees them after a backward that does not retain the graph.
    """
    __slots__ = ('_next', '_shapes', '_saved', '_versions', '_result_alias', '_pre_hooks',
                 '_hooks', '_retains', 'metadata', '_anomaly', '__weakref__')
    _formula = None
    _saved_names = ()  # the formula's parameters after grad: what the forward saves
    _required = frozenset()  # those of them without a default
    _complex = None  # how the formula meets complex values: see _COMPLEX_RULES

    def name(self):
        return type(self).__name__

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
        saved = self._saved
        if saved is None:
            _raise_freed()
        if self._versions:
            _check_versions(self)
        if self._result_alias is not None and create_graph:
            # a saved output must lead back to this node when differentiating again, also from
            # the nodes this formula records (a third pass differentiates those): the formula
            # gets its own alias, linked to this node for good (no cycle: nothing here holds it)
            alias = self._result_alias
            linked = _wrap(alias._data)
            linked._vc = alias._vc
            linked.grad_fn = self
            linked._requires_grad = True
            saved = {k: linked if v is alias else v for k, v in saved.items()}
        g = grads[0]
        if self._complex is _HOLOMORPHIC and g is not None and g._data.dtype.kind == 'c':
            # written for real values; conj(f(conj(g))) = g * conj(f'(z)), torch's convention
            out = type(self)._formula(g.conj(), **saved)
            out = tuple(o.conj() if o is not None else None for o in out) \
                if type(out) is tuple else out.conj()
        else:
            out = type(self)._formula(g, **saved)
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
        self._shapes = ()
        self._saved = ()
        self._versions = None
        self._result_alias = None
        self._pre_hooks = None
        self._hooks = None
        self._retains = None
        self.metadata = {}

    @property
    def variable(self):
        return self._variable


def _check_versions(node):
    for t, v in node._versions:
        if t._vc.value != v:
            shape = ', '.join(str(s) for s in t._data.shape)
            # torch names the op that produced the tensor, without the "BackwardN" suffix
            fn = node if t is node._result_alias else t.grad_fn
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
        if self._saved is None:
            _raise_freed()
        if self._versions:
            _check_versions(self)
        if create_graph and self._versions:
            # saved outputs are plain aliases here: a second order would miss their part
            raise NotImplementedError(
                f"ember does not implement double backward through {self.name()}")
        out = type(self)._formula(list(grads), **self._saved)
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
    shapes = []
    for t in inputs:  # one pass: the edge and the (shape, dtype) of each input
        if t is None:
            edges.append(None)
            shapes.append(None)
            continue
        d = t._data
        shapes.append((d.shape, d.dtype))
        if not t._requires_grad:
            edges.append(None)
        elif t.grad_fn is not None:
            edges.append((t.grad_fn, t._output_nr))
        else:
            edges.append(_edge(t))
    node._next = tuple(edges)
    node._shapes = tuple(shapes)
    node._pre_hooks = node._hooks = node._retains = node._result_alias = None
    node.metadata = None
    node._anomaly = _anomaly_trace() if _Anomaly.enabled else None
    node._versions = None


def _save(node, saved, out):
    """Keep `saved` (a dict) on node; _RESULT stands for the output `out` (kept as an alias
    without a grad_fn, so the graph has no cycle). Tensors are checked against in-place
    changes at backward time."""
    versions = None
    for k, s in saved.items():
        if s is _RESULT:
            alias = _wrap(out._data)
            alias._vc = out._vc
            node._result_alias = alias
            saved[k] = s = alias
        if isinstance(s, Tensor):
            if versions is None:
                versions = []
            versions.append((s, s._vc.value))
    node._versions = versions
    node._saved = saved


def _record(op, data, inputs, **saved):
    """Wrap `data` as the output of `op` (a class from @derivative) applied to `inputs`,
    recording a node when grad mode is on and some input requires grad."""
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
    node = op.__new__(op)
    _init_node(node, inputs)
    if saved:
        _save(node, saved, out)
    else:
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
    versions = []
    for k, v in saved.items():
        for out, d in zip(outs, datas):
            if v is d:
                alias = _wrap(d)
                alias._vc = out._vc
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


def _run_backward(roots, root_grads, retain_graph, create_graph, inputs=None,
                  allow_unused=False, accumulate=True):
    """Propagate root_grads from roots. With `inputs` (autograd.grad), return their grads."""
    # 1. the nodes reachable from the roots, and how many edges lead into each
    deps = {}
    stack = []
    for t in roots:
        e = _edge(t)
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
    if inputs is not None:
        captured = {}
        wanted = {}
        for i, t in enumerate(inputs):
            e = _edge(t)
            if e is not None:
                wanted.setdefault(e[0], []).append((i, e[1]))

    # 2. gradient buffers, one list per node (one slot per output of that node)
    buffers = {}
    ready = []
    for t, g in zip(roots, root_grads):
        e = _edge(t)
        if e is None:
            continue
        node, nr = e
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * _num_outputs(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    for t in roots:
        e = _edge(t)
        if e is not None and deps.get(e[0]) == 0 and e[0] not in ready:
            ready.append(e[0])

    prev = _State.enabled
    _State.enabled = create_graph
    prev_valid = _CHECKPOINT_VALID[0]
    _CHECKPOINT_VALID[0] = inputs is None
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            if grads is None:
                grads = [None] * _num_outputs(node)
            if node._pre_hooks:
                for hook in node._pre_hooks:
                    res = hook(tuple(grads))
                    if res is not None:
                        grads = list(res)
            if captured is not None and node in wanted:
                for i, nr in wanted[node]:
                    captured[i] = grads[nr]
                if type(node) is AccumulateGrad:
                    continue
            if type(node) is AccumulateGrad:
                if accumulate and grads[0] is not None:
                    _accumulate(node.variable, grads[0], create_graph)
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
            if node._hooks:
                # post-hooks see gradients already shaped like the node's inputs
                out = tuple(_shape_grad(g, meta) if g is not None and meta is not None else g
                            for g, meta in zip(out, node._shapes))
                for hook in node._hooks:
                    res = hook(out, tuple(grads))
                    if res is not None:
                        out = tuple(res)
            if not retain_graph:
                node._release()
            for i, (e, g, meta) in enumerate(zip(node._next, out, node._shapes)):
                if e is None:
                    continue
                child, nr = e
                if meta[1].kind == 'c' and node._complex is None:
                    _refuse_complex(node)
                if g is not None:
                    if not isinstance(g, Tensor):
                        g = Tensor._from_array(np.asarray(g))
                    if g._data.shape != meta[0]:
                        _check_grad_shape(node, i, g._data.shape, meta[0])
                        g = _sum_to(g, meta[0])
                    if g._data.dtype != meta[1]:
                        g = _cast_grad(g, meta[1])
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * _num_outputs(child)
                    prev_g = buf[nr]
                    if prev_g is None:
                        buf[nr] = g
                    elif create_graph:
                        buf[nr] = prev_g + g
                    else:
                        try:
                            buf[nr] = _wrap(np.add(prev_g._data, g._data))
                        except NotImplementedError:  # a sparse gradient: its own add
                            buf[nr] = prev_g + g
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    ready.append(child)
    finally:
        _State.enabled = prev
        _CHECKPOINT_VALID[0] = prev_valid

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


def _shape_grad(g, meta):
    if not isinstance(g, Tensor):
        g = Tensor._from_array(np.asarray(g))
    if g._data.shape != meta[0]:
        g = _sum_to(g, meta[0])
    if g._data.dtype != meta[1]:
        g = _cast_grad(g, meta[1])
    return g


def _cast_grad(g, np_dtype):
    if g._data.dtype.kind == 'c' and np_dtype.kind != 'c':
        g = g.real  # a real input's gradient is the real part (torch's engine does the same)
    return g.to(from_numpy(np_dtype))


def _num_outputs(node):
    return getattr(node, '_n_outputs', 1)


def _tensor_hooks(t, g):
    """Run t's register_hook hooks on its gradient g; a hook may return a replacement."""
    for hook in t._hooks:
        res = hook(g)
        if res is not None:
            g = res
    return g


def _accumulate(t, g, create_graph):
    if t._hooks:
        g = _tensor_hooks(t, g)
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    if g._sparse or (t._grad is not None and t._grad._sparse):
        _accumulate_sparse(t, g, create_graph)
    elif t._grad is None:
        if create_graph:
            t._grad = g
        else:
            # a fresh array (not a view of someone else's buffer), like torch's stealing/cloning
            d = g._data
            if g._base is not None or not d.flags.owndata or d.base is not None:
                d = d.copy()
            t._grad = Tensor._from_array(d)
    elif create_graph or t._grad._requires_grad:
        t._grad = t._grad + g
    else:
        np.add(t._grad._data, g._data, out=t._grad._data, casting='unsafe')
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
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        got = _run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs,
                            allow_unused=True)
        for t, g in zip(inputs, got):
            if g is not None:
                if t.grad_fn is None:
                    _accumulate(t, g, create_graph)
                else:
                    _accumulate_retained(t, g, create_graph)
        return
    _run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """ember.autograd.grad: the gradients of outputs w.r.t. inputs, leaving .grad untouched."""
    single = isinstance(inputs, Tensor)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, tuple(grad_outputs))
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    res = _run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs,
                        allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        res = tuple(g if g is not None else _wrap(np.zeros_like(t._data))
                    for g, t in zip(res, inputs))
    return res


def _make_grads(outputs, grads):
    out = []
    for t, g in zip(outputs, grads):
        if not t._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not t.dtype.is_floating_point and not t.dtype.is_complex:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{t.dtype!r}")
            g = Tensor._from_array(np.ones_like(t._data))
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




def _bind_tensor(tensor_module):
    """Called by ember._tensor once Tensor exists (the two modules import each other)."""
    global Tensor, _wrap
    Tensor = tensor_module.Tensor
    _wrap = tensor_module._wrap
