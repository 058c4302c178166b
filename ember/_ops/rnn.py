"""Forward math for the recurrent layers (the engine behind nn.RNN, nn.LSTM, nn.GRU).

One layer in one direction is ONE fused autograd node: the forward loops over the time steps
in NumPy (the input projection of every step is a single matmul before the loop, each step
is one matmul plus elementwise work) and the backward is hand-written backpropagation through
time, again one matmul per step with the weight gradients gathered in single matmuls after
the loop. Recording thousands of small ops per sequence would cost far more.

Every layer works on the *packed* layout: a 2-D ``(sum(batch_sizes), features)`` array whose
rows for step ``t`` are ``offsets[t]:offsets[t + 1]`` and hold the first ``batch_sizes[t]``
sequences (batch sizes never grow). A padded ``(T, B, F)`` input is simply the case where
every batch size is ``B``, so packed and padded inputs share one code path.

Double backward: with ``create_graph=True`` the node re-runs its forward with recorded ember
ops and differentiates that (slow, but exact and itself differentiable).
"""
import numpy as np

from .. import _kernels
from .._tensor import _wrap
from .._threads import blas_held, matmul as _matmul
from ..autograd.grad_mode import _State, enable_grad
from ..autograd.graph import (Node, _check_versions, _init_node, _raise_freed, _record, derivative,
                              grad as _grad)
from .dropout import dropout as _dropout
from .shape import cat, stack

__all__ = []

_GATES = {'RNN_TANH': 1, 'RNN_RELU': 1, 'LSTM': 4, 'GRU': 3}


