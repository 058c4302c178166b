"""Adam (torch.optim.Adam), with amsgrad, maximize and (decoupled) weight decay."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import (Optimizer, _bump, _check_differentiable, _lerp_, _scalar_state,
                        _value)

__all__ = ['Adam']


def _check_adam_args(lr, eps, betas, weight_decay):
    if not 0.0 <= _value(lr):
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= _value(betas[0]) < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= _value(betas[1]) < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_adam_args(lr, eps, betas, weight_decay)
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = _value(group['lr'])
            beta1, beta2 = (_value(b) for b in group['betas'])
            wd = group['weight_decay']
            eps = group['eps']
            amsgrad = group['amsgrad']
            for p, g in self._grads(group):
                d = p._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = _scalar_state(0.0)
                    state['exp_avg'] = _wrap(np.zeros_like(d))
                    state['exp_avg_sq'] = _wrap(np.zeros_like(d))
                    if amsgrad:
                        state['max_exp_avg_sq'] = _wrap(np.zeros_like(d))
                if group['maximize']:
                    g = -g
                step_t = state['step']
                step_t._data += 1
                if wd != 0:
                    if group['decoupled_weight_decay']:
                        d *= 1 - lr * wd
                    else:
                        g = g + wd * d
                m = state['exp_avg']._data
                v = state['exp_avg_sq']._data
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                v += ((1 - beta2) * g) * g
                step = float(step_t._data)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bc2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    vmax = state['max_exp_avg_sq']._data
                    np.maximum(vmax, v, out=vmax)
                    denom = np.sqrt(vmax)
                else:
                    denom = np.sqrt(v)
                denom /= bc2_sqrt
                denom += eps
                d += (-step_size * m) / denom
                _bump(p)
        return loss
