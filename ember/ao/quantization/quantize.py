"""Eager-mode quantization: prepare (observers), convert (quantized modules), their QAT and
dynamic forms (torch.ao.quantization.quantize)."""
import copy
import inspect
import itertools
import warnings

from ... import nn
from ..._dtype import qint8, float16, quint8, quint4x2
from ..nn import intrinsic as nni
from ..nn.intrinsic import _FusedModule
from ..nn.quantized import FloatFunctional, QFunctional
from .fake_quantize import FakeQuantizeBase
from .observer import _is_activation_post_process
from .qconfig import (_add_module_to_qconfig_obs_ctr, _assert_valid_qconfig,
                      default_dynamic_qconfig, float16_dynamic_qconfig,
                      float_qparams_weight_only_qconfig, float_qparams_weight_only_qconfig_4bit)
from .quantization_mappings import (_get_special_act_post_process,
                                    _has_special_act_post_process,
                                    get_default_dynamic_quant_module_mappings,
                                    get_default_qat_module_mappings,
                                    get_default_qconfig_propagation_list,
                                    get_default_static_quant_module_mappings,
                                    get_default_static_quant_reference_module_mappings,
                                    no_observer_set)
from .stubs import DeQuantStub, QuantWrapper
from .utils import _deprecated

__all__ = ['get_default_custom_config_dict', 'propagate_qconfig_', 'add_quant_dequant',
           'prepare', 'quantize', 'quantize_dynamic', 'prepare_qat', 'quantize_qat', 'convert',
           'swap_module']

is_activation_post_process = _is_activation_post_process

_DEFAULT_CUSTOM_CONFIG_DICT = {'float_to_observed_custom_module_class': {},
                               'observed_to_quantized_custom_module_class': {}}


def get_default_custom_config_dict():
    return _DEFAULT_CUSTOM_CONFIG_DICT


def _propagate_qconfig_helper(module, qconfig_dict, qconfig_parent=None, prefix='',
                              prepare_custom_config_dict=None):
    qconfig = qconfig_dict.get(type(module), qconfig_parent)
    qconfig = qconfig_dict.get(prefix, qconfig)
    qconfig = getattr(module, 'qconfig', qconfig)
    _assert_valid_qconfig(qconfig, module)
    qconfig = _add_module_to_qconfig_obs_ctr(qconfig, module)
    module.qconfig = qconfig
    for name, child in module.named_children():
        child_prefix = prefix + '.' + name if prefix else name
        custom = prepare_custom_config_dict
        if custom is None or not (name in custom.get('non_traceable_module_name', [])
                                  or type(child) in custom.get('non_traceable_module_class',
                                                               [])):
            _propagate_qconfig_helper(child, qconfig_dict, qconfig, child_prefix)


def propagate_qconfig_(module, qconfig_dict=None, prepare_custom_config_dict=None):
    """Give every submodule a qconfig: its own, its type's or name's in qconfig_dict, or its
    parent's."""
    _propagate_qconfig_helper(module, qconfig_dict or {},
                              prepare_custom_config_dict=prepare_custom_config_dict or {})


def _observer_forward_hook(self, input, output):
    return self.activation_post_process(output)


def _observer_forward_pre_hook(self, input):
    return self.activation_post_process(input[0])


def _activation_is_memoryless(qconfig):
    act = qconfig.activation()
    if isinstance(act, FakeQuantizeBase) and hasattr(act, 'activation_post_process'):
        act = act.activation_post_process
    return hasattr(act, 'averaging_constant') and act.averaging_constant == 1


def _register_activation_post_process_hook(module, pre_hook=False):
    if not hasattr(module, 'activation_post_process'):
        raise AssertionError("Expect activation_post_process attribute already attached to "
                             "the module")
    if pre_hook:
        module.register_forward_pre_hook(_observer_forward_pre_hook, prepend=True)
    else:
        module.register_forward_hook(_observer_forward_hook, prepend=True)


def _add_observer_(module, qconfig_propagation_list=None, non_leaf_module_list=None,
                   device=None, custom_module_class_mapping=None):
    """Attach an activation_post_process (and its hook) to every leaf module with a
    qconfig whose type quantization knows."""
    if qconfig_propagation_list is None:
        qconfig_propagation_list = get_default_qconfig_propagation_list()
    custom_module_class_mapping = custom_module_class_mapping or {}

    def needs_observation(m):
        return hasattr(m, 'qconfig') and m.qconfig is not None

    def insert(m, special=None):
        if needs_observation(m) and not isinstance(m, DeQuantStub):
            m.add_module('activation_post_process',
                         m.qconfig.activation() if special is None else special())
            _register_activation_post_process_hook(
                m, pre_hook=_activation_is_memoryless(m.qconfig))

    for name, child in module.named_children():
        if type(child) is nn.Dropout:
            continue
        if issubclass(type(child), (FloatFunctional, QFunctional)):
            if needs_observation(child):
                if not hasattr(child, 'activation_post_process'):
                    raise AssertionError(f"functional class {type(child)} has no pre-defined "
                                         "`activation_post_process`")
                child.activation_post_process = child.qconfig.activation()
        elif isinstance(child, _FusedModule):
            if needs_observation(child):
                insert(child)
        elif non_leaf_module_list is not None and type(child) in non_leaf_module_list:
            if needs_observation(child):
                insert(child)
        elif _has_special_act_post_process(child):
            insert(child, _get_special_act_post_process(child))
        elif needs_observation(child) and type(child) in custom_module_class_mapping:
            observed_class = custom_module_class_mapping[type(child)]
            observed = observed_class.from_float(child)
            setattr(module, name, observed)
            if not issubclass(observed_class, tuple(no_observer_set())):
                insert(observed)
        else:
            _add_observer_(child, qconfig_propagation_list, non_leaf_module_list, device,
                           custom_module_class_mapping)
    leaf = len(module._modules) == 0
    if leaf and not isinstance(module, nn.Sequential) and \
            type(module) in qconfig_propagation_list:
        insert(module)
    if hasattr(module, 'weight_fake_quant') and not isinstance(module, nn.Sequential) and \
            type(module) in qconfig_propagation_list:
        insert(module)


