"""Adamax: Adam with the infinity norm (torch.optim.Adamax)."""
import numpy as np

from .optimizer import Optimizer, _check_args, _lerp_, _pick

__all__ = ['Adamax']


class Adamax(Optimizer):
    _zero_state = ('exp_avg', 'exp_inf')

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, _pick(locals(), 'lr betas eps weight_decay foreach maximize '
                                                 'differentiable capturable'))

    def _update(self, hp, state, d, g):
        beta1, beta2 = hp['betas']
        m = state['exp_avg']._data
        u = state['exp_inf']._data
        _lerp_(m, g, 1 - beta1)
        u *= beta2
        gabs = np.abs(g)
        gabs += hp['eps']
        np.maximum(u, gabs, out=u)
        clr = hp['lr'] / (1 - beta1 ** float(state['step']._data))
        d += (-clr * m) / u
