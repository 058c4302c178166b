"""torch's deprecated fbgemm entry points, the quantized cells built on them, quantized max
pooling and batch norm, against torch."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._oracle import assert_same


def _run(lib, fn):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return fn(lib)


def _data(lib, seed=0):
    rng = np.random.RandomState(seed)

    def t(*shape, shift=0.0):
        return lib.tensor((rng.randn(*shape) + shift).astype(np.float32))
    return t


def assert_close(fn, atol=1e-6, exact=False):
    e, t = _run(ember, fn), _run(torch, fn)
    if exact:
        assert e == t
    else:
        np.testing.assert_allclose(np.array(e, dtype=np.float64), np.array(t, dtype=np.float64),
                                   rtol=1e-6, atol=atol)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_quantize_weight_and_int8_linear(seed):
    def quant(lib):
        q, co, s, zp = lib.fbgemm_linear_quantize_weight(_data(lib, seed)(5, 4))
        return q.tolist(), co.tolist(), s, zp, repr(q.dtype), repr(co.dtype)
    assert_close(quant, exact=True)

    def linear(lib):
        t = _data(lib, seed)
        w, x, b = t(5, 4), t(3, 4), t(5)
        q, co, s, zp = lib.fbgemm_linear_quantize_weight(w)
        pq = lib.fbgemm_pack_quantized_matrix(q)
        return (lib.fbgemm_linear_int8_weight(x, w, pq, co, s, zp, b).tolist(),
                lib.fbgemm_linear_int8_weight_fp32_activation(x, w, pq, co, s, zp, b).tolist())
    assert_close(linear)


def test_fp16_linear():
    def run(lib):
        t = _data(lib)
        w, x, b = t(5, 4) * 3, t(3, 4), t(5)
        p = lib.fbgemm_pack_gemm_matrix_fp16(w)
        return (lib.fbgemm_linear_fp16_weight(x, p, b).tolist(),
                lib.fbgemm_linear_fp16_weight_fp32_activation(x, p, b).tolist(),
                repr(p.dtype), p.dim())
    e, t = _run(ember, run), _run(torch, run)
    assert e[2:] == t[2:]
    np.testing.assert_allclose(e[:2], t[:2], rtol=1e-6, atol=1e-6)


def test_fbgemm_errors_and_warnings():
    assert_same(lambda lib: _run(lib, lambda L: L.fbgemm_pack_quantized_matrix(L.zeros(3, 4))), torch)
    assert_same(lambda lib: _run(lib, lambda L: L.fbgemm_pack_gemm_matrix_fp16(
        L.zeros(3, 4, dtype=L.float64))), torch)
    assert_same(lambda lib: _run(lib, lambda L: L.fbgemm_pack_gemm_matrix_fp16(L.zeros(3))), torch)
    assert_same(lambda lib: _run(lib, lambda L: L.fbgemm_linear_fp16_weight(
        L.zeros(2, 4), L.zeros(8, dtype=L.uint8), L.zeros(3))), torch)
    # torch warns once per process (TORCH_WARN_ONCE): ember too
    ember._ops.fbgemm._WARNED.discard('fbgemm_pack_gemm_matrix_fp16')
    with pytest.warns(UserWarning, match='fbgemm_pack_gemm_matrix_fp16 is deprecated and will '
                                         'be removed in a future PyTorch release'):
        ember.fbgemm_pack_gemm_matrix_fp16(ember.zeros(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        ember.fbgemm_pack_gemm_matrix_fp16(ember.zeros(3, 4))


@pytest.mark.parametrize('name,gates', [('quantized_lstm_cell', 4), ('quantized_gru_cell', 3),
                                        ('quantized_rnn_tanh_cell', 1),
                                        ('quantized_rnn_relu_cell', 1)])
def test_quantized_cells(name, gates):
    def run(lib):
        t = _data(lib, 5)
        H = 3
        x, h, c = t(2, 3), t(2, H), t(2, H)
        wi, wh, bi, bh = t(gates * H, 3), t(gates * H, H), t(gates * H), t(gates * H)

        def pack(W):
            q, co, s, z = lib.fbgemm_linear_quantize_weight(W)
            return lib.fbgemm_pack_quantized_matrix(q), co, s, z
        pi, coi, si, zi = pack(wi)
        ph, coh, sh, zh = pack(wh)
        out = getattr(lib, name)(x, (h, c) if gates == 4 else h, wi, wh, bi, bh, pi, ph, coi,
                                 coh, si, sh, zi, zh)
        return [o.tolist() for o in out] if isinstance(out, tuple) else out.tolist()
    assert_close(run, atol=1e-5)


def _q(lib, dims=4):
    x = _data(lib, 3)(*(1, 2, 5, 5)[4 - dims:])
    return lib.quantize_per_tensor(x, 0.05, 3, lib.quint8)


def test_quantized_max_pool():
    assert_same(lambda lib: lib.quantized_max_pool2d(_q(lib), [2, 2]).int_repr().tolist(), torch)
    assert_same(lambda lib: lib.quantized_max_pool2d(_q(lib), [2, 2], [1, 1], [1, 1], [1, 1],
                                              True).int_repr().tolist(), torch)
    assert_same(lambda lib: (lib.quantized_max_pool2d(_q(lib), [3, 3], [2, 2]).q_scale(),
                      lib.quantized_max_pool2d(_q(lib), [3, 3], [2, 2]).q_zero_point(),
                      repr(lib.quantized_max_pool2d(_q(lib), [3, 3], [2, 2]).dtype)), torch)
    assert_same(lambda lib: lib.quantized_max_pool1d(_q(lib, 3), [2]).int_repr().tolist(), torch)
    assert_same(lambda lib: lib.quantized_max_pool1d(_q(lib, 2), [2]).int_repr().tolist(), torch)
    assert_same(lambda lib: lib.quantized_max_pool3d(_q(lib).unsqueeze(0), [1, 2, 2])
         .int_repr().tolist(), torch)
    assert_same(lambda lib: lib.quantized_max_pool3d(_q(lib), [1, 2, 2]), torch)
    with pytest.raises(NotImplementedError, match="'aten::quantized_max_pool2d'"):
        ember.quantized_max_pool2d(ember.zeros(1, 1, 4, 4), [2, 2])


def test_quantized_batch_norm():
    def run(lib):
        t = _data(lib, 4)
        w, b, m, v = t(2), t(2), t(2), t(2).abs() + 0.5
        out = lib.quantized_batch_norm(_q(lib), w, b, m, v, 1e-5, 0.1, 10)
        return out.int_repr().numpy().astype(np.int64), out.q_scale(), out.q_zero_point()
    e, t = run(ember), run(torch)
    assert e[1:] == t[1:]
    assert np.abs(e[0] - t[0]).max() <= 1     # a rounding boundary may fall either side
    with pytest.raises(NotImplementedError, match="'aten::quantized_batch_norm'"):
        ember.quantized_batch_norm(ember.zeros(1, 2, 2, 2), *[ember.ones(2)] * 4, 1e-5, 0.1, 1)