def add_quant_dequant(module):
    """Wrap every leaf module that has a qconfig in a QuantWrapper."""
    if len(module._modules) == 0 and hasattr(module, 'qconfig') and module.qconfig:
        return QuantWrapper(module)
    for name, child in module.named_children():
        module._modules[name] = add_quant_dequant(child)
    return module


def _prepare(model, inplace=False, allow_list=None, observer_non_leaf_module_list=None,
             prepare_custom_config_dict=None):
    if prepare_custom_config_dict is None:
        prepare_custom_config_dict = get_default_custom_config_dict()
    custom = prepare_custom_config_dict.get('float_to_observed_custom_module_class', {})
    if not inplace:
        model = copy.deepcopy(model)
    propagation = allow_list if allow_list is not None else \
        get_default_qconfig_propagation_list()
    propagate_qconfig_(model, qconfig_dict=None)
    if not any(hasattr(m, 'qconfig') and m.qconfig for m in model.modules()):
        warnings.warn("None of the submodule got qconfig applied. Make sure you passed correct "
                      "configuration through `qconfig_dict` or by assigning the `.qconfig` "
                      "attribute directly on submodules", stacklevel=3)
    _add_observer_(model, propagation, observer_non_leaf_module_list,
                   custom_module_class_mapping=custom)
    return model


@_deprecated
def prepare(model, inplace=False, allow_list=None, observer_non_leaf_module_list=None,
            prepare_custom_config_dict=None):
    """Propagate qconfigs and attach observers, for calibration before convert."""
    return _prepare(model, inplace, allow_list, observer_non_leaf_module_list,
                    prepare_custom_config_dict)


def _remove_activation_post_process(module):
    if hasattr(module, 'activation_post_process') and \
            _is_activation_post_process(module.activation_post_process):
        delattr(module, 'activation_post_process')
    for hooks, fn in ((module._forward_pre_hooks, _observer_forward_pre_hook),
                      (module._forward_hooks, _observer_forward_hook)):
        for key in [k for k, h in hooks.items() if h is fn]:
            hooks.pop(key)


def _remove_qconfig(module):
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, 'qconfig'):
        del module.qconfig
    _remove_activation_post_process(module)


@_deprecated
def quantize(model, run_fn, run_args, mapping=None, inplace=False):
    """Post-training static quantization: prepare, run_fn(model, *run_args), convert."""
    if mapping is None:
        mapping = get_default_static_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    _prepare(model, inplace=True)
    run_fn(model, *run_args)
    _convert_entry(model, mapping, inplace=True)
    return model


_DYNAMIC_DEFAULTS = {qint8: default_dynamic_qconfig, float16: float16_dynamic_qconfig,
                     quint8: float_qparams_weight_only_qconfig,
                     quint4x2: float_qparams_weight_only_qconfig_4bit}


@_deprecated
def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """Replace the Linear (and RNN) layers by dynamically quantized ones."""
    if qconfig_spec is None:
        if dtype is qint8 or dtype is float16:
            qc = _DYNAMIC_DEFAULTS[dtype]
            qconfig_spec = {nn.Linear: qc, nn.LSTM: qc, nn.GRU: qc, nn.LSTMCell: qc,
                            nn.RNNCell: qc, nn.GRUCell: qc}
        elif dtype is quint8:
            qconfig_spec = {nn.EmbeddingBag: float_qparams_weight_only_qconfig,
                            nn.Embedding: float_qparams_weight_only_qconfig}
        elif dtype is quint4x2:
            qconfig_spec = {nn.EmbeddingBag: float_qparams_weight_only_qconfig_4bit}
        else:
            raise ValueError(f"Don't know how to quantize with default settings for {dtype}. "
                             "Provide full qconfig please")
    elif isinstance(qconfig_spec, set):
        if dtype not in _DYNAMIC_DEFAULTS:
            raise RuntimeError("Unknown dtype specified for quantize_dynamic: ", str(dtype))
        qconfig_spec = dict(zip(qconfig_spec, itertools.repeat(_DYNAMIC_DEFAULTS[dtype])))
    if mapping is None:
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    _convert_entry(model, mapping, inplace=True)
    return model


