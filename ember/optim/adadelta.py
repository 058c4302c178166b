"""Adadelta (torch.optim.Adadelta)."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer, _bump, _check_differentiable, _scalar_state, _value

__all__ = ['Adadelta']


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if not 0.0 <= _value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = _value(group['lr'])
            rho, eps, wd = group['rho'], group['eps'], group['weight_decay']
            for p, g in self._grads(group):
                d = p._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = _scalar_state(0.0)
                    state['square_avg'] = _wrap(np.zeros_like(d))
                    state['acc_delta'] = _wrap(np.zeros_like(d))
                state['step']._data += 1
                if group['maximize']:
                    g = -g
                if wd != 0:
                    g = g + wd * d
                sq = state['square_avg']._data
                acc = state['acc_delta']._data
                sq *= rho
                sq += ((1 - rho) * g) * g
                std = np.sqrt(sq + eps)
                delta = np.sqrt(acc + eps)
                delta /= std
                delta *= g
                acc *= rho
                acc += ((1 - rho) * delta) * delta
                d -= lr * delta
                _bump(p)
        return loss
