"""Each optimizer's argument checks and flags against torch: same error type and message."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

BETAS = ['Adam', 'AdamW', 'Adamax', 'NAdam', 'RAdam']
ALL = ['SGD', 'Adam', 'AdamW', 'Adamax', 'NAdam', 'RAdam', 'Adagrad', 'Adadelta', 'RMSprop',
       'LBFGS']

# (optimizer, keyword arguments); tensors are given as ('T', value) and built per library
CASES = [(n, dict(lr=-1)) for n in ALL] + [(n, dict(lr=-1e-3)) for n in ALL] + [
    (n, dict(lr=('T', [0.1, 0.2]))) for n in ALL] + [
    ('SGD', dict(lr=0.1, momentum=-0.5)),
    ('SGD', dict(lr=0.1, weight_decay=-1)),
    ('SGD', dict(lr=0.1, nesterov=True)),
    ('SGD', dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ('SGD', dict(lr=0.1, fused=True, foreach=True)),
    ('SGD', dict(lr=0.1, fused=True, differentiable=True)),
    ('SGD', dict(lr=-1, momentum=-1)),
    ('Adagrad', dict(lr_decay=-1)),
    ('Adagrad', dict(weight_decay=-1)),
    ('Adagrad', dict(initial_accumulator_value=-0.1)),
    ('Adagrad', dict(eps=-1)),
    ('Adagrad', dict(fused=True, foreach=True)),
    ('Adagrad', dict(fused=True, differentiable=True)),
    ('Adadelta', dict(rho=1.5)),
    ('Adadelta', dict(rho=-0.1)),
    ('Adadelta', dict(eps=-1)),
    ('Adadelta', dict(weight_decay=-1)),
    ('RMSprop', dict(eps=-1)),
    ('RMSprop', dict(momentum=-1)),
    ('RMSprop', dict(weight_decay=-1)),
    ('RMSprop', dict(alpha=-1)),
    ('RMSprop', dict(eps=-1, alpha=-1)),
    ('NAdam', dict(momentum_decay=-1)),
] + [c for n in BETAS for c in [
    (n, dict(eps=-1)),
    (n, dict(betas=(1.0, 0.9))),
    (n, dict(betas=(-0.5, 0.9))),
    (n, dict(betas=(0.9, 1.0))),
    (n, dict(betas=(0.9, -0.1))),
    (n, dict(weight_decay=-1)),
    (n, dict(eps=-1, betas=(2.0, 0.9))),
    (n, dict(betas=(('T', [0.9, 0.8]), ('T', 0.99)))),
]] + [c for n in ('Adam', 'AdamW') for c in [
    (n, dict(betas=(0, 0.9))),
    (n, dict(betas=(('T', 0.9), 0.99))),
    (n, dict(betas=(('T', 0.9), ('T', 0.99)), foreach=True)),
    (n, dict(lr=('T', 0.01), foreach=True)),
    (n, dict(fused=True, foreach=True)),
    (n, dict(fused=True, differentiable=True)),
]]


def _build(lib, kw):
    def conv(v):
        if isinstance(v, tuple) and len(v) == 2 and v[0] == 'T':
            return lib.tensor(v[1])
        if isinstance(v, tuple):
            return tuple(conv(x) for x in v)
        return v
    return {k: conv(v) for k, v in kw.items()}


def _outcome(lib, name, kw, steps=0):
    p = lib.nn.Parameter(lib.from_numpy(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)))
    try:
        opt = getattr(lib.optim, name)([p], **_build(lib, kw))
        for _ in range(steps):
            if name == 'LBFGS':
                opt.step(lambda: (p ** 2).sum())
            else:
                opt.zero_grad()
                (p ** 2).sum().backward()
                opt.step()
    except Exception as e:  # noqa: BLE001 - the error itself is what is compared
        return type(e).__name__, str(e)
    return 'ok', p.detach().numpy().copy()


@pytest.mark.parametrize('name,kw', CASES, ids=[f'{n}-{i}' for i, (n, _) in enumerate(CASES)])
def test_invalid_arguments_raise_as_torch(name, kw):
    e, t = _outcome(ember, name, kw), _outcome(torch, name, kw)
    assert t[0] != 'ok', "every case here is one torch refuses"
    assert e == t


CAPTURABLE = [(n, dict(capturable=True)) for n in BETAS + ['Adadelta', 'RMSprop']] + [
    (n, dict(capturable=True, foreach=True)) for n in BETAS + ['Adadelta', 'RMSprop']]


@pytest.mark.parametrize('name,kw', CAPTURABLE,
                         ids=[f'{n}-{"foreach" if "foreach" in k else "single"}'
                              for n, k in CAPTURABLE])
def test_capturable_on_cpu_fails_in_step_as_torch(name, kw):
    e, t = _outcome(ember, name, kw, steps=1), _outcome(torch, name, kw, steps=1)
    assert t[0] == 'AssertionError'
    assert e == t


# flags torch accepts on the CPU: the trajectory is the plain one
ACCEPTED = [('SGD', dict(lr=0.1, momentum=0.9, foreach=True)),
            ('SGD', dict(lr=0.1, momentum=0.9, fused=True)),
            ('Adam', dict(lr=0.1, fused=True)),
            ('AdamW', dict(lr=0.1, foreach=True)),
            ('Adagrad', dict(lr=0.1, fused=True)),
            ('RMSprop', dict(lr=0.01, foreach=True)),
            ('SGD', dict(lr=('T', 0.1), momentum=('T', 0.9), weight_decay=('T', 0.01))),
            ('SGD', dict(lr=('T', [0.1]))),
            ('Adam', dict(lr=('T', 0.05), betas=(('T', [0.8]), ('T', [0.99])))),
            ('Adamax', dict(lr=0.1, betas=(('T', 0.8), ('T', 0.99)))),
            ('NAdam', dict(lr=0.1, betas=(('T', 0.8), ('T', 0.99)))),
            ('RAdam', dict(lr=0.1, betas=(('T', 0.8), ('T', 0.99)))),
            ('RMSprop', dict(lr=('T', 0.01))),
            ('LBFGS', dict(lr=('T', 0.5))),
            # NumPy scalars as hyper-parameters keep float32 updates float32
            ('Adam', dict(lr=np.float64(0.05), betas=(np.float64(0.8), 0.99),
                          weight_decay=np.float64(0.1))),
            ('SGD', dict(lr=np.float32(0.1), momentum=np.float64(0.5)))]


@pytest.mark.parametrize('name,kw', ACCEPTED, ids=[f'{n}-{i}' for i, (n, _) in enumerate(ACCEPTED)])
def test_accepted_flags_and_tensor_hyperparameters_step_as_torch(name, kw):
    e, t = _outcome(ember, name, kw, steps=3), _outcome(torch, name, kw, steps=3)
    assert e[0] == t[0] == 'ok'
    assert e[1].dtype == np.float32
    np.testing.assert_allclose(e[1], t[1], rtol=1e-5, atol=1e-6)


def test_nan_learning_rate_passes_sgd_checks_only():
    # torch's SGD tests `lr < 0` where the others test `not 0 <= lr`
    for name in ('SGD', 'Adam', 'RMSprop'):
        e, t = (_outcome(lib, name, dict(lr=float('nan'))) for lib in (ember, torch))
        assert e[0] == t[0]
        if e[0] != 'ok':
            assert e == t


def test_custom_optimizer_without_step_and_with_own_step():
    p = ember.nn.Parameter(ember.ones(2))

    class NoStep(ember.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1, differentiable=True))

    with pytest.raises(NotImplementedError):
        NoStep([p]).step()

    class Own(ember.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

        def step(self, closure=None):
            for g in self.param_groups:
                for q in g['params']:
                    q.data.add_(q.grad, alpha=-g['lr'])

    opt = Own([p])
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    (p * 3).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.7, 0.7], rtol=1e-6)
    assert calls == [1]


def test_template_step_runs_closure_hooks_and_bumps_versions():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.Adam([p], lr=0.1)
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append('pre'))
    opt.register_step_post_hook(lambda o, a, k: seen.append('post'))

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss
    v = p._version
    loss = opt.step(closure)
    assert float(loss) == 3.0 and seen == ['pre', 'post'] and p._version == v + 1
    assert opt.state[p]['step'].dtype == ember.float32 and float(opt.state[p]['step']) == 1.0
