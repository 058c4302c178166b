"""torch's functional kernel entry points over ember's layers: native_batch_norm/layer_norm/
group_norm/dropout, convolution, conv_tbc, the whole-stack recurrent kernels (torch.lstm, gru,
rnn_tanh, rnn_relu, padded and packed) and their cells, and the CUDA/oneDNN-only kernels that
a CPU torch refuses (they raise as torch does)."""
import numpy as np

from .. import _dtype, _random
from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import _State, no_grad
from ..autograd.graph import _record, derivative
from ._util import _keep
from ._layout import _empty_like_array
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                   conv_transpose3d)
from .dropout import _check_p
from .linear import linear
from .norm import batch_norm, layer_norm, group_norm
from .random import _draw_like
from . import rnn as _rnn
from .tensor_misc import _recomputed_vjp

# the SyncBatchNorm kernels and the oneDNN-tensor ops: CUDA (or mkldnn-layout) kernels only
_CPU_REFUSED = ('batch_norm_stats', 'batch_norm_elemt', 'batch_norm_gather_stats',
                'batch_norm_gather_stats_with_counts', 'batch_norm_backward_reduce',
                'batch_norm_backward_elemt', 'mkldnn_adaptive_avg_pool2d',
                'mkldnn_linear_backward_weights', 'mkldnn_max_pool2d', 'mkldnn_max_pool3d',
                # cuDNN's and MIOpen's kernels, registered for CUDA/ROCm only
                'cudnn_affine_grid_generator', 'cudnn_batch_norm', 'cudnn_convolution',
                'cudnn_convolution_add_relu', 'cudnn_convolution_relu',
                'cudnn_convolution_transpose', 'cudnn_grid_sampler', 'miopen_batch_norm',
                'miopen_convolution', 'miopen_convolution_add_relu', 'miopen_convolution_relu',
                'miopen_convolution_transpose', 'miopen_ctc_loss', 'miopen_depthwise_convolution',
                'miopen_rnn')

__all__ = ['native_batch_norm', 'native_layer_norm', 'native_group_norm', 'native_dropout',
           'native_norm', 'batch_norm_update_stats', 'convolution', 'conv_tbc',
           'mkldnn_convolution', 'lstm', 'gru', 'rnn_tanh', 'rnn_relu', 'lstm_cell', 'gru_cell',
           'rnn_tanh_cell', 'rnn_relu_cell', 'cudnn_is_acceptable', 'mkldnn_rnn_layer'] + \
    list(_CPU_REFUSED)


def cudnn_is_acceptable(input):
    """Whether cuDNN could take this tensor: never on a CPU-only build."""
    if not isinstance(input, Tensor):
        raise TypeError("cudnn_is_acceptable(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    return False


def _no_cpu_kernel(name):
    """A kernel torch registers for CUDA (or sparse / oneDNN tensors) only: a CPU torch
    refuses a dense CPU tensor with this error."""
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the 'CPU' backend. This could be "
            "because the operator doesn't exist for this backend, or was omitted during the "
            "selective/custom build process (if using custom build).")
    refuse.__name__ = refuse.__qualname__ = name
    return refuse


# ---- normalisation kernels ---------------------------------------------------------------------

