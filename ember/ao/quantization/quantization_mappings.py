"""Which quantized, QAT or dynamic module replaces each float module
(torch.ao.quantization.quantization_mappings); the entries are those ember implements."""
import copy

from ... import nn
from ..nn import intrinsic as nni, qat as nnqat, quantized as nnq
from ..nn.intrinsic import qat as nniqat, quantized as nniq
from ..nn.quantized import dynamic as nnqd
from .fake_quantize import (default_fixed_qparams_range_0to1_fake_quant,
                            default_fixed_qparams_range_neg1to1_fake_quant)
from .stubs import DeQuantStub, QuantStub
from .utils import get_combined_dict

__all__ = ['DEFAULT_REFERENCE_STATIC_QUANT_MODULE_MAPPINGS',
           'DEFAULT_STATIC_QUANT_MODULE_MAPPINGS', 'DEFAULT_QAT_MODULE_MAPPINGS',
           'DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS', 'DEFAULT_FLOAT_TO_QUANTIZED_OPERATOR_MAPPINGS',
           'DEFAULT_MODULE_TO_ACT_POST_PROCESS', 'DEFAULT_STATIC_SPARSE_QUANT_MODULE_MAPPINGS',
           'DEFAULT_DYNAMIC_SPARSE_QUANT_MODULE_MAPPINGS', 'no_observer_set',
           'get_default_static_quant_module_mappings',
           'get_default_static_quant_reference_module_mappings',
           'get_embedding_static_quant_module_mappings',
           'get_default_static_sparse_quant_module_mappings', 'get_static_quant_module_class',
           'get_dynamic_quant_module_class', 'get_default_qat_module_mappings',
           'get_embedding_qat_module_mappings', 'get_default_dynamic_quant_module_mappings',
           'get_default_dynamic_sparse_quant_module_mappings',
           'get_default_qconfig_propagation_list', 'get_default_compare_output_module_list',
           'get_default_float_to_quantized_operator_mappings', 'get_quantized_operator']

DEFAULT_REFERENCE_STATIC_QUANT_MODULE_MAPPINGS = {
    QuantStub: nnq.Quantize,
    DeQuantStub: nnq.DeQuantize,
}

DEFAULT_STATIC_QUANT_MODULE_MAPPINGS = {
    QuantStub: nnq.Quantize,
    DeQuantStub: nnq.DeQuantize,
    nn.Conv2d: nnq.Conv2d,
    nn.Linear: nnq.Linear,
    nn.modules.linear.NonDynamicallyQuantizableLinear: nnq.Linear,
    nn.ReLU6: nnq.ReLU6,
    nnq.FloatFunctional: nnq.QFunctional,
    nni.ConvReLU2d: nniq.ConvReLU2d,
    nni.LinearReLU: nniq.LinearReLU,
    nni.ConvBn2d: nnq.Conv2d,
    nni.ConvBnReLU2d: nniq.ConvReLU2d,
    nniqat.ConvReLU2d: nniq.ConvReLU2d,
    nniqat.LinearReLU: nniq.LinearReLU,
    nnqat.Linear: nnq.Linear,
    nnqat.Conv2d: nnq.Conv2d,
}

DEFAULT_QAT_MODULE_MAPPINGS = {
    nn.Conv2d: nnqat.Conv2d,
    nn.Linear: nnqat.Linear,
    nn.modules.linear.NonDynamicallyQuantizableLinear: nnqat.Linear,
    nni.ConvReLU2d: nniqat.ConvReLU2d,
    nni.LinearReLU: nniqat.LinearReLU,
}

DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS = {
    nn.Linear: nnqd.Linear,
    nn.modules.linear.NonDynamicallyQuantizableLinear: nnqd.Linear,
}

DEFAULT_STATIC_SPARSE_QUANT_MODULE_MAPPINGS = {}
DEFAULT_DYNAMIC_SPARSE_QUANT_MODULE_MAPPINGS = {}

_INCLUDE_QCONFIG_PROPAGATE_LIST = {nn.Sequential}

DEFAULT_FLOAT_TO_QUANTIZED_OPERATOR_MAPPINGS = {
    nn.functional.elu: None, nn.functional.hardswish: None,  # (not implemented by ember)
}

