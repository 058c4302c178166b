"""torch's top-level constants and flags that cost nothing to provide (torch.pi, torch.inf,
torch.has_lapack, the sparse layouts, ...), and Tensor attributes of the same kind."""
import math

from ._misc import layout, memory_format
from ._tensor import Tensor

__all__ = ['e', 'pi', 'inf', 'nan', 'newaxis', 'has_lapack', 'has_mkl', 'has_openmp',
           'has_spectral', 'jagged', 'sparse_csr', 'sparse_csc', 'sparse_bsr', 'sparse_bsc',
           'legacy_contiguous_format']

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None
has_lapack = True  # ember's linalg runs on NumPy's LAPACK
has_mkl = False
has_openmp = False
has_spectral = True  # ember.fft runs on NumPy's pocketfft
jagged = layout('jagged')
sparse_csr = layout('sparse_csr')
sparse_csc = layout('sparse_csc')
sparse_bsr = layout('sparse_bsr')
sparse_bsc = layout('sparse_bsc')
legacy_contiguous_format = memory_format('contiguous_format')  # an alias, as on torch


def _grad_dtype(self):
    gd = self.__dict__.get('_grad_dtype')
    return self.dtype if gd is None else gd


def _set_grad_dtype(self, value):
    self.__dict__['_grad_dtype'] = value


if not hasattr(Tensor, 'grad_dtype'):
    Tensor.grad_dtype = property(_grad_dtype, _set_grad_dtype,
                                 doc="The dtype gradients of this tensor take (its own dtype).")
