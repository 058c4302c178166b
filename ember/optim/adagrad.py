"""Adagrad (torch.optim.Adagrad)."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer, _bump, _check_differentiable, _scalar_state, _value

__all__ = ['Adagrad']


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= _value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # torch creates Adagrad's state eagerly, for every parameter
        for group in self.param_groups:
            for p in group['params']:
                state = self.state[p]
                state['step'] = _scalar_state(0.0)
                init = group['initial_accumulator_value']
                state['sum'] = _wrap(np.full_like(p._data, init))

    def share_memory(self):
        pass

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = _value(group['lr'])
            lr_decay, wd, eps = group['lr_decay'], group['weight_decay'], group['eps']
            for p, g in self._grads(group):
                d = p._data
                state = self.state[p]
                step_t = state['step']
                step_t._data += 1
                step = float(step_t._data)
                if group['maximize']:
                    g = -g
                if wd != 0:
                    g = g + wd * d
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state['sum']._data
                s += g * g
                std = np.sqrt(s)
                std += eps
                d += (-clr * g) / std
                _bump(p)
        return loss
