"""torch.nn.parallel.DistributedDataParallel: importable; constructing one needs a process
group, and without one it raises torch's error (ember has none yet: issue 16)."""
from ..modules.module import Module
from ... import distributed as dist

__all__ = ['DistributedDataParallel']


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False, gradient_as_bucket_view=False,
                 static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False):
        super().__init__()
        if process_group is None and not dist.is_initialized():
            raise ValueError(dist._NOT_INIT)
        raise NotImplementedError('nn.parallel.DistributedDataParallel is not supported by ember '
                                  'yet (process groups: issue 16)')

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