def _batch_stats(x, c, eps):
    """Per-channel batch mean and 1/sqrt(biased var + eps) of an (N, C, ...) array."""
    x3 = x.reshape(x.shape[0], c, -1)
    cnt = x3.shape[0] * x3.shape[2]
    mean = x3.sum(axis=(0, 2)) / x.dtype.type(cnt)
    xc = x3 - mean[:, None]
    var = np.einsum('ncl,ncl->c', xc, xc) / x.dtype.type(cnt)
    return mean, (1.0 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype, copy=False)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd): the batch statistics in training, empty otherwise."""
    if training:
        mean, invstd = _batch_stats(input._data, input.shape[1], eps)
    else:
        mean = invstd = np.zeros((0,), input._data.dtype)
    out = batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    return out, _wrap(mean), _wrap(invstd)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(output, mean, rstd), the statistics shaped as input with the normalised dims of size 1."""
    ns = tuple(normalized_shape)
    out = layer_norm(input, ns, weight, bias, eps)
    axis = input.ndim - len(ns)
    x = input._data.reshape(input._data.shape[:axis] + (-1,))
    mean = x.mean(axis=-1) if x.shape[-1] else np.zeros(x.shape[:-1], x.dtype)
    var = ((x - mean[..., None]) ** 2).mean(axis=-1) if x.shape[-1] else mean
    rstd = (1.0 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype, copy=False)
    stat_shape = input._data.shape[:axis] + (1,) * len(ns)
    return out, _wrap(mean.reshape(stat_shape)), _wrap(rstd.reshape(stat_shape))


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(output, mean, rstd) with the (N, group) statistics; as in torch the statistics are
    differentiable outputs (here through the ops that compute them)."""
    out = group_norm(input, group, weight, bias, eps)
    xg = input.reshape(N, group, -1)
    mean = xg.mean(-1)
    var = (xg - mean.unsqueeze(-1)).pow(2).mean(-1)
    rstd = (var + eps).rsqrt()
    return out, mean, rstd


@derivative
def NativeDropoutBackward0(grad, mask, scale):
    return _keep(grad, mask) * scale if _State.enabled else _wrap(
        grad._data * mask * np.asarray(scale, grad._data.dtype))


def native_dropout(input, p, train):
    """(output, mask): torch's CPU native_dropout draws the same bernoulli(1 - p) mask as
    F.dropout for the same seed, and scales the kept values by 1 / (1 - p)."""
    d = input._data
    if train is False:
        mask = np.ones(d.shape, bool)
        return _record(NativeDropoutBackward0, d.copy(), (input,), mask=mask, scale=1.0), \
            _wrap(mask)
    _check_p(p)
    gen = _random.default_generator
    mask = _draw_like(_empty_like_array(d, d.dtype),
                      lambda shape, dt: _random.bernoulli(gen, 1.0 - p, shape, dt)) != 0
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    r = (d * mask * np.asarray(scale, d.dtype)).astype(d.dtype, copy=False)
    # torch's backward scales by 1 when train is None (derivatives.yaml), as here
    return _record(NativeDropoutBackward0, r, (input,), mask=mask,
                   scale=1.0 if train is None else scale), _wrap(mask)


def native_norm(input, p=2, dim=None, keepdim=False, dtype=None):
    """The p-norm of a sparse tensor's values (torch has this kernel for sparse tensors only)."""
    if not getattr(input, '_sparse', False):
        return _no_cpu_kernel('native_norm')()
    if dim is not None or keepdim or dtype is not None:
        raise NotImplementedError("ember does not implement torch.native_norm with dim, keepdim "
                                  "or dtype")
    if _State.enabled and input.requires_grad:
        raise NotImplementedError("ember does not implement the gradient of torch.native_norm")
    v = np.abs(input._v)
    if p == float('inf'):
        r = v.max() if v.size else np.zeros((), v.dtype)
    elif p == 0:
        r = (v != 0).sum().astype(v.dtype)
    else:
        r = (v ** p).sum() ** (1.0 / p)
    return _wrap(np.asarray(r, v.dtype))


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """(mean, biased var) of the batch per channel; updates the running statistics in place
    (running_var with the unbiased variance)."""
    x = input._data
    c = x.shape[1]
    x3 = x.reshape(x.shape[0], c, -1)
    cnt = x3.shape[0] * x3.shape[2]
    mean = x3.mean(axis=(0, 2))
    var = ((x3 - mean[:, None]) ** 2).mean(axis=(0, 2))
    if running_mean is not None:
        rm = running_mean._data
        rm[...] = (1 - momentum) * rm + momentum * mean
        running_mean._vc.value += 1
    if running_var is not None:
        rv = running_var._data
        rv[...] = (1 - momentum) * rv + momentum * var * (cnt / max(cnt - 1, 1))
        running_var._vc.value += 1
    return _wrap(mean.astype(x.dtype)), _wrap(var.astype(x.dtype))


for _name in _CPU_REFUSED:
    globals()[_name] = _no_cpu_kernel(_name)


# ---- convolution -------------------------------------------------------------------------------

_CONV = {1: conv1d, 2: conv2d, 3: conv3d}
_CONV_T = {1: conv_transpose1d, 2: conv_transpose2d, 3: conv_transpose3d}


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """aten::convolution: F.conv{1,2,3}d or F.conv_transpose{1,2,3}d by the weight's rank."""
    nsp = weight.ndim - 2
    if nsp not in _CONV:
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
                           f"input of size: {list(input.shape)}")
    if input.ndim != weight.ndim:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for "
                           f"{weight.ndim}-dimensional weight {list(weight.shape)}, but got "
                           f"{input.ndim}-dimensional input of size {list(input.shape)} instead")
    if transposed:
        return _CONV_T[nsp](input, weight, bias, tuple(stride), tuple(padding),
                            tuple(output_padding), groups, tuple(dilation))
    return _CONV[nsp](input, weight, bias, tuple(stride), tuple(padding), tuple(dilation), groups)


