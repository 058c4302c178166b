"""torch.autograd.forward_ad: dual tensors and their tangents (forward-mode AD).

ember keeps no forward rule per op. A dual tensor is an alias of its primal that the reverse
graph records from (as if it required grad), and its tangent is kept beside it. The tangent of
any tensor y computed from dual tensors d_i (with tangents t_i) is the Jacobian-vector product
sum_i J_i t_i, which ``unpack_dual`` computes from the recorded graph by the double-vjp trick:
g_i(u) = J_i^T u is linear in u, so differentiating sum_i <g_i(u), t_i> with respect to u
gives J t. Every op with a gradient formula therefore has its forward rule, in-place ops and
views included; an op whose gradient formula cannot itself be differentiated raises
NotImplementedError naming it (ember's double-backward rule), so no tangent is dropped
silently. The normal path pays nothing: no op checks for dual tensors.

Inside the level, `requires_grad`, `numpy()` and the printed form of a tensor recorded only
for tangents behave as torch's (a walk over its graph tells it from one the caller's leaves
reach); only `grad_fn`/`is_leaf` read directly still show the node.

What this costs against torch: a tangent is computed when it is asked for (two backward passes
over the graph between the dual tensors and y); tensors computed from a dual tensor keep their
grad_fn after the level is left (torch's are plain tensors then); turning grad mode off inside
a level that holds dual tensors is refused (the graph the tangents come from would not be
recorded), except by ember's own layers (running statistics, initialisation); one level at a
time, as in torch.
"""
import sys
from collections import namedtuple

import numpy as np

from .._tensor import Tensor, _wrap
from .. import _tensor_str
from .grad_mode import _Forward, enable_grad, _DecoratorContextManager
from .graph import grad as _grad, AccumulateGrad

__all__ = ['UnpackedDualTensor', 'enter_dual_level', 'exit_dual_level', 'make_dual',
           'unpack_dual', 'dual_level']


class _Level:
    current = None  # the level entered (0), or None
    duals = []      # (dual tensor, its tangent, its grad_fn when made)


class UnpackedDualTensor(namedtuple('UnpackedDualTensor', ['primal', 'tangent'])):
    """What unpack_dual returns: the primal (a view without the tangent) and the tangent."""
    __slots__ = ()


def enter_dual_level():
    """Enter the forward AD level (only one can be active, as in torch); returns its index."""
    if _Level.current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _Level.current = 0
    _Level.duals = []
    return 0


def exit_dual_level(*, level=None):
    """Leave the level: its dual tensors lose their tangents."""
    if level is None:
        level = _Level.current
    if level is None:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _Level.current:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    for d, _, _ in _Level.duals:
        d.__dict__.pop('_fw_tangent', None)
        if d.__dict__.get('_fw_leaf'):
            d._requires_grad = False  # a plain alias of its primal again
    _Level.duals = []
    _Level.current = None
    _Forward.duals = 0
    _Forward.used = False  # Tensor.requires_grad is a plain read again


