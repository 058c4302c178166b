from .linear import Linear
from . import linear  # noqa: F401

__all__ = ['Linear']
