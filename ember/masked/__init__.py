"""torch.masked: reductions and normalisations that ignore masked-out elements, and
MaskedTensor."""
from ._ops import (_canonical_dim, _combine_input_and_mask, _input_mask,  # noqa: F401
                   _output_mask, _reduction_identity, _where, amax, amin, argmax, argmin,
                   cumprod, cumsum, log_softmax, logaddexp, logsumexp, mean, median, norm,
                   normalize, prod, softmax, softmin, std, sum, var)
from .maskedtensor.core import is_masked_tensor, MaskedTensor  # noqa: F401
from .maskedtensor.creation import as_masked_tensor, masked_tensor  # noqa: F401
from . import maskedtensor  # noqa: F401
from .._stubs import hook as _hook

__all__ = ['amax', 'amin', 'argmax', 'argmin', 'as_masked_tensor', 'cumprod', 'cumsum',
           'is_masked_tensor', 'log_softmax', 'logaddexp', 'logsumexp', 'masked_tensor',
           'MaskedTensor', 'mean', 'median', 'norm', 'normalize', 'prod', 'softmax', 'softmin',
           'std', 'sum', 'var']

_hook(__name__)
