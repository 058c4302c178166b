"""Helpers of eager-mode quantization (torch.ao.quantization.utils)."""
import functools
import warnings

from ..._dtype import qint8, quint8, qint32, int8, uint8, int16, int32, uint16
from ..._ops.quantized import (per_tensor_affine, per_tensor_symmetric, per_channel_affine,
                               per_channel_symmetric, per_channel_affine_float_qparams)

__all__ = ['calculate_qmin_qmax', 'check_min_max_valid', 'validate_qmin_qmax', 'is_per_tensor',
           'is_per_channel', 'get_combined_dict']


def is_per_tensor(qscheme):
    return qscheme is per_tensor_affine or qscheme is per_tensor_symmetric


def is_per_channel(qscheme):
    return qscheme in (per_channel_affine, per_channel_affine_float_qparams,
                       per_channel_symmetric)


def get_combined_dict(default_dict, additional_dict):
    return {**default_dict, **additional_dict}


def _save_tensors(module, destination, prefix, names):
    """Write module's tensors `names` into a state dict (loading may rebind them, so the
    observers and fake quantizers save them by name)."""
    for name in names:
        destination[prefix + name] = getattr(module, name)


def _present_keys(state_dict, prefix, names, strict, missing_keys):
    """The (name, value) of each of `names` that state_dict holds; when strict, the keys of the
    others go to missing_keys."""
    for name in names:
        key = prefix + name
        if key in state_dict:
            yield name, state_dict[key]
        elif strict:
            missing_keys.append(key)


def check_min_max_valid(min_val, max_val):
    """Whether the observer has seen values (warns when not); min must not exceed max."""
    if min_val.numel() == 0 or max_val.numel() == 0:
        warnings.warn("must run observer before calling calculate_qparams. Returning default "
                      "values.", stacklevel=2)
        return False
    if min_val.dim() == 0 or max_val.dim() == 0:
        if float(min_val) == float('inf') and float(max_val) == float('-inf'):
            warnings.warn("must run observer before calling calculate_qparams. Returning "
                          "default values.", stacklevel=2)
            return False
        if float(min_val) > float(max_val):
            raise AssertionError(f"min {min_val} should be less than max {max_val}")
    elif bool((min_val > max_val).any()):
        raise AssertionError(f"min {min_val} should be less than max {max_val}")
    return True


def validate_qmin_qmax(quant_min, quant_max):
    if not quant_min <= 0 <= quant_max:
        raise AssertionError("Used-specified quantization range must include 0.")
    if quant_min >= quant_max:
        raise AssertionError(
            "qmin must be strictly less than qmax for user-specified quantization range.")


def calculate_qmin_qmax(quant_min, quant_max, has_customized_qrange, dtype, reduce_range):
    """The integer range of an observer: the given one (halved by reduce_range) or the
    dtype's."""
    if has_customized_qrange:
        if dtype in (qint32, int32):
            lo, hi = 0, 2 ** 32 - 1
        else:
            lo, hi = 0, 255
        if quant_min is not None and quant_max is not None:
            lo, hi = quant_min, quant_max
        qrange_len = hi - lo + 1
        if dtype in (qint8, int8):
            if not 0 < qrange_len <= 256:
                raise AssertionError("quantization range should be positive and not exceed the "
                                     "maximum bit range (=256).")
        elif dtype in (qint32, int32):
            if not 0 < qrange_len <= 2 ** 32:
                raise AssertionError("quantization range should be positive and not exceed the "
                                     "maximum bit range (=4294967296).")
        if reduce_range:
            quant_min, quant_max = quant_min // 2, quant_max // 2
    elif dtype in (qint8, int8):
        quant_min, quant_max = (-64, 63) if reduce_range else (-128, 127)
    elif dtype in (quint8, uint8):
        quant_min, quant_max = (0, 127) if reduce_range else (0, 255)
    elif dtype in (qint32, int32):
        quant_min, quant_max = -1 * (2 ** 31), (2 ** 31) - 1
    elif dtype is uint16:
        quant_min, quant_max = 0, 2 ** 16 - 1
    elif dtype is int16:
        quant_min, quant_max = -(2 ** 15), 2 ** 15 - 1
    else:
        quant_min, quant_max = 0, 15
    return quant_min, quant_max


DEPRECATION_WARNING = (
    "torch.ao.quantization is deprecated and will be removed in 2.10. \n"
    "For migrations of users: \n"
    "1. Eager mode quantization (torch.ao.quantization.quantize, "
    "torch.ao.quantization.quantize_dynamic), please migrate to use torchao eager mode "
    "quantize_ API instead \n"
    "2. FX graph mode quantization (torch.ao.quantization.quantize_fx.prepare_fx,"
    "torch.ao.quantization.quantize_fx.convert_fx, please migrate to use torchao pt2e "
    "quantization API instead (prepare_pt2e, convert_pt2e) \n"
    "3. pt2e quantization has been migrated to torchao "
    "(https://github.com/pytorch/ao/tree/main/torchao/quantization/pt2e) \n"
    "see https://github.com/pytorch/ao/issues/2259 for more details")


def _deprecated(fn):
    """torch marks the eager-mode entry points deprecated: a DeprecationWarning per call."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        warnings.warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
        return fn(*args, **kwargs)
    return wrapper
