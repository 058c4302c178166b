"""torch's top-level constants and flags that cost nothing to provide (torch.pi, torch.inf,
torch.has_lapack, the layouts and memory formats, ...): a leaf every layer may import."""
import math

__all__ = ['e', 'pi', 'inf', 'nan', 'newaxis', 'has_lapack', 'has_mkl', 'has_openmp',
           'has_spectral', 'jagged', 'sparse_csr', 'sparse_csc', 'sparse_bsr', 'sparse_bsc',
           'legacy_contiguous_format']


class layout:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'torch.' + self.name


class memory_format:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'torch.' + self.name


strided = layout('strided')
sparse_coo = layout('sparse_coo')
contiguous_format = memory_format('contiguous_format')
channels_last = memory_format('channels_last')
channels_last_3d = memory_format('channels_last_3d')
preserve_format = memory_format('preserve_format')


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
