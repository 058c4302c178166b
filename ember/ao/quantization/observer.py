"""Observers: modules that record the range of the values they see and turn it into a scale
and zero point (torch.ao.quantization.observer)."""
import warnings
from collections import OrderedDict
from functools import partial

from ... import _dtype
from ..._dtype import qint8, quint8, qint32, quint4x2
from ..._ops.creation import tensor, zeros_like, ones_like, ones, zeros, arange, linspace
from ..._ops.elementwise import div
from ..._ops.index import histc, bucketize, bincount
from ..._ops.quantized import (per_tensor_affine, per_tensor_symmetric, per_channel_affine,
                               per_channel_symmetric, per_channel_affine_float_qparams)
from ... import nn
from .utils import calculate_qmin_qmax, check_min_max_valid, is_per_channel, is_per_tensor, \
    validate_qmin_qmax, _present_keys, _save_tensors

__all__ = ['default_affine_fixed_qparams_observer', 'default_debug_observer',
           'default_dynamic_quant_observer', 'default_fixed_qparams_range_0to1_observer',
           'default_fixed_qparams_range_neg1to1_observer', 'default_float_qparams_observer',
           'default_float_qparams_observer_4bit', 'default_histogram_observer', 'default_observer',
           'default_per_channel_weight_observer', 'default_placeholder_observer',
           'default_reuse_input_observer', 'default_symmetric_fixed_qparams_observer',
           'default_weight_observer', 'get_observer_state_dict', 'load_observer_state_dict',
           'per_channel_weight_observer_range_neg_127_to_127',
           'weight_observer_range_neg_127_to_127', 'FixedQParamsObserver', 'HistogramObserver', 'MinMaxObserver',
           'MovingAverageMinMaxObserver', 'MovingAveragePerChannelMinMaxObserver',
           'NoopObserver', 'ObserverBase', 'PerChannelMinMaxObserver', 'PlaceholderObserver',
           'RecordingObserver', 'ReuseInputObserver', 'UniformQuantizationObserverBase']

_EPS = _dtype.finfo(_dtype.float32).eps


class _PartialWrapper:
    """A class with some constructor arguments bound (Observer.with_args(...)); calling it
    makes a new instance each time."""

    def __init__(self, p):
        self.p = p
        self.callable_args = {}

    def __call__(self, *args, **keywords):
        for name, fn in self.callable_args.items():
            if name not in keywords:
                keywords = {**keywords, name: fn()}
        return self.p(*args, **keywords)

    def __repr__(self):
        return repr(self.p) + repr(self.callable_args)

    def with_args(self, **kwargs):
        return _with_args(self, **kwargs)

    def with_callable_args(self, **kwargs):
        out = _PartialWrapper(p=self.p)
        out.callable_args = {**self.callable_args, **kwargs}
        return out


def _with_args(cls_or_self, **kwargs):
    return _PartialWrapper(partial(cls_or_self, **kwargs))


def _with_callable_args(cls_or_self, **kwargs):
    return _PartialWrapper(partial(cls_or_self)).with_callable_args(**kwargs)


class ObserverBase(nn.Module):
    """Base of the observers: forward records statistics, calculate_qparams turns them into
    quantization parameters."""

    def __init__(self, dtype, is_dynamic=False):
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic

    def forward(self, x):
        raise NotImplementedError

    def calculate_qparams(self, **kwargs):
        raise NotImplementedError

    with_args = classmethod(_with_args)
    with_callable_args = classmethod(_with_callable_args)


_ALLOWED_DTYPES = (qint8, quint8, quint4x2, qint32, _dtype.int8, _dtype.uint8, _dtype.int16,
                   _dtype.int32, _dtype.uint16)


