"""Rprop: resilient backpropagation (torch.optim.Rprop)."""
import numpy as np

from .._tensor import _wrap
from .optimizer import Optimizer, _check_args, _hyper, _zeros

__all__ = ['Rprop']


class Rprop(Optimizer):
    _capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_args(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state['prev'] = _zeros(p._data)
        # each element's own step size starts at lr
        state['step_size'] = _wrap(np.full_like(p._data, _hyper(group['lr'])))

    def _update(self, hp, state, d, g):
        etaminus, etaplus = hp['etas']
        step_min, step_max = hp['step_sizes']
        prev = state['prev']._data
        step_size = state['step_size']._data
        prod = g * prev
        # the sign of g * prev picks the factor: etaplus (same sign), etaminus (flipped), 1
        factor = np.where(prod > 0, etaplus, np.where(prod < 0, etaminus, 1)).astype(d.dtype)
        step_size *= factor
        np.clip(step_size, step_min, step_max, out=step_size)
        # after a sign change the gradient counts as zero: no move, and no memory of it
        g = np.where(factor == d.dtype.type(etaminus), d.dtype.type(0), g)
        d -= np.sign(g) * step_size
        prev[...] = g
