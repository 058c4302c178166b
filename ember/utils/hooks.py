"""Hook handles and the machinery behind nn.Module's full backward hooks (torch.utils.hooks)."""
import warnings
import weakref
from collections import OrderedDict

from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ..autograd import Function

__all__ = ['RemovableHandle', 'unserializable_hook', 'warn_if_has_hooks', 'BackwardHook']


class RemovableHandle:
    """A handle that removes a hook from the dict(s) it was registered in.

    The dicts are held through weak references so that a handle never keeps a
    module alive; `extra_dict` lists side tables keyed by the same id (e.g. the
    `with_kwargs` flags), cleaned up together with the hook.
    """

    id: int
    next_id: int = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)
        else:
            self.extra_dict_ref = ()

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        # A dead dict becomes a fresh one: weakref.ref needs a live object.
        self.hooks_dict_ref = weakref.ref(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        extra = state[2] if len(state) > 2 and state[2] is not None else ()
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra if d is not None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def unserializable_hook(f):
    """Mark a tensor hook as not meant to be serialized (silences the warning)."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor):
    hooks = getattr(tensor, '_backward_hooks', None)
    if hooks:
        for hook in hooks.values():
            if not hasattr(hook, '__torch_unserializable__'):
                warnings.warn(f'backward hook {hook!r} on tensor will not be serialized.  If '
                              'this is expected, you can decorate the function with '
                              '@torch.utils.hooks.unserializable_hook to suppress this warning',
                              stacklevel=2)


def _backward_hook_function():
    # Built on first use: ember.autograd.Function lives in the core, which imports nn lazily.
    global _BackwardHookFunction
    if _BackwardHookFunction is None:

        class BackwardHookFunction(Function):
            """Identity whose backward node lets a module observe (and replace) gradients."""

            @staticmethod
            def forward(ctx, on_backward, *args):
                ctx.on_backward = on_backward
                outs = tuple(a.view_as(a) for a in args)
                # inputs that did not need grad must not start needing it here
                ctx.mark_non_differentiable(*[o for o, a in zip(outs, args)
                                              if not a.requires_grad])
                return outs

            @staticmethod
            def backward(ctx, *grads):
                return (None, *ctx.on_backward(grads))

        _BackwardHookFunction = BackwardHookFunction
    return _BackwardHookFunction


_BackwardHookFunction = None


class BackwardHook:
    """Runs a module's full backward (pre-)hooks.

    Inputs and outputs of the module are routed through an identity autograd
    Function.  The output-side node sees grad_output first (pre-hooks may replace
    it); the input-side node then sees grad_input and calls the full hooks with
    both, which may replace grad_input.
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    @staticmethod
    def _pack_with_none(indices, values, size):
        res = [None] * size
        for idx, val in zip(indices, values):
            res[idx] = val
        return tuple(res)

    @staticmethod
    def _unpack_none(indices, values):
        return tuple(values[idx] for idx in indices)

    def _apply_on_tensors(self, on_backward, args):
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in idx]
        if not (any(t.requires_grad for t in tensors) and is_grad_enabled()):
            return args, None
        fn = _backward_hook_function()
        new = fn.apply(on_backward, *tensors)
        if not isinstance(new, tuple):
            new = (new,)
        out = list(args)
        for i, v in zip(idx, new):
            out[i] = v
        return (tuple(out) if type(args) is tuple else type(args)(*out)), idx

    def setup_input_hook(self, args):
        def on_backward(grad_input):
            if self.grad_outputs is None:
                return grad_input
            res = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
            for hook in self.user_hooks:
                out = hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(res):
                    raise RuntimeError('Backward hook returned an invalid number of grad_input, '
                                       f'got {len(out)}, but expected {len(res)}')
                res = out
            self.grad_outputs = None
            return self._unpack_none(self.input_tensors_index, res)

        res, idx = self._apply_on_tensors(on_backward, args)
        self.n_inputs = len(args)
        self.input_tensors_index = idx
        return res

    def setup_output_hook(self, args):
        def on_backward(grad_output):
            self.grad_outputs = self._pack_with_none(self.output_tensors_index, grad_output,
                                                     self.n_outputs)
            for pre_hook in self.user_pre_hooks:
                new = pre_hook(self.module, self.grad_outputs)
                if new is None:
                    continue
                if len(new) != len(self.grad_outputs):
                    raise RuntimeError('Backward pre hook returned an invalid number of '
                                       f'grad_output, got {len(new)}, but expected '
                                       f'{len(self.grad_outputs)}')
                self.grad_outputs = new
            local = self.grad_outputs
            if self.input_tensors_index is None:
                # No input needs grad: the full hooks fire here, with grad_input all None.
                warnings.warn('Full backward hook is firing when gradients are computed with '
                              'respect to module outputs since no inputs require gradients. See '
                              'https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html'
                              '#torch.nn.Module.register_full_backward_hook for more details.',
                              stacklevel=5)
                grad_inputs = (None,) * self.n_inputs
                for hook in self.user_hooks:
                    res = hook(self.module, grad_inputs, self.grad_outputs)
                    if res is not None and not (isinstance(res, tuple)
                                                and all(r is None for r in res)):
                        raise RuntimeError('Backward hook for Modules where no input requires '
                                           'gradient should always return None or None for all '
                                           'gradients.')
                self.grad_outputs = None
            return tuple(local[i] for i in self.output_tensors_index)

        is_tuple = isinstance(args, tuple)
        if not is_tuple:
            args = (args,)
        res, idx = self._apply_on_tensors(on_backward, args)
        self.n_outputs = len(args)
        self.output_tensors_index = idx
        return res if is_tuple else res[0]
