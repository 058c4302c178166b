"""ember: PyTorch's torch.nn programming model on NumPy.

`import ember as torch` runs PyTorch (CPU) programs unchanged: the same names, signatures,
dtypes, printed output and errors as torch 2.13.
"""
from . import _lazy

# torch.__version__: the torch release whose behaviour ember reproduces, so that a program's
# version gates (`torch.__version__ >= (2, 0)`) take the branch they take there. ember's own
# release is ember.version.ember_version.
from .torch_version import __version__  # noqa: E402

from . import _dtype
from ._dtype import (dtype, float16, half, float32, float, float64, double, bfloat16,  # noqa
                     int8, int16, short, int32, int, int64, long, uint8, uint16, uint32, uint64,
                     bool, complex64, cfloat, complex128, cdouble, get_default_dtype,
                     set_default_dtype, promote_types, can_cast, finfo, iinfo, qint8, quint8,
                     qint32, quint4x2, quint2x4, complex32, chalf, float8_e4m3fn,
                     float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz, float8_e8m0fnu,
                     float4_e2m1fn_x2, bits1x8, bits2x4, bits4x2, bits8, bits16, bit, int1, int2,
                     int3, int4, int5, int6, int7, uint1, uint2, uint3, uint4, uint5, uint6,
                     uint7)
from ._tensor import Tensor, Size, device  # noqa: F401
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled,  # noqa: F401
                                 inference_mode, is_grad_enabled, is_inference_mode_enabled)

# op families: importing each attaches its methods to Tensor
from ._ops.creation import *  # noqa: F401,F403
from ._ops.elementwise import *  # noqa: F401,F403
from ._ops.reduce import *  # noqa: F401,F403
from ._ops.shape import *  # noqa: F401,F403
from ._ops.index import *  # noqa: F401,F403
from ._ops.linalg import *  # noqa: F401,F403
from ._ops.random import *  # noqa: F401,F403
from ._ops.extra import *  # noqa: F401,F403
from ._ops.weight_norm import *  # noqa: F401,F403
from ._tensor_str import set_printoptions  # noqa: F401

# the rarer op families load on first use: through their Tensor methods' placeholders here,
# and through their functions' entries in _LAZY below (ember/_ops/_lazy_ops.py)
from . import _tensor  # noqa: E402
from ._ops import _lazy_ops  # noqa: E402
_tensor._lazy_methods(_lazy_ops.METHODS)

from . import autograd  # noqa: F401
from . import nn, utils  # noqa: F401,E402
from ._misc import *  # noqa: F401,F403
from . import functional  # noqa: F401,E402  (torch.functional)
from . import overrides, _C  # noqa: F401,E402  (torch.overrides, torch._C's protocol pieces)

# names torch also exposes at the top level
from ._values import *  # noqa: F401,F403,E402

from ._storage import *  # noqa: F401,F403,E402
from . import storage  # noqa: F401,E402  (torch.storage)
from ._torch_function import DisableTorchFunction, DisableTorchFunctionSubclass  # noqa: F401,E402
from .random import thread_safe_generator  # noqa: F401,E402

# Loaded on first use, to keep `import ember` short (see _lazy): namespaces (ember.distributions,
# ember.cuda, ember.distributed, ember.jit, ember.utils.data, ...) load when first reached,
# through the stub fallback below, and these names through this table.
# (ember.optim; the device modules, as a CPU-only torch has them)
_LAZY = {'optim': None, 'masked': None, 'cpu': None, 'amp': None,
         'save': 'serialization', 'load': 'serialization', 'install_as_torch': '_hook',
         'vmap': 'func',  # torch.vmap is torch.func.vmap
         'compile': '_compile', 'ops': '_oplib', 'Tag': '_oplib', 'GradScaler': 'amp',
         'Future': ('futures', '_CFuture'), 'fork': ('futures', '_fork'),
         'wait': ('futures', '_wait')}
_LAZY.update(_lazy.names(
    'autocast is_autocast_enabled set_autocast_enabled get_autocast_dtype set_autocast_dtype '
    'is_autocast_cache_enabled set_autocast_cache_enabled clear_autocast_cache '
    'autocast_increment_nesting autocast_decrement_nesting is_autocast_cpu_enabled '
    'set_autocast_cpu_enabled get_autocast_cpu_dtype set_autocast_cpu_dtype '
    'get_autocast_gpu_dtype set_autocast_gpu_dtype is_autocast_ipu_enabled '
    'set_autocast_ipu_enabled get_autocast_ipu_dtype set_autocast_ipu_dtype '
    'is_autocast_xla_enabled set_autocast_xla_enabled get_autocast_xla_dtype '
    'set_autocast_xla_dtype', 'amp.autocast_mode'))
_LAZY.update(_lazy.names(
    'cond while_loop sym_constrain_range sym_constrain_range_for_size classes _check '
    '_check_is_size _check_index _check_value _check_type _check_not_implemented _check_with '
    '_check_tensor_all _check_tensor_all_with', '_higher_order'))
_LAZY.update(_lazy.names(   # _extras.__all__
    'Stream Event SymInt SymFloat SymBool from_file get_file_path is_distributed classproperty '
    'profiler_allow_cudagraph_cupti_lazy_reinit_cuda12 indices_copy values_copy '
    'crow_indices_copy col_indices_copy ccol_indices_copy row_indices_copy '
    'prepare_multiprocessing_environment AggregationType SUM AVG sparse_compressed_tensor',
    '_extras'))
# TorchScript's types and operator schemas
_LAZY.update(_lazy.names(
    'Type TensorType IntType FloatType BoolType StringType NoneType NumberType ComplexType '
    'AnyType ListType DictType TupleType OptionalType UnionType FutureType AwaitType RRefType '
    'DeviceObjType StreamObjType PyObjectType ClassType EnumType InterfaceType SymIntType '
    'SymBoolType InferredType FunctionSchema Argument parse_schema unify_type_list',
    '_jit_types'))
_LAZY.update({name: family[len('ember.'):] for name, family in _lazy_ops.TOP.items()})
__getattr__ = _lazy.loader(__name__, _LAZY)
__dir__ = _lazy.lister(__name__, _LAZY)


# every other public torch name resolves to a stub that raises NotImplementedError when used
from . import _stubs  # noqa: E402
_stubs.install()
