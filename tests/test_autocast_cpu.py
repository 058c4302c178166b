"""torch.autocast('cpu') applies torch's CPU cast policy (issue 11), compared with torch 2.13:
output dtypes and values of small models, loss dtype, gradients, and the policy per op."""
import sys

import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')
pytest.importorskip('ml_dtypes')

RNG = np.random.default_rng(0)


def _np(t):
    return (t.detach().float().numpy() if hasattr(t, 'numpy') and isinstance(t, torch.Tensor)
            else np.asarray(t.detach().float()))


def _copy_params(em, tm):
    with torch.no_grad():
        for (ne, pe), (nt, pt) in zip(em.named_parameters(), tm.named_parameters()):
            assert ne == nt
            pt.copy_(torch.from_numpy(np.asarray(pe.detach()).copy()))


def _mlp(L):
    return L.nn.Sequential(L.nn.Linear(8, 16), L.nn.ReLU(), L.nn.Linear(16, 4))


def _cnn(L):
    return L.nn.Sequential(L.nn.Conv2d(3, 4, 3), L.nn.ReLU(), L.nn.Flatten(),
                           L.nn.Linear(4 * 4 * 4, 5))


@pytest.mark.parametrize('dtype', [None, 'float16', 'bfloat16'])
@pytest.mark.parametrize('make,shape', [(_mlp, (6, 8)), (_cnn, (2, 3, 6, 6))])
def test_small_model_under_autocast_matches_torch(make, shape, dtype):
    x = RNG.standard_normal(shape).astype(np.float32)
    target = np.arange(shape[0]) % 4
    res = []
    for L in (ember, torch):
        L.manual_seed(0)
        m = make(L)
        if L is torch:
            _copy_params(res[0][0], m)
        kw = {} if dtype is None else {'dtype': getattr(L, dtype)}
        with L.autocast('cpu', **kw):
            assert L.is_autocast_enabled('cpu')
            out = m(L.tensor(x))
            loss = L.nn.functional.cross_entropy(out, L.tensor(target))
        assert not L.is_autocast_enabled('cpu')
        loss.backward()
        res.append((m, out, loss))
    (em, eo, el), (tm, to, tl) = res
    assert str(eo.dtype) == str(to.dtype) == f"torch.{dtype or 'bfloat16'}"
    assert str(el.dtype) == str(tl.dtype) == 'torch.float32'
    if make is _mlp:        # linear: float32 accumulation rounded once, as torch: bitwise
        np.testing.assert_array_equal(_np(eo), _np(to))
    else:                   # conv: summation order differs, within a few ulps of the dtype
        np.testing.assert_allclose(_np(eo), _np(to), rtol=3e-2, atol=1e-2)
    np.testing.assert_allclose(_np(el), _np(tl), rtol=1e-6 if make is _mlp else 1e-2)
    for pe, pt in zip(em.parameters(), tm.parameters()):
        assert str(pe.grad.dtype) == str(pt.grad.dtype) == 'torch.float32'
        np.testing.assert_allclose(_np(pe.grad), _np(pt.grad), rtol=2e-2, atol=2e-3)


def _policy_cases(L):
    f32 = lambda *s: L.tensor(RNG.standard_normal(s).astype(np.float32))  # noqa: E731
    F = L.nn.functional
    return {
        'mm': lambda: L.mm(f32(3, 4), f32(4, 2)),
        'matmul': lambda: f32(2, 3, 4) @ f32(4, 5),
        'bmm': lambda: L.bmm(f32(2, 3, 4), f32(2, 4, 5)),
        'baddbmm': lambda: L.baddbmm(f32(2, 3, 5), f32(2, 3, 4), f32(2, 4, 5)),
        'addmm': lambda: L.addmm(f32(3, 2), f32(3, 4), f32(4, 2)),
        'linear': lambda: F.linear(f32(3, 4), f32(2, 4), f32(2)),
        'conv1d': lambda: F.conv1d(f32(1, 2, 7), f32(3, 2, 3)),
        'conv_transpose2d': lambda: F.conv_transpose2d(f32(1, 2, 4, 4), f32(2, 3, 3, 3)),
        'prelu': lambda: F.prelu(f32(2, 3), f32(1)),
        'float64 matmul stays': lambda: f32(3, 4).double() @ f32(4, 2).double(),
        'mse_loss of bf16': lambda: F.mse_loss(f32(3, 4).bfloat16(), f32(3, 4).bfloat16()),
        'l1_loss': lambda: F.l1_loss(f32(3, 4), f32(3, 4)),
        'bce_with_logits': lambda: F.binary_cross_entropy_with_logits(
            f32(3, 4).bfloat16(), f32(3, 4).sigmoid().bfloat16()),
        'cat bf16+f32': lambda: L.cat([f32(2).bfloat16(), f32(3)]),
        'stack bf16+bf16': lambda: L.stack([f32(2).bfloat16(), f32(2).bfloat16()]),
        'add bf16+f32 (builtin promotion)': lambda: f32(2).bfloat16() + f32(2),
        'relu of f32 (not listed)': lambda: F.relu(f32(3)),
        'softmax after linear': lambda: F.softmax(F.linear(f32(3, 4), f32(2, 4)), -1),
        'sdpa': lambda: F.scaled_dot_product_attention(f32(1, 2, 3, 4), f32(1, 2, 3, 4),
                                                       f32(1, 2, 3, 4)),
    }


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
@pytest.mark.parametrize('case', sorted(_policy_cases(ember)))
def test_cast_policy_per_op(case, dtype):
    dts = []
    for L in (ember, torch):
        with L.autocast('cpu', dtype=getattr(L, dtype)):
            try:
                dts.append(str(_policy_cases(L)[case]().dtype))
            except RuntimeError as exc:     # cat/stack of the other half type, as torch
                dts.append(str(exc))
    assert dts[0] == dts[1]


def test_disabled_region_and_decorator():
    for L in (ember, torch):
        a, b = L.ones(2, 2), L.ones(2, 2)
        with L.autocast('cpu'):
            with L.autocast('cpu', enabled=False):
                assert (a @ b).dtype == L.float32
            assert (a @ b).dtype == L.bfloat16

        @L.autocast('cpu', dtype=L.float16)
        def f(x, y):
            return x @ y
        assert f(a, b).dtype == L.float16
        assert (a @ b).dtype == L.float32
        L.set_autocast_enabled('cpu', True)
        try:
            assert (a @ b).dtype == L.bfloat16
        finally:
            L.set_autocast_enabled('cpu', False)
        assert (a @ b).dtype == L.float32


def test_autocast_is_per_thread():
    import threading
    seen = []
    with ember.autocast('cpu'):
        t = threading.Thread(target=lambda: seen.append((ember.ones(2, 2) @ ember.ones(2, 2))
                                                         .dtype))
        t.start()
        t.join()
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.bfloat16
    assert seen == [ember.float32]


def test_bfloat16_autocast_without_ml_dtypes_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'ml_dtypes', None)      # as if it were not installed
    monkeypatch.setattr(ember.bfloat16, '_np', None)
    assert ember.bfloat16._np is None
    with pytest.raises(ModuleNotFoundError, match=r"'bfloat16' extra.*ml_dtypes"):
        with ember.autocast('cpu'):
            pass
    assert not ember.is_autocast_enabled('cpu')
    with ember.autocast('cpu', dtype=ember.float16):       # float16 needs nothing extra
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float16
