"""torch.ao: eager-mode quantization (ember.ao.quantization) and its modules (ember.ao.nn)."""
from . import quantization  # noqa: F401
