"""Each optimizer against torch: 20 steps on the same float64 problem, same trajectory."""
import copy

import numpy as np
import pytest

import ember
import ember.nn as enn

torch = pytest.importorskip("torch")

CASES = [
    ('SGD', dict(lr=0.1)),
    ('SGD', dict(lr=0.05, momentum=0.9)),
    ('SGD', dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ('SGD', dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    ('Adam', dict(lr=0.01)),
    ('Adam', dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ('Adam', dict(lr=0.01, maximize=True, eps=1e-6)),
    ('Adam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ('AdamW', dict(lr=0.01)),
    ('AdamW', dict(lr=0.01, weight_decay=0.2, amsgrad=True)),
    ('RMSprop', dict(lr=0.01)),
    ('RMSprop', dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.01)),
    ('RMSprop', dict(lr=0.005, alpha=0.9, momentum=0.5, maximize=True)),
    ('Adagrad', dict(lr=0.1)),
    ('Adagrad', dict(lr=0.1, lr_decay=0.01, weight_decay=0.05,
                     initial_accumulator_value=0.1)),
    ('Adadelta', dict()),
    ('Adadelta', dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ('Adamax', dict(lr=0.01)),
    ('Adamax', dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.1)),
    ('NAdam', dict(lr=0.01)),
    ('NAdam', dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ('NAdam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ('RAdam', dict(lr=0.01)),
    ('RAdam', dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ('RAdam', dict(lr=0.01, weight_decay=0.1, betas=(0.9, 0.9))),
]


def _problem(lib, seed=0):
    r = np.random.default_rng(seed)
    X = lib.from_numpy(r.standard_normal((16, 4)))
    Y = lib.from_numpy(r.standard_normal((16, 3)))
    W = r.standard_normal((3, 4)) * 0.5
    b = r.standard_normal(3) * 0.1
    params = [lib.nn.Parameter(lib.from_numpy(W.copy())),
              lib.nn.Parameter(lib.from_numpy(b.copy()))]

    def loss_fn():
        out = (X.matmul(params[0].t()) + params[1]).tanh()
        return ((out - Y) ** 2).mean() + (params[0] ** 2).sum() * 0.01
    return params, loss_fn


def _run(lib, name, kw, steps=20, optimizer=None):
    params, loss_fn = _problem(lib)
    opt = optimizer or getattr(lib.optim, name)(params, **kw)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    return params, opt


@pytest.mark.parametrize('name,kw', CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kw):
    ep, eo = _run(ember, name, kw)
    tp, to = _run(torch, name, kw)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6,
                                   atol=1e-12)
    assert repr(eo) == repr(to)
    # the state has torch's structure: same keys, same values
    es, ts = eo.state_dict(), to.state_dict()
    assert es['param_groups'] == [
        {k: v for k, v in g.items()} for g in ts['param_groups']]
    assert es['state'].keys() == ts['state'].keys()
    for i in ts['state']:
        assert es['state'][i].keys() == ts['state'][i].keys()
        for k, v in ts['state'][i].items():
            ev = es['state'][i][k]
            if torch.is_tensor(v):
                assert str(ev.dtype) == str(v.dtype)
                np.testing.assert_allclose(ev.numpy(), v.numpy(), rtol=1e-6, atol=1e-12)


def test_float32_adam_and_sgd_close():
    for name, kw in [('Adam', dict(lr=0.01)), ('SGD', dict(lr=0.1, momentum=0.9))]:
        res = []
        for lib in (ember, torch):
            params, loss_fn = _problem(lib)
            params = [lib.nn.Parameter(p.detach().float()) for p in params]
            opt = getattr(lib.optim, name)(params, **kw)
            for _ in range(10):
                opt.zero_grad()
                out = params[0].sum() * 0 + (params[0] ** 2).sum() + params[1].abs().sum()
                out.backward()
                opt.step()
            res.append([p.detach().numpy() for p in params])
        for e, t in zip(*res):
            assert e.dtype == np.float32
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name,kw', [
    ('Adam', dict(lr=0.01)), ('AdamW', dict(lr=0.01)), ('Adam', dict(lr=0.01, weight_decay=0.1)),
    ('Adam', dict(lr=0.01, maximize=True, eps=1e-6)), ('AdamW', dict(betas=(0.5, 0.9))),
    ('Adam', dict(lr=0.01, amsgrad=True)), ('Adam', dict(betas=(0.3, 0.9)))])
def test_float32_adam_one_pass_as_numpy_and_torch(name, kw, kernel_path, monkeypatch):
    # float32 Adam without amsgrad takes one compiled pass (src/optim.c, beta1 above 0.5):
    # the NumPy steps' bits on both paths, torch's values to float32 rounding
    from ember.optim import adam
    passes, real = [], adam._adam_kernel
    monkeypatch.setattr(adam, '_adam_kernel', lambda *a: passes.append(real(*a)) or passes[-1])
    res = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(30, 20), lib.nn.Tanh(), lib.nn.Linear(20, 2))
        opt = getattr(lib.optim, name)(net.parameters(), **kw)
        x, y = lib.ones(16, 30), lib.zeros(16, 2)
        x = x * lib.arange(30.0) / 30
        for _ in range(15):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            opt.step()
        res.append([p.detach().numpy().copy() for p in net.parameters()])
    with ember._kernels.disabled():     # the NumPy path, for the bits
        ember.manual_seed(0)
        net = ember.nn.Sequential(ember.nn.Linear(30, 20), ember.nn.Tanh(), ember.nn.Linear(20, 2))
        opt = getattr(ember.optim, name)(net.parameters(), **kw)
        x, y = ember.ones(16, 30) * ember.arange(30.0) / 30, ember.zeros(16, 2)
        for _ in range(15):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            opt.step()
        plain = [p.detach().numpy() for p in net.parameters()]
    for e, t, n in zip(res[0], res[1], plain):
        assert e.dtype == np.float32
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
        if kernel_path == 'compiled':
            assert e.tobytes() == n.tobytes()
    # (amsgrad never asks; the first run's 15 steps of 4 parameters come first)
    one_pass = kernel_path == 'compiled' and kw.get('betas', (0.9,))[0] > 0.5
    assert len(passes) == (0 if kw.get('amsgrad') else 120)
    assert all(p == one_pass for p in passes[:60])


@pytest.mark.parametrize('kw', [dict(lr=0.5), dict(lr=1, line_search_fn='strong_wolfe'),
                                dict(lr=0.3, history_size=3, max_iter=5)])
def test_lbfgs(kw):
    results = []
    for lib in (ember, torch):
        params, loss_fn = _problem(lib)
        opt = lib.optim.LBFGS(params, **kw)

        def closure():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss
        losses = [float(opt.step(closure).detach()) for _ in range(3)]
        results.append((params, losses, opt))
    (ep, el, eo), (tp, tl, to) = results
    np.testing.assert_allclose(el, tl, rtol=1e-6)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6,
                                   atol=1e-10)
    assert repr(eo) == repr(to)
    es, ts = eo.state[ep[0]], to.state[tp[0]]
    assert es['func_evals'] == ts['func_evals'] and es['n_iter'] == ts['n_iter']


def _to_ember(obj):
    """A torch state_dict converted to ember through NumPy."""
    if torch.is_tensor(obj):
        return ember.from_numpy(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_ember(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_ember(v) for v in obj]
    return obj


@pytest.mark.parametrize('name,kw', [c for c in CASES if c[0] in ('SGD', 'Adam', 'NAdam',
                                                                   'RMSprop', 'Adagrad')][::2])
def test_load_torch_state_dict_continues_trajectory(name, kw):
    # torch runs 10 steps and saves; ember loads the weights and the optimizer state, then
    # both run 10 more steps
    tp, to = _run(torch, name, kw, steps=10)
    sd = copy.deepcopy(to.state_dict())
    ep, _ = _problem(ember)
    for e, t in zip(ep, tp):
        e.data = ember.from_numpy(t.detach().numpy().copy())
    eo = getattr(ember.optim, name)(ep, **kw)
    eo.load_state_dict(_to_ember(sd))
    assert eo.state_dict()['param_groups'] == to.state_dict()['param_groups']
    for opt, params, lib in ((eo, ep, ember), (to, tp, torch)):
        for _ in range(10):
            opt.zero_grad()
            _loss_on(lib, params).backward()
            opt.step()
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6,
                                   atol=1e-12)


def _loss_on(lib, params, seed=0):
    r = np.random.default_rng(seed)
    X = lib.from_numpy(r.standard_normal((16, 4)))
    Y = lib.from_numpy(r.standard_normal((16, 3)))
    out = (X.matmul(params[0].t()) + params[1]).tanh()
    return ((out - Y) ** 2).mean() + (params[0] ** 2).sum() * 0.01


def test_state_dict_round_trip_and_errors():
    ep, _ = _problem(ember)
    opt = ember.optim.Adam([{'params': [ep[0]]}, {'params': [ep[1]], 'lr': 0.1}], lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        _loss_on(ember, ep).backward()
        opt.step()
    sd = opt.state_dict()
    assert sd['param_groups'][0]['params'] == [0] and sd['param_groups'][1]['params'] == [1]
    ep2, _ = _problem(ember)
    opt2 = ember.optim.Adam([{'params': [ep2[0]]}, {'params': [ep2[1]]}], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]['lr'] == 0.1 and opt2.param_groups[1]['params'][0] is ep2[1]
    assert float(opt2.state[ep2[0]]['step']) == 3.0
    with pytest.raises(ValueError, match="different number of parameter groups"):
        ember.optim.Adam(ep2).load_state_dict(sd)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        ember.optim.SGD([{'params': ep2}, {'params': ep2[:1]}], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        ember.optim.SGD(ep2, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ember.optim.Adam(ep2, lr=-1)
    with pytest.raises(TypeError, match="params argument given to the optimizer"):
        ember.optim.SGD(ep2[0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        ember.optim.SGD([ep2[0] * 2], lr=0.1)


def test_hooks_zero_grad_and_named_params():
    ep, _ = _problem(ember)
    opt = ember.optim.SGD(ep, lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append('pre'))
    opt.register_step_post_hook(lambda o, a, k: calls.append('post'))
    _loss_on(ember, ep).backward()
    opt.step()
    assert calls == ['pre', 'post']
    h1.remove()
    opt.step()
    assert calls == ['pre', 'post', 'post']
    opt.zero_grad(set_to_none=False)
    assert ep[0].grad is not None and not ep[0].grad.numpy().any()
    opt.zero_grad()
    assert ep[0].grad is None
    m = enn.Linear(3, 2)
    opt = ember.optim.SGD(m.named_parameters(), lr=0.1)
    assert opt.param_groups[0]['param_names'] == ['weight', 'bias']
    tm = torch.nn.Linear(3, 2)
    assert repr(opt) == repr(torch.optim.SGD(tm.named_parameters(), lr=0.1))
