"""RMSprop, optionally centered and with momentum (torch.optim.RMSprop)."""
import numpy as np

from .optimizer import Optimizer, _check_args, _lerp_, _zeros

__all__ = ['RMSprop']


class RMSprop(Optimizer):
    _zero_state = ('square_avg',)
    _capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_args(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        super()._init_state(group, p, state)
        if group['momentum'] > 0:
            state['momentum_buffer'] = _zeros(p._data)
        if group['centered']:
            state['grad_avg'] = _zeros(p._data)

    def _update(self, hp, state, d, g):
        alpha, momentum = hp['alpha'], hp['momentum']
        sq = state['square_avg']._data
        sq *= alpha
        sq += ((1 - alpha) * g) * g
        if hp['centered']:
            ga = state['grad_avg']._data
            _lerp_(ga, g, 1 - alpha)
            avg = np.sqrt(sq + (-1 * ga) * ga)
        else:
            avg = np.sqrt(sq)
        avg += hp['eps']
        if momentum > 0:
            buf = state['momentum_buffer']._data
            buf *= momentum
            buf += g / avg
            d -= hp['lr'] * buf
        else:
            d += (-hp['lr'] * g) / avg
