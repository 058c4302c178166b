"""Flatten parameters into one vector and back (torch.nn.utils.convert_parameters)."""
from ..._tensor import Tensor
from ..._ops.shape import cat

__all__ = ['parameters_to_vector', 'vector_to_parameters']


def _check_param_device(param, old_param_device):
    # ember computes on the CPU only: every parameter is on the same device
    return -1


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter (differentiable, like torch's cat of views)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy slices of `vec` into the parameters' data, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
