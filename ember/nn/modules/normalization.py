"""Normalisation layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d (and their lazy forms),
LayerNorm, GroupNorm, LocalResponseNorm and RMSNorm (torch.nn.modules.batchnorm,
instancenorm and normalization). The math is in ember/_ops/norm.py."""
import numbers
import sys
import warnings

import numpy as np

from ... import _tensor
from ...autograd.function import Function
from ..._ops import norm as _F
from .. import init
from ..parameter import Parameter, UninitializedBuffer
from .lazy import LazyModuleMixin
from .module import Module
from ..._ops.creation import ones, tensor, zeros
from ..._dtype import long
from ...autograd.grad_mode import no_grad
from .utils import _empty, _Functional, _lazy_weight_and_bias, _weight_and_bias

__all__ = ['BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'LazyBatchNorm1d', 'LazyBatchNorm2d',
           'LazyBatchNorm3d', 'InstanceNorm1d', 'InstanceNorm2d', 'InstanceNorm3d',
           'LazyInstanceNorm1d', 'LazyInstanceNorm2d', 'LazyInstanceNorm3d', 'LayerNorm',
           'GroupNorm', 'LocalResponseNorm', 'CrossMapLRN2d', 'RMSNorm', 'SyncBatchNorm']


def _check(device):
    _tensor._check_device(device)


def _affine(module, shape, affine, bias, device, dtype):
    """A norm layer's elementwise `weight` and (if `bias`) `bias` when `affine`, else both
    registered as None; `_reset_affine` sets them to 1 and 0."""
    if affine:
        _weight_and_bias(module, shape, shape, bias, device, dtype)
    else:
        module.register_parameter('weight', None)
        module.register_parameter('bias', None)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, 'bias', None) is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """Parameters, running-statistics buffers and repr shared by BatchNorm and InstanceNorm."""

    _version = 2
    __constants__ = ['track_running_stats', 'momentum', 'eps', 'num_features', 'affine']

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        _check(device)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine(self, num_features, affine, bias, device, dtype)
        if self.track_running_stats:
            self.register_buffer('running_mean', zeros(num_features, dtype=dtype))
            self.register_buffer('running_var', ones(num_features, dtype=dtype))
            self.register_buffer('num_batches_tracked', tensor(0, dtype=long))
        else:
            self.register_buffer('running_mean', None)
            self.register_buffer('running_var', None)
            self.register_buffer('num_batches_tracked', None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f'{self.num_features}, eps={self.eps}, momentum={self.momentum}, '
                f'affine={self.affine}, bias={self.bias is not None}, '
                f'track_running_stats={self.track_running_stats}')

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get('version', None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed load it as 0
            key = prefix + 'num_batches_tracked'
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked
                                   if self.num_batches_tracked is not None
                                   else tensor(0, dtype=long))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                nbt = self.num_batches_tracked
                nbt._data += 1
                nbt._vc.value += 1
                if self.momentum is None:  # cumulative moving average
                    factor = 1.0 / float(nbt._data)
                else:
                    factor = self.momentum
        if self.training:
            bn_training = True
        else:
            bn_training = self.running_mean is None and self.running_var is None
        use_running = not self.training or self.track_running_stats
        return _F.batch_norm(input, self.running_mean if use_running else None,
                             self.running_var if use_running else None, self.weight, self.bias,
                             bn_training, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs."""

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f'expected 2D or 3D input (got {input.dim()}D input)')


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f'expected 4D input (got {input.dim()}D input)')


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over (N, C, D, H, W) inputs."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f'expected 5D input (got {input.dim()}D input)')


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose statistics are reduced over a process group while training.
    As on torch's CPU build, it normalises like BatchNorm when no process group is
    initialised, and refuses CPU tensors when one is (torch syncs only GPU/XPU tensors)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        dist = sys.modules.get('ember.distributed')  # not loaded: no process group either
        if self.training and dist is not None and dist.is_available() and dist.is_initialized():
            raise ValueError("SyncBatchNorm expected input tensor to be on GPU or XPU or "
                             "privateuseone")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """`module` with every batch-norm layer in it replaced by a SyncBatchNorm sharing its
        parameters and buffers."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    out.weight, out.bias = module.weight, module.bias
            out.running_mean, out.running_var = module.running_mean, module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, 'qconfig'):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


