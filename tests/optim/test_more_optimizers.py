"""Rprop, ASGD and Adafactor against torch: trajectories in float64 and float32, the state
(ember's state_dict loads into torch and torch's into ember, both continuing the same
trajectory), repr, argument errors and flags."""
import copy

import numpy as np
import pytest

import ember

from ._util import convert

torch = pytest.importorskip("torch")

CASES = [
    ('Rprop', dict()),
    ('Rprop', dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True)),
    ('Rprop', dict(lr=0.02, foreach=True)),
    ('ASGD', dict(lr=0.05)),
    ('ASGD', dict(lr=0.05, t0=5, lambd=1e-2, alpha=0.6, weight_decay=0.1)),
    ('ASGD', dict(lr=0.05, t0=5, maximize=True, weight_decay=0.05, foreach=True)),
    ('ASGD', dict(lr=0.05, t0=3, foreach=True)),
    ('Adafactor', dict()),
    ('Adafactor', dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1,
                       maximize=True)),
    ('Adafactor', dict(lr=0.03, weight_decay=0.02, foreach=True)),
]


def _params(lib, dtype):
    r = np.random.default_rng(1)
    shapes = [(3, 4), (3,), (2, 2, 3)]
    return [lib.nn.Parameter(lib.from_numpy((r.standard_normal(s) * 0.5).astype(dtype)))
            for s in shapes]


def _loss(lib, params, k):
    # a smooth non-quadratic loss whose gradient changes sign along the way
    r = np.random.default_rng(100 + k)
    X = lib.from_numpy(r.standard_normal((8, 4)).astype(params[0].detach().numpy().dtype))
    out = (X.matmul(params[0].t()) + params[1]).tanh()
    return (out ** 2).mean() + (params[2] ** 2).sum() * 0.1 + (params[2].sin()).sum()


def _steps(lib, opt, params, start, n):
    for k in range(start, start + n):
        opt.zero_grad()
        _loss(lib, params, k).backward()
        opt.step()


def _state_np(sd):
    return {i: {k: (v.detach().numpy() if hasattr(v, 'detach') else v) for k, v in s.items()}
            for i, s in sd['state'].items()}


def _compare_states(es, ts, rtol, atol=1e-12):
    assert es['param_groups'] == ts['param_groups']
    assert es['state'].keys() == ts['state'].keys()
    e, t = _state_np(es), _state_np(ts)
    for i in t:
        assert list(e[i]) == list(t[i])
        for k in t[i]:
            if isinstance(t[i][k], np.ndarray):
                assert e[i][k].dtype == t[i][k].dtype, k
                np.testing.assert_allclose(e[i][k], t[i][k], rtol=rtol, atol=atol, err_msg=k)
            else:
                assert e[i][k] == t[i][k], k


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('name,kw', CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(CASES)])
def test_trajectory_state_and_repr_match_torch(name, kw, dtype):
    rtol = 1e-6 if dtype == np.float32 else 1e-10
    ep, tp = _params(ember, dtype), _params(torch, dtype)
    eo, to = getattr(ember.optim, name)(ep, **kw), getattr(torch.optim, name)(tp, **kw)
    assert repr(eo) == repr(to)
    for k in range(0, 24, 6):
        _steps(ember, eo, ep, k, 6)
        _steps(torch, to, tp, k, 6)
        for e, t in zip(ep, tp):
            assert e.dtype == t.dtype or str(e.dtype) == str(t.dtype)
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol,
                                       atol=1e-7 if dtype == np.float32 else 1e-12)
    # float32 gradients agree to a few ulps (their sums round differently)
    _compare_states(eo.state_dict(), to.state_dict(), rtol,
                    atol=1e-6 if dtype == np.float32 else 1e-12)


def _copy_params(lib, src):
    params = _params(lib, np.float64)
    for p, q in zip(params, src):
        p.data = lib.from_numpy(q.detach().numpy().copy())
    return params


