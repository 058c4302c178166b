"""ember.func (torch.func): functional_call, stack_module_state, rearrange and the function
transforms (grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd, hessian, vmap).

The transforms are built on ember's reverse-mode graph instead of torch's functorch levels:
- a transform differentiates with respect to fresh leaves standing for its inputs (an input
  that already requires grad is stood for by a view of itself, so an outer transform or the
  caller's autograd still sees through it), and keeps the graph of what it returns only when
  that graph reaches a tensor from outside (an outer transform's input, a captured parameter);
  otherwise its results are plain tensors, as torch's are.
- forward mode (jvp, jacfwd, linearize) is the double-vjp trick: g(u) = J^T u is linear in u,
  so differentiating <g(u), t> with respect to u gives J t. It needs each op's gradient
  formula to be differentiable, which is ember's rule; an op whose double backward is not
  implemented raises NotImplementedError naming it.
- vmap runs the function once per sample (slices along in_dims) and stacks the results along
  out_dims: exact by construction, slower than torch's batching rules.
"""
import functools

import numpy as np

from . import _random
from ._tensor import Tensor, _wrap
from .autograd.grad_mode import enable_grad, is_grad_enabled
from .autograd.graph import grad as _autograd_grad
from .autograd.forward_ad import _probe, _vjp_in_u, _reaches
from ._ops.creation import zeros_like
from ._ops.shape import stack
from ._ops.random import get_rng_state, set_rng_state
from .nn.utils.stateless import _functional_call
from .nn.modules.batchnorm import _BatchNorm

__all__ = ['functional_call', 'stack_module_state', 'grad', 'grad_and_value', 'vjp', 'jvp',
           'linearize', 'jacrev', 'jacfwd', 'hessian', 'vmap', 'functionalize', 'debug_unwrap',
           'replace_all_batch_norm_modules_', 'rearrange']


def _merge(dicts):
    if isinstance(dicts, dict):
        return dicts
    if isinstance(dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        seen, repeated = set(), []
        for d in dicts:
            for k in d:
                if k in seen and k not in repeated:
                    repeated.append(k)
                seen.add(k)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        return {k: v for d in dicts for k, v in d.items()}
    raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                     f"dicts, but got {type(dicts)}")


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Calls `module` with its parameters and buffers replaced by the given tensors (by
    qualified name; one dict or several), then puts the originals back."""
    return _functional_call(module, _merge(parameter_and_buffer_dicts), args, kwargs,
                            tie_weights=tie_weights, strict=strict)


def stack_module_state(models):
    """Stack the parameters and buffers of same-class models by name: (params, buffers), the
    stacked parameters new leaves that require grad."""
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        tables = [dict(n) for n in named]
        out = {}
        for k in tables[0]:
            ts = tuple(t[k] for t in tables)
            flags = {t.requires_grad for t in ts}
            if len(flags) > 1:
                raise RuntimeError(f"Expected {k} from each model to have the same "
                                   ".requires_grad")
            r = stack(ts)
            out[k] = r.detach().requires_grad_() if True in flags else r
        return out

    return (stacked(m.named_parameters() for m in models),
            stacked(m.named_buffers() for m in models))


def replace_all_batch_norm_modules_(root):
    """Batch norm layers in `root` stop tracking running statistics (in place); returns root."""
    for m in root.modules():
        if isinstance(m, _BatchNorm) and m.track_running_stats:
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root


def functionalize(func, *, remove='mutations'):
    """torch.func.functionalize: removes mutations from traced programs. Run eagerly (ember
    has no tracer), a functionalized function computes what the function computes, inputs'
    mutations included, so the function is returned wrapped as it is."""
    if remove not in ('mutations', 'mutations_and_views'):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            " Valid options are:\n     remove='mutations': all inplace and out= operators will be "
            "removed from the program, and replaced with their out-of-place equivalents.\n"
            "     remove='mutations_and_views': In addition to the above, all aliasing operators "
            "{view} will be replaced with their non-aliasing counterparts, {view}_copy.\n")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapped


def debug_unwrap(tensor, *, recurse=True):
    """ember's transforms wrap no tensors: a tensor is its own unwrapped value."""
    return tensor


