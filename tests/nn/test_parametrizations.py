"""nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal), the legacy hook-based
weight_norm/spectral_norm, and torch._weight_norm / torch.norm_except_dim, against torch:
values, gradients, state_dict keys/values/metadata, SGD steps, seeds, eval vs train, removal,
state_dicts loaded across libraries and versions, errors."""
import sys
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def assert_close(a, b, tol=1e-6):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _sd_np(m):
    return {k: _np(v) for k, v in m.state_dict().items()}


def _sd_lib(lib, d):
    return OrderedDict((k, lib.from_numpy(np.array(v))) for k, v in d.items())


def _seeded(ctor, seed=0, dtype='float64'):
    """The module built from the same seed in both libraries (torch's init draws)."""
    mods = []
    for lib in (ember, torch):
        lib.manual_seed(seed)
        mods.append(ctor(lib).to(getattr(lib, dtype)))
    e, t = mods
    for (k, ve), vt in zip(e.state_dict().items(), t.state_dict().values()):
        np.testing.assert_array_equal(_np(ve), _np(vt))
    return e, t


_CTORS = {
    'linear': (lambda lib: lib.nn.Linear(5, 3), (4, 5)),
    'conv2d': (lambda lib: lib.nn.Conv2d(2, 3, 3), (2, 2, 6, 6)),
    'convT': (lambda lib: lib.nn.ConvTranspose2d(2, 3, 3), (2, 2, 4, 4)),
    'conv1d': (lambda lib: lib.nn.Conv1d(3, 4, 2), (2, 3, 5)),
}


def _input(shape, dtype, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _compare(e, t, xshape, dtype, tol, backward=True):
    """Forward value, then every parameter's gradient and the state_dict."""
    x = _input(xshape, dtype)
    ye, yt = e(ember.from_numpy(x)), t(torch.from_numpy(x))
    assert_close(ye, yt, tol)
    if backward:
        (ye ** 2).sum().backward()
        (yt ** 2).sum().backward()
        pe, pt = dict(e.named_parameters()), dict(t.named_parameters())
        assert list(pe) == list(pt)
        for k in pt:
            assert_close(pe[k].grad, pt[k].grad, tol)
    se, st = e.state_dict(), t.state_dict()
    assert list(se) == list(st)
    for k in st:
        assert_close(se[k], st[k], tol)
        assert str(se[k].dtype) == str(st[k].dtype)


# ---- torch._weight_norm and torch.norm_except_dim ---------------------------------------------

@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shape,dim', [((4, 3, 2), 0), ((4, 3, 2), 2), ((4, 3, 2), 1),
                                       ((4, 3, 2), -1), ((4, 3), 0), ((5,), 0), ((4, 3), 1)])
def test_weight_norm_ops(shape, dim, dtype):
    rng = np.random.default_rng(0)
    v = rng.standard_normal(shape).astype(dtype)
    tol = 1e-5 if dtype == 'float32' else 1e-12
    for p in (2, 1, 3):
        ne = ember.norm_except_dim(ember.from_numpy(v), p, dim)
        nt = torch.norm_except_dim(torch.from_numpy(v), p, dim)
        assert ne.shape == nt.shape and str(ne.dtype) == str(nt.dtype)
        assert_close(ne, nt, tol)
    g = _np(torch.norm_except_dim(torch.from_numpy(v), 2, dim)) * 1.5 + 0.1
    up = rng.standard_normal(shape).astype(dtype)
    res = []
    for lib in (ember, torch):
        V = lib.from_numpy(v.copy()).requires_grad_()
        G = lib.from_numpy(np.array(g)).requires_grad_()
        w = lib._weight_norm(V, G, dim)
        (w * lib.from_numpy(up)).sum().backward()
        res.append((w, V.grad, G.grad, type(w.grad_fn).__name__))
    for a, b in zip(res[0][:3], res[1][:3]):
        assert a.shape == b.shape and str(a.dtype) == str(b.dtype)
        assert_close(a, b, tol)
    assert res[0][3] == res[1][3]


