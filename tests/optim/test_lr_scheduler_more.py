"""The schedulers against torch beyond plain stepping: tensor learning rates, the closed form
(step(epoch)), resuming with last_epoch, two schedulers on one optimizer, state dicts crossing
between the libraries, the warnings torch gives and argument errors."""
import warnings

import numpy as np
import pytest

import ember

from ._util import convert
from .test_lr_scheduler import SCHEDULERS

torch = pytest.importorskip("torch")


def _opt(lib, name='SGD', tensor_lr=False, **kw):
    p1 = lib.nn.Parameter(lib.zeros(2))
    p2 = lib.nn.Parameter(lib.zeros(3))
    lr1, lr2 = (lib.tensor(0.1), lib.tensor(0.05)) if tensor_lr else (0.1, 0.05)
    kw = kw or dict(momentum=0.9)
    return getattr(lib.optim, name)([{'params': [p1], 'lr': lr1}, {'params': [p2], 'lr': lr2}],
                                    lr=lr1, **kw)


IDS = [f'{n}-{i}' for i, (n, _) in enumerate(SCHEDULERS)]


def _record(fn):
    """Run fn, returning its result and the warnings it gave (category and message)."""
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        out = fn()
    return out, [(w.category.__name__, str(w.message)) for w in ws]


def _num(v):
    return float(v.item()) if hasattr(v, 'item') else float(v)


def _lrs(sched, opt):
    return [_num(v) for v in sched.get_last_lr()] + [
        _num(g.get('momentum', g.get('betas', (0,))[0])) for g in opt.param_groups]


def _plain_state(sd):
    out = {}
    for k, v in sd.items():
        if k in ('_scale_fn_ref', 'anneal_func') or callable(v):
            continue
        if isinstance(v, list):
            v = [_num(x) if hasattr(x, 'item') else x for x in v]
        out[k] = v
    return out


@pytest.mark.parametrize('name,kw', SCHEDULERS, ids=IDS)
def test_tensor_learning_rates_and_warnings(name, kw):
    res = []
    for lib in (ember, torch):
        opt = _opt(lib, tensor_lr=name not in ('CyclicLR', 'OneCycleLR'))
        sched, w0 = _record(lambda: getattr(lib.optim.lr_scheduler, name)(opt, **kw))
        # the scheduler stepped before the optimizer: torch's warning
        _, w1 = _record(sched.step)
        lrs = [_lrs(sched, opt)]
        ws = []
        for _ in range(40):
            opt.step()
            _, w = _record(sched.step)
            ws += w
            lrs.append(_lrs(sched, opt))
        _, w2 = _record(sched.get_lr)
        kinds = {type(g['lr']).__name__ for g in opt.param_groups}
        res.append((np.array(lrs), w0, w1, ws, w2, kinds, _plain_state(sched.state_dict())))
    (e, *ew), (t, *tw) = res
    np.testing.assert_allclose(e, t, rtol=1e-6 if name not in ('CyclicLR', 'OneCycleLR')
                               else 1e-12)
    assert ew[:4] == tw[:4]
    assert ew[4] == {'Tensor'} if 'Tensor' in str(tw[4]) else ew[4] == tw[4]
    assert ew[5].keys() == tw[5].keys()


CLOSED = ['StepLR', 'MultiStepLR', 'ConstantLR', 'LinearLR', 'ExponentialLR', 'PolynomialLR',
          'CosineAnnealingLR', 'CosineAnnealingWarmRestarts', 'LambdaLR', 'CyclicLR']


@pytest.mark.parametrize('name,kw', [c for c in SCHEDULERS if c[0] in CLOSED],
                         ids=[i for i, c in zip(IDS, SCHEDULERS) if c[0] in CLOSED])
def test_step_with_epoch_uses_the_closed_form(name, kw):
    res = []
    for lib in (ember, torch):
        opt = _opt(lib)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        out, ws = [], []
        for epoch in [0, 1, 2, 7, 3, 15, 15, 40, 12, 2, 29]:
            opt.step()
            _, w = _record(lambda: sched.step(epoch))
            ws += w
            out.append(_lrs(sched, opt))
            opt.step()
            sched.step()
            out.append(_lrs(sched, opt))
        res.append((np.array(out), ws, sched.last_epoch))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    assert res[0][1:] == res[1][1:]


