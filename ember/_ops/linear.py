"""Forward math for linear layers: F.linear and F.bilinear.

Both are compositions of core ops chosen to give torch's grad_fn at the output:
a 2-D input with bias is one addmm (AddmmBackward0), a 1-D or contiguous N-D input is
flattened to 2-D, addmm'd and viewed back (ViewBackward0), anything else is matmul + add.
"""
from .linalg import addmm
from ._autocast import autocast

__all__ = ['linear', 'bilinear']


@autocast('lower')
def linear(input, weight, bias=None):
    """y = input @ weight.T + bias."""
    if input.is_nested:  # per component (ember/nested)
        return input._linear(weight, bias)
    wt = weight.t()
    ndim = input.dim()
    if bias is None:
        return input.matmul(wt)
    if ndim == 2:
        return addmm(bias, input, wt)
    if ndim == 1 or (ndim >= 3 and input.is_contiguous()):
        out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
        return addmm(bias, input.reshape(-1, input.shape[-1]), wt).view(out_shape)
    return input.matmul(wt) + bias


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]."""
    if input1.dim() != input2.dim():
        raise RuntimeError(f'bilinear(): input dimensions do not match: got {input1.dim()} and '
                           f'{input2.dim()}')
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f'bilinear(): input batch dimensions do not match: got '
                           f'{tuple(input1.shape)} and {tuple(input2.shape)}')
    out, n1, n2 = weight.shape
    if input1.shape[-1] != n1:
        raise RuntimeError(f'bilinear(): input1 size does not match weight size: got '
                           f'{input1.shape[-1]} but expected {n1}')
    if input2.shape[-1] != n2:
        raise RuntimeError(f'bilinear(): input2 size does not match weight size: got '
                           f'{input2.shape[-1]} but expected {n2}')
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, n1)
    x2 = input2.reshape(-1, n2)
    # (N, i) @ (i, o*j) -> (N, o, j), then contract j against input2.
    w = weight.permute(1, 0, 2).reshape(n1, out * n2)
    y = (x1.matmul(w).view(-1, out, n2) * x2.unsqueeze(1)).sum(-1).view(lead + (out,))
    if bias is not None:
        y = y + bias
    return y