@pytest.mark.parametrize('dim', [0, 1, -1])
def test_weight_norm_gradcheck(dim):
    rng = np.random.default_rng(0)
    v = ember.from_numpy(rng.standard_normal((3, 4))).requires_grad_()
    g = ember.from_numpy(rng.standard_normal((3, 1) if dim == 0 else (1, 4) if dim == 1 else ())
                         ).requires_grad_()
    assert ember.autograd.gradcheck(lambda v, g: ember._weight_norm(v, g, dim), (v, g))
    assert ember.autograd.gradgradcheck(lambda v, g: ember._weight_norm(v, g, dim), (v, g))


def test_weight_norm_op_errors():
    for fn in (lambda lib, v: lib.norm_except_dim(v, 2, 3),
               lambda lib, v: lib._weight_norm(v, lib.ones(4, 1, 1), 3),
               lambda lib, v: lib.norm_except_dim(v, 2.0, 0)):
        out = []
        for lib in (ember, torch):
            with pytest.raises((IndexError, TypeError)) as ex:
                fn(lib, lib.ones(4, 3, 2))
            out.append((type(ex.value), str(ex.value)))
        assert out[0] == out[1]


# ---- parametrizations.weight_norm ----------------------------------------------------------

@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('dim', [0, 1, None, -1])
@pytest.mark.parametrize('kind', ['linear', 'conv2d'])
def test_weight_norm(kind, dim, dtype):
    ctor, xshape = _CTORS[kind]
    e, t = _seeded(ctor, dtype=dtype)
    for lib, m in ((ember, e), (torch, t)):
        lib.nn.utils.parametrizations.weight_norm(m, dim=dim)
    assert repr(e) == repr(t)
    assert type(e).__name__ == type(t).__name__ == 'Parametrized' + type(t).__bases__[0].__name__
    tol = 1e-5 if dtype == 'float32' else 1e-12
    _compare(e, t, xshape, dtype, tol)
    assert e.parametrizations.weight[0].dim == t.parametrizations.weight[0].dim


def test_weight_norm_sgd_and_remove():
    e, t = _seeded(_CTORS['linear'][0])
    for lib, m in ((ember, e), (torch, t)):
        lib.nn.utils.parametrizations.weight_norm(m)
    oe = ember.optim.SGD(e.parameters(), lr=0.05, momentum=0.5)
    ot = torch.optim.SGD(t.parameters(), lr=0.05, momentum=0.5)
    x = _input((6, 5), 'float64')
    for _ in range(5):
        for lib, m, o in ((ember, e, oe), (torch, t, ot)):
            o.zero_grad()
            (m(lib.from_numpy(x)).tanh() ** 2).mean().backward()
            o.step()
        for (k, ve), vt in zip(e.state_dict().items(), t.state_dict().values()):
            assert_close(ve, vt, 1e-12)
    for leave in (True, False):
        e2, t2 = _seeded(_CTORS['linear'][0])
        for lib, m in ((ember, e2), (torch, t2)):
            lib.nn.utils.parametrizations.weight_norm(m)
            if leave:
                lib.nn.utils.parametrize.remove_parametrizations(m, 'weight')
            else:
                with pytest.raises(ValueError, match='Cannot leave unparametrized'):
                    lib.nn.utils.parametrize.remove_parametrizations(m, 'weight', False)
        if leave:
            assert type(e2.weight).__name__ == type(t2.weight).__name__ == 'Parameter'
            assert_close(e2.weight, t2.weight, 1e-12)
            assert list(e2.state_dict()) == list(t2.state_dict())


