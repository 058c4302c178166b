"""torch.nn.modules.instancenorm: where torch keeps the instance-norm layers.

ember defines them in normalization.py; this module names them where torch does (and their
``__module__`` says so, for pickles and reprs).
"""
from .normalization import (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,  # noqa: F401
                            LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
                            _InstanceNorm)

__all__ = ['InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d', 'LazyInstanceNorm1d',
           'LazyInstanceNorm2d', 'LazyInstanceNorm3d']

for _c in (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LazyInstanceNorm1d,
           LazyInstanceNorm2d, LazyInstanceNorm3d, _InstanceNorm):
    _c.__module__ = __name__
del _c