class _InstanceNorm(_NormBase):
    _no_batch_dim = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def _check_input_dim(self, input):
        n = self._no_batch_dim
        if input.dim() not in (n, n + 1):
            raise ValueError(f'expected {n}D or {n + 1}D input (got {input.dim()}D input)')

    def _apply_instance_norm(self, input):
        return _F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                                self.bias, self.training or not self.track_running_stats,
                                self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input):
        self._check_input_dim(input)
        feature_dim = input.dim() - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f'num_features ({self.num_features}), but got: '
                                 f'{input.shape[feature_dim]}.')
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          'can silence this warning by not passing in num_features, which is '
                          'not used because affine=False')
        if input.dim() == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Per-sample, per-channel normalisation of (N, C, L) or (C, L)."""
    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Per-sample, per-channel normalisation of (N, C, H, W) or (C, H, W)."""
    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Per-sample, per-channel normalisation of (N, C, D, H, W) or (C, D, H, W)."""
    _no_batch_dim = 4


# ---- lazy forms -------------------------------------------------------------------------------

class _LazyNormBase(LazyModuleMixin, _NormBase):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        # built as a 0-feature layer without parameters, then given placeholders
        super().__init__(0, eps, momentum, False, False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            _lazy_weight_and_bias(self, bias, device, dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=long)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    if self.bias is not None:
                        self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean.materialize((self.num_features,))
                    self.running_var.materialize((self.num_features,))
                self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """A BatchNorm1d whose num_features is inferred from the first input."""
    cls_to_become = BatchNorm1d
    _check_input_dim = BatchNorm1d._check_input_dim


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """A BatchNorm2d whose num_features is inferred from the first input."""
    cls_to_become = BatchNorm2d
    _check_input_dim = BatchNorm2d._check_input_dim


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """A BatchNorm3d whose num_features is inferred from the first input."""
    cls_to_become = BatchNorm3d
    _check_input_dim = BatchNorm3d._check_input_dim


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):
    """An InstanceNorm1d whose num_features is inferred from the first input."""
    cls_to_become = InstanceNorm1d
    _no_batch_dim = 2


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):
    """An InstanceNorm2d whose num_features is inferred from the first input."""
    cls_to_become = InstanceNorm2d
    _no_batch_dim = 3


class LazyInstanceNorm3d(_LazyNormBase, _InstanceNorm):
    """An InstanceNorm3d whose num_features is inferred from the first input."""
    cls_to_become = InstanceNorm3d
    _no_batch_dim = 4


# ---- layer, group, local response and RMS norm ------------------------------------------------

def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (normalized_shape,)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` dims, with optional affine weight/bias."""

    __constants__ = ['normalized_shape', 'eps', 'elementwise_affine']

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return _F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f'{self.normalized_shape}, eps={self.eps}, '
                f'elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}')


class GroupNorm(Module):
    """Normalise groups of channels per sample, then a per-channel affine map."""

    __constants__ = ['num_groups', 'num_channels', 'eps', 'affine']

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f'num_channels ({num_channels}) must be divisible by num_groups '
                             f'({num_groups})')
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return _F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f'{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, '
                f'bias={self.bias is not None}')


class LocalResponseNorm(_Functional, fn=_F.local_response_norm):
    """Normalise each channel by its neighbours' squared activity (AlexNet's LRN)."""

    def extra_repr(self):
        return f'{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}'


def _channel_windows(x, lo, hi):
    """sum over channels j in [c + lo, c + hi] (clipped to the channels) of x[:, j], per c."""
    c = x.shape[1]
    csum = np.concatenate([np.zeros_like(x[:, :1]), np.cumsum(x, axis=1)], axis=1)
    idx = np.arange(c)
    top = np.clip(idx + hi + 1, 0, c)
    bottom = np.clip(idx + lo, 0, c)
    return csum[:, top] - csum[:, bottom]


class _CrossMapLRN2dFunction(Function):
    """torch's legacy cross-channel LRN, with its own forward window (channel 0 stays in every
    window from `size // 2 + 1` on: a quirk of its running sum) and its hand-written backward."""

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             "instead.")
        x = input.detach().numpy()
        sq = x * x
        pre = int((size - 1) / 2 + 1)
        scale = _channel_windows(sq, -(pre - 1), pre - 1)
        c = x.shape[1]
        if c > pre:   # channel 0 is never taken out of the running sum
            scale[:, pre:] += sq[:, :1]
        scale = scale * (alpha / size) + k
        out = np.power(scale, -beta) * x
        ctx.size, ctx.alpha, ctx.beta, ctx.scale = size, alpha, beta, scale
        ctx.save_for_backward(input)
        ctx.out = out
        return _tensor.Tensor._from_array(out.astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.saved_tensors[0].detach().numpy()
        g = grad_output.detach().numpy()
        size, scale = ctx.size, ctx.scale
        ratio = g * ctx.out / scale
        inv = int(size - (size - 1) / 2)
        c = x.shape[1]
        if inv > size - 1:  # torch's padded buffer of c + size - 1 channels is too short
            raise RuntimeError(f"start ({inv}) + length ({c}) exceeds dimension size "
                               f"({c + size - 1}).")
        accum = _channel_windows(ratio, -inv, size - 1 - inv)
        grad = np.power(scale, -ctx.beta) * g - (2 * ctx.alpha * ctx.beta / size) * x * accum
        return _tensor.Tensor._from_array(grad.astype(x.dtype, copy=False)), None, None, None, \
            None


class CrossMapLRN2d(Module):
    """The legacy (Lua Torch) local response normalisation across channels of 4D inputs."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return _CrossMapLRN2dFunction.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f'{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}'


class RMSNorm(Module):
    """x / sqrt(mean(x**2) + eps) over the trailing dims, times an optional weight."""

    __constants__ = ['normalized_shape', 'eps', 'elementwise_affine']

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if self.elementwise_affine:
            self.weight = Parameter(_empty(self.normalized_shape, device, dtype))
        else:
            self.register_parameter('weight', None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, x):
        return _F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f'{self.normalized_shape}, eps={self.eps}, '
                f'elementwise_affine={self.elementwise_affine}')