def test_weight_norm_state_dicts_across_libraries_and_legacy():
    e, t = _seeded(_CTORS['conv2d'][0])
    for lib, m in ((ember, e), (torch, t)):
        lib.nn.utils.parametrizations.weight_norm(m)
    rng = np.random.default_rng(3)
    sd = {k: rng.standard_normal(v.shape) for k, v in _sd_np(t).items()}
    t.load_state_dict(_sd_lib(torch, sd))
    e.load_state_dict(_sd_lib(ember, _sd_np(t)))      # torch's into ember's
    assert_close(e.weight, t.weight, 1e-12)
    e2, t2 = _seeded(_CTORS['conv2d'][0], seed=4)
    for lib, m in ((ember, e2), (torch, t2)):
        lib.nn.utils.parametrizations.weight_norm(m)
    t2.load_state_dict(_sd_lib(torch, _sd_np(e)))     # ember's into torch's
    assert_close(t2.weight, e.weight, 1e-12)
    # a legacy weight_norm checkpoint (weight_g, weight_v) loads through the compat hook
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        legacy = torch.nn.utils.weight_norm(torch.nn.Conv2d(2, 3, 3))
    legacy_sd = _sd_np(legacy)
    assert set(legacy_sd) == {'bias', 'weight_g', 'weight_v'}
    for lib, m in ((ember, e2), (torch, t2)):
        m.load_state_dict(_sd_lib(lib, legacy_sd))
    assert_close(e2.weight, t2.weight, 1e-6)
    assert_close(e2.weight, legacy.weight, 1e-6)


# ---- parametrizations.spectral_norm --------------------------------------------------------

@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('kind', ['linear', 'conv2d', 'convT', 'conv1d'])
def test_spectral_norm_seeded(kind, dtype):
    ctor, xshape = _CTORS[kind]
    e, t = _seeded(ctor, dtype=dtype)
    for lib, m in ((ember, e), (torch, t)):
        lib.manual_seed(7)
        lib.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=2)
    tol = 1e-5 if dtype == 'float32' else 1e-10
    assert repr(e) == repr(t)
    pe, pt = e.parametrizations.weight[0], t.parametrizations.weight[0]
    assert pe.dim == pt.dim and pe.eps == pt.eps
    assert_close(pe._u, pt._u, tol)      # the same draws from the same seed
    assert_close(pe._v, pt._v, tol)
    _compare(e, t, xshape, dtype, tol)   # a training forward: one more power iteration
    assert_close(pe._u, pt._u, tol)
    # eval: no power iteration, the stored vectors are used
    e.eval(), t.eval()
    u0 = _np(pe._u).copy()
    _compare(e, t, xshape, dtype, tol, backward=False)
    np.testing.assert_array_equal(_np(pe._u), u0)
    e.train(), t.train()
    e.weight, t.weight
    assert_close(pe._u, pt._u, tol)
    assert_close(pe._v, pt._v, tol)


def test_spectral_norm_training_and_removal():
    e, t = _seeded(_CTORS['linear'][0])
    for lib, m in ((ember, e), (torch, t)):
        lib.manual_seed(1)
        lib.nn.utils.parametrizations.spectral_norm(m)
    oe = ember.optim.SGD(e.parameters(), lr=0.1)
    ot = torch.optim.SGD(t.parameters(), lr=0.1)
    x = _input((6, 5), 'float64')
    for _ in range(4):
        for lib, m, o in ((ember, e, oe), (torch, t, ot)):
            o.zero_grad()
            # two forwards in one graph, as in GAN training
            (m(lib.from_numpy(x)).sum() - m(lib.from_numpy(-x)).pow(2).sum()).backward()
            o.step()
        for (k, ve), vt in zip(e.state_dict().items(), t.state_dict().values()):
            assert_close(ve, vt, 1e-10)
    # spectral norm ~ 1 after the iterations
    s_e = np.linalg.svd(_np(e.weight), compute_uv=False)[0]
    assert abs(s_e - np.linalg.svd(_np(t.weight), compute_uv=False)[0]) < 1e-10
    for lib, m in ((ember, e), (torch, t)):
        m.eval()
        lib.nn.utils.parametrize.remove_parametrizations(m, 'weight')
    assert_close(e.weight, t.weight, 1e-10)
    assert list(e.state_dict()) == list(t.state_dict())
    # a vector: just normalized
    for lib in (ember, torch):
        b = lib.nn.Linear(2, 3)
        lib.nn.utils.parametrizations.spectral_norm(b, 'bias')
        assert abs(float(b.bias.detach().norm()) - 1) < 1e-6
        assert list(b.state_dict()) == ['weight', 'parametrizations.bias.original']


