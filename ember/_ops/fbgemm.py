"""torch's deprecated fbgemm entry points (fbgemm_linear_*, fbgemm_pack_*), the quantized
recurrent cells built on them, quantized_max_pool1d/2d/3d and quantized_batch_norm.

A "packed" matrix is an opaque uint8 tensor on torch (the bytes of a C++ object); here it is a
uint8 tensor carrying the weight it packs (`_fbgemm_packed`), so only the functions below can
read it, as on torch. The arithmetic is fbgemm's as ember/_ops/quantized.py reproduces it:
the weight quantized per tensor to int8 (ChooseQuantizationParams), the input to uint8 from
its own range, exact integer products, float32 scaling plus the bias.
"""
import warnings

import numpy as np

from .. import _cpu, _dtype
from .._tensor import Tensor, _wrap
from . import quantized as _q
from .pooling import max_pool1d, max_pool2d, max_pool3d

__all__ = ['fbgemm_linear_quantize_weight', 'fbgemm_pack_quantized_matrix',
           'fbgemm_pack_gemm_matrix_fp16', 'fbgemm_linear_int8_weight',
           'fbgemm_linear_int8_weight_fp32_activation', 'fbgemm_linear_fp16_weight',
           'fbgemm_linear_fp16_weight_fp32_activation', 'quantized_max_pool1d',
           'quantized_max_pool2d', 'quantized_max_pool3d', 'quantized_batch_norm',
           'quantized_rnn_tanh_cell', 'quantized_rnn_relu_cell', 'quantized_lstm_cell',
           'quantized_gru_cell']


_WARNED = set()


def _deprecated(name):
    # torch's TORCH_WARN_ONCE: once per process and function
    if name in _WARNED:
        return
    _WARNED.add(name)
    warnings.warn(f"{name} is deprecated and will be removed in a future PyTorch release.",
                  UserWarning, stacklevel=3)


def _need_dtype(t, d):
    if t.dtype is not d:
        raise RuntimeError(f"expected scalar type {_dtype._cname(d)} but found "
                           f"{_dtype._cname(t.dtype)}")


def _packed(payload, nbytes):
    """An opaque handle: a uint8 tensor whose only meaning is the payload it carries."""
    t = _wrap(np.zeros(nbytes, np.uint8))
    t.__dict__['_fbgemm_packed'] = payload
    return t


def _unpack(packed, kind):
    got = packed.__dict__.get('_fbgemm_packed') if isinstance(packed, Tensor) else None
    if got is None or got[0] != kind:
        raise RuntimeError("Expected temporary cpp type wrapper of type "
                           "c10::intrusive_ptr<LinearPackedParamsBase>")
    return got[1:]


def fbgemm_linear_quantize_weight(input):
    """(int8 weight, per-row offsets, scale, zero point): the weight quantized per tensor over
    [-128, 127] from its own range."""
    _deprecated('fbgemm_linear_quantize_weight')
    _need_dtype(input, _dtype.float32)
    w = np.asarray(input._data, np.float32)
    mn, mx = (float(w.min()), float(w.max())) if w.size else (0.0, 0.0)
    scale, zp = _q._choose_qparams(mn, mx, -128, 127)
    wq = _q._quantize_array(w, scale, zp, _dtype.qint8)
    col_offsets = (wq.astype(np.int64) - zp).sum(axis=-1).astype(np.int32)
    return (_wrap(wq), _wrap(col_offsets), float(np.float32(scale)), int(zp))


def fbgemm_pack_quantized_matrix(input, K=None, N=None):
    """Pack an int8 (N, K) weight for fbgemm_linear_int8_weight."""
    _deprecated('fbgemm_pack_quantized_matrix')
    _need_dtype(input, _dtype.int8)
    if input.dim() != 2:
        raise RuntimeError(f"Expected 2-D weight, got {input.dim()}-D")
    return _packed(('PackBMatrix', np.array(input._data, np.int8)), 152)


