"""Fake quantization modules for quantization-aware training
(torch.ao.quantization.fake_quantize)."""
from ... import _dtype
from ..._dtype import qint8, quint8, quint4x2
from ..._ops.creation import tensor
from ..._ops.quantized import (fake_quantize_per_tensor_affine, fake_quantize_per_channel_affine,
                               fused_moving_avg_obs_fake_quant, per_tensor_affine,
                               per_tensor_symmetric, per_channel_symmetric,
                               per_channel_affine_float_qparams, _QINFO)
from ...nn import Module
from .observer import (_with_args, default_fixed_qparams_range_0to1_observer,
                       default_fixed_qparams_range_neg1to1_observer, FixedQParamsObserver,
                       HistogramObserver, MovingAverageMinMaxObserver,
                       MovingAveragePerChannelMinMaxObserver, _POST_PROCESS)
from .utils import is_per_channel as _is_per_channel, is_per_tensor as _is_per_tensor, \
    _present_keys, _save_tensors

__all__ = ['FakeQuantizeBase', 'FakeQuantize', 'FixedQParamsFakeQuantize',
           'FusedMovingAvgObsFakeQuantize', 'disable_fake_quant', 'disable_observer',
           'enable_fake_quant', 'enable_observer', 'default_fake_quant',
           'default_weight_fake_quant', 'default_dynamic_fake_quant',
           'default_fixed_qparams_range_neg1to1_fake_quant',
           'default_fixed_qparams_range_0to1_fake_quant',
           'default_symmetric_fixed_qparams_fake_quant',
           'default_affine_fixed_qparams_fake_quant', 'default_per_channel_weight_fake_quant',
           'default_embedding_fake_quant', 'default_embedding_fake_quant_4bit',
           'default_histogram_fake_quant',
           'default_fused_act_fake_quant', 'default_fused_wt_fake_quant',
           'default_fused_per_channel_wt_fake_quant', 'fused_wt_fake_quant_range_neg_127_to_127',
           'fused_per_channel_wt_fake_quant_range_neg_127_to_127']


def _is_symmetric_quant(qscheme):
    return qscheme in (per_tensor_symmetric, per_channel_symmetric)


def _int_bounds(dtype):
    if dtype in _QINFO:
        return _QINFO[dtype][:2]
    info = _dtype.iinfo(dtype)
    return info.min, info.max


class FakeQuantizeBase(Module):
    """Base of the fake-quantize modules: the flags that switch observing and fake
    quantization on and off."""

    def __init__(self):
        super().__init__()
        self.register_buffer('fake_quant_enabled', tensor([1], dtype=_dtype.uint8))
        self.register_buffer('observer_enabled', tensor([1], dtype=_dtype.uint8))

    def forward(self, x):
        raise NotImplementedError

    def calculate_qparams(self, **kwargs):
        raise NotImplementedError

    def enable_fake_quant(self, enabled=True):
        self.fake_quant_enabled[0] = 1 if enabled else 0

    def disable_fake_quant(self):
        self.enable_fake_quant(False)

    def enable_observer(self, enabled=True):
        self.observer_enabled[0] = 1 if enabled else 0

    def disable_observer(self):
        self.enable_observer(False)

    @classmethod
    def with_args(cls, **kwargs):
        ctor = _with_args(cls, **kwargs)
        ctor.__module__ = 'torch.ao.quantization.fake_quantize'
        return ctor


_POST_PROCESS.append(FakeQuantizeBase)


