"""Adafactor: Adam-like steps with factored second moments (torch.optim.Adafactor)."""
import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _lerp_, _zeros

__all__ = ['Adafactor']


def _norm(x):
    """||x||_2 as torch's .norm(2).item() gives it: accumulated wide, rounded to x's dtype."""
    return float(x.dtype.type(np.sqrt(np.sum(np.square(x, dtype=np.float64)))))


class Adafactor(Optimizer):
    __module__ = 'ember.optim'  # torch's class names torch.optim, not its private file
    _own_weight_decay = True
    _no_differentiable = True

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        if p.dtype.is_complex:
            raise RuntimeError("Adafactor does not support complex parameters")
        if p._data.ndim > 1:
            # the second moment factored over the last two dimensions: row and column means
            shape = p._data.shape
            state['row_var'] = _zeros(np.empty(shape[:-1] + (1,), dtype=p._data.dtype))
            state['col_var'] = _zeros(np.empty(shape[:-2] + (1, shape[-1]),
                                               dtype=p._data.dtype))
        else:
            state['variance'] = _zeros(p._data)

    def _update(self, hp, state, d, g):
        lr = hp['lr']
        eps1, eps2 = hp['eps']
        if eps1 is None:
            # torch fixes eps1 from the first parameter it updates in the group
            eps1 = float(np.finfo(d.dtype).eps)
            hp['eps'] = (eps1, eps2)
        step = state['step']._data.item()
        one_minus_beta2 = step ** hp['beta2_decay']
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, _norm(d) / d.size ** 0.5) * rho
        if hp['weight_decay'] != 0:
            d *= 1 - lr * hp['weight_decay']
        if g.ndim > 1:
            row_var = state['row_var']._data
            col_var = state['col_var']._data
            # the mean of g * g along a dimension, as torch computes it: norm, squared, / n
            row_mean = np.square(np.sqrt(np.sum(g * g, axis=-1, keepdims=True)))
            row_mean /= g.shape[-1]
            _lerp_(row_var, row_mean, one_minus_beta2)
            col_mean = np.square(np.sqrt(np.sum(g * g, axis=-2, keepdims=True)))
            col_mean /= g.shape[-2]
            _lerp_(col_var, col_mean, one_minus_beta2)
            var = np.matmul(row_var, col_var)
            var /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state['variance']._data
            _lerp_(variance, g * g, one_minus_beta2)
            var = variance.copy()
        np.maximum(var, eps1 * eps1, out=var)
        update = np.sqrt(var)
        np.divide(1, update, out=update)
        update *= g
        denom = max(1.0, _norm(update) / (update.size ** 0.5 * hp['d']))
        d += (-alpha / denom) * update
