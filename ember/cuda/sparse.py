"""torch.cuda.sparse: the legacy sparse CUDA tensor types; no tensor is one, and calling one
raises torch's TypeError."""
from . import _CudaTensorTypeMeta

__all__ = ['BFloat16Tensor', 'ByteTensor', 'CharTensor', 'DoubleTensor', 'FloatTensor',
           'HalfTensor', 'IntTensor', 'LongTensor', 'ShortTensor']

for _name in __all__:
    globals()[_name] = _CudaTensorTypeMeta(_name, (), {'__module__': __name__,
                                                       '__qualname__': _name})
del _name
