"""QConfig: which observers (or fake-quantize modules) a module's activation and weight get
(torch.ao.quantization.qconfig)."""
import copy
import warnings
from collections import namedtuple

from ... import _dtype
from ..._dtype import qint8
from ... import nn
from .fake_quantize import (default_fake_quant, default_weight_fake_quant,
                            default_dynamic_fake_quant, default_fused_act_fake_quant,
                            default_fused_wt_fake_quant, default_fused_per_channel_wt_fake_quant,
                            default_per_channel_weight_fake_quant, default_embedding_fake_quant,
                            default_embedding_fake_quant_4bit, FakeQuantize,
                            FusedMovingAvgObsFakeQuantize, fused_wt_fake_quant_range_neg_127_to_127,
                            fused_per_channel_wt_fake_quant_range_neg_127_to_127)
from .observer import (_PartialWrapper, default_debug_observer, default_dynamic_quant_observer,
                       default_float_qparams_observer, default_float_qparams_observer_4bit,
                       default_observer, default_per_channel_weight_observer,
                       default_placeholder_observer, default_reuse_input_observer,
                       default_weight_observer, HistogramObserver, MinMaxObserver,
                       MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver,
                       NoopObserver, PerChannelMinMaxObserver, PlaceholderObserver,
                       per_channel_weight_observer_range_neg_127_to_127,
                       weight_observer_range_neg_127_to_127)

__all__ = ['QConfig', 'QConfigDynamic', 'default_qconfig', 'default_debug_qconfig',
           'default_per_channel_qconfig', 'default_dynamic_qconfig', 'float16_dynamic_qconfig',
           'float16_static_qconfig', 'per_channel_dynamic_qconfig',
           'float_qparams_weight_only_qconfig', 'float_qparams_weight_only_qconfig_4bit',
           'default_quint8_weight_qconfig', 'default_qat_qconfig', 'default_dynamic_qat_qconfig',
           'default_weight_only_qconfig', 'default_activation_only_qconfig',
           'default_qat_qconfig_v2', 'default_reuse_input_qconfig',
           'default_symmetric_qnnpack_qconfig', 'default_per_channel_symmetric_qnnpack_qconfig',
           'default_symmetric_qnnpack_qat_qconfig',
           'default_per_channel_symmetric_qnnpack_qat_qconfig', 'default_embedding_qat_qconfig',
           'default_embedding_qat_qconfig_4bit', 'get_default_qconfig', 'get_default_qat_qconfig',
           'QConfigAny', 'qconfig_equals']


def _refuse_instances(name, *ctors):
    if any(isinstance(c, nn.Module) for c in ctors):
        raise ValueError(
            f"{name} received observer instance, please pass observer class instead. "
            "Use MyObserver.with_args(x=1) to override arguments to constructor if needed")


class QConfig(namedtuple('QConfig', ['activation', 'weight'])):
    """The observer constructors for a module's output (activation) and its weight."""
    __slots__ = ()

    def __new__(cls, activation, weight):
        _refuse_instances('QConfig', activation, weight)
        return super().__new__(cls, activation, weight)


class QConfigDynamic(namedtuple('QConfigDynamic', ['activation', 'weight'])):
    """The dynamic-quantization QConfig (deprecated in torch for QConfig)."""
    __slots__ = ()

    def __new__(cls, activation=nn.Identity, weight=nn.Identity):
        warnings.warn("`QConfigDynamic` is going to be deprecated in PyTorch 1.12, please use "
                      "`QConfig` instead", FutureWarning, stacklevel=2)
        _refuse_instances('QConfigDynamic', weight)
        return super().__new__(cls, activation, weight)


QConfigAny = QConfig

default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_debug_qconfig = QConfig(weight=default_weight_observer,
                                activation=default_debug_observer)
default_per_channel_qconfig = QConfig(activation=default_observer,
                                      weight=default_per_channel_weight_observer)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                  weight=default_weight_observer)
float16_dynamic_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype=_dtype.float16, is_dynamic=True),
    weight=PlaceholderObserver.with_args(dtype=_dtype.float16))
float16_static_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=_dtype.float16),
                                 weight=PlaceholderObserver.with_args(dtype=_dtype.float16))
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
float_qparams_weight_only_qconfig = QConfig(activation=default_placeholder_observer,
                                            weight=default_float_qparams_observer)
float_qparams_weight_only_qconfig_4bit = QConfig(activation=default_placeholder_observer,
                                                 weight=default_float_qparams_observer_4bit)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)
default_dynamic_qat_qconfig = QConfig(activation=default_dynamic_fake_quant,
                                      weight=default_weight_fake_quant)
default_weight_only_qconfig = QConfig(activation=nn.Identity, weight=default_weight_fake_quant)
default_activation_only_qconfig = QConfig(activation=default_fake_quant, weight=nn.Identity)
default_qat_qconfig_v2 = QConfig(activation=default_fused_act_fake_quant,
                                 weight=default_fused_wt_fake_quant)
