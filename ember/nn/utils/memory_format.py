"""Converting the weights of a model's convolutions to a memory format
(torch.nn.utils.memory_format)."""
from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d

__all__ = ['convert_conv2d_weight_memory_format', 'convert_conv3d_weight_memory_format']


def _convert(module, memory_format, classes):
    if isinstance(module, classes):
        w = module.weight.detach().clone(memory_format=memory_format)
        module.weight.data = w.resize_(w.size(), memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, classes)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Give every Conv2d/ConvTranspose2d weight in `module` the layout `memory_format`."""
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Give every Conv3d/ConvTranspose3d weight in `module` the layout `memory_format`."""
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
