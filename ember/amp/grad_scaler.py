"""torch.amp.GradScaler: dynamic loss scaling.

`GradScaler('cpu')` works for real on the CPU, as torch's does (scale the loss, unscale and
check the gradients for inf/NaN, skip the step on overflow, grow or back off the scale).
`GradScaler('cuda')` (the default, and `torch.cuda.amp.GradScaler`) warns that CUDA is not
available and disables itself: every method is then the documented no-op and `step` simply
calls `optimizer.step()`.
"""
import warnings
from collections import abc, defaultdict
from enum import Enum

import numpy as np

from .._ops.creation import full
from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .autocast_mode import _deprecated_init

__all__ = ['OptState', 'GradScaler']


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {'stage': OptState.READY, 'found_inf_per_device': {}}


def _full(value, dtype):
    return full((), value, dtype=dtype)


class GradScaler:
    """Multiply the loss by a scale factor, unscale gradients before the step, adapt the
    scale to overflows."""

    def __init__(self, device='cuda', init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if self._device == 'cuda' and enabled:
            warnings.warn('torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  '
                          'Disabling.', stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError('The growth factor must be > 1.0.')
            if backoff_factor >= 1.0:
                raise AssertionError('The backoff factor must be < 1.0.')
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname):
        fix = ('This may indicate your script did not use scaler.scale(loss or outputs) earlier '
               'in the iteration.')
        if self._scale is None:
            raise AssertionError(f'Attempted {funcname} but _scale is None.  ' + fix)
        if self._growth_tracker is None:
            raise AssertionError(f'Attempted {funcname} but _growth_tracker is None.  ' + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self):
        self._scale = _full(self._init_scale, _dtype.float32)
        self._growth_tracker = _full(self._init_growth_tracker, _dtype.int32)

    def scale(self, outputs):
        """outputs * scale (a tensor, or an iterable of tensors keeping its container type)."""
        if not self._enabled:
            return outputs

        def apply_scale(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker()
                return val * self._scale
            if isinstance(val, abc.Iterable):
                iterable = map(apply_scale, val)
                if isinstance(val, (list, tuple)):
                    return type(val)(iterable)
                return iterable
            raise ValueError('outputs must be a Tensor or an iterable of Tensors')
        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, allow_fp16):
        """Multiply every gradient by inv_scale in place; return the found-inf flag (a float32
        0-d tensor, 1.0 when some gradient held an inf or NaN)."""
        found_inf = _full(0.0, _dtype.float32)
        with no_grad():
            for group in optimizer.param_groups:
                for param in group['params']:
                    if not isinstance(param, Tensor):
                        raise AssertionError(
                            f'expected param to be torch.Tensor, got {type(param).__name__}')
                    grad = param.grad
                    if grad is None:
                        continue
                    if not allow_fp16 and grad.dtype == _dtype.float16:
                        raise ValueError('Attempting to unscale FP16 gradients.')
                    if not np.isfinite(grad._data).all():
                        found_inf.fill_(1.0)
                    grad.mul_(inv_scale)
        return {'cpu': found_inf}

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale (once per step)."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker('unscale_')
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state['stage'] is OptState.UNSCALED:
            raise RuntimeError(
                'unscale_() has already been called on this optimizer since the last update().')
        elif optimizer_state['stage'] is OptState.STEPPED:
            raise RuntimeError('unscale_() is being called after step().')
        # torch inverts in double then rounds to float32
        inv_scale = self._scale.double().reciprocal().float()
        optimizer_state['found_inf_per_device'] = self._unscale_grads_(optimizer, inv_scale,
                                                                       False)
        optimizer_state['stage'] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        if not sum(v.item() for v in optimizer_state['found_inf_per_device'].values()):
            return optimizer.step(*args, **kwargs)
        return None

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless done already) and call optimizer.step() unless a gradient
        overflowed. Returns what optimizer.step returned."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if 'closure' in kwargs:
            raise RuntimeError('Closure use is not currently supported if GradScaler is enabled.')
        self._check_scale_growth_tracker('step')
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state['stage'] is OptState.STEPPED:
            raise RuntimeError('step() has already been called since the last update().')
        if optimizer_state['stage'] is OptState.READY:
            self.unscale_(optimizer)
        if len(optimizer_state['found_inf_per_device']) == 0:
            raise AssertionError('No inf checks were recorded for this optimizer.')
        retval = self._maybe_opt_step(optimizer, optimizer_state, *args, **kwargs)
        optimizer_state['stage'] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Back off the scale after an overflow, grow it after growth_interval clean steps."""
        if not self._enabled:
            return
        _scale, _growth_tracker = self._check_scale_growth_tracker('update')
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale.fill_(new_scale)
            else:
                reason = ('new_scale should be a float or a 1-element torch.cuda.FloatTensor or '
                          'torch.FloatTensor with requires_grad=False.')
                if new_scale.device.type != self._device:
                    raise AssertionError(reason)
                if new_scale.numel() != 1:
                    raise AssertionError(reason)
                if new_scale.requires_grad is True:
                    raise AssertionError(reason)
                self._scale.copy_(new_scale)
        else:
            found_infs = [found_inf for state in self._per_optimizer_states.values()
                          for found_inf in state['found_inf_per_device'].values()]
            if len(found_infs) == 0:
                raise AssertionError('No inf checks were recorded prior to update.')
            found = sum(float(f.item()) for f in found_infs)
            self._update_scale(found)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _update_scale(self, found_inf):
        scale = self._scale._data
        if found_inf:
            self._scale.fill_(float(scale * np.float32(self._backoff_factor)))
            self._growth_tracker.fill_(0)
            return
        successful = int(self._growth_tracker.item()) + 1
        if successful == self._growth_interval:
            new_scale = scale * np.float32(self._growth_factor)
            if np.isfinite(new_scale):  # torch keeps the old scale rather than overflow
                self._scale.fill_(float(new_scale))
            self._growth_tracker.fill_(0)
        else:
            self._growth_tracker.fill_(successful)

    def _get_scale_async(self):
        return self._scale

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale.item())
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            return self._init_growth_tracker if self._growth_tracker is None \
                else int(self._growth_tracker.item())
        return 0

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        if self._enabled:
            return {'scale': self.get_scale(), 'growth_factor': self._growth_factor,
                    'backoff_factor': self._backoff_factor,
                    'growth_interval': self._growth_interval,
                    '_growth_tracker': self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError('The source state dict is empty, possibly because it was saved '
                               'from a disabled instance of GradScaler.')
        self._init_scale = state_dict['scale']
        if self._scale is not None:
            self._scale.fill_(state_dict['scale'])
        self._growth_factor = state_dict['growth_factor']
        self._backoff_factor = state_dict['backoff_factor']
        self._growth_interval = state_dict['growth_interval']
        self._init_growth_tracker = state_dict['_growth_tracker']
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict['_growth_tracker'])

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError('A GradScaler instance may only be pickled at the beginning '
                                     'of an iteration, or at the end after scaler.update().')
            state['_init_scale'] = self.get_scale()
            state['_init_growth_tracker'] = self._get_growth_tracker()
            state['_scale'] = None
            state['_growth_tracker'] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def _check_inf_per_device(self, optimizer):
        self._check_scale_growth_tracker('_check_inf_per_device')
        found = self._unscale_grads_(optimizer, _full(1.0, _dtype.float32), True)
        self._per_optimizer_states[id(optimizer)]['found_inf_per_device'] = found
        return found

    def _found_inf_per_device(self, optimizer):
        return self._per_optimizer_states[id(optimizer)]['found_inf_per_device']


class _DeprecatedGradScaler(GradScaler):
    """torch.cpu.amp.GradScaler and torch.cuda.amp.GradScaler."""
    _device_type = None

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        _deprecated_init(self, GradScaler.__init__, 'GradScaler', init_scale=init_scale,
                         growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)