default_reuse_input_qconfig = QConfig(activation=default_reuse_input_observer,
                                      weight=NoopObserver)
_symmetric_act = HistogramObserver.with_args(dtype=qint8, reduce_range=False, eps=2 ** -12)
default_symmetric_qnnpack_qconfig = QConfig(activation=_symmetric_act,
                                            weight=weight_observer_range_neg_127_to_127)
default_per_channel_symmetric_qnnpack_qconfig = QConfig(
    activation=_symmetric_act, weight=per_channel_weight_observer_range_neg_127_to_127)
default_embedding_qat_qconfig = QConfig(activation=NoopObserver.with_args(dtype=_dtype.float32),
                                        weight=default_embedding_fake_quant)
default_embedding_qat_qconfig_4bit = QConfig(
    activation=NoopObserver.with_args(dtype=_dtype.float32),
    weight=default_embedding_fake_quant_4bit)
default_quint8_weight_qconfig = QConfig(activation=HistogramObserver, weight=MinMaxObserver)
_symmetric_qat_act = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8,
    reduce_range=False, eps=2 ** -12)
default_symmetric_qnnpack_qat_qconfig = QConfig(
    activation=_symmetric_qat_act, weight=fused_wt_fake_quant_range_neg_127_to_127)
default_per_channel_symmetric_qnnpack_qat_qconfig = QConfig(
    activation=_symmetric_qat_act, weight=fused_per_channel_wt_fake_quant_range_neg_127_to_127)

_BACKENDS = ['fbgemm', 'x86', 'qnnpack', 'onednn']


def _check_backend(backend):
    if backend not in _BACKENDS:
        raise AssertionError("backend: " + str(backend) +
                             f" not supported. backend must be one of {_BACKENDS}")


def get_default_qconfig(backend='x86', version=0):
    """The post-training quantization QConfig torch recommends for a backend."""
    _check_backend(backend)
    if version != 0:
        raise AssertionError("Version number: " + str(version) +
                             " in get_default_qconfig is not supported. Version number must be 0")
    if backend in ('fbgemm', 'x86'):
        return QConfig(activation=HistogramObserver.with_args(reduce_range=True),
                       weight=default_per_channel_weight_observer)
    if backend == 'qnnpack':
        return QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                       weight=default_weight_observer)
    return QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                   weight=default_per_channel_weight_observer)


def get_default_qat_qconfig(backend='x86', version=1):
    """The quantization-aware-training QConfig torch recommends for a backend."""
    _check_backend(backend)
    if version not in (0, 1):
        raise AssertionError("Version number: " + str(version) +
                             "in get_default_qat_qconfig is not supported. Version number must "
                             "be 0 or 1")
    act_cls = FakeQuantize if version == 0 else FusedMovingAvgObsFakeQuantize
    if backend == 'onednn':
        act = act_cls.with_args(observer=MovingAverageMinMaxObserver, quant_min=0,
                                quant_max=255)
    else:
        act = act_cls.with_args(observer=MovingAverageMinMaxObserver, quant_min=0,
                                quant_max=255, reduce_range=backend != 'qnnpack')
    if backend == 'qnnpack':
        weight = default_weight_fake_quant if version == 0 else default_fused_wt_fake_quant
    else:
        weight = (default_per_channel_weight_fake_quant if version == 0
                  else default_fused_per_channel_wt_fake_quant)
    return QConfig(activation=act, weight=weight)


def _partial_wrapper_equals(a, b):
    ka, kb = copy.copy(a.p.keywords), copy.copy(b.p.keywords)
    same = True
    if 'observer' in ka and 'observer' in kb:
        same = _obs_or_fq_ctr_equals(ka.pop('observer'), kb.pop('observer'))
    return same and ka == kb and a.p.func == b.p.func


def _obs_or_fq_ctr_equals(a, b):
    if isinstance(a, _PartialWrapper) and isinstance(b, _PartialWrapper):
        return _partial_wrapper_equals(a, b)
    return a == b


def qconfig_equals(q1, q2):
    """Whether two QConfigs build the same observers."""
    if q1 is None or q2 is None:
        return q1 == q2
    try:
        return (_obs_or_fq_ctr_equals(q1.activation, q2.activation)
                and _obs_or_fq_ctr_equals(q1.weight, q2.weight))
    except AttributeError:
        return q1 == q2


def _add_module_to_qconfig_obs_ctr(qconfig, module):
    return qconfig  # ember's observers live on the CPU like every tensor


def _assert_valid_qconfig(qconfig, mod):
    if qconfig is None or qconfig.weight is None:
        return
    if isinstance(mod, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        if isinstance(qconfig.weight(), (PerChannelMinMaxObserver,
                                         MovingAveragePerChannelMinMaxObserver)):
            raise AssertionError("Per channel weight observer is not supported yet for "
                                 "ConvTranspose{n}d.")
