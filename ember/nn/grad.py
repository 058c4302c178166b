"""ember.nn.grad (torch.nn.grad): a convolution's gradient with respect to its input or its
weight, given the gradient of its output.

Each is the backward pass of the convolution itself, so the result is what autograd gives,
and it is differentiable again when grad_output or the other operand requires grad.
"""
from .. import autograd
from .._ops.creation import zeros
from .._ops import conv as _conv
from ..autograd.grad_mode import enable_grad, is_grad_enabled

__all__ = ['conv1d_input', 'conv1d_weight', 'conv2d_input', 'conv2d_weight', 'conv3d_input',
           'conv3d_weight']


def _grad_of(conv, shape, operand, grad_output, input_first, stride, padding, dilation, groups):
    create = is_grad_enabled() and (operand.requires_grad or grad_output.requires_grad)
    unknown = zeros(tuple(shape), dtype=grad_output.dtype, requires_grad=True)
    with enable_grad():
        x, w = (unknown, operand) if input_first else (operand, unknown)
        if not create:
            x, w = x if x is unknown else x.detach(), w if w is unknown else w.detach()
        out = conv(x, w, None, stride, padding, dilation, groups)
    return autograd.grad(out, unknown, grad_output, create_graph=create)[0]


def _pair_of_functions(conv):
    def input_grad(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
        return _grad_of(conv, input_size, weight, grad_output, True, stride, padding,
                        dilation, groups)

    def weight_grad(input, weight_size, grad_output, stride=1, padding=0, dilation=1,
                    groups=1):
        return _grad_of(conv, weight_size, input, grad_output, False, stride, padding,
                        dilation, groups)
    return input_grad, weight_grad


conv1d_input, conv1d_weight = _pair_of_functions(_conv.conv1d)
conv2d_input, conv2d_weight = _pair_of_functions(_conv.conv2d)
conv3d_input, conv3d_weight = _pair_of_functions(_conv.conv3d)
for _name in __all__:
    globals()[_name].__name__ = globals()[_name].__qualname__ = _name
    globals()[_name].__doc__ = (f"The gradient of {_name.split('_')[0]} with respect to its "
                                f"{_name.split('_')[1]}.")
