"""torch's higher-order control flow run eagerly (torch.cond, torch.while_loop), the symbolic
size constraints (which check concrete ints in eager mode) and torch.classes.

torch runs cond/while_loop on a tensor predicate through its compiler; ember has none, so the
chosen branch (the loop) runs eagerly, recorded as one node named as torch's
(CondAutogradOpBackward, WhileLoopAutogradOpBackward) whose backward differentiates the branch
it ran.
"""
import sys
import types

from ._tensor import Tensor
from .autograd import grad as _grad
from .autograd.function import Function
from .autograd.grad_mode import enable_grad

__all__ = ['cond', 'while_loop', 'sym_constrain_range', 'sym_constrain_range_for_size',
           'classes', '_check', '_check_is_size', '_check_index', '_check_value', '_check_type',
           '_check_not_implemented', '_check_with', '_check_tensor_all',
           '_check_tensor_all_with']


class UncapturedHigherOrderOpError(RuntimeError):
    """torch._dynamo.exc.UncapturedHigherOrderOpError: what torch's compiler raises for a
    branch it cannot capture (an output aliasing an input)."""


def _flatten(tree):
    """The leaves of nested tuples/lists/dicts, and a function rebuilding the structure."""
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(x) for x in tree]
        leaves = [leaf for p in parts for leaf in p[0]]

        def build(flat, parts=parts, kind=type(tree)):
            out, i = [], 0
            for p in parts:
                n = len(p[0])
                out.append(p[1](flat[i:i + n]))
                i += n
            return kind(out) if kind in (list, tuple) else kind(*out)
        return leaves, build
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, build_vals = _flatten([tree[k] for k in keys])
        return leaves, lambda flat: dict(zip(keys, build_vals(flat)))
    return [tree], lambda flat: flat[0]


def _aliasing_error(op):
    return UncapturedHigherOrderOpError(
        "This higher order operator doesn't work unless it is captured completely with "
        "torch.compile. Got graph break/error:\n\nEncountered aliasing during higher order op "
        f"tracing\n  Higher Order Operator: {op}\n  Explanation: Higher order ops do not "
        "support aliasing.\n  Hint: Replace `return input` with `return input.clone()` to "
        "avoid aliasing.")


def _node_class(name):
    """An autograd.Function that runs fn(*inputs) with grad on over stand-ins for the inputs and
    differentiates what it ran in backward."""
    def forward(ctx, fn, op, *inputs):
        stand = [x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x
                 for x in inputs]
        with enable_grad():
            out = fn(*stand)
        leaves, build = _flatten(out)
        ids = {id(x) for x in inputs} | {id(x) for x in stand}
        if any(isinstance(t, Tensor) and id(t) in ids for t in leaves):
            raise _aliasing_error(op)
        ctx.stand, ctx.outs, ctx.build = stand, leaves, build
        return tuple(t.detach() if isinstance(t, Tensor) else t for t in leaves)

    def backward(ctx, *grads):
        pairs = [(o, g) for o, g in zip(ctx.outs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        wanted = [x for x in ctx.stand if isinstance(x, Tensor) and x.requires_grad]
        got = iter(_grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                         allow_unused=True) if pairs and wanted else [None] * len(wanted))
        return (None, None, *[next(got) if isinstance(x, Tensor) and x.requires_grad else None
                              for x in ctx.stand])
    return type(name, (Function,), {'forward': staticmethod(forward),
                                    'backward': staticmethod(backward)})


_CondAutogradOp = _node_class('CondAutogradOp')
_WhileLoopAutogradOp = _node_class('WhileLoopAutogradOp')


def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) if pred else false_fn(*operands)."""
    if isinstance(pred, (bool, int, float)):
        return true_fn(*operands) if pred else false_fn(*operands)
    if not isinstance(pred, (bool, Tensor)):
        raise RuntimeError(f"Expected pred to be bool or tensor, but got {pred}.")
    if pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    if not callable(true_fn) or not callable(false_fn):
        raise RuntimeError("Expect both branches to be callable.")
    leaves, build = _flatten(operands) if isinstance(operands, (tuple, list)) else ([None], None)
    if build is None or any(not isinstance(t, Tensor) for t in leaves):
        raise RuntimeError("Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    fn = true_fn if bool(pred.item()) else false_fn
    shape = []

    def flat_fn(*flat):
        out = fn(*build(list(flat)))
        shape.append(_flatten(out)[1])
        return out
    outs = _CondAutogradOp.apply(flat_fn, 'torch.cond', *leaves)
    return shape[0](list(outs))


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run body_fn on the carried values while cond_fn says so; returns the last values."""
    flat, build = _flatten((carried_inputs, ()))
    if not callable(cond_fn) or not callable(body_fn):
        raise RuntimeError("Expect cond_fn and body_fn to be callable.")
    if not all(isinstance(a, (Tensor, int)) for a in flat):
        raise AssertionError(
            f"{flat} can only be of (<class 'torch.Tensor'>, <class 'int'>, <class "
            f"'torch.SymInt'>) but got {tuple(type(a) for a in flat)}")
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list but got "
                           f"{type(carried_inputs)}")

    def check(pred):
        if (isinstance(pred, Tensor) and pred.dim() == 0 and pred.dtype.name == 'bool') or \
                isinstance(pred, bool):
            return bool(pred)
        raise RuntimeError(f"cond_fn must return a boolean scalar tensor or a boolean but got "
                           f"{pred}")

    def loop(*vals):
        carried = build(list(vals))[0]
        n = len(carried)
        while check(cond_fn(*carried)):
            out = body_fn(*carried)
            if not isinstance(out, tuple):
                raise AssertionError(f"body_fn should return a tuple but got {type(out)}")
            if len(out) != n:
                raise AssertionError(f"body_fn should return the same number of elements as "
                                     f"carried_inputs, got {len(out)} vs {n}")
            carried = out
        return tuple(c.clone() if isinstance(c, Tensor) and
                     any(c is v for v in vals) else c for c in carried)
    return _WhileLoopAutogradOp.apply(loop, 'torch.while_loop', *flat)


