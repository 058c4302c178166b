"""torch.nn.parallel: DataParallel (a transparent wrapper without GPUs) and
DistributedDataParallel (needs a process group, which ember does not provide yet)."""
from ..modules.data_parallel import DataParallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ['DataParallel', 'DistributedDataParallel', 'data_parallel', 'replicate', 'scatter',
           'gather', 'parallel_apply']


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """Without an accelerator torch's functional data_parallel cannot pick a device type."""
    raise RuntimeError('device type could not be determined')


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
