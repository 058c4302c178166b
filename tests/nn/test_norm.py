"""Normalisation functions and layers against torch: values, gradients, running statistics,
train/eval, state_dict keys, repr and errors."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

RNG = np.random.default_rng(2)


def _assert_close(a, b, dt=np.float64):
    tol = 1e-4 if dt == np.float32 else 1e-10
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=tol, atol=tol)


def _t(a, grad=False):
    return torch.from_numpy(a.copy()).requires_grad_(grad)


def _e(a, grad=False):
    return ember.from_numpy(a.copy()).requires_grad_(grad)


C = 4
X = RNG.standard_normal((3, C, 5, 6))
W, B = RNG.standard_normal(C), RNG.standard_normal(C)
RM, RV = RNG.standard_normal(C), RNG.random(C) + 0.5
LW, LB = RNG.standard_normal((5, 6)), RNG.standard_normal((5, 6))


def _compare(fn_args, dt, x=X, grads=True):
    """fn_args(module, make) -> (callable, list of tensors needing grads)."""
    x = x.astype(dt)
    res = {}
    for m, make in ((torch, _t), (ember, _e)):
        xx = make(x, True)
        f, params = fn_args(m, make, dt)
        y = f(xx)
        g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dt)
        y.backward(m.from_numpy(g))
        res[m] = (y, xx.grad, [p.grad for p in params])
    ty, tg, tps = res[torch]
    ey, eg, eps = res[ember]
    assert ey.grad_fn.name() == ty.grad_fn.name()
    assert ey.dtype == getattr(ember, np.dtype(dt).name)
    _assert_close(ty, ey, dt)
    _assert_close(tg, eg, dt)
    for a, b in zip(tps, eps):
        _assert_close(a, b, dt)


def _params(make, dt, *arrays):
    return [make(a.astype(dt), True) for a in arrays]


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('case', ['bn_train', 'bn_eval', 'bn_noaffine', 'bn_2d', 'ln', 'ln_nobias',
                                  'ln_plain', 'gn', 'gn_plain', 'in', 'lrn', 'lrn_odd', 'lrn_3d',
                                  'rms', 'rms_plain'])
def test_functional(case, dt):
    def fn(m, make, dt):
        F = m.nn.functional
        if case.startswith('bn'):
            w, b = _params(make, dt, W, B)
            rm, rv = make(RM.astype(dt)), make(RV.astype(dt))
            if case == 'bn_train':
                return lambda x: F.batch_norm(x, rm, rv, w, b, True, 0.3), [w, b]
            if case == 'bn_eval':
                return lambda x: F.batch_norm(x, rm, rv, w, b, False), [w, b]
            if case == 'bn_2d':
                return lambda x: F.batch_norm(x[:, :, 0, 0], None, None, w, b, True), [w, b]
            return lambda x: F.batch_norm(x, None, None, training=True), []
        if case.startswith('ln'):
            w, b = _params(make, dt, LW, LB)
            if case == 'ln':
                return lambda x: F.layer_norm(x, (5, 6), w, b), [w, b]
            if case == 'ln_nobias':
                return lambda x: F.layer_norm(x, (5, 6), w, None, 1e-3), [w]
            return lambda x: F.layer_norm(x, (6,)), []
        if case.startswith('gn'):
            w, b = _params(make, dt, W, B)
            if case == 'gn':
                return lambda x: F.group_norm(x, 2, w, b), [w, b]
            return lambda x: F.group_norm(x, 4), []
        if case == 'in':
            w, b = _params(make, dt, W, B)
            return lambda x: F.instance_norm(x, weight=w, bias=b), [w, b]
        if case.startswith('lrn'):
            if case == 'lrn_3d':
                return lambda x: F.local_response_norm(x[:, :, 0], 2), []
            return lambda x: F.local_response_norm(x, 3 if case == 'lrn_odd' else 2), []
        if case == 'rms':
            (w,) = _params(make, dt, LW)
            return lambda x: F.rms_norm(x, (5, 6), w, 1e-5), [w]
        return lambda x: F.rms_norm(x, (6,)), []
    _compare(fn, dt)


def test_running_stats_functional():
    stats = {}
    for m, make in ((torch, _t), (ember, _e)):
        rm, rv = make(RM), make(RV)
        r = np.random.default_rng(5)
        for _ in range(3):
            m.nn.functional.batch_norm(make(r.standard_normal((3, C, 5))), rm, rv,
                                       training=True, momentum=0.3)
        irm, irv = make(RM), make(RV)
        m.nn.functional.instance_norm(make(X), irm, irv)
        stats[m] = (rm, rv, irm, irv)
    for a, b in zip(stats[torch], stats[ember]):
        _assert_close(a, b)


def test_double_backward():
    x = _e(RNG.standard_normal((2, 4, 3)), True)
    w, b = _e(RNG.standard_normal(4), True), _e(RNG.standard_normal(4), True)
    G = ember.autograd
    fns = [lambda x, w, b: EF.batch_norm(x, None, None, w, b, True),
           lambda x, w, b: EF.batch_norm(x, ember.zeros(4, dtype=ember.float64),
                                         ember.ones(4, dtype=ember.float64), w, b, False),
           lambda x, w, b: EF.group_norm(x, 2, w, b),
           lambda x, w, b: EF.layer_norm(x.transpose(1, 2), (4,), w, b)]
    for f in fns:
        assert G.gradcheck(f, (x, w, b))
        assert G.gradgradcheck(f, (x, w, b))


MODULES = [
    ('BatchNorm1d', (3,), {}, (4, 3)),
    ('BatchNorm1d', (3,), dict(momentum=None), (4, 3, 5)),
    ('BatchNorm2d', (3,), dict(affine=False), (4, 3, 5, 5)),
    ('BatchNorm2d', (3,), dict(eps=1e-3, momentum=0.5), (4, 3, 5, 5)),
    ('BatchNorm3d', (3,), dict(track_running_stats=False), (4, 3, 2, 2, 2)),
    ('InstanceNorm1d', (3,), {}, (4, 3, 5)),
    ('InstanceNorm2d', (3,), dict(affine=True, track_running_stats=True), (4, 3, 5, 5)),
    ('InstanceNorm3d', (3,), dict(affine=True), (3, 2, 2, 2)),
    ('LayerNorm', ((5, 5),), {}, (4, 3, 5, 5)),
    ('LayerNorm', (5,), dict(bias=False), (4, 3, 5, 5)),
    ('LayerNorm', (5,), dict(elementwise_affine=False), (4, 3, 5, 5)),
    ('GroupNorm', (3, 6), {}, (4, 6, 5)),
    ('GroupNorm', (2, 6), dict(affine=False), (4, 6, 5)),
    ('LocalResponseNorm', (2,), {}, (4, 6, 5)),
    ('RMSNorm', ((5,),), dict(eps=1e-5), (4, 6, 5)),
    ('RMSNorm', (5,), dict(elementwise_affine=False), (4, 6, 5)),
]


@pytest.mark.parametrize('name,args,kw,shape', MODULES)
def test_module(name, args, kw, shape):
    tm = getattr(torch.nn, name)(*args, **kw).double()
    em = getattr(ember.nn, name)(*args, **kw).double()
    assert repr(em) == repr(tm)
    tsd, esd = tm.state_dict(), em.state_dict()
    assert list(esd) == list(tsd)
    for k in tsd:
        assert esd[k].dtype == getattr(ember, str(tsd[k].dtype).split('.')[1])
        np.testing.assert_array_equal(esd[k].numpy(), tsd[k].numpy())
    r = np.random.default_rng(7)
    for _ in range(3):  # training steps: outputs, all gradients, running statistics
        x = r.standard_normal(shape)
        tx, ex = _t(x, True), _e(x, True)
        ty, ey = tm(tx), em(ex)
        assert ey.grad_fn.name() == ty.grad_fn.name()
        _assert_close(ty, ey)
        g = r.standard_normal(tuple(ty.shape))
        ty.backward(_t(g))
        ey.backward(_e(g))
        _assert_close(tx.grad, ex.grad)
        for tp, ep in zip(tm.parameters(), em.parameters()):
            _assert_close(tp.grad, ep.grad)
    for k, v in tm.state_dict().items():
        _assert_close(v, em.state_dict()[k])
    tm.eval()
    em.eval()
    x = r.standard_normal(shape)
    _assert_close(tm(_t(x)), em(_e(x)))


def test_batchnorm_float32_and_load_old_checkpoint():
    tm, em = torch.nn.BatchNorm2d(3), ember.nn.BatchNorm2d(3)
    x = RNG.standard_normal((4, 3, 5, 5)).astype(np.float32)
    ey = em(_e(x))
    _assert_close(tm(_t(x)), ey, np.float32)
    assert ey.dtype == ember.float32
    sd = {k: v for k, v in em.state_dict().items() if k != 'num_batches_tracked'}
    sd = type(em.state_dict())(sd)
    sd._metadata = {'': {'version': 1}}
    fresh = ember.nn.BatchNorm2d(3)
    fresh.load_state_dict(sd)
    _assert_close(tm.running_mean, fresh.running_mean, np.float32)


@pytest.mark.parametrize('name', ['LazyBatchNorm1d', 'LazyBatchNorm2d', 'LazyInstanceNorm2d'])
def test_lazy(name):
    tm, em = getattr(torch.nn, name)(), getattr(ember.nn, name)()
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    shape = (2, 4, 5) if '1d' in name else (2, 4, 5, 5)
    x = RNG.standard_normal(shape).astype(np.float32)
    _assert_close(tm(_t(x)), em(_e(x)), np.float32)
    assert type(em).__name__ == type(tm).__name__
    assert repr(em) == repr(tm)
    for k, v in tm.state_dict().items():
        _assert_close(v, em.state_dict()[k], np.float32)


def _check_err(fn_t, fn_e, exc=RuntimeError):
    with pytest.raises(exc) as te:
        fn_t()
    with pytest.raises(exc) as ee:
        fn_e()
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize('case,exc', [
    (lambda m: m.nn.functional.batch_norm(m.randn(2, 4, 3), m.zeros(3), m.ones(3)),
     RuntimeError),
    (lambda m: m.nn.functional.batch_norm(m.randn(2, 4, 3), None, None), RuntimeError),
    (lambda m: m.nn.functional.batch_norm(m.randn(1, 4), None, None, training=True),
     ValueError),
    (lambda m: m.nn.functional.layer_norm(m.randn(2, 4, 8), (7,)), RuntimeError),
    (lambda m: m.nn.functional.layer_norm(m.randn(2, 4, 8), (8,), m.ones(7)), RuntimeError),
    (lambda m: m.nn.functional.group_norm(m.randn(2, 4, 8), 3), RuntimeError),
    (lambda m: m.nn.functional.group_norm(m.randn(2, 4, 8), 2, m.ones(3)), RuntimeError),
    (lambda m: m.nn.functional.instance_norm(m.randn(2, 4, 1)), ValueError),
    (lambda m: m.nn.functional.rms_norm(m.randn(2, 4, 8), (7,)), RuntimeError),
    (lambda m: m.nn.BatchNorm2d(4)(m.randn(2, 4, 3)), ValueError),
    (lambda m: m.nn.BatchNorm1d(4)(m.randn(2, 4, 3, 3)), ValueError),
    (lambda m: m.nn.BatchNorm2d(4)(m.randn(2, 5, 3, 3)), RuntimeError),
    (lambda m: m.nn.InstanceNorm1d(4, affine=True)(m.randn(2, 5, 3)), ValueError),
    (lambda m: m.nn.GroupNorm(3, 4), ValueError),
    (lambda m: m.nn.LayerNorm(4)(m.randn(2, 5, 3)), RuntimeError),
])
def test_errors(case, exc):
    _check_err(lambda: case(torch), lambda: case(ember), exc)