DEFAULT_MODULE_TO_ACT_POST_PROCESS = {
    nn.Hardsigmoid: default_fixed_qparams_range_0to1_fake_quant,
    nn.Sigmoid: default_fixed_qparams_range_0to1_fake_quant,
    nn.Softmax: default_fixed_qparams_range_0to1_fake_quant,
    nn.Tanh: default_fixed_qparams_range_neg1to1_fake_quant,
}


def no_observer_set():
    """The modules that observe their own outputs (none in ember yet)."""
    return set()


def get_default_static_quant_module_mappings():
    return copy.deepcopy(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)


def get_default_static_quant_reference_module_mappings():
    return copy.deepcopy(DEFAULT_REFERENCE_STATIC_QUANT_MODULE_MAPPINGS)


def get_embedding_static_quant_module_mappings():
    return copy.deepcopy(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)


def get_default_static_sparse_quant_module_mappings():
    return copy.deepcopy(DEFAULT_STATIC_SPARSE_QUANT_MODULE_MAPPINGS)


def _quant_module_class(mappings, additional, float_module_class):
    """The class that `mappings`, updated by `additional`, gives float_module_class."""
    all_mappings = get_combined_dict(mappings, additional or {})
    quant_module_class = all_mappings.get(float_module_class, None)
    if quant_module_class is None:
        raise AssertionError(f"Floating point module class {str(float_module_class)}"
                             " does not have a corresponding quantized module class")
    return copy.deepcopy(quant_module_class)


def get_static_quant_module_class(float_module_class, additional_static_quant_mapping=None,
                                  is_reference=False):
    """The quantized class that replaces float_module_class in static quantization."""
    return _quant_module_class(
        DEFAULT_REFERENCE_STATIC_QUANT_MODULE_MAPPINGS if is_reference
        else DEFAULT_STATIC_QUANT_MODULE_MAPPINGS,
        additional_static_quant_mapping, float_module_class)


def get_dynamic_quant_module_class(float_module_class, additional_dynamic_quant_mapping=None):
    """The dynamic quantized class that replaces float_module_class."""
    return _quant_module_class(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS,
                               additional_dynamic_quant_mapping, float_module_class)


def get_default_qat_module_mappings():
    return copy.deepcopy(DEFAULT_QAT_MODULE_MAPPINGS)


def get_embedding_qat_module_mappings():
    return copy.deepcopy(DEFAULT_QAT_MODULE_MAPPINGS)


def get_default_dynamic_quant_module_mappings():
    return DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS


def get_default_dynamic_sparse_quant_module_mappings():
    return DEFAULT_DYNAMIC_SPARSE_QUANT_MODULE_MAPPINGS


def get_default_qconfig_propagation_list():
    """The module types that get a qconfig (and observers) in prepare."""
    return copy.deepcopy(set(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)
                         | set(DEFAULT_QAT_MODULE_MAPPINGS)
                         | set(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS)
                         | _INCLUDE_QCONFIG_PROPAGATE_LIST)


def get_default_compare_output_module_list():
    """The module types whose outputs the numeric suite compares."""
    return copy.deepcopy(set(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS.values())
                         | set(DEFAULT_QAT_MODULE_MAPPINGS.values())
                         | set(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS.values())
                         | set(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)
                         | set(DEFAULT_QAT_MODULE_MAPPINGS)
                         | set(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS)
                         | _INCLUDE_QCONFIG_PROPAGATE_LIST)


def get_default_float_to_quantized_operator_mappings():
    return copy.deepcopy({k: v for k, v in DEFAULT_FLOAT_TO_QUANTIZED_OPERATOR_MAPPINGS.items()
                          if v is not None})


def get_quantized_operator(float_op):
    """The quantized operator of a float functional (none that ember has yet)."""
    quantized_op = DEFAULT_FLOAT_TO_QUANTIZED_OPERATOR_MAPPINGS.get(float_op, None)
    if quantized_op is None:
        raise AssertionError(f"Operator {str(float_op)} does not have corresponding quantized op")
    return quantized_op


def _get_special_act_post_process(module):
    return DEFAULT_MODULE_TO_ACT_POST_PROCESS.get(type(module), None)


def _has_special_act_post_process(module):
    return module.training and type(module) in DEFAULT_MODULE_TO_ACT_POST_PROCESS

