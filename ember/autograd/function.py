"""autograd.Function: custom ops with a user-written backward (torch.autograd.Function)."""
import numpy as np

from .grad_mode import _State
from .graph import Node, _Anomaly, _anomaly_trace, _init_node, _raise_freed
from .._tensor import Tensor, _wrap
from .graph import _check_versions, _SAVED_HOOKS, _Packed, _pack
from .grad_mode import no_grad

__all__ = ['Function', 'FunctionCtx', 'once_differentiable']


class FunctionCtx:
    """What forward can leave for backward; in ember the ctx is the graph node itself."""

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            _raise_freed()
        if type(saved) is _PackedTuple:
            return tuple(v.get() if type(v) is _Packed else v for v in saved)
        return saved

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors):
        self.dirty_tensors = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = value


class _PackedTuple(tuple):
    """ctx's saved tensors while saved_tensors_hooks packed them."""
    __slots__ = ()


class BackwardCFunction(FunctionCtx, Node):
    """The node of one Function call: holds ctx state and calls the user's backward."""

    def __init__(self):
        self._saved = ()
        self._versions = None
        self._result_alias = None
        self._pre_hooks = self._hooks = self._retains = None
        self._metadata = None
        self._anomaly = _anomaly_trace() if _Anomaly.enabled else None
        self.to_save = ()
        self.non_differentiable = ()
        self.dirty_tensors = ()
        self.materialize_grads = True
        self.needs_input_grad = ()
        self._next = ()
        self._n_outputs = 1
        self._out_meta = ()

    def _apply(self, grads, create_graph):
        if self._saved is None:
            return FunctionCtx.saved_tensors.fget(self)
        if self._versions:
            _check_versions(self)
        if self.materialize_grads:
            grads = [g if g is not None else _wrap(np.zeros(shape, dtype))
                     for g, (shape, dtype) in zip(grads, self._out_meta)]
        res = self._cls.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n_in = len(self._positions)
        if len(res) < n_in:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(res)})")
        return tuple(res[p] for p in self._positions)

    def _release(self):
        self._saved = None
        self._versions = None


def _node_name(cls):
    return cls.__name__ + 'Backward'


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(_node_name(cls), (BackwardCFunction,), {'_cls': cls})


class Function(metaclass=_FunctionMeta):
    """Subclass with static forward(ctx, *args) and backward(ctx, *grads); call .apply."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method.")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls._backward_cls()
        tensor_args = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        custom_setup = cls.setup_context.__func__ is not Function.setup_context.__func__ \
            if hasattr(cls.setup_context, '__func__') else \
            cls.setup_context is not Function.setup_context
        prev = _State.enabled
        _State.enabled = False
        try:
            if custom_setup:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            _State.enabled = prev
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        record = prev and any(a._requires_grad for _, a in tensor_args)
        if not record:
            return outputs
        ctx._positions = tuple(i for i, _ in tensor_args)
        _init_node(ctx, [a for _, a in tensor_args])
        ctx._n_outputs = len(outs)
        ctx._out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor)
                              else ((), np.float32) for o in outs)
        non_diff = {id(t) for t in ctx.non_differentiable}
        inputs_by_id = {id(a) for _, a in tensor_args}
        new_outs = []
        for nr, o in enumerate(outs):
            if isinstance(o, Tensor):
                if id(o) in inputs_by_id and not any(o is d for d in ctx.dirty_tensors):
                    o = o.view_as(o)  # an input returned as is: a fresh tensor for the output
                if id(o) not in non_diff and (o._data.dtype.kind in 'fc'):
                    o.grad_fn = ctx
                    o._output_nr = nr
                    o._requires_grad = True
            new_outs.append(o)
        saved = tuple(ctx.to_save)
        if _SAVED_HOOKS:  # saved_tensors_hooks: each saved tensor packed, no version check
            hooks = _SAVED_HOOKS[-1]
            ctx._saved = _PackedTuple(_pack(t, hooks) if isinstance(t, Tensor) else t
                                      for t in saved)
            ctx._versions = None
            return tuple(new_outs) if is_tuple else new_outs[0]
        ctx._saved = saved
        ctx._versions = [(t, t._vc.value) for t in saved if isinstance(t, Tensor)
                         and t.grad_fn is not ctx] or None
        return tuple(new_outs) if is_tuple else new_outs[0]


def once_differentiable(fn):
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    wrapper.__name__ = fn.__name__
    return wrapper
