"""RAdam: rectified Adam (torch.optim.RAdam)."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import (Optimizer, _bump, _check_differentiable, _lerp_, _scalar_state,
                        _value)

__all__ = ['RAdam']


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        if not 0.0 <= _value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = _value(group['lr'])
            beta1, beta2 = group['betas']
            eps, wd = group['eps'], group['weight_decay']
            for p, g in self._grads(group):
                d = p._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = _scalar_state(0.0)
                    state['exp_avg'] = _wrap(np.zeros_like(d))
                    state['exp_avg_sq'] = _wrap(np.zeros_like(d))
                if group['maximize']:
                    g = -g
                step_t = state['step']
                step_t._data += 1
                step = float(step_t._data)
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
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                corrected = m / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf /
                            ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    sq = np.sqrt(v)
                    sq += eps
                    adaptive = (bias_correction2 ** 0.5) / sq
                    d -= ((corrected * lr) * adaptive) * rect
                else:
                    d -= corrected * lr
                _bump(p)
        return loss
