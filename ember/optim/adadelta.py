"""Adadelta (torch.optim.Adadelta)."""
import numpy as np

from .optimizer import Optimizer, _check_args, _pick

__all__ = ['Adadelta']


class Adadelta(Optimizer):
    _zero_state = ('square_avg', 'acc_delta')
    _capturable_xla = (False, False)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_args(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, _pick(locals(), 'lr rho eps weight_decay maximize capturable '
                                                 'foreach differentiable'))

    def _update(self, hp, state, d, g):
        rho, eps = hp['rho'], hp['eps']
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
        d -= hp['lr'] * delta
