"""torch.nn.modules.batchnorm: where torch keeps the batch-norm layers.

ember defines them in normalization.py; this module only names them where torch does, and their
``__module__`` says so, so that whole-model pickles and reprs name torch's path.
"""
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d,  # noqa: F401
                            LazyBatchNorm2d, LazyBatchNorm3d, SyncBatchNorm, _NormBase,
                            _BatchNorm, _LazyNormBase)

__all__ = ['BatchNorm1d', 'LazyBatchNorm1d', 'BatchNorm2d', 'LazyBatchNorm2d', 'BatchNorm3d',
           'LazyBatchNorm3d', 'SyncBatchNorm']

for _c in (BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d, LazyBatchNorm2d,
           LazyBatchNorm3d, SyncBatchNorm, _NormBase, _BatchNorm, _LazyNormBase):
    _c.__module__ = __name__
del _c