# ---- pytrees: tuples, lists, dicts (and namedtuples) of leaves -------------------------------

def _flatten(tree):
    """(leaves, spec); spec compares equal for trees of the same structure."""
    leaves = []

    def walk(x):
        if isinstance(x, tuple) and hasattr(x, '_fields'):
            return (type(x), tuple(walk(v) for v in x))
        if isinstance(x, (tuple, list)):
            return (type(x), tuple(walk(v) for v in x))
        if isinstance(x, dict):
            return (dict, tuple(x), tuple(walk(v) for v in x.values()))
        leaves.append(x)
        return None
    return leaves, walk(tree)


def _unflatten(leaves, spec):
    it = iter(leaves)

    def build(s):
        if s is None:
            return next(it)
        if s[0] is dict:
            return {k: build(c) for k, c in zip(s[1], s[2])}
        items = [build(c) for c in s[1]]
        if s[0] is list:
            return items
        if s[0] is tuple:
            return tuple(items)
        return s[0](*items)  # a namedtuple
    return build(spec)


def _tree_map(fn, tree):
    leaves, spec = _flatten(tree)
    return _unflatten([fn(x) for x in leaves], spec)


def _spec_str(spec):
    if spec is None:
        return '*'
    if spec[0] is dict:
        return 'dict(' + ', '.join(f'{k!r}: {_spec_str(c)}' for k, c in zip(spec[1], spec[2])) \
            + ')'
    inner = ', '.join(_spec_str(c) for c in spec[1])
    return f'{spec[0].__name__}({inner})'


# ---- the transforms' levels: fresh leaves, and what stays connected ---------------------------

class _Level:
    """The nesting depth of the running transforms: the fresh leaves a transform makes carry
    its depth, so that an outer transform does not mistake an inner one's leaves for the
    caller's tensors (and an inner one keeps its graph to the outer one's leaves)."""
    depth = 0

    def __enter__(self):
        _Level.depth += 1
        self.level = _Level.depth
        return self.level

    def __exit__(self, *exc):
        _Level.depth -= 1


def _fresh(t, level):
    t.__dict__['_func_level'] = level
    return t


def _lifter(level):
    def lift(x):
        """The tensor a transform differentiates with respect to, standing for input x."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x._requires_grad:
            return x.view_as(x)  # an outer transform (or the caller) differentiates through it
        return _fresh(x.detach().requires_grad_(), level)
    return lift


def _outside(leaf, level):
    return leaf.__dict__.get('_func_level', 0) < level


def _reaches_outside(roots, level):
    """Whether the graph of any tensor in roots reaches a leaf that requires grad and is not
    a fresh leaf of this transform or of one nested in it: then the result must stay
    connected to it."""
    return _reaches(roots, lambda leaf: _outside(leaf, level))


def _lower(t, level):
    """A transform's result as the caller sees it: connected only if it must be."""
    if isinstance(t, Tensor) and t._requires_grad and not _reaches_outside([t], level):
        return t.detach()
    return t


def _lower_tree(tree, level):
    return _tree_map(lambda t: _lower(t, level), tree)


