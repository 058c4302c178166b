"""SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer, _bump, _check_differentiable, _value, required

__all__ = ['SGD']


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr is not required and _value(lr) < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault('nesterov', False)
            group.setdefault('maximize', False)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = _value(group['lr'])
            wd = _value(group['weight_decay'])
            momentum = group['momentum']
            dampening = group['dampening']
            nesterov = group['nesterov']
            for p, g in self._grads(group):
                d = p._data
                if group['maximize']:
                    g = -g
                if wd != 0:
                    g = g + wd * d
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get('momentum_buffer')
                    if buf is None:
                        buf = _wrap(g.copy())  # the first buffer is the gradient itself
                        state['momentum_buffer'] = buf
                    else:
                        b = buf._data
                        b *= momentum
                        b += (1 - dampening) * g if dampening != 0 else g
                    g = g + momentum * buf._data if nesterov else buf._data
                d -= lr * g
                _bump(p)
        return loss
