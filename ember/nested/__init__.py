"""torch.nested: nested tensors (a batch of tensors of different sizes), strided and jagged."""
from .._dtype import dtype as DType  # noqa: F401  (torch.nested re-exports these)
from .._tensor import Tensor, device as Device  # noqa: F401
from ..types import SymInt  # noqa: F401
from ._nested import (NestedTensor, nested_tensor, as_nested_tensor,  # noqa: F401
                      to_padded_tensor, nested_tensor_from_jagged, narrow, masked_select)
from .. import _stubs

__all__ = ['to_padded_tensor', 'as_nested_tensor', 'nested_tensor', 'nested_tensor_from_jagged',
           'narrow', 'masked_select']

_stubs.hook(__name__)
