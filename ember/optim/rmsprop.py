"""RMSprop, optionally centered and with momentum (torch.optim.RMSprop)."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import (Optimizer, _bump, _check_differentiable, _lerp_, _scalar_state,
                        _value)

__all__ = ['RMSprop']


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if not 0.0 <= _value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = _value(group['lr'])
            alpha, eps, wd = group['alpha'], group['eps'], group['weight_decay']
            momentum, centered = group['momentum'], group['centered']
            for p, g in self._grads(group):
                d = p._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = _scalar_state(0.0)
                    state['square_avg'] = _wrap(np.zeros_like(d))
                    if momentum > 0:
                        state['momentum_buffer'] = _wrap(np.zeros_like(d))
                    if centered:
                        state['grad_avg'] = _wrap(np.zeros_like(d))
                if group['maximize']:
                    g = -g
                state['step']._data += 1
                if wd != 0:
                    g = g + wd * d
                sq = state['square_avg']._data
                sq *= alpha
                sq += ((1 - alpha) * g) * g
                if centered:
                    ga = state['grad_avg']._data
                    _lerp_(ga, g, 1 - alpha)
                    avg = np.sqrt(sq + (-1 * ga) * ga)
                else:
                    avg = np.sqrt(sq)
                avg += eps
                if momentum > 0:
                    buf = state['momentum_buffer']._data
                    buf *= momentum
                    buf += g / avg
                    d -= lr * buf
                else:
                    d += (-lr * g) / avg
                _bump(p)
        return loss
