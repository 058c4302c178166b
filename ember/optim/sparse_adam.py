"""SparseAdam (torch.optim.SparseAdam): Adam's moments and update at a sparse gradient's
entries only (nn.Embedding(sparse=True) is what produces such gradients)."""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer, _hyper, _zeros

__all__ = ['SparseAdam']


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse, complex_ = [], []
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group['params']):
                if p.is_sparse:
                    sparse.append([gi, pi])
                if p.is_complex():
                    complex_.append([gi, pi])
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                             "parameter tensors")
        if complex_:
            raise ValueError(f"Complex params at indices {complex_}: SparseAdam does not "
                             "support complex parameters")

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                beta1, beta2 = group['betas']
                eps = group['eps']
                lr = _hyper(group['lr'])
                maximize = group.get('maximize', False)
                for p in group['params']:
                    g = p.grad
                    if g is None:
                        continue
                    if not g.is_sparse:
                        raise RuntimeError("SparseAdam does not support dense gradients, "
                                           "please consider Adam instead")
                    state = self.state[p]
                    if len(state) == 0:
                        state['step'] = 0
                        state['exp_avg'] = _zeros(p._data)
                        state['exp_avg_sq'] = _zeros(p._data)
                    state['step'] += 1
                    _sparse_adam(p, -g if maximize else g, state, beta1, beta2, eps, lr)
        return loss


def _sparse_adam(p, grad, state, beta1, beta2, eps, lr):
    """torch's sparse_adam for one parameter, in its order of operations (so float32
    rounding matches): the moments move by (new - old) * (1 - beta) at the entries."""
    g = grad.coalesce()
    values = g._values()._data
    if values.size == 0:
        return
    at = tuple(g._indices()._data)
    exp_avg = state['exp_avg']._data
    exp_avg_sq = state['exp_avg_sq']._data
    dt = values.dtype
    old_avg = exp_avg[at]
    avg_update = ((values - old_avg) * dt.type(1 - beta1)).astype(dt, copy=False)
    exp_avg[at] += avg_update
    old_sq = exp_avg_sq[at]
    sq_update = ((values ** 2 - old_sq) * dt.type(1 - beta2)).astype(dt, copy=False)
    exp_avg_sq[at] += sq_update
    numer = avg_update + old_avg
    denom = np.sqrt(sq_update + old_sq) + dt.type(eps)
    step = state['step']
    bias1 = 1 - beta1 ** step
    bias2 = 1 - beta2 ** step
    step_size = lr * math.sqrt(bias2) / bias1
    p._data[at] += (dt.type(-step_size) * (numer / denom)).astype(dt, copy=False)
    state['exp_avg']._vc.value += 1
    state['exp_avg_sq']._vc.value += 1
    p._vc.value += 1