def _sigmoid_(a):
    """In-place logistic function, written with tanh so large inputs never overflow."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


# ---- the fused node ---------------------------------------------------------------------------

class MkldnnRnnLayerBackward0(Node):
    """Backward of one recurrent layer in one direction (torch names its CPU LSTM node so)."""
    __slots__ = ('_n_outputs', '_ctx')

    def _apply(self, grads, create_graph):
        if self._saved is None:
            _raise_freed()
        if self._versions:
            _check_versions(self)
        if create_graph:
            return _backward_by_ops(self, grads)
        return _backward_numpy(self._ctx, self._saved, [None if g is None else g._data
                                                       for g in grads])

    def _release(self):
        self._saved = None
        self._ctx = None


def _rnn_layer(mode, x, batch_sizes, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """One layer, one direction. x: (N, I) packed rows; h0/c0: (B, H).

    Returns (output (N, H_out), h_n (B, H_out), c_n (B, H) or None) as Tensors.
    """
    inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
    arrays = [None if t is None else t._data for t in inputs]
    out, hn, cn, ctx = _forward_numpy(mode, arrays, batch_sizes, reverse)
    results = [_wrap(out), _wrap(hn)] + ([_wrap(cn)] if cn is not None else [])
    if _State.enabled and any(t is not None and t._requires_grad for t in inputs):
        node = MkldnnRnnLayerBackward0.__new__(MkldnnRnnLayerBackward0)
        _init_node(node, inputs)
        node._n_outputs = len(results)
        node._saved = inputs
        # the NumPy intermediates are only valid while the inputs keep their values
        node._versions = [(t, t._vc.value) for t in inputs if t is not None]
        node._ctx = ctx
        for nr, r in enumerate(results):
            r.grad_fn = node
            r._output_nr = nr
            r._requires_grad = True
    return tuple(results) if cn is not None else (results[0], results[1], None)


def _offsets(batch_sizes):
    offs = np.zeros(len(batch_sizes) + 1, dtype=np.int64)
    np.cumsum(batch_sizes, out=offs[1:])
    return offs


_kernels.declare('ember_lstm_cell_f32', None, 'i64', 'i64', *['p'] * 6)
_kernels.declare('ember_lstm_cell_backward_f32', None, 'i64', 'i64', *['p'] * 8)


@blas_held
def _forward_numpy(mode, arrays, batch_sizes, reverse):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = arrays
    offs = _offsets(batch_sizes)
    steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    n = x.shape[0]
    hid = w_hh.shape[0] // _GATES[mode]
    # the input projection of every step at once; hidden biases fold in where they can
    xp = _matmul(x, w_ih.T)
    if b_ih is not None:
        if mode == 'GRU':
            xp += b_ih
        else:
            xp += b_ih + b_hh
    w_hh_t = w_hh.T
    h = h0.copy()
    hprev = np.empty((n, h0.shape[1]), dtype=xp.dtype)  # the state each row started from
    out = np.empty((n, h0.shape[1]), dtype=xp.dtype)
    ctx = {'mode': mode, 'batch_sizes': batch_sizes, 'reverse': reverse, 'hprev': hprev,
           'out': out}
    if mode == 'LSTM':
        # sigmoid(a) = (tanh(a / 2) + 1) / 2: halving the i, f, o rows of the weights (exact in
        # binary) lets one tanh call activate all four gates of a step
        half = np.ones((4, 1), dtype=xp.dtype)
        half[[0, 1, 3]] = 0.5
        xp3 = xp.reshape(n, 4, hid)
        xp3 *= half
        w_hh_t = (w_hh.reshape(4, hid, -1) * half[:, :, None]).reshape(4 * hid, -1).T
        c = c0.copy()
        cprev = np.empty((n, hid), dtype=xp.dtype)
        tanh_c = np.empty((n, hid), dtype=xp.dtype)
        r_all = np.empty((n, hid), dtype=xp.dtype) if w_hr is not None else None
        # the step after its product in one compiled pass (src/rnn.c), float32 without a
        # projection, every array C-contiguous (the state's rows lead c and h)
        cell = _kernels.get('ember_lstm_cell_f32') if (
            r_all is None and xp.dtype == c.dtype == h.dtype == np.float32
            and xp.flags.c_contiguous and c.flags.c_contiguous and h.flags.c_contiguous) else None
        for t in steps:
            s, e = offs[t], offs[t + 1]
            bs = e - s
            hp = h[:bs]
            hprev[s:e] = hp
            g = xp[s:e]
            g += hp @ w_hh_t
            if cell is not None:
                cell(bs, hid, _kernels.addr(g), _kernels.addr(c), _kernels.addr(cprev[s:e]),
                     _kernels.addr(tanh_c[s:e]), _kernels.addr(out[s:e]), _kernels.addr(h))
                continue
            cprev[s:e] = c[:bs]
            np.tanh(g, out=g)
            g3 = xp3[s:e]
            sg = g3[:, :2]
            sg *= 0.5
            sg += 0.5
            sg = g3[:, 3]
            sg *= 0.5
            sg += 0.5
            cn = g3[:, 1] * c[:bs]
            cn += g3[:, 0] * g3[:, 2]
            c[:bs] = cn
            tc = np.tanh(cn, out=tanh_c[s:e])
            if r_all is None:
                hn = np.multiply(g3[:, 3], tc, out=out[s:e])
            else:
                r = np.multiply(g3[:, 3], tc, out=r_all[s:e])
                hn = np.matmul(r, w_hr.T, out=out[s:e])
            h[:bs] = hn
        ctx.update(gates=xp, cprev=cprev, tanh_c=tanh_c, r=r_all)
        return out, h, c, ctx
    if mode == 'GRU':
        hhn = np.empty((n, hid), dtype=xp.dtype)
        for t in steps:
            s, e = offs[t], offs[t + 1]
            bs = e - s
            hp = h[:bs]
            hprev[s:e] = hp
            hh = hp @ w_hh_t
            if b_hh is not None:
                hh += b_hh
            g = xp[s:e]
            g[:, :2 * hid] += hh[:, :2 * hid]
            _sigmoid_(g[:, :2 * hid])
            hhn[s:e] = hh[:, 2 * hid:]
            nn_ = g[:, 2 * hid:]
            nn_ += g[:, :hid] * hh[:, 2 * hid:]
            np.tanh(nn_, out=nn_)
            # h' = (1 - z) * n + z * h
            hn = np.subtract(hp, nn_, out=out[s:e])
            hn *= g[:, hid:2 * hid]
            hn += nn_
            h[:bs] = hn
        ctx.update(gates=xp, hhn=hhn)
        return out, h, None, ctx
    relu = mode == 'RNN_RELU'
    for t in steps:
        s, e = offs[t], offs[t + 1]
        bs = e - s
        hp = h[:bs]
        hprev[s:e] = hp
        a = xp[s:e]
        a += hp @ w_hh_t
        if relu:
            np.maximum(a, 0, out=out[s:e])
        else:
            np.tanh(a, out=out[s:e])
        h[:bs] = out[s:e]
    return out, h, None, ctx


def _backward_numpy(ctx, saved, grads):
    """Backpropagation through time in NumPy; one gradient per recorded input."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = [None if t is None else t._data for t in saved]
    mode, batch_sizes, reverse = ctx['mode'], ctx['batch_sizes'], ctx['reverse']
    offs = _offsets(batch_sizes)
    # backward visits the steps in the opposite order of the forward
    steps = range(len(batch_sizes)) if reverse else range(len(batch_sizes) - 1, -1, -1)
    hprev, out = ctx['hprev'], ctx['out']
    n, hsz = out.shape
    dt = out.dtype
    g_out = grads[0] if grads[0] is not None else np.zeros((n, hsz), dt)
    dh = grads[1].copy() if grads[1] is not None else np.zeros_like(h0)
    gates = ctx.get('gates')
    d_wr = None
    if mode == 'LSTM':
        hid = w_hh.shape[0] // 4
        dc = grads[2].copy() if len(grads) > 2 and grads[2] is not None else np.zeros_like(c0)
        cprev, tanh_c, r_all = ctx['cprev'], ctx['tanh_c'], ctx['r']
        # every factor that does not depend on the incoming gradient, for all steps at once
        g3 = gates.reshape(n, 4, hid)
        i, f, gg, o = g3[:, 0], g3[:, 1], g3[:, 2], g3[:, 3]
        k_c = o * (1 - tanh_c * tanh_c)                  # d c / d h (through h = o tanh c)
        k_o = tanh_c * o * (1 - o)                        # d pre_o / d h
        k_ifg = np.empty((n, 3, hid), dtype=dt)           # d pre_{i,f,g} / d c
        np.multiply(gg, i * (1 - i), out=k_ifg[:, 0])
        np.multiply(cprev, f * (1 - f), out=k_ifg[:, 1])
        np.multiply(i, 1 - gg * gg, out=k_ifg[:, 2])
        dgx = np.empty_like(gates)
        dg3 = dgx.reshape(n, 4, hid)
        dh_all = np.empty((n, hsz), dt) if w_hr is not None else None
        # a step before its product in one compiled pass (src/rnn.c), as for the forward (a
        # bidirectional layer's output gradient is a strided half: copied once)
        g_out = np.ascontiguousarray(g_out)
        cell = _kernels.get('ember_lstm_cell_backward_f32') if (
            dh_all is None and dt == np.float32 and all(
                a.dtype == dt and a.flags.c_contiguous
                for a in (dh, g_out, dc, k_c, k_o, k_ifg, gates, dgx))) else None
        for t in steps:
            s, e = offs[t], offs[t + 1]
            bs = e - s
            if cell is not None:
                cell(bs, hid, _kernels.addr(dh), _kernels.addr(g_out[s:e]), _kernels.addr(dc),
                     _kernels.addr(k_c[s:e]), _kernels.addr(k_o[s:e]), _kernels.addr(k_ifg[s:e]),
                     _kernels.addr(gates[s:e]), _kernels.addr(dgx[s:e]))
                np.matmul(dgx[s:e], w_hh, out=dh[:bs])
                continue
            dht = dh[:bs] + g_out[s:e]
            if dh_all is not None:
                dh_all[s:e] = dht
                dht = dht @ w_hr
            dct = dht * k_c[s:e]
            dct += dc[:bs]
            np.multiply(dht, k_o[s:e], out=dg3[s:e, 3])
            np.multiply(dct[:, None, :], k_ifg[s:e], out=dg3[s:e, :3])
            np.multiply(dct, f[s:e], out=dc[:bs])
            np.matmul(dgx[s:e], w_hh, out=dh[:bs])
        dgh = dgx
        if w_hr is not None:
            d_wr = dh_all.T @ r_all
        d_c0 = dc
    elif mode == 'GRU':
        hid = w_hh.shape[0] // 3
        hhn = ctx['hhn']
        dgx = np.empty_like(gates)
        dgh = np.empty_like(gates)
        for t in steps:
            s, e = offs[t], offs[t + 1]
            bs = e - s
            dht = dh[:bs] + g_out[s:e]
            g = gates[s:e]
            r, z, nn_ = g[:, :hid], g[:, hid:2 * hid], g[:, 2 * hid:]
            hp = hprev[s:e]
            dx_ = dgx[s:e]
            dh_ = dgh[s:e]
            dnp = np.multiply(dht, 1 - z, out=dx_[:, 2 * hid:])
            dnp *= 1 - nn_ * nn_
            np.multiply(dnp, r, out=dh_[:, 2 * hid:])
            dz = np.multiply(dht, hp - nn_, out=dx_[:, hid:2 * hid])
            dz *= z * (1 - z)
            dr = np.multiply(dnp, hhn[s:e], out=dx_[:, :hid])
            dr *= r * (1 - r)
            dh_[:, :2 * hid] = dx_[:, :2 * hid]
            dh[:bs] = dht * z + dh_ @ w_hh
        d_c0 = None
    else:
        relu = mode == 'RNN_RELU'
        dgx = np.empty((n, hsz), dt)
        for t in steps:
            s, e = offs[t], offs[t + 1]
            bs = e - s
            dht = dh[:bs] + g_out[s:e]
            o = out[s:e]
            if relu:
                np.multiply(dht, o > 0, out=dgx[s:e])
            else:
                np.multiply(dht, 1 - o * o, out=dgx[s:e])
            dh[:bs] = dgx[s:e] @ w_hh
        dgh = dgx
        d_c0 = None
    d_x = _matmul(dgx, w_ih)
    d_wih = _matmul(dgx.T, x)
    d_whh = _matmul(dgh.T, hprev)
    d_bih = dgx.sum(0) if b_ih is not None else None
    d_bhh = dgh.sum(0) if b_hh is not None else None
    res = (d_x, dh, d_c0, d_wih, d_whh, d_bih, d_bhh, d_wr)
    return tuple(None if (a is None or s is None) else _wrap(a) for a, s in zip(res, saved))


