"""ember.autograd.functional (torch.autograd.functional): vjp, jvp, jacobian, hessian, hvp, vhp
built on reverse mode (jvp and hvp by the double-backward trick, as torch does). The
`vectorize=True` and forward-mode strategies are not implemented and say so."""
from .._tensor import Tensor
from .grad_mode import enable_grad
from .graph import grad
from .._ops.creation import ones_like, zeros_like
from .._ops.shape import stack

__all__ = ['vjp', 'jvp', 'jacobian', 'hessian', 'hvp', 'vhp']


def _tup(x):
    return (x,) if isinstance(x, Tensor) else tuple(x), isinstance(x, Tensor)


def _prepare(inputs, create_graph):
    out = []
    with enable_grad():
        for t in inputs:
            x = t if create_graph and t.requires_grad else t.detach()
            if not x.requires_grad:
                x = x.detach().requires_grad_(True) if x is not t else x.requires_grad_(True)
            out.append(x)
    return tuple(out)


def _grads(outputs, inputs, grad_outputs, create_graph):
    needs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not needs:
        return tuple(zeros_like(x) for x in inputs)
    gs = grad([o for o, _ in needs], inputs, [g for _, g in needs], create_graph=create_graph,
              retain_graph=True, allow_unused=True)
    return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, inputs))


def _check(strict, vectorize, strategy='reverse-mode'):
    if strict:
        raise NotImplementedError("ember does not implement torch.autograd.functional's "
                                  "strict=True checks yet")
    if vectorize or strategy != 'reverse-mode':
        raise NotImplementedError("ember does not implement torch.autograd.functional with "
                                  "vectorize=True or strategy='forward-mode' yet")


def _out(t, create_graph):
    return t if create_graph else t.detach()


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J)."""
    _check(strict, False)
    inputs, single_in = _tup(inputs)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        outs, single_out = _tup(func(*xs))
        vs = (ones_like(outs[0]),) if v is None else _tup(v)[0]
        if v is None and outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        gs = _grads(outs, xs, vs, create_graph)
    outs = tuple(_out(o, create_graph) for o in outs)
    gs = tuple(_out(g, create_graph) for g in gs)
    return (outs[0] if single_out else outs), (gs[0] if single_in else gs)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), by differentiating a vjp with respect to its vector."""
    _check(strict, False)
    inputs, single_in = _tup(inputs)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        outs, single_out = _tup(func(*xs))
        if v is None:
            if len(xs) != 1 or xs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-"
                                   "provided function is a single Tensor with a single element.")
            vs = (ones_like(xs[0]),)
        else:
            vs = _tup(v)[0]
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        gs = _grads(outs, xs, us, True)
        jv = _grads(gs, us, vs, create_graph)
    outs = tuple(_out(o, create_graph) for o in outs)
    jv = tuple(_out(g, create_graph) for g in jv)
    return (outs[0] if single_out else outs), (jv[0] if single_out else jv)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy='reverse-mode'):
    """The Jacobian of func at inputs, one backward pass per output element."""
    _check(strict, vectorize, strategy)
    inputs, single_in = _tup(inputs)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        outs, single_out = _tup(func(*xs))
        jac = []
        for o in outs:
            rows = [[] for _ in xs]
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                if flat.requires_grad:
                    gs = grad(flat[k], xs, retain_graph=True, create_graph=create_graph,
                              allow_unused=True)
                else:
                    gs = (None,) * len(xs)
                for i, (g, x) in enumerate(zip(gs, xs)):
                    rows[i].append(zeros_like(x) if g is None else g)
            per_input = []
            for i, x in enumerate(xs):
                j = stack(rows[i]) if rows[i] else zeros_like(x).reshape(0, *x.shape)
                per_input.append(_out(j.reshape(*o.shape, *x.shape), create_graph))
            jac.append(per_input[0] if single_in else tuple(per_input))
    return jac[0] if single_out else tuple(jac)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy='reverse-mode'):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    _check(strict, vectorize, outer_jacobian_strategy)
    inputs_t, single_in = _tup(inputs)

    def gradient(*xs):
        out = func(*xs)
        if out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single element")
        gs = grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        gs = tuple(zeros_like(x) if g is None else g for g, x in zip(gs, xs))
        return gs[0] if single_in else gs

    return jacobian(gradient, inputs_t[0] if single_in else inputs_t, create_graph=create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H)."""
    return _hessian_vector(func, inputs, v, create_graph, strict)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v); H is symmetric, so this equals v^T H."""
    return _hessian_vector(func, inputs, v, create_graph, strict)


def _hessian_vector(func, inputs, v, create_graph, strict):
    _check(strict, False)
    inputs, single_in = _tup(inputs)
    with enable_grad():
        xs = _prepare(inputs, create_graph)
        out = func(*xs)
        if out.numel() != 1:
            raise RuntimeError("The function given to hvp should return a single element")
        vs = _tup(v)[0] if v is not None else None
        if vs is None:
            if len(xs) != 1 or xs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-"
                                   "provided function is a single Tensor with a single element.")
            vs = (ones_like(xs[0]),)
        gs = grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        gs = tuple(zeros_like(x) if g is None else g for g, x in zip(gs, xs))
        hv = _grads(gs, xs, vs, create_graph)
    hv = tuple(_out(h, create_graph) for h in hv)
    return _out(out, create_graph), (hv[0] if single_in else hv)


from .._stubs import hook as _hook  # noqa: E402
_hook(__name__)
