"""ember.func (torch.func): functional_call. The function transforms (vmap, grad, jacrev, ...)
resolve to stubs that raise NotImplementedError naming them."""
from collections.abc import Sequence
from .nn import DataParallel

__all__ = ['functional_call']


def _merge(dicts):
    if isinstance(dicts, dict):
        return dicts
    if isinstance(dicts, Sequence):
        if not all(isinstance(d, dict) for d in dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        seen, repeated = set(), []
        for d in dicts:
            for k in d:
                if k in seen and k not in repeated:
                    repeated.append(k)
                seen.add(k)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        return {k: v for d in dicts for k, v in d.items()}
    raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                     f"dicts, but got {type(dicts)}")


def _untie(module, given):
    """A value given for one name of a tied tensor applies to all its names."""
    groups = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        groups.setdefault(id(t), []).append(name)
    out = dict(given)
    for names in groups.values():
        if len(names) < 2:
            continue
        values = {n: given[n] for n in names if n in given}
        if not values:
            continue
        if len({id(v) for v in values.values()}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(values)}, "
                             f"which are tied. Consider using tie_weights=False")
        v = next(iter(values.values()))
        for n in names:
            out[n] = v
    return out


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Calls `module` with its parameters and buffers replaced by the given tensors (by
    qualified name), then puts the originals back."""
    if isinstance(module, DataParallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    given = _merge(parameter_and_buffer_dicts)
    if tie_weights:
        given = _untie(module, given)
    if strict:
        known = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        known |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        unexpected = sorted(set(given) - known)
        missing = sorted(known - set(given))
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                module._get_name(), "\n\t".join(msgs)))
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    saved = []
    try:
        for name, value in given.items():
            owner_name, _, attr = name.rpartition('.')
            owner = module.get_submodule(owner_name) if owner_name else module
            for store in ('_parameters', '_buffers'):
                d = owner.__dict__.get(store)
                if d is not None and attr in d:
                    saved.append((d, attr, d[attr]))
                    d[attr] = value
                    break
            else:
                missing = object()
                saved.append((owner.__dict__, attr, owner.__dict__.get(attr, missing)))
                owner.__dict__[attr] = value
        return module(*args, **kwargs)
    finally:
        for d, attr, old in reversed(saved):
            if type(old) is object:
                del d[attr]
            else:
                d[attr] = old


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
