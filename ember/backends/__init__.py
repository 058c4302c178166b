"""torch.backends: the flags of torch's compute backends, as a CPU-only torch reports them.

The flags are accepted, remembered and checked as torch keeps them (`cudnn.benchmark = True`,
`cuda.matmul.allow_tf32 = True`, `torch.backends.fp32_precision = 'tf32'`, the `flags()`
blocks, `disable_global_flags`); they change nothing in ember, whose CPU kernels are NumPy's,
exactly as they change nothing on torch's CPU path. As in torch, the modules holding flags are
replaced in sys.modules by a `PropModule` whose class attributes are the flags' properties.
"""
import sys

from .. import _lazy
from ._flags import (ContextProp, PropModule, _FP32Precision, disable_global_flags,  # noqa: F401
                     flags_frozen, get_precision, set_precision, precision_getter,
                     precision_setter, scoped)

__all__ = ['cpu', 'cuda', 'cudnn', 'cusparselt', 'kleidiai', 'mha', 'miopen', 'mkl', 'mkldnn',
           'mps', 'nnpack', 'openmp', 'opt_einsum', 'python_native', 'quantized',
           'ContextProp', 'PropModule', 'GenericModule', 'disable_global_flags', 'flags_frozen',
           'set_flags', 'flags', 'fp32_precision']


def set_flags(_fp32_precision='none'):
    orig = (get_precision('generic', 'all'),)
    if _fp32_precision is not None:
        set_precision('generic', 'all', _fp32_precision)
    return orig


def flags(fp32_precision='none'):
    """`with torch.backends.flags(fp32_precision=...)`: the generic precision for a block."""
    return scoped(set_flags, fp32_precision)


class GenericModule(PropModule):
    fp32_precision = ContextProp(precision_getter('generic', 'all'),
                                 precision_setter('generic', 'all'))


# the backends' modules load on first use (torch imports them all; ember's import is shorter):
# GenericModule reaches this module's __getattr__ for the names it lacks
__getattr__ = _lazy.loader(__name__, dict.fromkeys(
    'cpu cuda cudnn cusparselt kleidiai mha miopen mkl mkldnn mps nnpack openmp opt_einsum '
    'python_native quantized'.split()))

sys.modules[__name__] = GenericModule(sys.modules[__name__], __name__)