def test_spectral_norm_state_dicts_across_libraries():
    e, t = _seeded(_CTORS['conv2d'][0])
    for lib, m in ((ember, e), (torch, t)):
        lib.nn.utils.parametrizations.spectral_norm(m)
    rng = np.random.default_rng(3)
    t.eval()
    sd = _sd_np(t)
    sd['parametrizations.weight.original'] = rng.standard_normal(
        sd['parametrizations.weight.original'].shape)
    t.load_state_dict(_sd_lib(torch, sd))
    e.load_state_dict(_sd_lib(ember, sd))
    e.eval()
    assert_close(e.weight, t.weight, 1e-10)
    e.train()
    e.weight
    e2, t2 = _seeded(_CTORS['conv2d'][0], seed=9)
    for lib, m in ((ember, e2), (torch, t2)):
        lib.nn.utils.parametrizations.spectral_norm(m)
    t2.load_state_dict(_sd_lib(torch, _sd_np(e)))
    t2.eval(), e.eval()
    assert_close(t2.weight, e.weight, 1e-10)


def test_spectral_norm_errors():
    def bad_dim(lib):
        lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 3), dim=2)

    def bad_iters(lib):
        lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 3), n_power_iterations=0)

    def no_weight(lib):
        lib.nn.utils.parametrizations.spectral_norm(lib.nn.ReLU())

    for fn in (bad_dim, bad_iters, no_weight):
        out = []
        for lib in (ember, torch):
            with pytest.raises(Exception) as ex:
                fn(lib)
            out.append((type(ex.value).__name__, str(ex.value)))
        assert out[0] == out[1]


# ---- parametrizations.orthogonal ---------------------------------------------------------

@pytest.mark.parametrize('triv', [True, False])
@pytest.mark.parametrize('omap', [None, 'matrix_exp', 'cayley', 'householder'])
@pytest.mark.parametrize('shape', [(4, 4), (5, 3), (3, 5)])
def test_orthogonal(shape, omap, triv):
    e, t = _seeded(lambda lib: lib.nn.Linear(shape[1], shape[0]))
    outs = []
    for lib, m in ((ember, e), (torch, t)):
        lib.manual_seed(3)
        try:
            lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap,
                                                     use_trivialization=triv)
            outs.append(None)
        except Exception as ex:
            outs.append((type(ex).__name__, str(ex)))
    assert outs[0] == outs[1]
    if outs[0] is not None:
        return
    assert repr(e) == repr(t)
    W = _np(e.weight)
    small = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(small, np.eye(min(shape)), atol=1e-10)
    _compare(e, t, (2, shape[1]), 'float64', 1e-8)
    # SGD keeps it orthogonal, and in step with torch
    oe = ember.optim.SGD(e.parameters(), lr=0.1)
    ot = torch.optim.SGD(t.parameters(), lr=0.1)
    x = _input((4, shape[1]), 'float64')
    for _ in range(3):
        for lib, m, o in ((ember, e, oe), (torch, t, ot)):
            o.zero_grad()
            m(lib.from_numpy(x)).sin().sum().backward()
            o.step()
        assert_close(e.weight, t.weight, 1e-8)
    # assigning an orthogonal matrix (right_inverse), where torch allows it
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((max(shape), min(shape))))[0]
    Q = Q if shape[0] >= shape[1] else Q.T
    outs = []
    for lib, m in ((ember, e), (torch, t)):
        lib.manual_seed(5)
        try:
            m.weight = lib.from_numpy(Q.copy())
            outs.append(None)
        except Exception as ex:
            outs.append((type(ex).__name__, str(ex)))
    assert outs[0] == outs[1]
    if outs[0] is None:
        assert_close(e.weight, t.weight, 1e-8)
        np.testing.assert_allclose(_np(e.weight), Q, atol=1e-8)