def _mkldnn_conv(input, weight, bias, padding, stride, dilation, groups):
    return convolution(input, weight, bias, stride, padding, dilation, False,
                       [0] * (weight.ndim - 2), groups)


@derivative
def MkldnnConvolutionBackward0(grad, input, weight, bias, params):
    return _recomputed_vjp(lambda x, w, b: _mkldnn_conv(x, w, b, *params), (input, weight, bias),
                           grad)


def mkldnn_convolution(input, weight, bias, padding, stride, dilation, groups):
    """oneDNN's convolution entry (torch runs it on dense CPU tensors): aten::convolution."""
    with no_grad():
        r = _mkldnn_conv(input, weight, bias, padding, stride, dilation, groups)
    return _record(MkldnnConvolutionBackward0, r._data, (input, weight, bias), input=input,
                   weight=weight, bias=bias, params=(padding, stride, dilation, groups))


def _conv_tbc(input, weight, bias, pad):
    y = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return y.permute(2, 0, 1).contiguous()


@derivative
def ConvTbcBackward0(grad, input, weight, bias, pad):
    return _recomputed_vjp(lambda x, w, b: _conv_tbc(x, w, b, pad), (input, weight, bias), grad)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution over (time, batch, channels) inputs with a (kernel, in, out) weight."""
    if input.ndim != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.ndim != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.ndim != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    with no_grad():
        r = _conv_tbc(input, weight, bias, pad)
    return _record(ConvTbcBackward0, r._data, (input, weight, bias), input=input, weight=weight,
                   bias=bias, pad=pad)


# ---- the recurrent kernels ---------------------------------------------------------------------

def _group_params(params, has_biases, num_layers, bidirectional, proj):
    per = 2 + 2 * bool(has_biases) + bool(proj)
    params = list(params)
    n = num_layers * (2 if bidirectional else 1)
    if len(params) != per * n:
        raise RuntimeError(f"Expected {per * n} parameters, got {len(params)}")
    return [params[i * per:(i + 1) * per] for i in range(n)]


def _output_node(mode, bidirectional, proj, dtype):
    """The node torch's CPU kernels leave on a padded output (as nn.RNNBase records)."""
    if bidirectional:
        return 'CatBackward0'
    if mode == 'LSTM' and not proj and dtype == _dtype.float32:
        return 'MkldnnRnnLayerBackward0'
    return 'StackBackward0'


# torch's packed kernels join the steps' rows with cat
_PackedOutputBackward = derivative('CatBackward0')(_rnn._rows_backward)


def _run_stack(mode, input, batch_sizes, hx, cx, params, has_biases, num_layers, dropout, train,
               bidirectional, batch_first):
    proj = cx is not None and hx.shape[-1] != cx.shape[-1]
    weights = _group_params(params, has_biases, num_layers, bidirectional, proj)
    if batch_sizes is not None:   # packed: rows of the steps, batch sizes non-increasing
        bs = batch_sizes._data.astype(np.int64)
        out, h, c = _rnn._rnn_stack(mode, input, bs, hx, cx, weights, has_biases, num_layers,
                                    dropout, train, bidirectional, proj)
        return _record(_PackedOutputBackward, out._data, (out,), shape=out._data.shape), h, c
    x = input.transpose(0, 1) if batch_first else input
    if x.ndim != 3:
        raise RuntimeError(f"input must have 3 dimensions, got {x.ndim}")
    steps, batch = x.shape[0], x.shape[1]
    rows = x.reshape(steps * batch, x.shape[2])
    out, h, c = _rnn._rnn_stack(mode, rows, np.full(steps, batch, np.int64), hx, cx, weights,
                                has_biases, num_layers, dropout, train, bidirectional, proj)
    out = _rnn._steps_output(out, steps, batch,
                             _output_node(mode, bidirectional, proj, input.dtype))
    if batch_first:
        out = out.transpose(0, 1) if mode == 'LSTM' else out.transpose_(0, 1)
    return out, h, c


