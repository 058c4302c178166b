"""torch.backends: the flags of torch's compute backends, as a CPU-only torch reports them.

The flags are accepted and remembered (`cudnn.benchmark = True`,
`cuda.matmul.allow_tf32 = True`, ...); they change nothing in ember, whose CPU kernels are
NumPy's, exactly as they change nothing on torch's CPU path.
"""
import contextlib

from . import cpu, cuda, cudnn, mha, mkl, mkldnn, mps, openmp, opt_einsum  # noqa: F401

__all__ = ['cpu', 'cuda', 'cudnn', 'mha', 'mkl', 'mkldnn', 'mps', 'openmp', 'opt_einsum',
           'fp32_precision']

fp32_precision = 'none'


@contextlib.contextmanager
def flags_frozen():
    yield
