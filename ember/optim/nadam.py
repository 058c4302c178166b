"""NAdam: Adam with Nesterov momentum (torch.optim.NAdam)."""
import numpy as np

from .optimizer import Optimizer, _adam_moments, _check_args, _scalar_state

__all__ = ['NAdam']


class NAdam(Optimizer):
    _zero_state = ('exp_avg', 'exp_avg_sq')
    _scalar_state_keys = ('step', 'mu_product')
    _capturable_what = ('params, mu_products and state_steps',
                        'params, mu_products, and state_steps')

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay,
                    momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state['mu_product'] = _scalar_state(1.0)
        super()._init_state(group, p, state)

    def _update(self, hp, state, d, g):
        lr = hp['lr']
        beta1, beta2 = hp['betas']
        momentum_decay = hp['momentum_decay']
        step = float(state['step']._data)
        bias_correction2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # mu_product is a float32 tensor in torch: keep its rounding
        mp = state['mu_product']._data
        mp *= mu
        m, v = _adam_moments(state, g, beta1, beta2)
        denom = np.sqrt(v / bias_correction2)
        mu_product = float(mp)
        mu_product_next = mu_product * mu_next
        denom += hp['eps']
        d += ((-lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
        d += (((-lr * mu_next) / (1.0 - mu_product_next)) * m) / denom
