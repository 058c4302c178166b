"""ember.types (torch.types): the aliases torch's annotations use."""
import os
from typing import IO, Union

from ._tensor import Size, Tensor, device as _device

__all__ = ['Number', 'Device', 'FileLike', 'Size', 'Tensor']

Number = Union[int, float, bool]
Device = Union[_device, str, int, None]
FileLike = Union[str, os.PathLike, IO[bytes]]

from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
