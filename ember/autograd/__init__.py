"""ember.autograd: reverse-mode automatic differentiation (torch.autograd)."""
import importlib as _importlib

from .. import _tensor
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                        is_grad_enabled, is_inference_mode_enabled, set_multithreading_enabled,
                        is_multithreading_enabled, is_view_replay_enabled,
                        _force_original_view_tracking, enforce_grad_layout_policy)
from .graph import backward, grad, Node, _is_checkpoint_valid, SavedTensor  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled  # noqa: F401
from . import graph, function, grad_mode, forward_ad  # noqa: F401

__all__ = ['no_grad', 'enable_grad', 'set_grad_enabled', 'inference_mode', 'backward', 'grad',
           'Function', 'gradcheck', 'gradgradcheck', 'detect_anomaly', 'set_detect_anomaly']


from . import variable  # noqa: E402  (torch.autograd.variable)
from .variable import Variable  # noqa: E402,F401
graph.Variable = Variable  # torch.autograd.graph imports it too
__all__.append('Variable')


_FROM_PROFILER = ('DeviceType', 'ProfilerActivity', 'ProfilerConfig', 'ProfilerState')


def __getattr__(name):
    # the profiler's types load the profiler (not part of `import ember`) on first use
    if name in _FROM_PROFILER:
        value = getattr(_importlib.import_module(__name__ + '.profiler'), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def kineto_available():
    """torch's profiler backend (Kineto) is not part of ember."""
    return False


def is_tensor_like(inp):
    """Whether inp is a Tensor, or of a type with a __torch_function__ (torch.overrides)."""
    return type(inp) is _tensor.Tensor or hasattr(inp, '__torch_function__')


def variable(*args, **kwargs):
    """torch's deprecated factory: it only raises (the function shadows the module of that
    name, as on torch)."""
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead")


# torch.autograd.graph.RemovableHandle is torch.utils.hooks' (a layer above the engine)
from ..utils.hooks import RemovableHandle  # noqa: E402
graph.RemovableHandle = RemovableHandle