def _grads(outputs, inputs, grad_outputs, create_graph):
    """d(outputs)/d(inputs) weighted by grad_outputs; zeros where an input is not reached."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o._requires_grad]
    if pairs:
        gs = _autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                            retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        gs = (None,) * len(inputs)
    return [zeros_like(x) if g is None else g for g, x in zip(gs, inputs)]


# ---- argnums --------------------------------------------------------------------------------

def _wrap_argnum(argnum, n):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < n:
        return argnum
    if -n <= argnum < 0:
        return argnum + n
    raise RuntimeError(f"Got argnum={argnum}, but only {n} positional inputs")


def _argnums(argnums, n):
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, n)
    if isinstance(argnums, tuple):
        if len(argnums) == 0:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return tuple(_wrap_argnum(a, n) for a in argnums)
    raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


def _select(args, argnums):
    return args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums)


def _replace(args, argnums, new):
    args = list(args)
    if isinstance(argnums, int):
        args[argnums] = new
    else:
        for i, v in zip(argnums, new):
            args[i] = v
    return tuple(args)


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return out


def _check_outputs(flat, api):
    if (len(flat) == 1 and flat[0] is None) or len(flat) < 1:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got "
                           f"output = {flat})")
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")


# ---- grad, grad_and_value, vjp ---------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func w.r.t. args[argnums], func's value); with
    has_aux, ((gradient), (value, aux))."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        with enable_grad(), _Level() as level:
            diff = _tree_map(_lifter(level), _select(args, nums))
            output = func(*_replace(args, nums, diff), **kwargs)
            output, aux = _split_aux(output, has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                    "APIs instead?")
            flat_in, spec = _flatten(diff)
            keep = _reaches_outside([output], level)
            gs = _grads([output], flat_in, [None], keep)
        if not keep:
            output = output.detach()
        g = _unflatten(gs, spec)
        if has_aux:
            return g, (output, _lower_tree(aux, level))
        return g, output
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar function with respect to args[argnums] (a pytree of tensors
    for each), as a function: grad(f)(x); with has_aux, (gradient, aux)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): vjp_fn(cotangents) gives one gradient per primal."""
    with enable_grad(), _Level() as level:
        lifted = _tree_map(_lifter(level), primals)
        out = func(*lifted)
        out, aux = _split_aux(out, has_aux, "vjp(f, *primals)")
        flat_out, out_spec = _flatten(out)
        _check_outputs(flat_out, "vjp(f, *primals)")
        for o in flat_out:
            if not (o.is_floating_point() or o.is_complex()):
                raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or "
                                   f"complex Tensors, got Tensor with dtype {o.dtype}")
        flat_in, in_spec = _flatten(lifted)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        flat_ct, ct_spec = _flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {_spec_str(ct_spec)}, primal output: "
                f"{_spec_str(out_spec)}")
        for o, c in zip(flat_out, flat_ct):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {c.shape} and output[0] "
                    f"has a shape of {o.shape}.")
        with enable_grad():
            keep = _reaches_outside(list(flat_out) + list(flat_ct), level)
            if create_graph is not None and not create_graph:
                keep = False
            gs = _grads(flat_out, flat_in, flat_ct, keep)
        if not keep:
            gs = [g.detach() for g in gs]
        return _unflatten(gs, in_spec)

    results = _lower_tree(out, level)
    if has_aux:
        return results, vjp_fn, _lower_tree(aux, level)
    return results, vjp_fn


# ---- forward mode: jvp, linearize, jacfwd (the double-vjp trick) -----------------------------

_JVP = "jvp(f, primals, tangents)"


