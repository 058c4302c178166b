"""torch.nn.utils.stateless: call a module with other tensors in place of its parameters and
buffers (`functional_call`, deprecated in favour of torch.func.functional_call, which shares
this implementation), and `NamedMemberAccessor`, which gets, sets and swaps a module's tensors
and submodules by qualified name."""
import warnings

from ..._tensor import Tensor
from ..modules.module import Module
from ..parallel import DataParallel

__all__ = ['functional_call', 'NamedMemberAccessor', 'Tensor']


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


def _functional_call(module, given, args=None, kwargs=None, *, tie_weights=True,
                     strict=False):
    """Calls `module` with its parameters and buffers replaced by the tensors of dict `given`
    (by qualified name), then puts the originals back (torch.func.functional_call and the
    deprecated torch.nn.utils.stateless.functional_call)."""
    if isinstance(module, DataParallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
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


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Deprecated: torch.func.functional_call does the same."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)


_MISSING = object()


def _split(name):
    prefix, _, attr = name.rpartition('.')
    return prefix, attr


def _check_tensor_name(module, name, value):
    if not isinstance(module, Module):
        raise TypeError(f"{module} is not an instance of torch.nn.Module")
    if value is not _MISSING and not isinstance(value, Tensor) and value is not None:
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    if '.' in name:
        raise KeyError('tensor name can\'t contain "."')
    if name == '':
        raise KeyError('tensor name can\'t be empty string ""')


def _set_tensor(module, name, tensor):
    _check_tensor_name(module, name, tensor)
    if name in module._parameters:
        module._parameters[name] = tensor
    elif name in module._buffers:
        module._buffers[name] = tensor
    else:
        setattr(module, name, tensor)


def _swap_tensor(module, name, tensor, allow_missing=False):
    _check_tensor_name(module, name, tensor)
    for store in (module._parameters, module._buffers):
        if name in store:
            orig = store[name]
            if tensor is not _MISSING:
                store[name] = tensor
            else:
                del store[name]
            return orig
    if hasattr(module, name):
        orig = getattr(module, name)
    elif not allow_missing:
        raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
    else:
        orig = _MISSING
    if orig is not _MISSING and not isinstance(orig, Tensor) and orig is not None:
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return orig


def _same_length(names, values):
    names = names if isinstance(names, (list, tuple)) else list(names)
    values = values if isinstance(values, (list, tuple)) else list(values)
    if len(names) != len(values):
        raise AssertionError(f"names and values must have the same length, got {len(names)} "
                             f"names and {len(values)} values")
    return names, values


class NamedMemberAccessor:
    """Get, set, delete and swap the tensors and submodules of `module` by qualified name
    ('layer.0.weight'), remembering the submodules it has looked up."""

    def __init__(self, module):
        self.module = module
        self.memo = {}

    def get_submodule(self, name):
        if not name:
            return self.module
        if name in self.memo:
            return self.memo[name]
        prefix, attr = _split(name)
        module = self.get_submodule(prefix) if prefix else self.module
        try:
            sub = getattr(module, attr)
        except AttributeError as ex:
            raise AttributeError(f"{module._get_name()} has no attribute `{attr}`") from ex
        if not isinstance(sub, Module):
            raise TypeError(f"submodule `{name}`: {sub} is not an instance of torch.nn.Module")
        self.memo[name] = sub
        return sub

    def swap_submodule(self, path, value):
        prefix, attr = _split(path)
        module = self.get_submodule(prefix)
        if not isinstance(value, Module):
            raise TypeError(f"{value} is not an instance of torch.nn.Module")
        if '.' in attr:
            raise KeyError('submodule name can\'t contain "."')
        if attr == '':
            raise KeyError('submodule name can\'t be empty string ""')
        if attr not in module._modules:
            raise KeyError(f"submodule {attr} does not exist")
        orig = module._modules[attr]
        if not isinstance(orig, Module):
            raise TypeError(f"{attr} attribute is not an instance of torch.nn.Module")
        module._modules[attr] = value
        return orig

    def get_tensor(self, name):
        prefix, attr = _split(name)
        sub = self.get_submodule(prefix)
        try:
            tensor = getattr(sub, attr)
        except AttributeError as ex:
            raise AttributeError(f"{sub._get_name()} has no attribute `{name}`") from ex
        if not isinstance(tensor, Tensor) and tensor is not None:
            raise TypeError(f"{tensor} is not an instance of torch.Tensor")
        return tensor

    def set_tensor(self, name, value):
        prefix, attr = _split(name)
        _set_tensor(self.get_submodule(prefix), attr, value)

    def del_tensor(self, name):
        prefix, attr = _split(name)
        sub = self.get_submodule(prefix)
        try:
            delattr(sub, attr)
        except AttributeError as ex:
            raise AttributeError(f"{sub._get_name()} has no attribute `{name}`") from ex

    def swap_tensor(self, name, value, allow_missing=False):
        prefix, attr = _split(name)
        return _swap_tensor(self.get_submodule(prefix), attr, value, allow_missing)

    def get_tensors(self, names):
        return [self.get_tensor(n) for n in names]

    def set_tensors(self, names, values):
        for n, v in zip(*_same_length(names, values)):
            self.set_tensor(n, v)

    def set_tensors_dict(self, named_tensors):
        for n, v in named_tensors.items():
            self.set_tensor(n, v)

    def del_tensors(self, names):
        for n in names:
            self.del_tensor(n)

    def swap_tensors(self, names, values, allow_missing=False):
        return [self.swap_tensor(n, v, allow_missing=allow_missing)
                for n, v in zip(*_same_length(names, values))]

    def swap_tensors_dict(self, named_tensors, allow_missing=False):
        """Swap in every tensor of the dict; returns (the originals, the names that were
        missing). A failure, or a missing name without allow_missing, restores them all."""
        orig, missing = {}, []
        try:
            for n, t in named_tensors.items():
                o = self.swap_tensor(n, t, allow_missing=True)
                if o is _MISSING:
                    missing.append(n)
                orig[n] = o
        except Exception:
            for n, o in orig.items():
                self.swap_tensor(n, o, allow_missing=True)
            raise
        if missing and not allow_missing:
            for n, o in orig.items():
                self.swap_tensor(n, o, allow_missing=True)
            raise RuntimeError(f"Missing key(s): {', '.join(map(repr, missing))}.")
        return orig, missing

    def check_keys(self, keys):
        """(missing, unexpected) names, each sorted, of `keys` against the module's tensors."""
        keys = set(keys)
        valid = {n for n, _ in self.named_tensors(remove_duplicate=False)}
        return sorted(valid - keys), sorted(keys - valid)

    def named_parameters(self, remove_duplicate=True):
        yield from self.module.named_parameters(remove_duplicate=remove_duplicate)

    def named_buffers(self, remove_duplicate=True):
        yield from self.module.named_buffers(remove_duplicate=remove_duplicate)

    def named_tensors(self, remove_duplicate=True):
        yield from self.module.named_parameters(remove_duplicate=remove_duplicate)
        yield from self.module.named_buffers(remove_duplicate=remove_duplicate)

    def named_modules(self, remove_duplicate=True):
        yield from self.module.named_modules(remove_duplicate=remove_duplicate)
