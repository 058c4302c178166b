"""torch.backends.mha: the fast-path flag of nn.MultiheadAttention (accepted; ember has one
path)."""
__all__ = ['get_fastpath_enabled', 'set_fastpath_enabled']

_enabled = [True]


def get_fastpath_enabled():
    return _enabled[0]


def set_fastpath_enabled(value):
    _enabled[0] = bool(value)
