"""nn.DataParallel on a CPU-only build: a transparent wrapper, as torch's is without GPUs."""
from .module import Module
from ..._tensor import _check_device

__all__ = ['DataParallel']


class DataParallel(Module):
    """Keeps torch's structure (the wrapped model under `.module`, state_dict keys prefixed
    'module.'); with no accelerator, forward simply runs the wrapped module."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if device_ids:
            for d in device_ids:
                _check_device(d if not isinstance(d, int) else 'cuda')
        self.module = module
        self.device_ids = []
        self.dim = dim
        self.output_device = None

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
