"""ASGD: averaged stochastic gradient descent (torch.optim.ASGD)."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, _check_args, _hyper, _scalar_state, _zeros

__all__ = ['ASGD']


class ASGD(Optimizer):
    _capturable_what = ('params, mus, etas, and state_steps',) * 2
    _scalar_state_keys = ('step', 'eta', 'mu')

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_args(lr=lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        # torch keeps eta and mu as float32 0-d tensors: the update reads them back rounded
        state['eta'] = _scalar_state(_hyper(group['lr']))
        state['mu'] = _scalar_state(1.0)
        state['ax'] = _zeros(p._data)

    def _update(self, hp, state, d, g):
        lr, lambd, alpha = hp['lr'], hp['lambd'], hp['alpha']
        eta = state['eta']._data
        mu = state['mu']._data
        ax = state['ax']._data
        step = state['step']._data
        if hp['foreach']:
            # torch's foreach kernel folds the decay into the gradient, always averages, and
            # computes eta from the float32 step tensor (so in float32)
            d -= (g + lambd * d) * eta.astype(d.dtype)
            ax += (d - ax) * mu.astype(d.dtype)
            f32 = np.float32
            eta[...] = f32(lr) / ((f32(1) + f32(lambd * lr) * step) ** f32(alpha))
        else:
            e = eta.item()
            d *= 1 - lambd * e
            d += -e * g
            if mu.item() != 1:
                ax += (d - ax) * mu.astype(d.dtype)
            else:
                ax[...] = d
            # torch.as_tensor of a Python float: float32, whatever eta's own dtype
            eta[...] = np.float32(lr / ((1 + lambd * lr * step.item()) ** alpha))
        mu[...] = np.float32(1 / max(1, step.item() - hp['t0']))