def _prepare_qat(model, mapping=None, inplace=False):
    if not model.training:
        raise AssertionError("prepare_qat only works on models in training mode")
    if mapping is None:
        mapping = get_default_qat_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model, qconfig_dict=None)
    for m in model.modules():
        # torch trains these with batch-norm folding modules ember does not have yet: refuse
        # rather than train them without their weights' fake quantization
        if type(m) in _QAT_MISSING and getattr(m, 'qconfig', None) is not None:
            raise NotImplementedError(f"ember does not implement quantization-aware training "
                                      f"of torch.ao.nn.intrinsic.{type(m).__name__} yet")
    _convert_entry(model, mapping=mapping, inplace=True, remove_qconfig=False)
    _prepare(model, observer_non_leaf_module_list=set(mapping.values()), inplace=True)
    return model


_QAT_MISSING = (nni.ConvBn1d, nni.ConvBn2d, nni.ConvBn3d, nni.ConvBnReLU1d, nni.ConvBnReLU2d,
                nni.ConvBnReLU3d, nni.LinearBn1d)


@_deprecated
def prepare_qat(model, mapping=None, inplace=False):
    """Swap in the QAT modules (fake-quantized weights) and attach fake-quantize observers."""
    return _prepare_qat(model, mapping, inplace)


@_deprecated
def quantize_qat(model, run_fn, run_args, inplace=False):
    """Quantization-aware training: prepare_qat, run_fn(model, *run_args), convert."""
    if not inplace:
        model = copy.deepcopy(model)
    model.train()
    _prepare_qat(model, inplace=True)
    run_fn(model, *run_args)
    _convert_entry(model, inplace=True)
    return model


def _convert_entry(module, mapping=None, inplace=False, remove_qconfig=True,
                   is_reference=False, convert_custom_config_dict=None,
                   use_precomputed_fake_quant=False):
    if not inplace:
        module = copy.deepcopy(module)
    _convert(module, mapping, inplace=True, is_reference=is_reference,
             convert_custom_config_dict=convert_custom_config_dict,
             use_precomputed_fake_quant=use_precomputed_fake_quant)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


@_deprecated
def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
            convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    """Swap each observed module for its quantized counterpart (the mapping's)."""
    return _convert_entry(module, mapping, inplace, remove_qconfig, is_reference,
                          convert_custom_config_dict, use_precomputed_fake_quant)


def _convert(module, mapping=None, inplace=False, is_reference=False,
             convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    if mapping is None:
        mapping = (get_default_static_quant_reference_module_mappings() if is_reference
                   else get_default_static_quant_module_mappings())
    if convert_custom_config_dict is None:
        convert_custom_config_dict = get_default_custom_config_dict()
    custom = convert_custom_config_dict.get('observed_to_quantized_custom_module_class', {})
    if not inplace:
        module = copy.deepcopy(module)
    reassign = {}
    for name, mod in module.named_children():
        if not isinstance(mod, _FusedModule) and type(mod) not in custom:
            _convert(mod, mapping, True, is_reference, convert_custom_config_dict,
                     use_precomputed_fake_quant=use_precomputed_fake_quant)
        reassign[name] = swap_module(mod, mapping, custom, use_precomputed_fake_quant)
    for key, value in reassign.items():
        module._modules[key] = value
    return module


def swap_module(mod, mapping, custom_module_class_mapping, use_precomputed_fake_quant=False):
    """mod's replacement under mapping (its from_float), keeping its other hooks."""
    new_mod = mod
    if getattr(mod, 'qconfig', None) is None:
        return new_mod
    swapped = False
    if type(mod) in custom_module_class_mapping:
        new_mod = custom_module_class_mapping[type(mod)].from_observed(mod)
        swapped = True
    elif type(mod) in mapping:
        qmod = mapping[type(mod)]
        if getattr(qmod, '_IS_REFERENCE', False):
            raise NotImplementedError("ember does not implement reference quantized modules")
        if 'use_precomputed_fake_quant' in inspect.signature(qmod.from_float).parameters:
            new_mod = qmod.from_float(mod, use_precomputed_fake_quant=use_precomputed_fake_quant)
        else:
            new_mod = qmod.from_float(mod)
        swapped = True
    if swapped:
        for hook in mod._forward_pre_hooks.values():
            new_mod.register_forward_pre_hook(hook)
        for hook in mod._forward_hooks.values():
            if hook is not _observer_forward_hook:
                new_mod.register_forward_hook(hook)
    return new_mod


def _get_observer_dict(mod, target_dict, prefix=''):
    """Collect every activation_post_process under its qualified name."""
    def get_prefix(p):
        return p if p == '' else p + '.'
    if hasattr(mod, 'activation_post_process'):
        target_dict[get_prefix(prefix) + 'activation_post_process'] = \
            mod.activation_post_process
    for name, child in mod.named_children():
        _get_observer_dict(child, target_dict, get_prefix(prefix) + name if prefix else name)