class _Linear:
    """f run at the primals, with g(u) = J^T u built once so that J t is one more backward:
    the shared core of jvp, linearize and jacfwd."""

    def __init__(self, func, primals, has_aux, api):
        self.api = api
        with enable_grad(), _Level() as level:
            self.level = level
            self.lifted = _tree_map(_lifter(level), primals)
            out = func(*self.lifted)
            out, self.aux = _split_aux(out, has_aux, api)
            self.flat_out, self.out_spec = _flatten(out)
            _check_outputs(self.flat_out, api)
            self.flat_in, self.in_spec = _flatten(self.lifted)
            self.us = [_fresh(_probe(o), level) if o._requires_grad and o._data.dtype.kind in 'fc'
                       else None for o in self.flat_out]
            pairs = [(o, u) for o, u in zip(self.flat_out, self.us) if u is not None]
            if pairs:
                gs = _vjp_in_u([o for o, _ in pairs], self.flat_in, [u for _, u in pairs])
            else:
                gs = (None,) * len(self.flat_in)
            self.gs = gs  # J^T u per input, None where no output depends on it
        self.out = out

    def apply(self, flat_tangents):
        """J t, one tensor per output (zeros where the output does not depend on the inputs),
        and whether they must stay connected to the caller's graph."""
        with enable_grad():
            pairs = [(g, t) for g, t in zip(self.gs, flat_tangents)
                     if g is not None and g._requires_grad]
            keep = _reaches_outside(list(self.flat_out) + list(flat_tangents), self.level)
            live = [u for u in self.us if u is not None]
            if pairs and live:
                jv = _autograd_grad([g for g, _ in pairs], live, [t for _, t in pairs],
                                    retain_graph=True, create_graph=keep, allow_unused=True)
            else:
                jv = (None,) * len(live)
            it = iter(jv)
            res = []
            for o, u in zip(self.flat_out, self.us):
                j = next(it) if u is not None else None
                res.append(j)
        return res, keep


def _check_tangents(primals, tangents):
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    flat_p, p_spec = _flatten(primals)
    flat_t, t_spec = _flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{_JVP}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {_spec_str(p_spec)} and tangents with structure {_spec_str(t_spec)}")
    for name, flat in (('primals', flat_p), ('tangents', flat_t)):
        if len(flat) == 0:
            raise RuntimeError(f"{_JVP}: Expected {name} to contain at least one Tensor.")
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{_JVP}: Expected {name} to only contain Tensors, got "
                                   f"{type(x)}")
    for p, t in zip(flat_p, flat_t):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(p.shape)} "
                f"while the given forward gradient is of size {list(t.shape)}.")
    return flat_t


def _jvp_results(lin, flat_t, strict):
    jv, keep = lin.apply(flat_t)
    out = []
    for o, j in zip(lin.flat_out, jv):
        if j is None:
            if strict:
                raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is "
                                   "independent of the inputs. This is not allowed with "
                                   "strict=True.")
            j = zeros_like(o)
        out.append(j if keep else j.detach())
    return _unflatten(out, lin.out_spec)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J tangents): the Jacobian-vector product of func at primals."""
    flat_t = _check_tangents(primals, tangents)
    lin = _Linear(func, primals, has_aux, _JVP)
    jv = _jvp_results(lin, flat_t, strict)
    primal_out = _lower_tree(lin.out, lin.level)
    if has_aux:
        return primal_out, jv, _lower_tree(lin.aux, lin.level)
    return primal_out, jv


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the Jacobian-vector product at primals,
    without running func again."""
    lin = _Linear(func, primals, False, "linearize(f, *primals)")

    def jvp_fn(*tangents):
        flat_t = _check_tangents(primals, tangents)
        return _jvp_results(lin, flat_t, False)
    return _lower_tree(lin.out, lin.level), jvp_fn


def _basis(x):
    """The rows of the identity over x's elements, each shaped like x."""
    n = x.numel()
    eye = np.eye(n, dtype=x._data.dtype).reshape((n,) + tuple(x.shape))
    return [_wrap(eye[k]) for k in range(n)]


def _jacobian_tree(per_output, out_spec, in_spec):
    """Arrange blocks[i][j] (output i, input j) as torch does: output structure outside, the
    structure of args[argnums] inside."""
    return _unflatten([_unflatten(row, in_spec) for row in per_output], out_spec)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func with respect to args[argnums], one reverse pass per output
    element; result[i][j] has shape output_i.shape + input_j.shape."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        with enable_grad(), _Level() as level:
            diff = _tree_map(_lifter(level), (_select(args, nums),))
            out = func(*_replace(args, nums, diff[0]), **kwargs)
            out, aux = _split_aux(out, has_aux, "jacrev(f, ...)(*args)")
            flat_out, out_spec = _flatten(out)
            _check_outputs(flat_out, "jacrev(f, ...)(*args)")
            flat_in, in_spec = _flatten(diff)
            keep = _reaches_outside(flat_out, level)
            per_output = []
            for o in flat_out:
                rows = [_grads([o], flat_in, [e], keep) for e in _basis(o)]
                per_output.append([_block(rows, k, o, x, keep)
                                   for k, x in enumerate(flat_in)])
        jac = _jacobian_tree(per_output, out_spec, in_spec[1][0])
        if has_aux:
            return jac, _lower_tree(aux, level)
        return jac
    return wrapper