def fbgemm_pack_gemm_matrix_fp16(input):
    """Pack a float32 (N, K) weight, rounded to float16, for fbgemm_linear_fp16_weight."""
    _deprecated('fbgemm_pack_gemm_matrix_fp16')
    _need_dtype(input, _dtype.float32)
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[-{max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got 1)")
    return _packed(('PackedGemmMatrixFP16', np.asarray(input._data).astype(np.float16)), 8)


def _saturation(xq, wq):
    """What fbgemm's int8 products lose on a CPU without AVX-512 VNNI: there vpmaddubsw adds
    the raw products of each pair of k (uint8 x int8) into an int16, saturating, before the
    int32 sums and the zero-point terms. Exact products differ from those only where a pair
    saturates: their difference (N, O)."""
    k = xq.shape[1]
    if k % 2:
        xq = np.pad(xq, ((0, 0), (0, 1)))
        wq = np.pad(wq, ((0, 0), (0, 1)))
    out = np.empty((xq.shape[0], wq.shape[0]), np.int64)
    step = max(1, (1 << 22) // max(1, wq.shape[0] * xq.shape[1]))    # rows per ~32 MB
    for i in range(0, xq.shape[0], step):
        x = xq[i:i + step]
        pairs = x[:, None, 0::2] * wq[None, :, 0::2] + x[:, None, 1::2] * wq[None, :, 1::2]
        out[i:i + step] = (np.clip(pairs, -32768, 32767) - pairs).sum(-1)
    return out


def _int8_linear(input, packed, weight_scale, weight_zero_point, bias):
    wq, = _unpack(packed, 'PackBMatrix')
    x = np.asarray(input._data, np.float32)
    x2 = x.reshape(-1, x.shape[-1])
    mn, mx = (float(x2.min()), float(x2.max())) if x2.size else (0.0, 0.0)
    sx, zx = _q._choose_qparams(mn, mx, 0, 255)
    xq = _q._quantize_array(x2, sx, zx, _dtype.quint8).astype(np.int64)
    acc = (xq - zx) @ (wq.astype(np.int64) - int(weight_zero_point)).T
    if 'avx512_vnni' not in _cpu.flags() and xq.size and wq.size:
        acc += _saturation(xq, wq.astype(np.int64))
    scale = np.float32(np.float32(sx) * np.float32(weight_scale))
    out = (acc.astype(np.float32) * scale).astype(np.float32)
    if bias is not None:
        out = (out + np.asarray(bias._data, np.float32)).astype(np.float32)
    return _wrap(out.reshape(x.shape[:-1] + (wq.shape[0],)))


def fbgemm_linear_int8_weight_fp32_activation(input, weight, packed, col_offsets, weight_scale,
                                              weight_zero_point, bias):
    """A linear layer with the packed int8 weight: the input quantized to uint8 from its own
    range, integer products, float32 scaling plus the bias."""
    _deprecated('fbgemm_linear_int8_weight_fp32_activation')
    return _int8_linear(input, packed, weight_scale, weight_zero_point, bias)


def fbgemm_linear_int8_weight(input, weight, packed, col_offsets, weight_scale,
                              weight_zero_point, bias):
    """Same as fbgemm_linear_int8_weight_fp32_activation."""
    _deprecated('fbgemm_linear_int8_weight')
    return _int8_linear(input, packed, weight_scale, weight_zero_point, bias)


def _fp16_linear(input, packed_weight, bias):
    w16, = _unpack(packed_weight, 'PackedGemmMatrixFP16')
    x = np.asarray(input._data, np.float32)
    out = (x @ w16.astype(np.float32).T).astype(np.float32)
    if bias is not None:
        out = (out + np.asarray(bias._data, np.float32)).astype(np.float32)
    return _wrap(out)


def fbgemm_linear_fp16_weight_fp32_activation(input, packed_weight, bias, output=None):
    """A linear layer with a float16 packed weight and float32 activations."""
    _deprecated('fbgemm_linear_fp16_weight_fp32_activation')
    return _fp16_linear(input, packed_weight, bias)


def fbgemm_linear_fp16_weight(input, packed_weight, bias, output=None):
    """Same as fbgemm_linear_fp16_weight_fp32_activation."""
    _deprecated('fbgemm_linear_fp16_weight_fp32_activation')
    return _fp16_linear(input, packed_weight, bias)


# ---- quantized pooling and batch norm ---------------------------------------------------------

def _need_quantized(input, name):
    if not (isinstance(input, Tensor) and input.is_quantized):
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the 'CPU' backend. This could be "
            "because the operator doesn't exist for this backend, or was omitted during the "
            "selective/custom build process (if using custom build).")


def _quantized_pool(name, pool, rank):
    def fn(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        _need_quantized(input, name)
        if rank == 3 and input.dim() != 5:
            raise RuntimeError("Expecting the input tensor of rank 5.")
        # max pooling commutes with the (monotone) quantization: pool the values, requantize
        return _q.quantize_per_tensor(
            pool(input.dequantize(), kernel_size, list(stride) or None, padding, dilation,
                 ceil_mode), input.q_scale(), input.q_zero_point(), input.dtype)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: max pooling of a quantized tensor."
    return fn


quantized_max_pool1d = _quantized_pool('quantized_max_pool1d', max_pool1d, 1)
quantized_max_pool2d = _quantized_pool('quantized_max_pool2d', max_pool2d, 2)
quantized_max_pool3d = _quantized_pool('quantized_max_pool3d', max_pool3d, 3)


def quantized_batch_norm(input, weight, bias, mean, var, eps, output_scale, output_zero_point):
    """Inference batch norm of a quantized (N, C, ...) tensor, requantized with the output
    scale and zero point."""
    _need_quantized(input, 'quantized_batch_norm')
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.dim() - 2)
    alpha = (np.asarray(weight._data, np.float32)
             / np.sqrt(np.asarray(var._data, np.float32) + np.float32(eps))).astype(np.float32)
    beta = (np.asarray(bias._data, np.float32)
            - np.asarray(mean._data, np.float32) * alpha).astype(np.float32)
    x = np.asarray(input.dequantize()._data, np.float32)
    y = (x * alpha.reshape(shape) + beta.reshape(shape)).astype(np.float32)
    return _q.quantize_per_tensor(_wrap(y), output_scale, output_zero_point, input.dtype)


# ---- quantized recurrent cells ------------------------------------------------------------------

def _cell_gates(input, hx, w_ih, w_hh, b_ih, b_hh, packed_ih, packed_hh, scale_ih, scale_hh,
                zero_point_ih, zero_point_hh):
    gi = _int8_linear(input, packed_ih, scale_ih, zero_point_ih, b_ih)._data
    gh = _int8_linear(hx, packed_hh, scale_hh, zero_point_hh, b_hh)._data
    return gi, gh


def _sigmoid(v):
    return (1 / (1 + np.exp(-v))).astype(np.float32)


def _cell(name, step):
    def fn(input, hx, w_ih, w_hh, b_ih, b_hh, packed_ih, packed_hh, col_offsets_ih,
           col_offsets_hh, scale_ih, scale_hh, zero_point_ih, zero_point_hh):
        h = hx[0] if isinstance(hx, (tuple, list)) else hx
        gi, gh = _cell_gates(input, h, w_ih, w_hh, b_ih, b_hh, packed_ih, packed_hh, scale_ih,
                             scale_hh, zero_point_ih, zero_point_hh)
        return step(gi, gh, hx)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"torch.{name}: one step of the cell with fbgemm's int8 linear layers "
                  "(the weights packed by fbgemm_pack_quantized_matrix).")
    return fn


