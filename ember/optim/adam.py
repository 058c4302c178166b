"""Adam (torch.optim.Adam), with amsgrad, maximize and (decoupled) weight decay."""
import numpy as np

from .. import _kernels
from .._tensor import Tensor
from .optimizer import Optimizer, _adam_moments, _check_args, _zeros

__all__ = ['Adam']


def _squeeze(x):
    # torch keeps a 1-element beta tensor as a 0-d one
    return x.squeeze() if isinstance(x, Tensor) and x.dim() != 0 else x


class Adam(Optimizer):
    _zero_state = ('exp_avg', 'exp_avg_sq')
    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not (all(isinstance(b, float) for b in betas[:2])
                or all(isinstance(b, Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if foreach and not capturable:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(_squeeze(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    _parallel_update = True     # per-parameter arithmetic only

    def _init_state(self, group, p, state):
        super()._init_state(group, p, state)
        if group['amsgrad']:
            state['max_exp_avg_sq'] = _zeros(p._data)

    def _update(self, hp, state, d, g):
        beta1, beta2 = hp['betas']
        step = float(state['step']._data)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = hp['lr'] / bias_correction1
        bc2_sqrt = bias_correction2 ** 0.5
        if not hp['amsgrad'] and _adam_kernel(d, g, state, beta1, beta2, step_size, bc2_sqrt,
                                              hp['eps']):
            return
        m, v = _adam_moments(state, g, beta1, beta2)
        if hp['amsgrad']:
            vmax = state['max_exp_avg_sq']._data
            np.maximum(vmax, v, out=vmax)
            denom = np.sqrt(vmax)
        else:
            denom = np.sqrt(v)
        denom /= bc2_sqrt
        denom += hp['eps']
        upd = np.multiply(m, -step_size)
        upd /= denom
        d += upd


_kernels.declare('ember_adam_f32', None, 'i64', 'p', 'p', 'p', 'p', *['f32'] * 6)


def _adam_kernel(d, g, state, beta1, beta2, step_size, bc2_sqrt, eps):
    """Adam's step (without amsgrad) in one compiled pass over float32 C-contiguous arrays of
    one shape (src/optim.c: the NumPy steps' operations and roundings); False where it does
    not apply."""
    m, v = state['exp_avg']._data, state['exp_avg_sq']._data
    w = 1 - beta1
    if not (w < 0.5 and d.dtype == g.dtype == m.dtype == v.dtype == np.float32
            and d.shape == g.shape == m.shape == v.shape and d.flags.c_contiguous
            and g.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous):
        return False
    fn = _kernels.get('ember_adam_f32')
    if fn is None:
        return False
    fn(d.size, _kernels.addr(d), _kernels.addr(g), _kernels.addr(m), _kernels.addr(v), w,
       beta2, 1 - beta2, -step_size, bc2_sqrt, eps)
    return True