def _block(rows, k, o, x, keep):
    """d o / d x from the per-element gradients rows[e][k] (each shaped like x)."""
    if rows:
        b = stack([r[k] for r in rows]).reshape(tuple(o.shape) + tuple(x.shape))
    else:
        b = zeros_like(x).reshape((0,) + tuple(x.shape))[:0].reshape(
            tuple(o.shape) + tuple(x.shape))
    return b if keep else b.detach()


def jacfwd(func, argnums=0, has_aux=False, *, randomness='error'):
    """The Jacobian of func with respect to args[argnums], one Jacobian-vector product per
    input element; the same layout as jacrev."""
    _check_randomness(randomness)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        sel = _select(args, nums)
        flat_sel, _ = _flatten(sel)
        for x in flat_sel:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{_JVP}: Expected primals to only contain Tensors, got "
                                   f"{type(x)}")

        def inner(*diff):
            return func(*_replace(args, nums, diff[0]), **kwargs)
        prev = _random.CPUGenerator._vmap_error  # torch maps the jvps: random ops obey vmap's rule
        if randomness == 'error':
            _random.CPUGenerator._vmap_error = _VMAP_RANDOM_ERROR
        try:
            lin = _Linear(inner, (sel,), has_aux, _JVP)
        finally:
            _random.CPUGenerator._vmap_error = prev
        flat_in = lin.flat_in
        cols = []  # per input j: per element e, J e (one tensor per output)
        keep_any = False
        for j, x in enumerate(flat_in):
            per_elem = []
            for e in _basis(x):
                ts = [e if i == j else zeros_like(y) for i, y in enumerate(flat_in)]
                jv, keep = lin.apply(ts)
                keep_any = keep_any or keep
                per_elem.append(jv)
            cols.append(per_elem)
        per_output = []
        for i, o in enumerate(lin.flat_out):
            row = []
            for j, x in enumerate(flat_in):
                parts = [c[i] if c[i] is not None else zeros_like(o) for c in cols[j]]
                shape = tuple(o.shape) + tuple(x.shape)
                if parts:
                    b = stack(parts, dim=-1).reshape(shape)
                else:
                    b = _wrap(np.zeros(shape, dtype=o._data.dtype))
                row.append(b if keep_any else b.detach())
            per_output.append(row)
        jac = _jacobian_tree(per_output, lin.out_spec, lin.in_spec[1][0])
        if has_aux:
            return jac, _lower_tree(lin.aux, lin.level)
        return jac
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of a scalar function with respect to args[argnums] (torch composes jacfwd
    over jacrev; the Jacobian is the same matrix either way, and two reverse passes need
    one order of differentiation less here)."""
    return jacrev(jacrev(func, argnums), argnums)


# ---- vmap: the per-sample loop ---------------------------------------------------------------

def _check_randomness(randomness):
    if randomness not in ('error', 'different', 'same'):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


def _name(func):
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return getattr(func, '__name__', repr(func))


_VMAP_RANDOM_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the "
    "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
    "of vmap")


def _broadcast_dims(dims, spec, n_leaves, where):
    """Per-leaf dims from a dims prefix tree (an int/None applies to a whole subtree)."""
    if dims is None or isinstance(dims, int):
        return [dims] * n_leaves
    out = []

    def walk(d, s):
        if d is None or isinstance(d, int):
            out.extend([d] * _count(s))
            return True
        if s is None:
            return False
        if s[0] is dict:
            if not isinstance(d, dict) or set(d) != set(s[1]):
                return False
            return all(walk(d[k], c) for k, c in zip(s[1], s[2]))
        if not isinstance(d, (tuple, list)) or len(d) != len(s[1]):
            return False
        return all(walk(dd, c) for dd, c in zip(d, s[1]))
    if not walk(dims, spec):
        raise where()
    return out


def _count(spec):
    if spec is None:
        return 1
    return sum(_count(c) for c in (spec[2] if spec[0] is dict else spec[1]))


def vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None):
    """Map func over a dimension of its inputs: run on each slice along in_dims, results
    stacked along out_dims (torch's semantics; ember runs the samples one by one)."""
    _check_randomness(randomness)
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        name = _name(func)
        if not isinstance(in_dims, (int, tuple)):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int "
                "or a (potentially nested) tuple matching the structure of inputs, got: "
                f"{type(in_dims)}.")
        if len(args) == 0:
            raise ValueError(
                f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you "
                "are trying to vmap over a function with no inputs. The latter is unsupported.")
        flat, spec = _flatten(args)

        def bad_in():
            return ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible "
                f"with the structure of `inputs`. in_dims has structure "
                f"{_spec_str(_flatten(in_dims)[1])} but inputs has structure {_spec_str(spec)}.")
        dims = _broadcast_dims(in_dims if isinstance(in_dims, int) else tuple(in_dims), spec,
                               len(flat), bad_in)
        sizes = []
        for d, x in zip(dims, flat):
            if d is None:
                continue
            if not isinstance(d, int):
                raise ValueError(
                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an "
                    "input but in_dim must be either an integer dimension or None.")
            if not isinstance(x, Tensor):
                raise ValueError(
                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an "
                    f"input but the input is of type {type(x)}. We cannot vmap over non-Tensor "
                    "arguments, please use None as the respective in_dim")
            if not -x.dim() <= d < x.dim():
                raise ValueError(
                    f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some "
                    f"input, but that input is a Tensor of dimensionality {x.dim()} so expected "
                    f"in_dim to satisfy -{x.dim()} <= in_dim < {x.dim()}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if any(s != sizes[0] for s in sizes):
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        n = sizes[0]

        def sample(i):
            leaves = [x if d is None else x.select(d, i) for d, x in zip(dims, flat)]
            return func(*_unflatten(leaves, spec), **kwargs)

        results = _run_samples(sample, n, randomness, dims, flat, spec, func, kwargs)
        return _stack_outputs(results, out_dims, name, n)
    return wrapped


def _run_samples(sample, n, randomness, dims, flat, spec, func, kwargs):
    """func on each sample, under vmap's randomness rule: 'error' refuses random ops, 'same'
    gives every sample the draws of the first, 'different' draws afresh for each."""
    prev = _random.CPUGenerator._vmap_error
    _random.CPUGenerator._vmap_error = _VMAP_RANDOM_ERROR if randomness == 'error' else prev
    try:
        if n == 0:
            # nothing to map over: run once on zeros to learn the outputs' shapes
            leaves = [x if d is None else _wrap(np.zeros(
                tuple(s for k, s in enumerate(x.shape) if k != d % x.dim()), x._data.dtype))
                for d, x in zip(dims, flat)]
            return [func(*_unflatten(leaves, spec), **kwargs)], True
        results = []
        if randomness == 'same':
            state = get_rng_state()
            after = None
            for i in range(n):
                set_rng_state(state)
                results.append(sample(i))
                if i == 0:
                    after = get_rng_state()
            set_rng_state(after)
        else:
            results = [sample(i) for i in range(n)]
        return results, False
    finally:
        _random.CPUGenerator._vmap_error = prev


def _stack_outputs(results, out_dims, name, n):
    results, empty = results
    flats = []
    spec0 = None
    for r in results:
        leaves, spec = _flatten(r)
        if spec0 is None:
            spec0 = spec
        flats.append(leaves)
    if not isinstance(out_dims, (int, tuple, list)) and out_dims is not None:
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
            "python collection of ints representing where in the outputs the vmapped dimension "
            "should appear.")

    def bad_out():
        return ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
            f"with the structure of `outputs`. out_dims has structure "
            f"{_spec_str(_flatten(out_dims)[1])} but outputs has structure "
            f"{_spec_str(spec0)}.")
    if isinstance(out_dims, (tuple, list)) and spec0 is None:
        if len(out_dims) != 1:
            raise bad_out()
        odims = [out_dims[0]]
    else:
        odims = _broadcast_dims(out_dims if out_dims is None or isinstance(out_dims, int)
                                else tuple(out_dims), spec0, len(flats[0]), bad_out)
    out = []
    for k, d in enumerate(odims):
        items = [f[k] for f in flats]
        first = items[0]
        if d is None:
            if isinstance(first, Tensor) and any(
                    x is not first and (not isinstance(x, Tensor) or x.shape != first.shape or
                                        not bool((x == first).all())) for x in items[1:]):
                # a value that differs between samples is batched: torch refuses it here
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a "
                                 "BatchedTensor when out_dim is None")
            out.append(first)
            continue
        if not isinstance(first, Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                f"{type(first)}. Did you mean to set out_dims= to None for output?")
        nd = first.dim() + 1
        if not -nd <= d < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                             f"{nd - 1}], but got {d})")
        if empty:
            s = stack([first], dim=d)
            out.append(s.narrow(d if d >= 0 else d + nd, 0, 0))
        else:
            out.append(stack(items, dim=d))
    return _unflatten(out, spec0)