class dual_level(_DecoratorContextManager):
    """``with dual_level():`` enters the forward AD level and leaves it at the end."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def _check_level(level):
    if level is None:
        level = _Level.current
    if level is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if level != _Level.current:
        raise RuntimeError(f"Invalid level given to make_dual: {level}")


def make_dual(tensor, tangent, *, level=None):
    """A tensor with the values of `tensor` (sharing its memory) whose tangent is `tangent`."""
    _check_level(level)
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    if tangent.dtype != tensor.dtype:
        tangent = tangent.to(tensor.dtype)
    with enable_grad():
        if tensor._requires_grad:
            d = tensor.view_as(tensor)  # stays differentiable with respect to tensor
        else:
            d = tensor.detach()
            d._requires_grad = True  # recorded from, for its tangent only
            d.__dict__['_fw_leaf'] = True
    d.__dict__['_fw_tangent'] = tangent
    _Forward.used = True
    _Level.duals.append((d, tangent, d.grad_fn))
    _Forward.duals = len(_Level.duals)
    return d


def _reaches(roots, outside):
    """Whether the graph of any tensor in roots reaches a leaf that requires grad and for
    which outside(leaf) holds (no recursion: a walk over the nodes)."""
    seen = set()
    todo = []
    for t in roots:
        if not isinstance(t, Tensor) or not t._requires_grad:
            continue
        if t.grad_fn is None:
            if outside(t):
                return True
        else:
            todo.append(t.grad_fn)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            if outside(node._variable):
                return True
            continue
        for e in node._next:
            if e is not None:
                todo.append(e[0])
    return False


def _real(t):
    """Whether t requires grad for the caller (not only for its tangent)."""
    return _reaches([t], lambda leaf: not leaf.__dict__.get('_fw_leaf'))


def _probe(like):
    """The vector u that g(u) = J^T u is built from: random, so that a formula which is not
    differentiable in its incoming gradient (NumPy inside) shows as a nonzero constant."""
    rng = np.random.default_rng(0)
    return _wrap(rng.standard_normal(like._data.shape).astype(like._data.dtype),
                 requires_grad=True)


def _vjp_in_u(ys, xs, us):
    """g = J^T u (d ys / d xs weighted by us, which require grad), differentiable in us. An
    op whose formula gives a gradient that does not depend on u, though u reached it and the
    gradient is not zero, cannot be differentiated here: NotImplementedError naming it."""
    nodes, todo = set(), [y.grad_fn for y in ys if y.grad_fn is not None]
    while todo:
        n = todo.pop()
        if n in nodes or type(n) is AccumulateGrad:
            continue
        nodes.add(n)
        todo.extend(e[0] for e in n._next if e is not None)
    bad = []

    def check(node):
        def hook(grad_inputs, grad_outputs):
            if any(g is not None and g._requires_grad for g in grad_outputs) and any(
                    g is not None and not g._requires_grad and np.any(g._data)
                    for g in grad_inputs):
                bad.append(node.name())
        return hook
    handles = [n.register_hook(check(n)) for n in nodes]
    try:
        gs = _grad(ys, xs, us, retain_graph=True, create_graph=True, allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    if bad:
        raise NotImplementedError(f"ember does not implement forward-mode AD through {bad[0]}: "
                                  "its gradient formula cannot be differentiated with respect "
                                  "to its incoming gradient")
    return gs


def _tangent(y):
    """J t for y, from the graph between the level's dual tensors and y (None if y does not
    depend on them)."""
    duals = _Level.duals
    for d, _, fn in duals:
        if d.grad_fn is not fn:
            raise NotImplementedError("ember does not implement forward AD through an in-place "
                                      "operation on a dual tensor itself")
    if not duals or not y._requires_grad or y._data.dtype.kind not in 'fc':
        return None
    with enable_grad():
        u = _probe(y)
        gs = _vjp_in_u([y], [d for d, _, _ in duals], [u])
        pairs = [(g, t) for g, (_, t, _) in zip(gs, duals) if g is not None]
        if not pairs:
            return None
        live = [(g, t) for g, t in pairs if g._requires_grad]
        if not live:  # a zero derivative (floor, sign, ...): g does not depend on u
            return _wrap(np.zeros_like(y._data))
        keep = any(t._requires_grad for _, t in live) or _real(y)
        (jv,) = _grad([g for g, _ in live], [u], [t for _, t in live], retain_graph=True,
                      create_graph=keep, allow_unused=True)
    if jv is None:
        return _wrap(np.zeros_like(y._data))
    return jv if keep else jv.detach()


def unpack_dual(tensor, *, level=None):
    """(primal, tangent) of `tensor`: the tangent is None when it depends on no dual tensor."""
    if level is None:
        level = _Level.current
    if level is None or not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    tangent = tensor.__dict__.get('_fw_tangent')
    if tangent is None:
        tangent = _tangent(tensor)
    if not tensor._requires_grad:
        primal = tensor
    elif _real(tensor):
        primal = tensor.view_as(tensor)
    else:
        primal = tensor.detach()
    return UnpackedDualTensor(primal, tangent)


def _refuse_grad_off():
    """Called when grad mode is turned off while dual tensors live: allowed to ember's own
    code (its layers' running statistics and initialisation record nothing a tangent needs),
    refused to the caller's."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get('__name__', '') == \
            'ember.autograd.grad_mode':
        frame = frame.f_back
    name = frame.f_globals.get('__name__', '') if frame is not None else ''
    if name == 'ember' or name.startswith('ember.'):
        return
    raise NotImplementedError(
        "ember does not implement forward AD with grad mode off: ember computes tangents from "
        "the autograd graph, which no_grad / set_grad_enabled(False) / inference_mode would "
        "stop recording while dual tensors are alive")


_Forward.refuse = staticmethod(_refuse_grad_off)
_Forward.real = staticmethod(_real)


def _dual_of(t):
    """For printing: (tangent, requires grad for the caller) of a tensor inside the level."""
    if not _Level.duals or not t._requires_grad:
        return None
    tangent = t.__dict__.get('_fw_tangent')
    try:
        if tangent is None:
            tangent = _tangent(t)
    except NotImplementedError:
        return None  # printing never raises: the grad_fn is shown instead
    return None if tangent is None else (tangent, _real(t))


_tensor_str._DUAL.append(_dual_of)
