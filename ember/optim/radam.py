"""RAdam: rectified Adam (torch.optim.RAdam)."""
import numpy as np

from .optimizer import Optimizer, _adam_moments, _check_args

__all__ = ['RAdam']


class RAdam(Optimizer):
    _zero_state = ('exp_avg', 'exp_avg_sq')

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, hp, state, d, g):
        lr = hp['lr']
        beta1, beta2 = hp['betas']
        m, v = _adam_moments(state, g, beta1, beta2)
        step = float(state['step']._data)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        corrected = m / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf /
                    ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            sq = np.sqrt(v)
            sq += hp['eps']
            adaptive = (bias_correction2 ** 0.5) / sq
            d -= ((corrected * lr) * adaptive) * rect
        else:
            d -= corrected * lr
