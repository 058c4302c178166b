"""Helpers the optimizer and scheduler tests share."""


def convert(lib, obj):
    """A state_dict handed to the other library through NumPy (tensors copied, the rest kept)."""
    if hasattr(obj, 'detach'):
        return lib.from_numpy(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: convert(lib, v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [convert(lib, v) for v in obj]
    return obj