def _tanh_step(gi, gh, hx):
    return _wrap(np.tanh(gi + gh).astype(np.float32))


def _relu_step(gi, gh, hx):
    return _wrap(np.maximum(gi + gh, np.float32(0)))


def _lstm_step(gi, gh, hx):
    i, f, g, o = np.split(gi + gh, 4, axis=-1)
    c = (_sigmoid(f) * np.asarray(hx[1]._data, np.float32) + _sigmoid(i) * np.tanh(g))
    c = c.astype(np.float32)
    return _wrap((_sigmoid(o) * np.tanh(c)).astype(np.float32)), _wrap(c)


def _gru_step(gi, gh, hx):
    ir, iz, in_ = np.split(gi, 3, axis=-1)
    hr, hz, hn = np.split(gh, 3, axis=-1)
    r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
    n = np.tanh(in_ + r * hn)
    return _wrap((n + z * (np.asarray(hx._data, np.float32) - n)).astype(np.float32))


quantized_rnn_tanh_cell = _cell('quantized_rnn_tanh_cell', _tanh_step)
quantized_rnn_relu_cell = _cell('quantized_rnn_relu_cell', _relu_step)
quantized_lstm_cell = _cell('quantized_lstm_cell', _lstm_step)
quantized_gru_cell = _cell('quantized_gru_cell', _gru_step)
