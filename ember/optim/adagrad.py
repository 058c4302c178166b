"""Adagrad (torch.optim.Adagrad)."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, _check_args

__all__ = ['Adagrad']


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_args(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                    initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # torch creates Adagrad's state eagerly, for every parameter
        for group in self.param_groups:
            for p in group['params']:
                self._new_state(group, p, self.state[p])

    def share_memory(self):
        pass

    def _init_state(self, group, p, state):
        state['sum'] = _wrap(np.full_like(p._data, group['initial_accumulator_value']))

    def _update(self, hp, state, d, g):
        step = float(state['step']._data)
        clr = hp['lr'] / (1 + (step - 1) * hp['lr_decay'])
        s = state['sum']._data
        s += g * g
        std = np.sqrt(s)
        std += hp['eps']
        d += (-clr * g) / std

    def _sparse_step(self, hp, p, g):
        raise NotImplementedError("ember does not implement Adagrad with sparse gradients")
