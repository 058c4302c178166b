"""SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""
from .._tensor import _wrap
from .optimizer import Optimizer, _check_args

__all__ = ['SGD']


class SGD(Optimizer):
    _has_step = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        _check_args(allow_nan=True, lr=lr, momentum=momentum, weight_decay=weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    _parallel_update = True     # per-parameter arithmetic only

    def _stateful(self, hp):
        # torch keeps no state at all without momentum
        return hp['momentum'] != 0

    def _update(self, hp, state, d, g):
        momentum = hp['momentum']
        if momentum != 0:
            buf = state.get('momentum_buffer')
            if buf is None:
                state['momentum_buffer'] = buf = _wrap(g.copy())  # starts as the gradient
            else:
                b = buf._data
                b *= momentum
                dampening = hp['dampening']
                b += (1 - dampening) * g if dampening != 0 else g
            g = g + momentum * buf._data if hp['nesterov'] else buf._data
        d -= hp['lr'] * g

    def _sparse_step(self, hp, p, g):
        # torch's single-tensor SGD on a sparse gradient: sparse momentum buffers, the
        # parameter updated at the gradient's entries only
        if hp['maximize']:
            g = -g
        if hp['weight_decay'] != 0:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        momentum = hp['momentum']
        if momentum != 0:
            state = self.state[p]
            buf = state.get('momentum_buffer')
            if buf is None:
                state['momentum_buffer'] = buf = g.clone().detach()
            else:
                buf.mul_(momentum).add_(g, alpha=1 - hp['dampening'])
            g = g.add(buf, alpha=momentum) if hp['nesterov'] else buf
        (g * -hp['lr'])._add_to_dense(p._data)
        p._vc.value += 1