class FakeQuantize(FakeQuantizeBase):
    """Observes its input (when enabled) and fake-quantizes it with the observer's current
    scale and zero point."""

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=None, quant_max=None,
                 is_dynamic=False, **observer_kwargs):
        super().__init__()
        if quant_min is not None and quant_max is not None:
            if quant_min > quant_max:
                raise AssertionError("quant_min must be less than or equal to quant_max")
            dtype = observer_kwargs.get('dtype', quint8)
            if hasattr(observer, 'p'):
                dtype = getattr(getattr(observer, 'p', {}), 'keywords', {}).get('dtype', dtype)
            lo, hi = _int_bounds(dtype)
            if lo > quant_min:
                raise AssertionError("quant_min out of bound")
            if quant_max > hi:
                raise AssertionError("quant_max out of bound")
            observer_kwargs.update({'quant_min': quant_min, 'quant_max': quant_max})
        observer_kwargs['is_dynamic'] = is_dynamic
        self.activation_post_process = observer(**observer_kwargs)
        obs = self.activation_post_process
        self.quant_min = obs.quant_min
        self.quant_max = obs.quant_max
        self.is_dynamic = obs.is_dynamic
        zp_dtype = _dtype.float32 if obs.qscheme is per_channel_affine_float_qparams \
            else _dtype.int32
        self.register_buffer('scale', tensor([1.0], dtype=_dtype.float32))
        self.register_buffer('zero_point', tensor([0], dtype=zp_dtype))
        self.dtype = obs.dtype
        self.qscheme = obs.qscheme
        self.ch_axis = obs.ch_axis if hasattr(obs, 'ch_axis') else -1
        if not (_is_per_channel(self.qscheme) or _is_per_tensor(self.qscheme)):
            raise AssertionError("Only per channel and per tensor quantization are supported "
                                 "in fake quantize got qscheme: " + str(self.qscheme))
        self.is_per_channel = _is_per_channel(self.qscheme)

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def forward(self, X):
        if self.observer_enabled[0] == 1:
            self.activation_post_process(X.detach())
            scale, zero_point = self.calculate_qparams()
            if self.scale.shape != scale.shape:
                self.scale.resize_(tuple(scale.shape))
                self.zero_point.resize_(tuple(zero_point.shape))
            self.scale.copy_(scale)
            self.zero_point.copy_(zero_point)
        if self.fake_quant_enabled[0] == 1:
            obs = self.activation_post_process
            if self.is_per_channel:
                X = fake_quantize_per_channel_affine(X, self.scale, self.zero_point,
                                                     self.ch_axis, obs.quant_min, obs.quant_max)
            else:
                X = fake_quantize_per_tensor_affine(X, self.scale, self.zero_point,
                                                    obs.quant_min, obs.quant_max)
        return X

    def extra_repr(self):
        obs = self.activation_post_process
        return (f"fake_quant_enabled={self.fake_quant_enabled}, "
                f"observer_enabled={self.observer_enabled}, quant_min={obs.quant_min}, "
                f"quant_max={obs.quant_max}, dtype={self.dtype}, qscheme={self.qscheme}, "
                f"ch_axis={self.ch_axis}, scale={self.scale}, zero_point={self.zero_point}")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        _save_tensors(self, destination, prefix, ('scale', 'zero_point'))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        names = ('scale', 'zero_point')
        for name, value in _present_keys(state_dict, prefix, names, strict, missing_keys):
            getattr(self, name).resize_(tuple(value.shape))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class FixedQParamsFakeQuantize(FakeQuantize):
    """Fake quantization with fixed parameters (a FixedQParamsObserver's)."""

    def __init__(self, observer):
        super().__init__(observer=observer)
        if type(self.activation_post_process) is not FixedQParamsObserver:
            raise AssertionError(f"{self.__class__.__name__}'s observer must be a "
                                 f"{FixedQParamsObserver.__name__}")
        self._observer_ctr = observer
        self.scale = self.activation_post_process.scale
        self.zero_point = self.activation_post_process.zero_point
        if not _is_per_tensor(self.qscheme):
            raise AssertionError("Only per tensor quantization is supported "
                                 "FixedQParamsFakeQuantize module, got qscheme:"
                                 + str(self.qscheme))

    def calculate_qparams(self):
        return self.scale, self.zero_point

    def extra_repr(self):
        obs = self.activation_post_process
        return (f"fake_quant_enabled={self.fake_quant_enabled}, "
                f"observer_enabled={self.observer_enabled}, scale={self.scale}, "
                f"zero_point={self.zero_point}, dtype={self.dtype}, quant_min={obs.quant_min}, "
                f"quant_max={obs.quant_max}, qscheme={self.qscheme}")


