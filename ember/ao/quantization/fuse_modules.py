"""fuse_modules (torch.ao.quantization.fuse_modules): replace listed runs of modules by their
fused module, the others by Identity."""
import copy

from ... import nn
from .fuser_method_mappings import fuse_conv_bn, fuse_conv_bn_relu, get_fuser_method  # noqa

__all__ = ['fuse_known_modules', 'fuse_modules', 'fuse_modules_qat']


def _get_module(model, key):
    mod = model
    for s in key.split('.'):
        mod = getattr(mod, s)
    return mod


def _set_module(model, key, module):
    tokens = key.split('.')
    mod = model
    for s in tokens[:-1]:
        mod = getattr(mod, s)
    setattr(mod, tokens[-1], module)


def fuse_known_modules(mod_list, is_qat, additional_fuser_method_mapping=None):
    """The fused module for mod_list followed by Identities (the first's pre-hooks and the
    last's hooks move to the fused module)."""
    types = tuple(type(m) for m in mod_list)
    fuser_method = get_fuser_method(types, additional_fuser_method_mapping)
    if fuser_method is None:
        raise NotImplementedError(f"Cannot fuse modules: {types}")
    fused = fuser_method(is_qat, *mod_list)
    for hook in mod_list[0]._forward_pre_hooks.values():
        fused.register_forward_pre_hook(hook)
    mod_list[0]._forward_pre_hooks.clear()
    for hook in mod_list[-1]._forward_hooks.values():
        fused.register_forward_hook(hook)
    mod_list[-1]._forward_hooks.clear()
    new_mod = [fused]
    for _ in mod_list[1:]:
        identity = nn.Identity()
        identity.training = mod_list[0].training
        new_mod.append(identity)
    return new_mod


def _fuse_modules_helper(model, modules_to_fuse, is_qat, fuser_func=fuse_known_modules,
                         fuse_custom_config_dict=None):
    extra = (fuse_custom_config_dict or {}).get('additional_fuser_method_mapping', {})
    mod_list = [_get_module(model, item) for item in modules_to_fuse]
    for item, new in zip(modules_to_fuse, fuser_func(mod_list, is_qat, extra)):
        _set_module(model, item, new)


def _fuse_modules(model, modules_to_fuse, is_qat, inplace=False, fuser_func=fuse_known_modules,
                  fuse_custom_config_dict=None):
    if not inplace:
        model = copy.deepcopy(model)
    if all(isinstance(m, str) for m in modules_to_fuse):
        _fuse_modules_helper(model, modules_to_fuse, is_qat, fuser_func,
                             fuse_custom_config_dict)
    else:
        for module_list in modules_to_fuse:
            _fuse_modules_helper(model, module_list, is_qat, fuser_func,
                                 fuse_custom_config_dict)
    return model


def fuse_modules(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
                 fuse_custom_config_dict=None):
    """Fuse each list of module names (conv+bn(+relu), linear+relu, ...) for inference."""
    return _fuse_modules(model, modules_to_fuse, False, inplace, fuser_func,
                         fuse_custom_config_dict)


def fuse_modules_qat(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
                     fuse_custom_config_dict=None):
    """fuse_modules for quantization-aware training (BN kept as ConvBn modules)."""
    return _fuse_modules(model, modules_to_fuse, True, inplace, fuser_func,
                         fuse_custom_config_dict)