class UniformQuantizationObserverBase(ObserverBase):
    """The observers that compute an affine or symmetric scale and zero point from a range."""
    _version = 3

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS,
                 is_dynamic=False, **kwargs):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.qscheme = qscheme
        if reduce_range:
            warnings.warn(
                "Please use quant_min and quant_max to specify the range for observers. "
                "                    reduce_range will be deprecated in a future release of "
                "PyTorch.", stacklevel=2)
        self.reduce_range = reduce_range
        self.register_buffer('eps', tensor([eps]))
        if qscheme not in (per_tensor_affine, per_tensor_symmetric, per_channel_affine,
                           per_channel_symmetric, per_channel_affine_float_qparams):
            raise AssertionError(
                "Default Observer only works for per_tensor_affine, per_tensor_symmetric, "
                "per_channel_affine, per_channel_symmetric and per_channel_float_qparams "
                "quantization scheme")
        if self.dtype not in _ALLOWED_DTYPES:
            raise AssertionError(f"Default Observer only works for {_ALLOWED_DTYPES} data type")
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        if self.has_customized_qrange:
            validate_qmin_qmax(quant_min, quant_max)
        self.quant_min, self.quant_max = calculate_qmin_qmax(
            quant_min, quant_max, self.has_customized_qrange, self.dtype, self.reduce_range)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version', None)
        if version is None or version == 1:
            state_dict[prefix + 'eps'] = tensor([_EPS])
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def _validate_qmin_qmax(self, quant_min, quant_max):
        validate_qmin_qmax(quant_min, quant_max)

    def _calculate_qparams(self, min_val, max_val):
        """Scale and zero point (1-element or per-channel tensors) for a range, as torch's:
        the range is widened to hold 0, the scale is at least eps."""
        if not check_min_max_valid(min_val, max_val):
            return tensor([1.0]), tensor([0])
        quant_min, quant_max = self.quant_min, self.quant_max
        min_val_neg = min_val.minimum(zeros_like(min_val))
        max_val_pos = max_val.maximum(zeros_like(max_val))
        scale = ones(tuple(min_val_neg.shape))
        zero_point = zeros(tuple(min_val_neg.shape), dtype=_dtype.int64)
        if self.qscheme in (per_tensor_symmetric, per_channel_symmetric):
            max_val_pos = (-min_val_neg).maximum(max_val_pos)
            scale = max_val_pos / (float(quant_max - quant_min) / 2)
            scale = scale.maximum(self.eps) if scale.ndim else scale.max(self.eps)
            if self.dtype in (quint8, _dtype.uint8):
                fill = (quant_min + quant_max) // 2 if self.has_customized_qrange else 128
                zero_point = zero_point.new_full(tuple(zero_point.shape), fill)
            elif self.dtype is _dtype.uint16:
                zero_point = zero_point.new_full(tuple(zero_point.shape), 2 ** 15)
        elif self.qscheme is per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(quant_max - quant_min)
            scale = scale.where(scale > self.eps, ones_like(scale))
            zero_point = -1 * min_val / scale
        else:
            scale = (max_val_pos - min_val_neg) / float(quant_max - quant_min)
            scale = scale.maximum(self.eps) if scale.ndim else scale.max(self.eps)
            zero_point = quant_min - (min_val_neg / scale).round().to(_dtype.int32)
            zero_point = zero_point.clamp(quant_min, quant_max)
        if scale.ndim == 0:
            scale = tensor([float(scale)], dtype=scale.dtype)
        if zero_point.ndim == 0:
            zero_point = tensor([int(zero_point)], dtype=zero_point.dtype)
            if self.qscheme is per_channel_affine_float_qparams:
                zero_point = tensor([float(zero_point)], dtype=zero_point.dtype)
        return scale, zero_point

    def reset_min_max_vals(self):
        raise NotImplementedError("Cannot reset min/max values in the given observer.")


_ObserverBase = UniformQuantizationObserverBase


def _check_per_tensor(observer, qscheme):
    if not is_per_tensor(qscheme):
        raise NotImplementedError(
            f"{observer}'s qscheme only support torch.per_tensor_symmetric "
            "                    and torch.per_tensor_affine.")


