"""NAdam: Adam with Nesterov momentum (torch.optim.NAdam)."""
import numpy as np

from .._tensor import _wrap
from ..autograd.grad_mode import enable_grad
from .optimizer import (Optimizer, _bump, _check_differentiable, _lerp_, _scalar_state,
                        _value)

__all__ = ['NAdam']


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_differentiable(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for p in group['params']:
                st = self.state.get(p)
                if st and 'mu_product' in st and not hasattr(st['mu_product'], '_data'):
                    st['mu_product'] = _scalar_state(float(st['mu_product']))

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = _value(group['lr'])
            beta1, beta2 = group['betas']
            eps, wd = group['eps'], group['weight_decay']
            momentum_decay = group['momentum_decay']
            for p, g in self._grads(group):
                d = p._data
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = _scalar_state(0.0)
                    state['mu_product'] = _scalar_state(1.0)
                    state['exp_avg'] = _wrap(np.zeros_like(d))
                    state['exp_avg_sq'] = _wrap(np.zeros_like(d))
                if group['maximize']:
                    g = -g
                step_t = state['step']
                step_t._data += 1
                step = float(step_t._data)
                bias_correction2 = 1 - beta2 ** step
                if wd != 0:
                    if group['decoupled_weight_decay']:
                        d *= 1 - lr * wd
                    else:
                        g = g + wd * d
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # mu_product is a float32 tensor in torch: keep its rounding
                mp = state['mu_product']._data
                mp *= mu
                m = state['exp_avg']._data
                v = state['exp_avg_sq']._data
                _lerp_(m, g, 1 - beta1)
                v *= beta2
                v += ((1 - beta2) * g) * g
                denom = np.sqrt(v / bias_correction2)
                mu_product = float(mp)
                mu_product_next = mu_product * mu_next
                denom += eps
                d += ((-lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
                d += (((-lr * mu_next) / (1.0 - mu_product_next)) * m) / denom
                _bump(p)
        return loss
