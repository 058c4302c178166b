"""Adamax: Adam with the infinity norm (torch.optim.Adamax)."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import (Optimizer, _bump, _check_differentiable, _lerp_, _scalar_state,
                        _value)

__all__ = ['Adamax']


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
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
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
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
                    state['exp_inf'] = _wrap(np.zeros_like(d))
                if group['maximize']:
                    g = -g
                step_t = state['step']
                step_t._data += 1
                if wd != 0:
                    g = g + wd * d
                m = state['exp_avg']._data
                u = state['exp_inf']._data
                _lerp_(m, g, 1 - beta1)
                u *= beta2
                gabs = np.abs(g)
                gabs += eps
                np.maximum(u, gabs, out=u)
                clr = lr / (1 - beta1 ** float(step_t._data))
                d += (-clr * m) / u
                _bump(p)
        return loss
