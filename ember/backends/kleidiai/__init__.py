"""torch.backends.kleidiai: Arm's KleidiAI micro-kernels (aarch64 builds only)."""
__all__ = ['is_available']


def is_available():
    return False