def test_orthogonal_errors():
    cases = [lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), 'bias'),
             lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), 'nope'),
             lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3),
                                                                  orthogonal_map='qr')]
    for fn in cases:
        out = []
        for lib in (ember, torch):
            with pytest.raises(Exception) as ex:
                fn(lib)
            out.append((type(ex.value).__name__, str(ex.value)))
        assert out[0] == out[1]


def test_geqrf_householder_product():
    rng = np.random.default_rng(0)
    for shape in [(5, 3), (4, 4), (2, 5, 3)]:
        a = rng.standard_normal(shape)
        (xe, te), (xt, tt) = ember.geqrf(ember.from_numpy(a)), torch.geqrf(torch.from_numpy(a))
        assert_close(xe, xt, 1e-12)
        assert_close(te, tt, 1e-12)
        res = []
        for lib, x, tau in ((ember, xe, te), (torch, xt, tt)):
            x = x.clone().requires_grad_()
            tau = tau.clone().requires_grad_()
            q = lib.linalg.householder_product(x, tau)
            (q * lib.from_numpy(np.cos(np.arange(q.numel())).reshape(q.shape))).sum().backward()
            res.append((q, x.grad, tau.grad))
        for a_, b_ in zip(*res):
            assert_close(a_, b_, 1e-10)


# ---- the legacy, hook-based weight_norm and spectral_norm -----------------------------------

@pytest.mark.parametrize('dim', [0, 1, None])
def test_legacy_weight_norm(dim):
    e, t = _seeded(_CTORS['conv2d'][0])
    for lib, m in ((ember, e), (torch, t)):
        with pytest.warns(FutureWarning, match='`torch.nn.utils.weight_norm` is deprecated'):
            assert lib.nn.utils.weight_norm(m, dim=dim) is m
    assert type(e).__name__ == 'Conv2d' and repr(e) == repr(t)
    assert type(e.weight_g).__name__ == 'Parameter'
    _compare(e, t, _CTORS['conv2d'][1], 'float64', 1e-12)
    assert_close(e.weight, t.weight, 1e-12)
    for lib, m in ((ember, e), (torch, t)):
        with pytest.raises(RuntimeError, match='Cannot register two weight_norm hooks'):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', FutureWarning)
                lib.nn.utils.weight_norm(m, dim=dim)
        lib.nn.utils.remove_weight_norm(m)
    assert list(e.state_dict()) == list(t.state_dict()) == ['bias', 'weight']
    assert_close(e.weight, t.weight, 1e-12)
    out = []
    for lib, m in ((ember, e), (torch, t)):
        with pytest.raises(ValueError) as ex:
            lib.nn.utils.remove_weight_norm(m)
        out.append(str(ex.value))
    assert out[0] == out[1]


