"""ember.autograd: reverse-mode automatic differentiation (torch.autograd)."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                        is_grad_enabled, is_inference_mode_enabled)
from .graph import backward, grad, Node, _is_checkpoint_valid  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled  # noqa: F401
from . import graph, function, grad_mode, forward_ad  # noqa: F401

__all__ = ['no_grad', 'enable_grad', 'set_grad_enabled', 'inference_mode', 'backward', 'grad',
           'Function', 'gradcheck', 'gradgradcheck', 'detect_anomaly', 'set_detect_anomaly']


from . import variable  # noqa: E402  (torch.autograd.variable)
from .variable import Variable  # noqa: E402,F401
__all__.append('Variable')


def variable(*args, **kwargs):
    """torch's deprecated factory: it only raises (the function shadows the module of that
    name, as on torch)."""
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead")
