"""Muon: momentum, then the update orthogonalised by a Newton-Schulz iteration (torch.optim.Muon),
for 2D parameters. As on torch, the iteration runs in bfloat16 (ember's optional bfloat16
support, ml_dtypes): float32 accumulation in each product, one rounding per op."""
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = ['Muon']

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """The quintic Newton-Schulz iteration on a 2D array, in bfloat16."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (np.float32(v) for v in ns_coefficients)
    bf16, f32 = _dtype.bfloat16._np, np.float32
    x = grad.astype(bf16).astype(f32)          # the values a bfloat16 tensor holds
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = np.float32(np.sqrt(np.sum(x * x, dtype=f32))).astype(bf16).astype(f32)
    norm = max(norm, np.float32(np.float32(eps).astype(bf16)))
    x = (x / norm).astype(bf16).astype(f32)
    for _ in range(ns_steps):
        gram = (x @ x.T).astype(bf16).astype(f32)
        update = (b * gram + c * (gram @ gram)).astype(bf16).astype(f32)
        x = (a * x + update @ x).astype(bf16).astype(f32)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == 'original':
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == 'match_rms_adamw':
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


def _lerp(start, end, weight):
    """torch's lerp with a scalar weight (its two forms keep the result exact at both ends)."""
    w = start.dtype.type(weight)
    if weight < 0.5:
        return start + w * (end - start)
    return end - (end - start) * (start.dtype.type(1) - w)


class Muon(Optimizer):
    __module__ = 'ember.optim'  # torch's class names torch.optim, not its private file
    _has_step = False
    _own_weight_decay = True
    _zero_state = ('momentum_buffer',)

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ('original', 'match_rms_adamw'):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group['params']:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    _sparse_error = "Muon does not support sparse gradients"

    def _update(self, hp, state, d, g):
        if d.dtype.kind == 'c':
            raise RuntimeError("Muon does not support complex parameters")
        if g.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = state['momentum_buffer']._data
        momentum = hp['momentum']
        buf[...] = _lerp(buf, g, 1 - momentum)
        update = _lerp(g, buf, momentum) if hp['nesterov'] else buf
        update = _zeropower_via_newtonschulz(update, hp['ns_coefficients'], hp['ns_steps'],
                                             hp['eps'])
        lr = hp['lr']
        adjusted = _adjust_lr(lr, hp['adjust_lr_fn'], d.shape)
        d *= 1 - lr * hp['weight_decay']
        d += (-adjusted) * update.astype(d.dtype, copy=False)