def _check_per_channel(observer, qscheme):
    if not is_per_channel(qscheme):
        raise NotImplementedError(
            f"{observer}'s qscheme only support                     "
            "torch.per_channel_symmetric, torch.per_channel_affine and "
            "torch.per_channel_affine_float_qparams.")


def _refuse_dynamic(observer, is_dynamic):
    if is_dynamic:
        raise NotImplementedError(f"{observer} doesn't support dynamic quantization")


class MinMaxObserver(UniformQuantizationObserverBase):
    """Records the running minimum and maximum of everything it sees."""

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS,
                 is_dynamic=False, **kwargs):
        _check_per_tensor('MinMaxObserver', qscheme)
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max,
                         factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.register_buffer('min_val', tensor(float('inf')))
        self.register_buffer('max_val', tensor(float('-inf')))
        if qscheme is per_tensor_symmetric and self.reduce_range and self.dtype is quint8:
            raise NotImplementedError("Cannot reduce range for symmetric "
                                      "                                       quantization for "
                                      "quint8")

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        cur_min, cur_max = x.aminmax()
        self.min_val.copy_(cur_min.minimum(self.min_val))
        self.max_val.copy_(cur_max.maximum(self.max_val))
        return x_orig

    def calculate_qparams(self):
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self):
        self.min_val.copy_(tensor(float('inf')))
        self.max_val.copy_(tensor(float('-inf')))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """Keeps a moving average of the minima and maxima (constant averaging_constant)."""

    def __init__(self, averaging_constant=0.01, dtype=quint8, qscheme=per_tensor_affine,
                 reduce_range=False, quant_min=None, quant_max=None, eps=_EPS,
                 is_dynamic=False, **kwargs):
        if not is_per_tensor(qscheme):
            raise NotImplementedError(
                "MovingAverageMinMaxObserver's qscheme only support                 "
                "torch.per_tensor_symmetric and torch.per_tensor_affine.                 "
                f"but got: {qscheme}")
        self.averaging_constant = averaging_constant
        if is_dynamic and averaging_constant != 1:
            raise NotImplementedError(
                "MovingAverageMinMaxObserver doesn't support dynamic quantization for "
                f"averaging constant of {averaging_constant}")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max, eps=eps,
                         is_dynamic=is_dynamic, **kwargs)

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        min_val, max_val = self.min_val, self.max_val
        if min_val == float('inf') and max_val == float('-inf'):
            min_val, max_val = x.aminmax()
        else:
            cur_min, cur_max = x.aminmax()
            min_val = min_val + self.averaging_constant * (cur_min - min_val)
            max_val = max_val + self.averaging_constant * (cur_max - max_val)
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)
        return x_orig


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """Records the minimum and maximum of each index along ch_axis."""

    def __init__(self, ch_axis=0, dtype=quint8, qscheme=per_channel_affine,
                 reduce_range=False, quant_min=None, quant_max=None, factory_kwargs=None,
                 eps=_EPS, is_dynamic=False, **kwargs):
        _check_per_channel('PerChannelMinMaxObserver', qscheme)
        _refuse_dynamic('PerChannelMinMaxObserver', is_dynamic)
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max,
                         factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.ch_axis = ch_axis
        self.register_buffer('min_val', tensor([]))
        self.register_buffer('max_val', tensor([]))
        if qscheme is per_channel_symmetric and self.reduce_range and self.dtype is quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def forward(self, x_orig):
        return self._forward(x_orig)

    def _channel_rows(self, x):
        order = list(range(x.dim()))
        order[self.ch_axis] = 0
        order[0] = self.ch_axis
        return x.permute(order).to(self.min_val.dtype).flatten(start_dim=1)

    def _forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        cur_min, cur_max = self._channel_rows(x_orig.detach()).aminmax(dim=1)
        if self.min_val.numel() and self.max_val.numel():
            cur_min, cur_max = self._merge(cur_min, cur_max)
        self._set_range(cur_min, cur_max)
        return x_orig

    def _merge(self, cur_min, cur_max):
        """The recorded range with a new batch's (the moving-average observer averages)."""
        return cur_min.minimum(self.min_val), cur_max.maximum(self.max_val)

    def _set_range(self, min_val, max_val):
        self.min_val.resize_(tuple(min_val.shape))
        self.max_val.resize_(tuple(max_val.shape))
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)

    def calculate_qparams(self):
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version')
        names = ('min_vals', 'max_vals') if version is not None and version < 3 else \
            ('min_val', 'max_val')
        bufs = dict(zip(names, (self.min_val, self.max_val)))
        for name, value in _present_keys(state_dict, prefix, names, strict, missing_keys):
            bufs[name].resize_(tuple(value.shape))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs)

    def _load_from_state_dict_script(self, *args):
        self._load_from_state_dict(*args)

    def reset_min_max_vals(self):
        self.min_val = tensor([])
        self.max_val = tensor([])


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per-channel minima and maxima as moving averages."""

    def __init__(self, averaging_constant=0.01, ch_axis=0, dtype=quint8,
                 qscheme=per_channel_affine, reduce_range=False, quant_min=None,
                 quant_max=None, eps=_EPS, is_dynamic=False, **kwargs):
        _check_per_channel('MovingAveragePerChannelMinMaxObserver', qscheme)
        _refuse_dynamic('MovingAveragePerChannelMinMaxObserver', is_dynamic)
        super().__init__(ch_axis=ch_axis, dtype=dtype, qscheme=qscheme,
                         reduce_range=reduce_range, quant_min=quant_min, quant_max=quant_max,
                         eps=eps, is_dynamic=is_dynamic, **kwargs)
        self.averaging_constant = averaging_constant

    def _merge(self, cur_min, cur_max):
        c = self.averaging_constant
        return (self.min_val + c * (cur_min - self.min_val),
                self.max_val + c * (cur_max - self.max_val))


class HistogramObserver(UniformQuantizationObserverBase):
    """Keeps a running histogram of the values and chooses the range that minimises the
    quantization error over it (torch's non-linear search)."""

    def __init__(self, bins=2048, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS,
                 is_dynamic=False, **kwargs):
        _check_per_tensor('HistogramObserver', qscheme)
        _refuse_dynamic('HistogramObserver', is_dynamic)
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max,
                         factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.bins = bins
        self.register_buffer('histogram', zeros(self.bins))
        self.register_buffer('min_val', tensor(float('inf')))
        self.register_buffer('max_val', tensor(float('-inf')))
        self.dst_nbins = 2 ** _bits(self.dtype)
        self.upsample_rate = 16  # reduces the error of re-binning an upscaled histogram

    def _get_norm(self, delta_begin, delta_end, density):
        norm = (delta_end * delta_end * delta_end - delta_begin * delta_begin * delta_begin) / 3
        return density * norm

    def _compute_quantization_error(self, next_start_bin, next_end_bin):
        """The L2 error of quantizing the histogram onto dst_nbins bins over
        [next_start_bin, next_end_bin]."""
        bin_width = (self.max_val.item() - self.min_val.item()) / self.bins
        dst_bin_width = bin_width * (next_end_bin - next_start_bin + 1) / self.dst_nbins
        if dst_bin_width == 0.0:
            return 0.0
        src_bin = arange(self.bins)
        src_bin_begin = (src_bin - next_start_bin) * bin_width
        src_bin_end = src_bin_begin + bin_width
        dst_bin_of_begin = div(src_bin_begin, dst_bin_width, rounding_mode='floor').clamp(
            0, self.dst_nbins - 1)
        dst_bin_of_begin_center = (dst_bin_of_begin + 0.5) * dst_bin_width
        dst_bin_of_end = div(src_bin_end, dst_bin_width, rounding_mode='floor').clamp(
            0, self.dst_nbins - 1)
        density = self.histogram / bin_width
        norm = zeros(self.bins)
        delta_begin = src_bin_begin - dst_bin_of_begin_center
        norm += self._get_norm(delta_begin, ones(self.bins) * (dst_bin_width / 2), density)
        norm += (dst_bin_of_end - dst_bin_of_begin - 1) * self._get_norm(
            tensor(-dst_bin_width / 2), tensor(dst_bin_width / 2), density)
        dst_bin_of_end_center = dst_bin_of_end * dst_bin_width + dst_bin_width / 2
        norm += self._get_norm(tensor(-dst_bin_width / 2), src_bin_end - dst_bin_of_end_center,
                               density)
        return norm.sum().item()

    def _non_linear_param_search(self):
        """Shrink [min, max] from the side that holds less mass while the error falls."""
        if self.histogram.size()[0] != self.bins:
            raise AssertionError("bins mismatch")
        bin_width = (self.max_val - self.min_val) / self.bins
        total = self.histogram.sum().item()
        csum = self.histogram.cumsum(dim=0).tolist()
        stepsize = 1e-5
        alpha, beta = 0.0, 1.0
        start_bin, end_bin = 0, self.bins - 1
        norm_min = float('inf')
        while alpha < beta:
            next_alpha = alpha + stepsize
            next_beta = beta - stepsize
            lo, hi = start_bin, end_bin
            while lo < end_bin and csum[lo] < next_alpha * total:
                lo += 1
            while hi > start_bin and csum[hi] > next_beta * total:
                hi -= 1
            next_start_bin, next_end_bin = start_bin, end_bin
            if (lo - start_bin) > (end_bin - hi):
                next_start_bin = lo
                alpha = next_alpha
            else:
                next_end_bin = hi
                beta = next_beta
            if next_start_bin == start_bin and next_end_bin == end_bin:
                continue
            norm = self._compute_quantization_error(next_start_bin, next_end_bin)
            if norm > norm_min:
                break
            norm_min = norm
            start_bin, end_bin = next_start_bin, next_end_bin
        new_min = self.min_val + bin_width * start_bin
        new_max = self.min_val + bin_width * (end_bin + 1)
        return new_min, new_max

    def _upscale_histogram(self, histogram, orig_min, orig_max, update_min, update_max):
        histogram = histogram.repeat_interleave(self.upsample_rate) / self.upsample_rate
        bin_size = (orig_max - orig_min) / (self.bins * self.upsample_rate)
        mid_points = linspace(orig_min, orig_max, self.bins * self.upsample_rate + 1)[:-1] + \
            0.5 * bin_size
        boundaries = linspace(update_min, update_max, self.bins + 1)
        buckets = bucketize(mid_points, boundaries, right=True) - 1
        buckets[buckets >= self.bins] = self.bins - 1
        buckets[buckets < 0] = 0
        return bincount(buckets, weights=histogram, minlength=self.bins)

    def _combine_histograms(self, orig_hist, orig_min, orig_max, update_hist, update_min,
                            update_max):
        if update_min == orig_min and update_max == orig_max:
            return orig_hist + update_hist
        if orig_min == orig_max:
            bin_value = orig_hist.sum()
            moved = histc(orig_min, bins=self.bins, min=update_min, max=update_max) * bin_value
            return moved + update_hist
        if update_min > orig_min:
            raise AssertionError("update_min must be <= orig_min")
        if update_max < orig_max:
            raise AssertionError("update_max must be >= orig_max")
        return update_hist + self._upscale_histogram(orig_hist, orig_min, orig_max, update_min,
                                                     update_max)

    def reset_histogram(self, x, min_val, max_val):
        self.min_val.resize_(tuple(min_val.shape))
        self.min_val.copy_(min_val)
        self.max_val.resize_(tuple(max_val.shape))
        self.max_val.copy_(max_val)
        if min_val.numel() != 1 or max_val.numel() != 1:
            raise AssertionError("histogram min/max values must be scalar.")
        self._set_histogram(histc(x, self.bins, min=min_val, max=max_val))

    def _set_histogram(self, new):
        self.histogram.detach_().resize_(tuple(new.shape))
        self.histogram.copy_(new)

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        x_min, x_max = x.aminmax()
        if x_min == float('-inf') or x_max == float('inf'):
            warnings.warn("torch.inf detected in input tensor, ignoring input", stacklevel=2)
            x = x[x.abs() != float('inf')]
            if x.numel() == 0:
                return x_orig
            x_min, x_max = x.aminmax()
        current_min, current_max = self.min_val, self.max_val
        if self.min_val == float('inf') or self.max_val == float('-inf'):
            self.reset_histogram(x, x_min, x_max)
            return x_orig
        new_min = current_min.minimum(x_min).detach()
        new_max = current_max.maximum(x_max).detach()
        update = histc(x, self.bins, min=new_min, max=new_max)
        if new_min == current_min and new_max == current_max:
            self._set_histogram(self.histogram + update)
        else:
            self._set_histogram(self._combine_histograms(self.histogram, current_min,
                                                         current_max, update, new_min, new_max))
            self.min_val.detach_().resize_(tuple(new_min.shape))
            self.min_val.copy_(new_min)
            self.max_val.detach_().resize_(tuple(new_max.shape))
            self.max_val.copy_(new_max)
        return x_orig

    def calculate_qparams(self):
        if self.min_val == float('inf') and self.max_val == float('-inf'):
            warnings.warn("must run observer before calling calculate_qparams."
                          "                                    Returning default scale and "
                          "zero point ", stacklevel=2)
            return tensor([1.0]), tensor([0])
        if self.bins != len(self.histogram):
            raise AssertionError("The number of bins in histogram should be equal to the number "
                                 "of bins supplied while making this observer")
        new_min, new_max = self._non_linear_param_search()
        return self._calculate_qparams(new_min, new_max)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        _save_tensors(self, destination, prefix, ('min_val', 'max_val'))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version', None)
        if version is None or version < 3:
            for name, v in (('min_val', float('inf')), ('max_val', float('-inf'))):
                key = prefix + name
                if key in state_dict and tuple(state_dict[key].shape) == (0,):
                    state_dict[key] = tensor(v)
        names = ('min_val', 'max_val')
        for name, value in _present_keys(state_dict, prefix, names, strict, missing_keys):
            setattr(self, name, value)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


def _bits(dtype):
    if dtype in (qint32, _dtype.int32):
        return 32
    if dtype is quint4x2:
        return 4
    if dtype in (_dtype.int16, _dtype.uint16):
        return 16
    return 8


class FixedQParamsObserver(ObserverBase):
    """Gives fixed quantization parameters (for ops with a known output range)."""

    def __init__(self, scale, zero_point, dtype=quint8, qscheme=per_tensor_affine,
                 quant_min=0, quant_max=255, is_dynamic=False, **kwargs):
        _refuse_dynamic('FixedQParamsObserver', is_dynamic)
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.register_buffer('scale', tensor([scale], dtype=_dtype.float32))
        self.register_buffer('zero_point', tensor([zero_point], dtype=_dtype.int32))
        self.dtype = dtype
        self.qscheme = qscheme

    def forward(self, X):
        return X

    def calculate_qparams(self):
        return self.scale, self.zero_point


class PlaceholderObserver(ObserverBase):
    """Records nothing: stands for the dtype of dynamic quantization or a float type."""

    def __init__(self, dtype=_dtype.float32, custom_op_name='', compute_dtype=None,
                 quant_min=None, quant_max=None, qscheme=None, eps=None, is_dynamic=False):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.dtype = dtype
        self.qscheme = per_tensor_affine if qscheme is None else qscheme
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.eps = _EPS if eps is None else eps
        self.custom_op = custom_op_name
        if compute_dtype:
            warnings.warn(
                "Please use `is_dynamic` instead of `compute_dtype`.                     "
                "`compute_dtype` will be deprecated in a future release                     "
                "of PyTorch.", stacklevel=2)

    def forward(self, x):
        return x

    def extra_repr(self):
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")


class RecordingObserver(ObserverBase):
    """Keeps a copy of every tensor it sees (for debugging)."""

    def __init__(self, dtype=quint8):
        super().__init__(dtype=dtype, is_dynamic=False)
        self.tensor_val = []

    def forward(self, x):
        self.tensor_val.append(x.clone())
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for RecordingObserver")

    def get_tensor_value(self):
        return self.tensor_val


class NoopObserver(ObserverBase):
    """Does nothing (float16 casts)."""

    def __init__(self, dtype=_dtype.float16, custom_op_name=''):
        super().__init__(dtype=dtype, is_dynamic=False)
        self.dtype = dtype
        self.custom_op = custom_op_name

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for NoopObserver")


class ReuseInputObserver(NoopObserver):
    """Reuses its input's observer."""

    def __init__(self):
        ObserverBase.__init__(self, quint8, is_dynamic=False)

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for ReuseInputObserver")


# the classes whose instances are "activation post processes": fake_quantize adds its base
_POST_PROCESS = [ObserverBase]


def _is_activation_post_process(module):
    return isinstance(module, tuple(_POST_PROCESS))


def get_observer_state_dict(mod):
    """The state_dict entries of mod's observers (keys with 'activation_post_process')."""
    sd = mod.state_dict()
    od = OrderedDict((k, v) for k, v in sd.items() if 'activation_post_process' in k)
    od._metadata = getattr(sd, '_metadata', OrderedDict())
    return od


def load_observer_state_dict(mod, obs_dict):
    """Load observer statistics saved by get_observer_state_dict into mod's observers."""
    missing, unexpected = [], []
    for name, module in mod.named_modules():
        if _is_activation_post_process(module):
            module._load_from_state_dict(obs_dict, name + '.', {}, False, missing, unexpected,
                                         [])
    for k in missing:
        if 'observer' in k or 'activation_post_process' in k:
            raise Exception(f"Missing keys for observer {k} in state_dict")
    for k in unexpected:
        if 'observer' in k or 'activation_post_process' in k:
            raise Exception(f"Unexpected keys for observer {k} in state_dict")


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_placeholder_observer = PlaceholderObserver
default_debug_observer = RecordingObserver
default_weight_observer = MinMaxObserver.with_args(dtype=qint8, qscheme=per_tensor_symmetric)
weight_observer_range_neg_127_to_127 = MinMaxObserver.with_args(
    dtype=qint8, qscheme=per_tensor_symmetric, quant_min=-127, quant_max=127, eps=2 ** -12)
default_histogram_observer = HistogramObserver.with_args(quant_min=0, quant_max=127)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=qint8, qscheme=per_channel_symmetric)
per_channel_weight_observer_range_neg_127_to_127 = PerChannelMinMaxObserver.with_args(
    dtype=qint8, qscheme=per_channel_symmetric, quant_min=-127, quant_max=127, eps=2 ** -12)
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=quint8, quant_min=0, quant_max=255, is_dynamic=True)
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(
    dtype=quint8, qscheme=per_channel_affine_float_qparams, ch_axis=0)
default_float_qparams_observer_4bit = PerChannelMinMaxObserver.with_args(
    dtype=quint4x2, qscheme=per_channel_affine_float_qparams, ch_axis=0)
default_fixed_qparams_range_neg1to1_observer = FixedQParamsObserver.with_args(
    scale=2.0 / 256.0, zero_point=128, dtype=quint8, quant_min=0, quant_max=255)
default_fixed_qparams_range_0to1_observer = FixedQParamsObserver.with_args(
    scale=1.0 / 256.0, zero_point=0, dtype=quint8, quant_min=0, quant_max=255)
default_symmetric_fixed_qparams_observer = default_fixed_qparams_range_neg1to1_observer
default_affine_fixed_qparams_observer = default_fixed_qparams_range_0to1_observer
default_reuse_input_observer = ReuseInputObserver
