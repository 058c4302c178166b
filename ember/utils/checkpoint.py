"""ember.utils.checkpoint (torch.utils.checkpoint).

torch's activation checkpointing trades compute for memory: it drops a segment's activations
and recomputes them in backward. ember keeps the activations instead, so `checkpoint` computes
exactly what torch computes (values, gradients and the random stream: torch restores the RNG
state for its recomputation) without the memory saving. The reentrant variant's rule that only
tensor inputs carry gradients is kept.
"""
import contextlib
import warnings

from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..nn import Sequential

__all__ = ['checkpoint', 'checkpoint_sequential', 'noop_context_fn', 'detach_variable',
           'set_checkpoint_early_stop', 'set_checkpoint_debug_enabled']


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


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    yield


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check='default', debug=False, early_stop=True, **kwargs):
    """Runs `function(*args, **kwargs)`; see the module docstring for what differs from torch."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    kwargs.pop('preserve_rng_state', True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if is_grad_enabled() and not any(isinstance(a, Tensor) and a.requires_grad
                                         for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None")
            with no_grad():
                return function(*args)
        return function(*args)
    fwd_ctx, _ = context_fn()
    with fwd_ctx:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs `functions` (a Sequential or a list of modules) in order, in `segments` pieces."""
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


from .._stubs import hook as _hook  # noqa: E402
_hook(__name__)
