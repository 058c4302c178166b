from .conv import Conv2d
from .linear import Linear
from . import conv, linear  # noqa: F401

__all__ = ['Conv2d', 'Linear']