@pytest.mark.parametrize('name,kw', SCHEDULERS, ids=IDS)
def test_resume_with_last_epoch_and_torch_state_dict(name, kw):
    res = []
    for lib in (ember, torch):
        opt = _opt(lib)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for _ in range(9):
                opt.step()
                sched.step()
        res.append((opt.state_dict(), sched.state_dict()))
    # ember's scheduler, built to resume at epoch 8, loads torch's state and continues as
    # torch's own resumed scheduler does
    out = []
    for lib in (ember, torch):
        opt = _opt(lib)
        opt.load_state_dict(convert(lib, res[1][0]))
        sched = getattr(lib.optim.lr_scheduler, name)(opt, last_epoch=8, **kw)
        sched.load_state_dict(convert(lib, res[1][1]))
        lrs = []
        for _ in range(20):
            opt.step()
            sched.step()
            lrs.append(_lrs(sched, opt))
        out.append(np.array(lrs))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)
    assert _plain_state(res[0][1]).keys() == _plain_state(res[1][1]).keys()


def test_two_schedulers_on_one_optimizer_chain():
    res = []
    for lib in (ember, torch):
        L = lib.optim.lr_scheduler
        opt = _opt(lib)
        a = L.StepLR(opt, 4, 0.5)
        b = L.ExponentialLR(opt, 0.9)
        c = L.MultiStepLR(opt, [3, 11], 0.2)
        lrs = []
        for _ in range(25):
            opt.step()
            for s in (a, b, c):
                s.step()
            lrs.append(a.get_last_lr() + b.get_last_lr() + c.get_last_lr())
        res.append(np.array(lrs))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@pytest.mark.parametrize('build', [
    lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, 0.1, total_iters=2),
                                    L.ExponentialLR(o, 0.9)], milestones=[2]),
    lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.5, total_iters=3),
                                    L.StepLR(o, 3, 0.5), L.PolynomialLR(o, 10, 2.0)],
                                milestones=[4, 9]),
    lambda L, o: L.ChainedScheduler([L.LinearLR(o, 0.3, total_iters=5),
                                     L.CosineAnnealingLR(o, 12)], optimizer=o),
    lambda L, o: L.SequentialLR(o, [L.ChainedScheduler([L.ConstantLR(o, 0.5, total_iters=3),
                                                        L.ExponentialLR(o, 0.95)]),
                                    L.CosineAnnealingWarmRestarts(o, 4)], milestones=[6]),
])
def test_composite_schedulers(build):
    res = []
    for lib in (ember, torch):
        opt = _opt(lib)
        s, w0 = _record(lambda: build(lib.optim.lr_scheduler, opt))
        lrs = [_lrs(s, opt)]
        for _ in range(30):
            opt.step()
            s.step()
            lrs.append(_lrs(s, opt))
        sd = s.state_dict()
        s2 = build(lib.optim.lr_scheduler, _opt(lib))
        s2.load_state_dict(sd)
        res.append((np.array(lrs), w0, sorted(sd), s2.last_epoch if hasattr(s2, 'last_epoch')
                    else None))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    assert res[0][1:] == res[1][1:]