def test_legacy_spectral_norm():
    e, t = _seeded(_CTORS['convT'][0])
    for lib, m in ((ember, e), (torch, t)):
        lib.manual_seed(11)
        assert lib.nn.utils.spectral_norm(m) is m
    assert repr(e) == repr(t)
    sde, sdt = e.state_dict(), t.state_dict()
    assert list(sde) == list(sdt) == ['bias', 'weight_orig', 'weight_u', 'weight_v']
    assert sde._metadata == sdt._metadata
    assert sde._metadata['']['spectral_norm'] == {'weight.version': 1}
    assert_close(e.weight_u, t.weight_u, 1e-12)
    _compare(e, t, _CTORS['convT'][1], 'float64', 1e-10)
    e.eval(), t.eval()
    _compare(e, t, _CTORS['convT'][1], 'float64', 1e-10, backward=False)
    e.train(), t.train()
    for lib, m in ((ember, e), (torch, t)):
        with pytest.raises(RuntimeError, match='Cannot register two spectral_norm hooks'):
            lib.nn.utils.spectral_norm(m)
        lib.nn.utils.remove_spectral_norm(m)
    assert_close(e.weight, t.weight, 1e-10)
    sde, sdt = e.state_dict(), t.state_dict()
    assert list(sde) == list(sdt) == ['bias', 'weight']
    assert sde._metadata == sdt._metadata
    # the load pre-hook stays registered (wrapped), in torch as here
    assert len(e._load_state_dict_pre_hooks) == len(t._load_state_dict_pre_hooks)


def test_legacy_spectral_norm_load():
    e, t = _seeded(_CTORS['linear'][0])
    for lib, m in ((ember, e), (torch, t)):
        lib.manual_seed(2)
        lib.nn.utils.spectral_norm(m)
    x = _input((3, 5), 'float64')
    for _ in range(3):
        e(ember.from_numpy(x)), t(torch.from_numpy(x))
    # version 1 (with metadata) across the libraries
    sdt = t.state_dict()
    e2, t2 = _seeded(_CTORS['linear'][0], seed=5)
    for lib, m in ((ember, e2), (torch, t2)):
        lib.nn.utils.spectral_norm(m)
    src = _sd_lib(ember, _sd_np(t))
    src._metadata = sdt._metadata
    e2.load_state_dict(src)
    assert_close(e2.weight_v, t.weight_v, 1e-12)
    # a version-0 checkpoint: weight stored, v missing, no metadata -> v solved from u
    old = {k: v for k, v in _sd_np(t).items() if k != 'weight_v'}
    old['weight'] = _np(t.weight)
    for lib, m in ((ember, e2), (torch, t2)):
        m.load_state_dict(_sd_lib(lib, old))
    assert_close(e2.weight_v, t2.weight_v, 1e-8)
    e2.eval(), t2.eval()
    assert_close(e2(ember.from_numpy(x)), t2(torch.from_numpy(x)), 1e-8)


def test_legacy_errors():
    def sn_none(lib):
        m = lib.nn.Linear(2, 2, bias=False)
        lib.nn.utils.spectral_norm(m, 'bias')

    def sn_iters(lib):
        lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)

    def rm_sn(lib):
        lib.nn.utils.remove_spectral_norm(lib.nn.Linear(2, 2))

    for fn in (sn_none, sn_iters, rm_sn):
        out = []
        for lib in (ember, torch):
            with pytest.raises(Exception) as ex:
                fn(lib)
            out.append((type(ex.value).__name__, str(ex.value)))
        assert out[0] == out[1]


def test_module_paths():
    import ember.nn.utils.spectral_norm  # noqa: F401
    import ember.nn.utils.weight_norm  # noqa: F401
    import torch.nn.utils.spectral_norm  # noqa: F401
    import torch.nn.utils.weight_norm  # noqa: F401
    # the functions shadow the modules on their package, as in torch
    esn, ewn = (sys.modules[f'ember.nn.utils.{n}'] for n in ('spectral_norm', 'weight_norm'))
    tsn, twn = (sys.modules[f'torch.nn.utils.{n}'] for n in ('spectral_norm', 'weight_norm'))
    assert esn.__all__ == tsn.__all__ and ewn.__all__ == twn.__all__
    assert callable(ember.nn.utils.weight_norm) and callable(ember.nn.utils.spectral_norm)
    assert ember.nn.utils.remove_weight_norm is ewn.remove_weight_norm