class FusedMovingAvgObsFakeQuantize(FakeQuantize):
    """Moving-average observation and fake quantization in one op
    (torch.fused_moving_avg_obs_fake_quant)."""

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                 **observer_kwargs):
        super().__init__(observer, quant_min, quant_max, **observer_kwargs)
        if not isinstance(self.activation_post_process,
                          (MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver)):
            raise AssertionError("Fused observer+fake_quant module only works with "
                                 "MovingAverageMinMaxObserver")
        self.register_buffer('fake_quant_enabled', tensor([1], dtype=_dtype.int64))
        self.register_buffer('observer_enabled', tensor([1], dtype=_dtype.int64))
        self.is_symmetric_quant = _is_symmetric_quant(self.activation_post_process.qscheme)

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def extra_repr(self):
        obs = self.activation_post_process
        return (f"fake_quant_enabled={self.fake_quant_enabled}, "
                f"observer_enabled={self.observer_enabled}, scale={self.scale}, "
                f"zero_point={self.zero_point}, dtype={self.dtype}, quant_min={obs.quant_min}, "
                f"quant_max={obs.quant_max}, qscheme={self.qscheme}, "
                f"reduce_range={obs.reduce_range}")

    def forward(self, X):
        obs = self.activation_post_process
        return fused_moving_avg_obs_fake_quant(
            X, self.observer_enabled, self.fake_quant_enabled, obs.min_val, obs.max_val,
            self.scale, self.zero_point, obs.averaging_constant, obs.quant_min, obs.quant_max,
            self.ch_axis, self.is_per_channel, self.is_symmetric_quant)


default_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=quint8,
    qscheme=per_tensor_affine, reduce_range=True)
default_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8,
    qscheme=per_tensor_symmetric, reduce_range=False)
default_dynamic_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, is_dynamic=True,
    dtype=quint8, averaging_constant=1)
default_fixed_qparams_range_neg1to1_fake_quant = FixedQParamsFakeQuantize.with_args(
    observer=default_fixed_qparams_range_neg1to1_observer)
default_fixed_qparams_range_0to1_fake_quant = FixedQParamsFakeQuantize.with_args(
    observer=default_fixed_qparams_range_0to1_observer)
default_symmetric_fixed_qparams_fake_quant = default_fixed_qparams_range_neg1to1_fake_quant
default_affine_fixed_qparams_fake_quant = default_fixed_qparams_range_0to1_fake_quant
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
    dtype=qint8, qscheme=per_channel_symmetric, reduce_range=False, ch_axis=0)
default_embedding_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, qscheme=per_channel_affine_float_qparams,
    dtype=quint8, quant_min=0, quant_max=255, ch_axis=0, averaging_constant=1)
default_embedding_fake_quant_4bit = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, qscheme=per_channel_affine_float_qparams,
    ch_axis=0, dtype=quint4x2, averaging_constant=1)
default_histogram_fake_quant = FakeQuantize.with_args(
    observer=HistogramObserver, quant_min=0, quant_max=255, dtype=quint8,
    qscheme=per_tensor_affine, reduce_range=True)
default_fused_act_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=quint8)
default_fused_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8,
    qscheme=per_tensor_symmetric)
default_fused_per_channel_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
    dtype=qint8, qscheme=per_channel_symmetric)
fused_wt_fake_quant_range_neg_127_to_127 = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-127, quant_max=127, dtype=qint8,
    qscheme=per_tensor_symmetric, eps=2 ** -12)
fused_per_channel_wt_fake_quant_range_neg_127_to_127 = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-127, quant_max=127,
    dtype=qint8, qscheme=per_channel_symmetric, eps=2 ** -12)


def _switch(method):
    """A function for module.apply that calls `method` on every fake quantizer."""
    def switch(mod):
        if isinstance(mod, FakeQuantizeBase):
            getattr(mod, method)()
    switch.__name__ = switch.__qualname__ = method
    switch.__doc__ = f'For module.apply: {method.replace("_", " ")} on each fake quantizer.'
    return switch


disable_fake_quant = _switch('disable_fake_quant')
enable_fake_quant = _switch('enable_fake_quant')
disable_observer = _switch('disable_observer')
enable_observer = _switch('enable_observer')