ERRORS = [
    ('StepLR', lambda L, o: L.StepLR(object(), 3)),
    ('ConstantLR', lambda L, o: L.ConstantLR(o, factor=1.5)),
    ('LinearLR', lambda L, o: L.LinearLR(o, start_factor=0)),
    ('LinearLR', lambda L, o: L.LinearLR(o, end_factor=1.5)),
    ('LambdaLR', lambda L, o: L.LambdaLR(o, [lambda e: 1.0])),
    ('MultiplicativeLR', lambda L, o: L.MultiplicativeLR(o, 0.5)),
    ('StepLR', lambda L, o: L.StepLR(o, 3, last_epoch=4)),
    ('CosineAnnealingWarmRestarts', lambda L, o: L.CosineAnnealingWarmRestarts(o, 0)),
    ('CosineAnnealingWarmRestarts', lambda L, o: L.CosineAnnealingWarmRestarts(o, 2, 0)),
    ('CosineAnnealingWarmRestarts', lambda L, o: L.CosineAnnealingWarmRestarts(o, 2, 1, '0')),
    ('CosineAnnealingWarmRestarts', lambda L, o: L.CosineAnnealingWarmRestarts(o, 2).step(-1)),
    ('CyclicLR', lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode='square')),
    ('CyclicLR', lambda L, o: L.CyclicLR(o, [0.1], 1.0)),
    ('CyclicLR', lambda L, o: L.CyclicLR(o, 0.1, 1.0, base_momentum=[0.1],
                                         max_momentum=[0.2])),
    ('OneCycleLR', lambda L, o: L.OneCycleLR(o, 0.1)),
    ('OneCycleLR', lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0)),
    ('OneCycleLR', lambda L, o: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=2)),
    ('OneCycleLR', lambda L, o: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-2)),
    ('OneCycleLR', lambda L, o: L.OneCycleLR(o, 0.1, total_steps=5, pct_start=1.5)),
    ('OneCycleLR', lambda L, o: L.OneCycleLR(o, 0.1, total_steps=5, anneal_strategy='exp')),
    ('OneCycleLR', lambda L, o: L.OneCycleLR(o, 0.1, total_steps=5, base_momentum=[0.1],
                                             max_momentum=[0.2])),
    ('OneCycleLR', lambda L, o: _step_n(L.OneCycleLR(o, 0.1, total_steps=2), 3)),
    ('ReduceLROnPlateau', lambda L, o: L.ReduceLROnPlateau(o, mode='avg')),
    ('ReduceLROnPlateau', lambda L, o: L.ReduceLROnPlateau(o, threshold_mode='x')),
    ('ReduceLROnPlateau', lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1])),
    ('SequentialLR', lambda L, o: L.SequentialLR(o, [], [])),
    ('SequentialLR', lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2)], [3])),
    ('SequentialLR', lambda L, o: L.SequentialLR(o, [L.ReduceLROnPlateau(o)], [])),
    ('SequentialLR', lambda L, o: L.SequentialLR(o, [object()], [])),
    ('ChainedScheduler', lambda L, o: L.ChainedScheduler([])),
    ('ChainedScheduler', lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), L.StepLR(
        _opt(ember if L is ember.optim.lr_scheduler else torch), 2)])),
    ('CyclicLR', lambda L, o: L.CyclicLR(_adagrad(L), 0.1, 1.0)),
    ('LRScheduler', lambda L, o: L.LRScheduler(o).get_lr()),
]


def _step_n(sched, n):
    for _ in range(n):
        sched.step()


def _adagrad(L):
    lib = ember if L is ember.optim.lr_scheduler else torch
    return lib.optim.Adagrad([lib.nn.Parameter(lib.zeros(2))])


@pytest.mark.parametrize('name,build', ERRORS, ids=[f'{n}-{i}' for i, (n, _) in
                                                   enumerate(ERRORS)])
def test_errors_as_torch(name, build):
    res = []
    for lib in (ember, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                build(lib.optim.lr_scheduler, _opt(lib))
        except Exception as e:  # noqa: BLE001 - the error itself is what is compared
            msg = str(e).replace('torch.optim', 'X').replace('ember.optim', 'X')
            # the optimizer's repr is part of some messages: same text, other addresses
            res.append((type(e).__name__, msg.split(' object at ')[0]))
        else:
            res.append('ok')
    assert res[1] != 'ok'
    assert res[0] == res[1]


def test_reduce_lr_on_plateau_modes_tensor_lr_and_state():
    metrics = list(np.linspace(1, 0.5, 6)) + [0.6] * 8 + [0.4, 0.45] * 5
    for kw in [dict(mode='max', threshold_mode='abs', patience=1),
               dict(mode='min', threshold_mode='abs', threshold=0.05, patience=2, cooldown=2),
               dict(mode='max', factor=0.5, patience=0, eps=0.01, min_lr=0.02)]:
        res = []
        for lib in (ember, torch):
            opt = _opt(lib, tensor_lr=True)
            s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            lrs, ws = [], []
            for i, m in enumerate(metrics):
                opt.step()
                _, w = _record(lambda: s.step(m, epoch=i if i % 5 == 4 else None))
                ws += w
                lrs.append([_num(v) for v in s.get_last_lr()])
            res.append((np.array(lrs), ws, _plain_state(s.state_dict())))
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
        assert res[0][1:] == res[1][1:]
    # the optimizer gained a group: torch's error when min_lr was a list
    for lib in (ember, torch):
        opt = _opt(lib)
        s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.0, 0.0], patience=0)
        opt.add_param_group({'params': [lib.nn.Parameter(lib.zeros(1))]})
        s.step(1.0)
        with pytest.raises(RuntimeError, match='The number of param groups in the `optimizer` '
                                               r'\(3\) differs'):
            s.step(2.0)
