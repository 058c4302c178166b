"""torch.nn.parallel.data_parallel: the DataParallel module and the functional form."""
from ..modules.data_parallel import DataParallel  # noqa: F401

__all__ = ['DataParallel', 'data_parallel']


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """Without an accelerator torch's functional data_parallel cannot pick a device type."""
    raise RuntimeError('device type could not be determined')
