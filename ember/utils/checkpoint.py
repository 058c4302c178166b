"""ember.utils.checkpoint (torch.utils.checkpoint): activation checkpointing.

A checkpointed segment keeps only its inputs; the values its backward needs are recomputed by
running the segment again during backward, with the random state of the forward restored (so
dropout draws the same mask) and autocast as it was.

- use_reentrant=True (torch's CheckpointFunction): the forward runs under no_grad, so the
  segment records no graph at all; its backward node runs the segment again with grad
  enabled on detached inputs and backpropagates through that inner graph. Only tensor
  arguments receive gradients (parameters used inside accumulate theirs in the inner pass),
  and it serves backward() only, not autograd.grad, as torch's.
- use_reentrant=False: the forward records its graph as usual (outputs keep their real
  grad_fn), then the values saved by the segment's nodes are dropped. The first of those
  nodes that backward reaches runs the segment again, and the nodes it creates, matched one
  for one with the dropped ones (the determinism check: same node types and saved shapes and
  dtypes), hand over their saved values. It works with autograd.grad, keyword arguments and
  tensors inside nested structures. (Nodes of autograd.Function subclasses and fused RNN
  layers keep their saved values.)
"""
import contextlib
import enum
import warnings

from .._tensor import Tensor
from ..autograd import graph as _graph
from ..autograd.function import Function
from ..autograd.grad_mode import _State, enable_grad, no_grad
from ..autograd.graph import _is_checkpoint_valid, SavedTensor  # noqa: F401 (torch re-exports it)
from ..amp import autocast
from ..amp.autocast_mode import (is_autocast_enabled, get_autocast_dtype,
                                 is_autocast_cache_enabled)
from ..random import get_rng_state, set_rng_state, fork_rng
from ..nn import Sequential

__all__ = ['checkpoint', 'checkpoint_sequential', 'CheckpointError', 'CheckpointFunction',
           'check_backward_validity', 'detach_variable', 'get_device_states',
           'set_device_states', 'noop_context_fn', 'set_checkpoint_early_stop',
           'DefaultDeviceType', 'set_checkpoint_debug_enabled', 'CheckpointPolicy',
           'SelectiveCheckpointContext', 'create_selective_checkpoint_contexts',
           'SAC_IGNORED_OPS', 'GraphExecGroup']

_DEFAULT_DETERMINISM_MODE = 'default'
_DETERMINISM_CHECKS = ('default', 'none')
_checkpoint_debug_enabled = None
_enable_checkpoint_early_stop = None

_DEBUG_TIP = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint\u2011debug mode globally.
"""


class CheckpointError(RuntimeError):
    pass


def tree_map(fn, tree):
    """fn applied to every leaf of nested tuples, lists and dicts (torch.utils._pytree)."""
    if isinstance(tree, tuple) and hasattr(tree, '_fields'):
        return type(tree)(*(tree_map(fn, v) for v in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(fn, v) for v in tree)
    if isinstance(tree, dict):
        return type(tree)((k, tree_map(fn, v)) for k, v in tree.items())
    return fn(tree)


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


class DefaultDeviceType:
    """The device type whose random state checkpoint stashes besides the CPU's."""
    _default_device_type = None

    @staticmethod
    def set_device_type(device='cuda'):
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        if not DefaultDeviceType._default_device_type:
            DefaultDeviceType._default_device_type = 'cpu'  # ember has no accelerator
        return DefaultDeviceType._default_device_type


def get_device_states(*args):
    """(device ids, RNG states) of the non-CPU devices among args: none in ember."""
    return [], []


def set_device_states(devices, states, *, device_type=None):
    if list(devices):
        raise RuntimeError("ember has no accelerator device to restore a random state on")


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Whether non-reentrant checkpoint may stop recomputing early. ember always recomputes
    the whole segment (the result is the same); the setting is kept as torch keeps it."""
    global _enable_checkpoint_early_stop
    prev = _enable_checkpoint_early_stop
    _enable_checkpoint_early_stop = enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    global _checkpoint_debug_enabled
    prev = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = prev


def _autocast_state():
    return dict(enabled=is_autocast_enabled('cpu'), dtype=get_autocast_dtype('cpu'),
                cache_enabled=is_autocast_cache_enabled())


@contextlib.contextmanager
def _forward_state(rng_state, autocast_kwargs):
    """The forward's random state (the caller's restored on exit) and autocast state."""
    with fork_rng(enabled=rng_state is not None):
        if rng_state is not None:
            set_rng_state(rng_state)
        with autocast('cpu', **autocast_kwargs):
            yield


# ---- use_reentrant=True -----------------------------------------------------------------------

class CheckpointFunction(Function):
    """The reentrant checkpoint: no graph in forward, the segment re-run in backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        ctx.autocast_kwargs = _autocast_state()
        ctx.fwd_cpu_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = []
        ctx.tensor_indices = []
        tensors = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensors.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensors)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *args):
        if not _is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _forward_state(ctx.fwd_cpu_state, ctx.autocast_kwargs):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, grads = [], []
        for out, g in zip(outputs, args):
            if isinstance(out, Tensor) and out.requires_grad:
                outs.append(out)
                grads.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        _graph.backward(outs, grads)
        return (None, None) + tuple(t.grad if isinstance(t, Tensor) else None
                                    for t in detached)


