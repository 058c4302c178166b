"""torch.functional: where torch keeps einsum, split, meshgrid, norm, unique, ... .

ember defines these in its op families and exports them at the top level; this module names
them where torch does (``from torch.functional import einsum``) without a copy.
"""
import ember

__all__ = ['atleast_1d', 'atleast_2d', 'atleast_3d', 'broadcast_shapes', 'broadcast_tensors',
           'cartesian_prod', 'block_diag', 'cdist', 'chain_matmul', 'einsum', 'istft', 'lu',
           'norm', 'meshgrid', 'pca_lowrank', 'split', 'stft', 'svd_lowrank', 'tensordot',
           'unique', 'unique_consecutive', 'unravel_index']


def __getattr__(name):
    # looked up on ember itself, so whatever ember has (or stubs) at the top level is here too
    if name in __all__:
        return getattr(ember, name)
    raise AttributeError(f"module 'torch.functional' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))