# ---- rearrange: einops-style patterns ---------------------------------------------------------

_ELLIPSIS = '\u2026'


def _parse_side(expr):
    """[(group or axis)...] for one side of a pattern: a group is a list of names (an empty
    list is a unit axis '1'), the ellipsis is _ELLIPSIS; and the set of names."""
    if '.' in expr:
        if '...' not in expr:
            raise ValueError("Expression may contain dots only inside ellipsis (...)")
        if expr.count('...') != 1 or expr.count('.') != 3:
            raise ValueError("Expression may contain dots only inside ellipsis (...); only one "
                             "ellipsis for tensor ")
        expr = expr.replace('...', _ELLIPSIS)
    comp, names, group = [], set(), None
    ellipsis_in_group = False

    def add(name):
        nonlocal ellipsis_in_group
        if name in names:
            raise ValueError(f"Indexing expression contains duplicate dimension '{name}'")
        if name == _ELLIPSIS:
            names.add(name)
            if group is None:
                comp.append(name)
            else:
                group.append(name)
                ellipsis_in_group = True
            return
        if name.isdecimal():
            if int(name) == 1:
                if group is None:
                    comp.append([])
                return
            raise ValueError("rearrange only supports unnamed axes of size 1")
        if not name.isidentifier():
            raise ValueError(f"Invalid axis identifier: {name}\nnot a valid python identifier")
        if name[0] == '_' or name[-1] == '_':
            raise ValueError(f"Invalid axis identifier: {name}\naxis name should should not "
                             "start or end with underscore")
        names.add(name)
        if group is None:
            comp.append([name])
        else:
            group.append(name)

    current = None
    for ch in expr:
        if ch in '() ':
            if current is not None:
                add(current)
            current = None
            if ch == '(':
                if group is not None:
                    raise ValueError("Axis composition is one-level (brackets inside brackets "
                                     "not allowed)")
                group = []
            elif ch == ')':
                if group is None:
                    raise ValueError("Brackets are not balanced")
                comp.append(group)
                group = None
        elif ch.isalnum() or ch in ('_', _ELLIPSIS):
            current = ch if current is None else current + ch
        else:
            raise ValueError(f"Unknown character '{ch}'")
    if group is not None:
        raise ValueError(f"Imbalanced parentheses in expression: '{expr}'")
    if current is not None:
        add(current)
    return comp, names, ellipsis_in_group