# ---- use_reentrant=False ----------------------------------------------------------------------

def _droppable(node):
    """Nodes whose saved values a recomputation can hand back: the @derivative formulas."""
    return type(node)._formula is not None and isinstance(node._saved, dict)


def _saved_meta(node):
    return [(tuple(v.shape), v.dtype) for v in node._saved.values() if isinstance(v, Tensor)]


class _Frame:
    """One non-reentrant checkpointed call: what it needs to run again, and the nodes whose
    saved values it dropped."""

    def __init__(self, fn, args, kwargs, rng_state, autocast_kwargs, recompute_ctx, check):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.rng_state, self.autocast_kwargs = rng_state, autocast_kwargs
        self.recompute_ctx, self.check = recompute_ctx, check
        self.nodes = None
        self.metas = None

    def drop(self, created):
        self.nodes = [n for n in created if _droppable(n)]
        self.metas = [_saved_meta(n) for n in self.nodes]
        for n in self.nodes:
            n._saved = None
            n._versions = None
            n._result_alias = None
            n.register_prehook(self._prehook)

    def _prehook(self, grads):
        if self.fn is not None:
            self.recompute()

    def recompute(self):
        created = []
        prev_log, _graph._CREATED[0] = _graph._CREATED[0], created
        try:
            with _forward_state(self.rng_state, self.autocast_kwargs), enable_grad(), \
                    self.recompute_ctx:
                self.fn(*self.args, **self.kwargs)
        finally:
            _graph._CREATED[0] = prev_log
        fresh = [n for n in created if _droppable(n)]
        if len(fresh) != len(self.nodes):
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                "original forward and recomputation.\n"
                f"Number of tensors saved during forward: {len(self.nodes)}\n"
                f"Number of tensors saved during recomputation: {len(fresh)}.\n{_DEBUG_TIP}")
        if self.check == 'default':
            bad = [i for i, (old, new, meta) in enumerate(zip(self.nodes, fresh, self.metas))
                   if type(old) is not type(new) or meta != _saved_meta(new)]
            if bad:
                details = '\n'.join(
                    f"node {i} ({self.nodes[i].name()}): saved {self.metas[i]} in forward, "
                    f"{fresh[i].name()} saved {_saved_meta(fresh[i])} in recomputation"
                    for i in bad)
                raise CheckpointError(
                    "torch.utils.checkpoint: Recomputed values for the following tensors have "
                    f"different metadata than during the forward pass.\n{details}.\n"
                    f"{_DEBUG_TIP}")
        for old, new in zip(self.nodes, fresh):
            old._saved, old._versions = new._saved, new._versions
            old._result_alias = new._result_alias
        # the segment has served its backward: let its inputs go
        self.fn = self.args = self.kwargs = self.nodes = self.metas = None


def _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, debug,
                                  args, kwargs):
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, "
                         f"but got {determinism_check}")
    if (_checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug) \
            and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    forward_ctx, recompute_ctx = context_fn()
    if not _State.enabled:
        with forward_ctx:
            return function(*args, **kwargs)
    frame = _Frame(function, args, kwargs, get_rng_state() if preserve else None,
                   _autocast_state(), recompute_ctx, determinism_check)
    created = []
    prev_log, _graph._CREATED[0] = _graph._CREATED[0], created
    suppressed = True
    try:
        with forward_ctx:
            out = function(*args, **kwargs)
            suppressed = False
    finally:
        _graph._CREATED[0] = prev_log
    if suppressed:
        raise RuntimeError(
            "torch.utils.checkpoint: the forward context provided by context_fn suppressed an "
            "exception raised during the checkpointed forward. This is not supported because "
            "checkpoint cannot return a value for a failed forward.")
    if prev_log is not None:
        prev_log.extend(created)  # an enclosing checkpoint sees the nodes as its own
    else:
        frame.drop(created)
    return out


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check=_DEFAULT_DETERMINISM_MODE, debug=False, early_stop=True,
               **kwargs):
    """Run `function(*args, **kwargs)` without keeping its activations: backward runs it
    again (see the module docstring for the two variants)."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop('preserve_rng_state', True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check,
                                         debug, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run `functions` (a Sequential or a list of modules) in order, checkpointing all but the
    last of `segments` pieces."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop('preserve_rng_state', True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)


# ---- selective checkpointing ------------------------------------------------------------------

class CheckpointPolicy(enum.Enum):
    """What selective checkpointing does with an op's output: must/prefer save, recompute or
    offload to the CPU."""
    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    """What a selective-checkpoint policy function is told about the call it decides on."""

    def __init__(self, *, is_recompute):
        self.is_recompute = is_recompute


# torch lists ATen ops here (its dispatcher's); ember has no dispatcher, so none
SAC_IGNORED_OPS = set()


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    raise NotImplementedError(
        "ember does not implement torch.utils.checkpoint.create_selective_checkpoint_contexts "
        "yet (selective checkpointing decides per ATen op, which ember has no dispatcher for)")


class GraphExecGroup:
    """Groups backward calls so that a checkpointed region recomputes at most once. ember
    recomputes a region once per graph anyway; the group is accepted as a context manager."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


from .._stubs import hook as _hook  # noqa: E402
_hook(__name__)
