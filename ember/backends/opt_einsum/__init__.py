"""torch.backends.opt_einsum: available when the opt_einsum package is importable (as in
torch). ember's einsum contracts with NumPy's own path optimiser either way."""
import importlib.util

__all__ = ['is_available', 'get_opt_einsum', 'enabled', 'strategy']


def is_available():
    return importlib.util.find_spec('opt_einsum') is not None


def get_opt_einsum():
    if not is_available():
        return None
    import opt_einsum  # optional: not a dependency of ember
    return opt_einsum


enabled = is_available()
strategy = 'auto' if enabled else None