def rearrange(tensor, pattern, **axes_lengths):
    """einops' rearrange (torch.func.rearrange): reorder, split and merge dimensions by a
    pattern such as 'b c (h w) -> b (c h) w'; a list of tensors is stacked first."""
    if not isinstance(tensor, Tensor):
        tensor = stack(tensor)
    try:
        left_s, right_s = pattern.split('->')
    except ValueError:
        raise ValueError("Pattern must contain a single '->' separator") from None
    if _ELLIPSIS in axes_lengths:
        raise ValueError(f"'{_ELLIPSIS}' is not an allowed axis identifier")
    left, lnames, l_group_ell = _parse_side(left_s)
    right, rnames, _ = _parse_side(right_s)
    if _ELLIPSIS in rnames and _ELLIPSIS not in lnames:
        raise ValueError(f"Ellipsis found in right side, but not left side of a pattern {pattern}")
    if l_group_ell:
        raise ValueError(f"Ellipsis is parenthesis in the left side is not allowed: {pattern}")
    for n in axes_lengths.values():
        if type(n) is not int:
            raise TypeError(f"rearrange axis lengths must be integers, got: {type(n)}")
    diff = lnames ^ rnames
    if diff:
        raise ValueError("Identifiers only on one side of rearrange expression (should be on "
                         f"both): {diff}")
    unmatched = axes_lengths.keys() - lnames
    if unmatched:
        raise ValueError(f"Identifiers not found in rearrange expression: {unmatched}")
    ndim = tensor.dim()
    if _ELLIPSIS in lnames:
        n_ell = ndim - (len(left) - 1)
        if len(left) - 1 > ndim:
            raise ValueError(f"Number of dimensions in pattern ({len(left) - 1}) must be less "
                             f"than or equal to the number of dimensions in the tensor ({ndim})")
    else:
        n_ell = 0
        if len(left) != ndim:
            raise ValueError(f"Number of dimensions in pattern ({len(left)}) must be equal to the "
                             f"number of dimensions in the tensor ({ndim})")
    # the elementary axes of the input, in order, with their sizes
    ell_names = [f'{_ELLIPSIS}{i}' for i in range(n_ell)]
    axes, sizes, dim = [], {}, 0
    for part in left:
        if part == _ELLIPSIS:
            for name in ell_names:
                axes.append(name)
                sizes[name] = tensor.shape[dim]
                dim += 1
            continue
        size = tensor.shape[dim]
        dim += 1
        if not part:  # a unit axis: dropped
            if size != 1:
                raise ValueError(f"rearrange: the dimension matched to '1' has size {size}")
            continue
        unknown = [n for n in part if n not in axes_lengths]
        known = 1
        for n in part:
            if n in axes_lengths:
                known *= axes_lengths[n]
        if len(unknown) > 1:
            raise ValueError(f"rearrange: could not infer the sizes of {unknown} in a dimension "
                             f"of size {size}")
        if unknown:
            if known == 0 or size % known:
                raise ValueError(f"rearrange: the dimension of size {size} cannot be split into "
                                 f"{part} with {axes_lengths}")
            sizes[unknown[0]] = size // known
        elif known != size:
            raise ValueError(f"rearrange: the dimension of size {size} does not match the sizes "
                             f"{[axes_lengths[n] for n in part]} given for {part}")
        for n in part:
            axes.append(n)
            sizes.setdefault(n, axes_lengths.get(n))
    x = tensor.reshape(tuple(sizes[n] for n in axes))
    order, out_shape = [], []
    for part in right:
        if part == _ELLIPSIS:
            order += ell_names
            out_shape += [sizes[n] for n in ell_names]
            continue
        group = [m for n in part for m in (ell_names if n == _ELLIPSIS else [n])]
        order += group
        size = 1
        for n in group:
            size *= sizes[n]
        out_shape.append(size)
    x = x.permute(tuple(axes.index(n) for n in order))
    return x.reshape(tuple(out_shape))


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
