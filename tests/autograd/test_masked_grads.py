"""Gradients that select (torch's threshold_backward / where / masked_fill / zeros_like) keep an
infinite or NaN upstream gradient out of the masked positions; ember against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# values on and around every boundary the ops below test (0, +-1, +-3, 6, ties with Y)
X = np.array([-7.0, -3.5, -3.0, -1.0, -0.5, 0.0, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 7.5])
Y = np.array([-7.0, -3.0, 1.0, -1.0, 0.5, 0.0, -2.0, 0.25, 0.75, 1.0, 3.0, 3.0, -6.0, 7.5])
M = np.array([1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1], dtype=bool)


def _unary(name, f):
    return name, (lambda lib, x: f(lib, x)), (X,)


def _binary(name, f, a=X, b=Y):
    return name, (lambda lib, x, y: f(lib, x, y)), (a, b)


def _f(lib):
    return lib.nn.functional


CASES = [
    _unary('relu', lambda L, x: L.relu(x)),
    _unary('relu_method', lambda L, x: x.relu()),
    _unary('relu_inplace', lambda L, x: x.clone().relu_()),
    _unary('F.relu_inplace', lambda L, x: _f(L).relu(x * 1, inplace=True)),
    _unary('relu6', lambda L, x: _f(L).relu6(x)),
    _unary('hardtanh', lambda L, x: _f(L).hardtanh(x)),
    _unary('hardtanh_3', lambda L, x: _f(L).hardtanh(x, -3.0, 3.0)),
    _unary('threshold', lambda L, x: _f(L).threshold(x, 0.5, -2.0)),
    _unary('threshold_inplace', lambda L, x: _f(L).threshold(x * 1, 0.5, 2.0, inplace=True)),
    _unary('leaky_relu', lambda L, x: _f(L).leaky_relu(x, 0.1)),
    _unary('elu', lambda L, x: _f(L).elu(x)),
    _unary('celu', lambda L, x: _f(L).celu(x, 2.0)),
    _unary('selu', lambda L, x: _f(L).selu(x)),
    _unary('hardswish', lambda L, x: _f(L).hardswish(x)),
    _unary('hardsigmoid', lambda L, x: _f(L).hardsigmoid(x)),
    _unary('softshrink', lambda L, x: _f(L).softshrink(x, 1.0)),
    _unary('hardshrink', lambda L, x: _f(L).hardshrink(x, 1.0)),
    _unary('softplus', lambda L, x: _f(L).softplus(x, 2.0, 3.0)),
    _unary('floor', lambda L, x: L.floor(x)),
    _unary('ceil', lambda L, x: L.ceil(x)),
    _unary('round', lambda L, x: L.round(x)),
    _unary('round_decimals', lambda L, x: L.round(x, decimals=1)),
    _unary('trunc', lambda L, x: L.trunc(x)),
    _unary('sign', lambda L, x: L.sign(x)),
    _unary('sgn', lambda L, x: L.sgn(x)),
    _unary('frac', lambda L, x: L.frac(x)),
    _unary('abs', lambda L, x: L.abs(x)),
    _unary('sinc', lambda L, x: L.sinc(x)),
    _unary('nan_to_num', lambda L, x: L.nan_to_num(x / 0.0)),
    _unary('clamp_both', lambda L, x: L.clamp(x, -1.0, 1.0)),
    _unary('clamp_min', lambda L, x: L.clamp(x, min=0.0)),
    _unary('clamp_max', lambda L, x: L.clamp(x, max=0.5)),
    _unary('clamp_crossed', lambda L, x: L.clamp(x, 2.0, -1.0)),
    _unary('clip', lambda L, x: L.clip(x, -0.5, 3.0)),
    _unary('clamp_min_fn', lambda L, x: L.clamp_min(x, 0.0)),
    _unary('clamp_max_fn', lambda L, x: L.clamp_max(x, 1.0)),
    _unary('clamp_inplace', lambda L, x: (x * 1).clamp_(-1.0, 1.0)),
    _unary('pow_0', lambda L, x: x ** 0),
    _unary('pow_half', lambda L, x: L.relu(x) ** 0.5),
    _unary('relu_sqrt', lambda L, x: L.relu(x).sqrt()),
    _unary('max_all', lambda L, x: x.max()),
    _unary('min_all', lambda L, x: x.min()),
    _unary('max_all_ties', lambda L, x: L.round(x.detach() * 0) + x.clamp(max=0.0).max()),
    _unary('amax_dim', lambda L, x: x.reshape(2, 7).amax(1)),
    _unary('amin_dim', lambda L, x: x.reshape(2, 7).amin(0)),
    _unary('max_dim', lambda L, x: x.reshape(2, 7).max(1)[0]),
    _unary('min_dim', lambda L, x: x.reshape(7, 2).min(1)[0]),
    _unary('masked_fill', lambda L, x: x.masked_fill(L.tensor(M), 3.0)),
    _unary('masked_fill_inplace', lambda L, x: (x * 1).masked_fill_(L.tensor(M), -1.0)),
    _unary('fill_', lambda L, x: (x * 1).fill_(2.0)),
    _unary('zero_', lambda L, x: (x * 1).zero_()),
    _unary('logit_eps', lambda L, x: L.logit(x / 8 + 0.5, eps=0.2)),
    _unary('rrelu_eval', lambda L, x: _f(L).rrelu(x, training=False)),
    _unary('where_scalar_other', lambda L, x: L.where(L.tensor(M), x, 0.0)),
    _unary('angle', lambda L, x: L.angle(x)),
    _binary('maximum', lambda L, x, y: L.maximum(x, y)),
    _binary('minimum', lambda L, x, y: L.minimum(x, y)),
    _binary('fmax', lambda L, x, y: L.fmax(x, y)),
    _binary('fmin', lambda L, x, y: L.fmin(x, y)),
    _binary('fmax_nan', lambda L, x, y: L.fmax(x, y / (y != 1))),
    _binary('fmin_nan', lambda L, x, y: L.fmin(x / (x != 0), y)),
    _binary('where', lambda L, x, y: L.where(L.tensor(M), x, y)),
    _binary('clamp_tensor', lambda L, x, y: L.clamp(x, min=y - 1, max=y + 1)),
    _binary('clamp_tensor_min', lambda L, x, y: L.clamp(x, min=y)),
    _binary('clamp_tensor_max', lambda L, x, y: L.clamp(x, max=y)),
    _binary('clamp_tensor_crossed', lambda L, x, y: L.clamp(x, min=y, max=y - 1)),
    _binary('clamp_tensor_equal', lambda L, x, y: L.clamp(x, min=y, max=y * 1)),
    _binary('masked_fill_tensor', lambda L, x, y: x.masked_fill(L.tensor(M), y[3])),
    _binary('fill_tensor', lambda L, x, y: (x * 1).fill_(y[2])),
    _binary('copy_', lambda L, x, y: (x * 1).copy_(y)),
    _binary('xlogy', lambda L, x, y: L.xlogy(x, y)),
    _binary('copysign', lambda L, x, y: L.copysign(x, y)),
    _binary('pow_tensor', lambda L, x, y: L.pow(L.relu(x), y)),
]
_SCALAR_BASE = [
    ('rpow_0', lambda L, x: 0.0 ** x),
    ('rpow_2', lambda L, x: 2.0 ** x),
]
CASES += [(n, f, (X,)) for n, f in _SCALAR_BASE]


def _upstreams(shape, dtype):
    n = int(np.prod(shape))
    pats = [np.full(n, np.inf), np.full(n, -np.inf), np.full(n, np.nan),
            np.resize([np.inf, 1.0, -np.inf, np.nan, -2.0], n)]
    return [p.astype(dtype).reshape(shape) for p in pats]


def _grads(lib, f, arrays, up):
    xs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = f(lib, *xs)
    gs = lib.autograd.grad(out, xs, lib.tensor(up.copy()), allow_unused=True)
    return [None if g is None else _np(g) for g in gs]


def _np(g):
    """A gradient as a NumPy array (torch may hand back a ZeroTensor, which refuses .numpy())."""
    if isinstance(g, torch.Tensor):
        return g.detach().numpy(force=True) if not g._is_zerotensor() else \
            np.zeros(tuple(g.shape), str(g.dtype).replace('torch.', ''))
    return np.asarray(g._data)


def _check(got, want, name):
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None or g is None:
            # torch returns None for an unused input: ember gives None or zeros
            z = w if g is None else g
            assert z is None or not np.any(z), f"{name}: input {i}"
            continue
        assert g.dtype == w.dtype, f"{name}: input {i}"
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=0, equal_nan=True,
                                   err_msg=f"{name}: input {i}")


# torch's CPU kernels for these pass the gradient of a NaN input through in float32 and drop it
# in float64; ember follows float32 in both
_NAN_FLOAT64_DIFFERS = {'relu6', 'hardtanh', 'hardtanh_3', 'softshrink', 'hardshrink'}
# and on CPUs without AVX-512, torch's float64 kernels of these give a NaN input's gradient
# NaN where its AVX-512 ones (and its float32 ones on both) pass the selected branch's value
if torch.backends.cpu.get_cpu_capability() != 'AVX512':
    _NAN_FLOAT64_DIFFERS |= {'elu', 'celu', 'selu', 'hardswish', 'logit_eps'}


@pytest.mark.parametrize('nan_input', [False, True], ids=['finite', 'nan_input'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('name,f,arrays', CASES, ids=[c[0] for c in CASES])
def test_inf_nan_upstream_matches_torch(name, f, arrays, dtype, nan_input):
    arrays = [a.astype(dtype) for a in arrays]
    if nan_input:
        if dtype == np.float64 and name in _NAN_FLOAT64_DIFFERS:
            arrays = [a.astype(np.float32) for a in arrays]
        arrays[0][0] = np.nan
        arrays[-1][1] = np.nan
    with torch.no_grad():
        shape = tuple(f(torch, *[torch.tensor(a) for a in arrays]).shape)
    for up in _upstreams(shape, dtype):
        want = _grads(torch, f, arrays, up)
        got = _grads(ember, f, arrays, up)
        _check(got, want, name)


# torch has no double backward for hardsigmoid (ember has one)
_SECOND = [c for c in CASES if c[0] != 'hardsigmoid']


@pytest.mark.parametrize('name,f,arrays', _SECOND, ids=[c[0] for c in _SECOND])
def test_double_backward_matches_torch(name, f, arrays):
    """create_graph=True still builds a differentiable gradient through the selecting formulas."""
    rng = np.random.default_rng(0)
    with torch.no_grad():
        shape = tuple(f(torch, *[torch.tensor(a) for a in arrays]).shape)
    v = rng.standard_normal(shape)
    res = {}
    for lib in (torch, ember):
        xs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        up = lib.tensor(v.copy(), requires_grad=True)
        out = f(lib, *xs)
        gs = lib.autograd.grad(out, xs, up, create_graph=True, allow_unused=True)
        total = sum((g * g).sum() for g in gs if g is not None and g.requires_grad)
        if not isinstance(total, int):
            gg = lib.autograd.grad(total, [up], allow_unused=True)[0]
        else:
            gg = None
        res[lib.__name__] = [None if g is None else _np(g) for g in gs], \
            None if gg is None else _np(gg)
    (eg, egg), (tg, tgg) = res['ember'], res['torch']
    _check(eg, tg, name)
    _check([egg], [tgg], name + ' (second order)')


def test_relu_sqrt_at_zero_gives_zero():
    x = ember.zeros(3, requires_grad=True)
    ember.relu(x).sqrt().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