def _as_int(v):
    return int(v.item()) if isinstance(v, Tensor) else int(v)


def sym_constrain_range(size, *, min=None, max=None):
    """Assert min <= size <= max (a check on concrete ints outside tracing)."""
    lo = -sys.maxsize - 1 if min is None else min
    hi = sys.maxsize if max is None else max
    v = _as_int(size)
    if not lo <= v <= hi:
        raise RuntimeError(f"Invalid value range for {v} between [{lo}, {hi}].")


def sym_constrain_range_for_size(size, *, min=None, max=None):
    """As sym_constrain_range, for a value used as a size (min at least 0)."""
    if max is not None and max <= 2:
        raise RuntimeError(f"Max value to constrain_range_for_size must be greater than 2. "
                           f"got: {max}")
    sym_constrain_range(size, min=0 if min is None else min, max=max)


# ---- torch._check and friends: the assertions fake impls and traced code use -----------------

def _check_with(error_type, cond, message):
    """Raise error_type(message()) unless cond (a Python bool) holds."""
    if not isinstance(cond, bool):
        if isinstance(cond, Tensor):
            raise TypeError("cond must be a bool, but got a Tensor. For tensor conditions, use "
                            "torch._check_tensor_all() to assert that all elements are true.")
        raise TypeError(f"cond must be a bool, but got {type(cond)}")
    if cond:
        return
    if not issubclass(error_type, Exception) or issubclass(error_type, Warning):
        raise AssertionError(f"error_type must be a subclass of Exception but not Warning, got "
                             f"{error_type}")
    if message is None:
        text = ("Expected cond to be True, but got False. (Could this error message be "
                "improved? If so, please report an enhancement request to PyTorch.)")
    else:
        if not callable(message):
            raise TypeError("message must be a callable")
        text = str(message())
    raise error_type(text)


def _check(cond, message=None):
    _check_with(RuntimeError, cond, message)


def _check_is_size(i, message=None, *, max=None):
    """i is a valid size: non-negative (and at most max)."""
    _check(i >= 0, message)
    if max is not None:
        _check(i <= max, message)


def _check_index(cond, message=None):
    _check_with(IndexError, cond, message)


def _check_value(cond, message=None):
    _check_with(ValueError, cond, message)


def _check_type(cond, message=None):
    _check_with(TypeError, cond, message)


def _check_not_implemented(cond, message=None):
    _check_with(NotImplementedError, cond, message)


def _check_tensor_all_with(error_type, cond, message=None):
    if not isinstance(cond, Tensor):
        raise TypeError(f"cond must be a tensor, but got {type(cond)}")
    if cond.dtype.name != 'bool':
        raise TypeError(f"cond tensor must have dtype torch.bool, but got {cond.dtype}")
    _check_with(error_type, bool(cond.all().item()), message)


def _check_tensor_all(cond, message=None):
    _check_tensor_all_with(RuntimeError, cond, message)


class _ClassNamespace(types.ModuleType):
    def __init__(self, name):
        super().__init__('ember.classes' + name)
        self.name = name

    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        raise RuntimeError(f"Tried to instantiate class '{self.name}.{attr}', but it does not "
                           "exist! Ensure that it is registered via torch::class_")


class _Classes(types.ModuleType):
    """torch.classes: TorchScript custom classes registered from C++ (ember loads none)."""
    __file__ = '_classes.py'

    def __init__(self):
        super().__init__('ember.classes')

    def __repr__(self):
        return "<module 'torch.classes' from '_classes.py'>"

    def __getattr__(self, name):
        if name.startswith('__') or name.startswith('_ember'):
            raise AttributeError(name)
        space = _ClassNamespace(name)
        setattr(self, name, space)
        return space

    @property
    def loaded_libraries(self):
        return set()

    def load_library(self, path):
        raise NotImplementedError(
            f"ember cannot load compiled libraries (torch.classes.load_library({path!r})): it "
            "has no TorchScript runtime")


classes = _Classes()
