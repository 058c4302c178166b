"""softmax/log_softmax take different NumPy paths by value range, axis and row length:
check each against torch, forward and backward, with and without create_graph."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(7)
_CASES = {
    'small_lastdim': ((4, 3, 16, 16), 1.0, -1),
    'wide_range': ((4, 3, 16, 16), 200.0, -1),
    'inner_dim': ((4, 3, 16, 16), 1.0, 1),
    'wide_inner': ((4, 20, 16, 16), 200.0, 1),   # a small log(sum) beside a large max
    'long_rows': ((2, 3000), 3.0, -1),
    'causal_mask': ((2, 8, 8), 1.0, -1),
    'high_offset': ((3, 4, 32), 1.0, -1),     # global max above the no-shift bound
    'rows_far_apart': ((3, 4, 32), 1.0, -1),  # a row underflows under the global shift
    'nonfinite': ((3, 4, 32), 1.0, -1),       # nan and +inf rows, a fully masked row
}


def _input(name, dt):
    shape, scale, dim = _CASES[name]
    x = (_rng.standard_normal(shape) * scale).astype(dt)
    if name == 'causal_mask':
        x[..., np.triu_indices(8, 1)[0], np.triu_indices(8, 1)[1]] = -np.inf
    elif name == 'high_offset':
        x += 100
    elif name == 'rows_far_apart':
        x[0] -= 500
    elif name == 'nonfinite':
        x[0, 0, 3], x[1, 2, 5], x[2, 1] = np.nan, np.inf, -np.inf
    return x, dim


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('case', list(_CASES))
def test_softmax_paths(fn, dt, case, kernel_path):
    x, dim = _input(case, dt)
    g = _rng.standard_normal(x.shape).astype(dt)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ex = ember.from_numpy(x.copy()).requires_grad_()
    ty, ey = getattr(torch, fn)(tx, dim), getattr(ember, fn)(ex, dim)
    ty.backward(torch.from_numpy(g))
    ey.backward(ember.from_numpy(g))
    assert ey.dtype == getattr(ember, np.dtype(dt).name) and ey.shape == ty.shape
    tol = dict(rtol=1e-5, atol=1e-6) if dt == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), **tol)
    if case == 'rows_far_apart' and fn == 'softmax':  # tiny values keep their precision
        np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=0)


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
def test_softmax_double_backward(fn):
    x = _rng.standard_normal((3, 5))
    out = []
    for mod in (torch, ember):
        v = mod.tensor(x, requires_grad=True)
        y = getattr(mod, fn)(v, -1)
        g, = mod.autograd.grad((y * y).sum(), v, create_graph=True)
        g2, = mod.autograd.grad((g ** 2).sum(), v)
        out.append(g2.detach().numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-10, atol=1e-12)


# the compiled log_softmax (src/softmax.c): float32, contiguous, from 1024 elements, rows of
# 64 or more along the last axis, 16 or more columns along another
_KERNEL_CASES = {
    'classes_last': ((8, 1000), -1, 3.0),
    'segmentation': ((2, 21, 16, 40), 1, 3.0),          # a chunk of 256 columns, then 384
    'two_classes': ((4, 2, 64, 64), 1, 1.0),
    'attention_rows': ((2, 4, 16, 80), -1, 1.0),
    'first_axis': ((70, 3, 8), 0, 1.0),
    'wide_range': ((4, 300), -1, 300.0),
    'nonfinite_rows': ((10, 128), -1, 1.0),
    'nonfinite_columns': ((3, 5, 80), 1, 1.0),
    # the row max's vector lanes: NaN and inf first (a lane's start), in the second vector,
    # in the tail past the last 16; -0.0 beside 0.0
    'lanes_nonfinite': ((9, 37), -1, 1.0),
}


def _kernel_input(name):
    shape, dim, scale = _KERNEL_CASES[name]
    x = (_rng.standard_normal(shape) * scale).astype(np.float32)
    if name == 'nonfinite_rows':
        x[0, 3], x[1, 7], x[2] = np.nan, np.inf, -np.inf      # and a row with one -inf:
        x[3, :5] = -np.inf
    elif name == 'nonfinite_columns':
        x[0, 2, 4], x[1, 0, 9], x[2, :, 1] = np.nan, np.inf, -np.inf
    elif name == 'lanes_nonfinite':
        x[0, 0], x[1, 9], x[2, 35], x[3, 0], x[4, 36] = np.nan, np.nan, np.nan, np.inf, np.inf
        x[5, 20], x[6, :] = np.inf, -np.inf
        x[7, :] = 0.0
        x[7, ::3] = -0.0
        x[8, 33] = 50.0     # the max in the tail
    return x, dim


@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('case', list(_KERNEL_CASES))
def test_softmax_kernels(case, fn, took):
    """The compiled forwards (softmax's is taken on AVX2 machines, forced here) and
    log_softmax's backward against torch."""
    from ember._ops import reduce as reduce_mod
    if ember._kernels.why_not() is not None:
        pytest.skip('compiled kernels not built')
    taken = took(reduce_mod, '_softmax_blocks_kernel')
    x, dim = _kernel_input(case)
    g = _rng.standard_normal(x.shape).astype(np.float32)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ex = ember.from_numpy(x.copy()).requires_grad_()
    with ember._kernels.forced():
        ty, ey = getattr(torch, fn)(tx, dim), getattr(ember, fn)(ex, dim)
        ty.backward(torch.from_numpy(g))
        ey.backward(ember.from_numpy(g))
    # the forward, and log_softmax's backward (softmax's has its own row kernel)
    assert taken == ([True, True] if fn == 'log_softmax' else [True])
    scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isinf(ty.detach().numpy()), 0,
                                                         ty.detach().numpy())))))
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5,
                               atol=2e-6 * scale)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('shape,dim', [((64, 10), 1), ((200, 10), 1), ((40, 50, 4), 1),
                                       ((1500, 1), 1)])
@pytest.mark.parametrize('lanes', [8, 16])
@pytest.mark.parametrize('fn', ['softmax', 'log_softmax'])
def test_softmax_kernels_on_short_rows(shape, dim, fn, lanes, took, monkeypatch):
    """Short rows along the last axis, few columns along another: the kernel in small arrays,
    and in large ones on an AVX2 machine only (with AVX-512, NumPy's passes); torch's values
    either way."""
    from ember._ops import reduce as reduce_mod
    if ember._kernels.why_not() is not None:
        pytest.skip('compiled kernels not built')
    monkeypatch.setattr(ember._kernels, 'simd_lanes', lambda: lanes)
    x = _rng.standard_normal(shape).astype(np.float32)
    expected = getattr(torch, fn)(torch.from_numpy(x), dim).numpy()
    for limit, large in ((reduce_mod._LSM_SHORT_MAX, False), (x.size - 1, True)):
        monkeypatch.setattr(reduce_mod, '_LSM_SHORT_MAX', limit)
        taken = took(reduce_mod, '_softmax_blocks_kernel')
        with ember._kernels.forced():
            ey = getattr(ember, fn)(ember.from_numpy(x), dim)
        np.testing.assert_allclose(ey.numpy(), expected, rtol=1e-5, atol=1e-6)
        assert taken == [not large or lanes == 8]