# ---- the same layer with recorded ember ops (for double backward) ----------------------------

def _rnn_layer_ops(mode, x, batch_sizes, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """The reference implementation with recorded ops; same results as the fused node."""
    offs = _offsets(batch_sizes)
    steps = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    full = h0.shape[0]
    xp = x.matmul(w_ih.t())
    if b_ih is not None:
        xp = xp + b_ih
    h, c = h0, c0
    outs = [None] * len(batch_sizes)

    def keep(new, old, bs):
        return new if bs == full else cat([new, old[bs:]], 0)

    for t in steps:
        s, e = int(offs[t]), int(offs[t + 1])
        bs = e - s
        hp = h[:bs]
        hh = hp.matmul(w_hh.t())
        if b_hh is not None:
            hh = hh + b_hh
        a = xp[s:e]
        if mode == 'LSTM':
            i, f, g, o = (a + hh).chunk(4, 1)
            cn = f.sigmoid() * c[:bs] + i.sigmoid() * g.tanh()
            hn = o.sigmoid() * cn.tanh()
            if w_hr is not None:
                hn = hn.matmul(w_hr.t())
            c = keep(cn, c, bs)
        elif mode == 'GRU':
            xr, xz, xn = a.chunk(3, 1)
            hr, hz, hn_ = hh.chunk(3, 1)
            r = (xr + hr).sigmoid()
            z = (xz + hz).sigmoid()
            nn_ = (xn + r * hn_).tanh()
            hn = (1 - z) * nn_ + z * hp
        elif mode == 'RNN_RELU':
            hn = (a + hh).relu()
        else:
            hn = (a + hh).tanh()
        outs[t] = hn
        h = keep(hn, h, bs)
    return cat(outs, 0), h, c


def _backward_by_ops(node, grads):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = node._saved
    ctx = node._ctx
    with enable_grad():
        outs = _rnn_layer_ops(ctx['mode'], x, ctx['batch_sizes'], h0, c0, w_ih, w_hh, b_ih,
                              b_hh, w_hr, ctx['reverse'])
        pairs = [(o, g) for o, g in zip(outs, grads) if o is not None and g is not None]
        wanted = [t for t in node._saved if t is not None and t._requires_grad]
        got = _grad([o for o, _ in pairs], wanted, [g for _, g in pairs], create_graph=True,
                    allow_unused=True)
    it = iter(got)
    return tuple(next(it) if (t is not None and t._requires_grad) else None
                 for t in node._saved)


# ---- the whole stack: what torch calls _VF.lstm / _VF.gru / _VF.rnn_tanh ------------------

def _rnn_stack(mode, data, batch_sizes, hx, cx, weights, has_bias, num_layers, dropout,
               training, bidirectional, proj):
    """Run every layer and direction over packed rows `data` (N, I).

    weights: one list per (layer, direction), in torch's registration order.
    hx: (L*D, B, H_out), cx: (L*D, B, H) or None. Returns (output rows, h_n, c_n or None).
    """
    num_dir = 2 if bidirectional else 1
    hs, cs = [], []
    layer_in = data
    for layer in range(num_layers):
        outs = []
        for d in range(num_dir):
            k = layer * num_dir + d
            w = weights[k]
            w_ih, w_hh = w[0], w[1]
            b_ih, b_hh = (w[2], w[3]) if has_bias else (None, None)
            w_hr = w[-1] if proj else None
            o, h, c = _rnn_layer(mode, layer_in, batch_sizes, hx[k],
                                 cx[k] if cx is not None else None,
                                 w_ih, w_hh, b_ih, b_hh, w_hr, d == 1)
            outs.append(o)
            hs.append(h)
            cs.append(c)
        layer_in = outs[0] if num_dir == 1 else cat(outs, -1)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_in = _dropout(layer_in, dropout, True)
    return layer_in, stack(hs, 0), (stack(cs, 0) if cx is not None else None)


# ---- the layer's output, as torch's CPU kernels leave it -----------------------------------------
# torch's output of a multi-step layer is no view: its grad_fn is the node of the kernel that
# joined the steps, which ember's (steps * batch, features) rows reshape into.

def _rows_backward(grad, shape):
    return grad.reshape(shape)


_OUTPUT_NODES = {name: derivative(name)(_rows_backward)
                 for name in ('StackBackward0', 'CatBackward0', 'MkldnnRnnLayerBackward0')}


def _steps_output(rows, steps, batch, node_name):
    """The (steps, batch, features) output from the layer's rows, recorded as torch's node
    `node_name` (see RNNBase._output_node_name)."""
    return _record(_OUTPUT_NODES[node_name], rows._data.reshape(steps, batch, rows.shape[-1]),
                   (rows,), shape=rows._data.shape)