@pytest.mark.parametrize('name,kw', CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(CASES)])
def test_state_dicts_cross_between_libraries(name, kw):
    # torch runs 10 steps and saves; a torch and an ember optimizer load that state (loading
    # casts the state as torch does) and continue; at step 15 a second torch optimizer loads
    # ember's state; all continue on the same trajectory
    tp0 = _params(torch, np.float64)
    to0 = getattr(torch.optim, name)(tp0, **kw)
    _steps(torch, to0, tp0, 0, 10)
    sd = copy.deepcopy(to0.state_dict())
    tp, ep = _copy_params(torch, tp0), _copy_params(ember, tp0)
    to, eo = getattr(torch.optim, name)(tp, **kw), getattr(ember.optim, name)(ep, **kw)
    to.load_state_dict(sd)
    eo.load_state_dict(convert(ember, sd))
    _compare_states(eo.state_dict(), to.state_dict(), 0)
    _steps(ember, eo, ep, 10, 5)
    _steps(torch, to, tp, 10, 5)
    tp2 = _copy_params(torch, ep)
    to2 = getattr(torch.optim, name)(tp2, **kw)
    to2.load_state_dict(convert(torch, eo.state_dict()))
    for opt, params, lib in ((eo, ep, ember), (to, tp, torch), (to2, tp2, torch)):
        _steps(lib, opt, params, 15, 5)
    for e, t, t2 in zip(ep, tp, tp2):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(t2.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    _compare_states(eo.state_dict(), to.state_dict(), 1e-10)
    _compare_states(to2.state_dict(), to.state_dict(), 1e-10)
    # and ember's own round trip
    eo2 = getattr(ember.optim, name)(ep, **kw)
    eo2.load_state_dict(eo.state_dict())
    _compare_states(eo2.state_dict(), eo.state_dict(), 0)


ERRORS = [
    ('Rprop', dict(lr=-1)),
    ('Rprop', dict(lr=('T', [0.1, 0.2]))),
    ('Rprop', dict(etas=(1.0, 1.2))),
    ('Rprop', dict(etas=(0.0, 1.2))),
    ('Rprop', dict(etas=(0.5, 1.0))),
    ('Rprop', dict(lr=-1, etas=(2, 1))),
    ('ASGD', dict(lr=-0.1)),
    ('ASGD', dict(lr=('T', [0.1, 0.2]))),
    ('ASGD', dict(weight_decay=-1)),
    ('Adafactor', dict(lr=-1)),
    ('Adafactor', dict(lr=('T', [0.1, 0.2]))),
    ('Adafactor', dict(beta2_decay=0.1)),
    ('Adafactor', dict(eps=(-1.0, 1e-3))),
    ('Adafactor', dict(eps=(None, -1e-3))),
    ('Adafactor', dict(d=0.5)),
    ('Adafactor', dict(weight_decay=-0.5)),
]
CAPTURABLE = [('Rprop', dict(capturable=True)), ('Rprop', dict(capturable=True, foreach=True)),
              ('ASGD', dict(capturable=True)), ('ASGD', dict(capturable=True, foreach=True))]


def _build(lib, kw):
    return {k: lib.tensor(v[1]) if isinstance(v, tuple) and v and v[0] == 'T' else v
            for k, v in kw.items()}


def _outcome(lib, name, kw, steps=0):
    p = lib.nn.Parameter(lib.from_numpy(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)))
    try:
        opt = getattr(lib.optim, name)([p], **_build(lib, kw))
        for _ in range(steps):
            opt.zero_grad()
            (p ** 3).sum().backward()
            opt.step()
    except Exception as e:  # noqa: BLE001 - the error itself is what is compared
        return type(e).__name__, str(e)
    return 'ok', p.detach().numpy().copy()


@pytest.mark.parametrize('name,kw', ERRORS + CAPTURABLE,
                         ids=[f'{n}-{i}' for i, (n, _) in enumerate(ERRORS + CAPTURABLE)])
def test_errors_as_torch(name, kw):
    steps = 1 if 'capturable' in kw else 0
    e, t = _outcome(ember, name, kw, steps), _outcome(torch, name, kw, steps)
    assert t[0] != 'ok'
    assert e == t


@pytest.mark.parametrize('name,kw', [('Rprop', dict(lr=('T', 0.05))),
                                     ('ASGD', dict(lr=('T', 0.05), t0=1)),
                                     ('Adafactor', dict(lr=('T', 0.05)))])
def test_tensor_lr_steps_as_torch(name, kw):
    e, t = _outcome(ember, name, kw, 5), _outcome(torch, name, kw, 5)
    assert e[0] == t[0] == 'ok' and e[1].dtype == np.float32
    np.testing.assert_allclose(e[1], t[1], rtol=1e-6, atol=1e-7)
