"""ember.utils (torch.utils). ember.utils.data loads on first use (ember/_stubs.py)."""
from . import dlpack  # noqa: F401
