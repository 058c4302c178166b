"""torch.nn.parallel: DataParallel (a transparent wrapper without GPUs) and
DistributedDataParallel (needs a process group, which ember does not provide yet)."""
from . import data_parallel as _data_parallel_module  # noqa: F401  (the submodule, as torch's)
from .data_parallel import DataParallel, data_parallel  # noqa: F401  (the function wins the name)
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ['DataParallel', 'DistributedDataParallel', 'data_parallel', 'replicate', 'scatter',
           'gather', 'parallel_apply']


def _gpu_only(what):
    def fn(*args, **kwargs):
        raise NotImplementedError(f'torch.nn.parallel.{what} scatters work over GPUs, which '
                                  'ember does not have')
    fn.__name__ = what
    return fn


replicate = _gpu_only('replicate')
scatter = _gpu_only('scatter')
gather = _gpu_only('gather')
parallel_apply = _gpu_only('parallel_apply')
