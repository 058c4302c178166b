"""torch.backends.cpu."""
__all__ = ['get_cpu_capability']


def get_cpu_capability():
    return 'DEFAULT'  # ember runs NumPy's kernels; no ATen vector ISA dispatch
