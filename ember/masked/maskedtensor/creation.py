"""torch.masked.masked_tensor and as_masked_tensor."""
from .core import MaskedTensor

__all__ = ['as_masked_tensor', 'masked_tensor']


def masked_tensor(data, mask, requires_grad=False):
    return MaskedTensor(data, mask, requires_grad)


def as_masked_tensor(data, mask):
    return MaskedTensor(data, mask)