def _stack_args(mode, args, kwargs, state_kind):
    """Split torch's two overloads: (input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first) and (data, batch_sizes, hx, params, has_biases, num_layers,
    dropout, train, bidirectional)."""
    names_padded = ('input', 'hx', 'params', 'has_biases', 'num_layers', 'dropout', 'train',
                    'bidirectional', 'batch_first')
    names_packed = ('data', 'batch_sizes', 'hx', 'params', 'has_biases', 'num_layers',
                    'dropout', 'train', 'bidirectional')
    packed = 'batch_sizes' in kwargs or (len(args) > 2 and isinstance(args[1], Tensor)
                                         and state_kind == 'tuple') or \
        (len(args) > 2 and isinstance(args[2], Tensor) and state_kind == 'tensor')
    names = names_packed if packed else names_padded
    a = dict(zip(names, args))
    a.update(kwargs)
    missing = [n for n in names if n not in a]
    if missing:
        raise TypeError(f"{mode}() missing required argument '{missing[0]}'")
    return packed, a


def lstm(*args, **kwargs):
    """torch.lstm: the whole LSTM stack; returns (output, h_n, c_n)."""
    packed, a = _stack_args('lstm', args, kwargs, 'tuple')
    h0, c0 = a['hx']
    if packed:
        return _run_stack('LSTM', a['data'], a['batch_sizes'], h0, c0, a['params'],
                          a['has_biases'], a['num_layers'], a['dropout'], a['train'],
                          a['bidirectional'], False)
    return _run_stack('LSTM', a['input'], None, h0, c0, a['params'], a['has_biases'],
                      a['num_layers'], a['dropout'], a['train'], a['bidirectional'],
                      a['batch_first'])


def _single_state(mode, name):
    def run(*args, **kwargs):
        packed, a = _stack_args(name, args, kwargs, 'tensor')
        if packed:
            out, h, _ = _run_stack(mode, a['data'], a['batch_sizes'], a['hx'], None,
                                   a['params'], a['has_biases'], a['num_layers'], a['dropout'],
                                   a['train'], a['bidirectional'], False)
        else:
            out, h, _ = _run_stack(mode, a['input'], None, a['hx'], None, a['params'],
                                   a['has_biases'], a['num_layers'], a['dropout'], a['train'],
                                   a['bidirectional'], a['batch_first'])
        return out, h
    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"torch.{name}: the whole stack; returns (output, h_n)."
    return run


gru = _single_state('GRU', 'gru')
rnn_tanh = _single_state('RNN_TANH', 'rnn_tanh')
rnn_relu = _single_state('RNN_RELU', 'rnn_relu')


# the cells: torch's composite kernels (nn.RNNCell, LSTMCell and GRUCell call them)

def _gates(input, hx, w_ih, w_hh, b_ih, b_hh):
    _check_cell_input(input)
    return linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)


def mkldnn_rnn_layer(input, weight0, weight1, weight2, weight3, hx_, cx_, reverse, batch_sizes,
                     mode, hidden_size, num_layers, has_biases, bidirectional, batch_first,
                     train):
    """oneDNN's one-layer, one-direction LSTM: (output, h_n, c_n, workspace). The workspace is
    oneDNN's scratch memory for its backward: here an empty uint8 tensor (ember's backward
    goes through the graph lstm records)."""
    if mode != 2:   # oneDNN's layer primitive here is the LSTM one
        raise RuntimeError("could not create a primitive descriptor for the LSTM forward "
                           "propagation primitive. Run workload with environment variable "
                           "ONEDNN_VERBOSE=all to get additional diagnostic information.")
    if input.dtype not in (_dtype.float32, _dtype.float16, _dtype.bfloat16):
        raise RuntimeError("get_mkldnn_dtype: unsupported data type")
    x = input.transpose(0, 1) if batch_first else input
    if reverse:
        x = x.flip(0)
    params = [weight0, weight1] + ([weight2, weight3] if has_biases else [])
    out, hy, cy = lstm(x, (hx_.unsqueeze(0), cx_.unsqueeze(0)), params, has_biases, 1, 0.0,
                       train, False, False)
    if reverse:
        out = out.flip(0)
    if batch_first:
        out = out.transpose(0, 1)
    return out, hy[0], cy[0], _wrap(np.zeros(0, np.uint8))


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    h, c = hx
    i, f, g, o = _gates(input, h, w_ih, w_hh, b_ih, b_hh).chunk(4, 1)
    cy = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * cy.tanh(), cy


def _check_cell_input(input):
    if input.ndim < 2:   # torch reads input.size(1) first
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[-{max(input.ndim, 1)}, {max(input.ndim, 1) - 1}], but got 1)")


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell_input(input)
    xr, xz, xn = linear(input, w_ih, b_ih).chunk(3, 1)
    hr, hz, hn = linear(hx, w_hh, b_hh).chunk(3, 1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (hx - n)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _gates(input, hx, w_ih, w_hh, b_ih, b_hh).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _gates(input, hx, w_ih, w_hh, b_ih, b_hh).relu()
