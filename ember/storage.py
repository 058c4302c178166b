"""torch.storage: the storage classes (defined in ember/_storage.py, beside Tensor)."""
from ._storage import TypedStorage, UntypedStorage  # noqa: F401

__all__ = ['TypedStorage', 'UntypedStorage']
