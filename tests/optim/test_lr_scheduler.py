"""Every scheduler against torch: the learning rates (and momenta) over 50 epochs."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _opt(lib, name='SGD', **kw):
    p1 = lib.nn.Parameter(lib.zeros(2))
    p2 = lib.nn.Parameter(lib.zeros(3))
    kw = kw or dict(lr=0.1, momentum=0.9)
    return getattr(lib.optim, name)([{'params': [p1]}, {'params': [p2], 'lr': 0.05}], **kw)


def _scale(x):
    return 0.9 ** x


class _Lambda:
    """A callable object: its attributes go into the state_dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


SCHEDULERS = [
    ('LambdaLR', dict(lr_lambda=lambda e: 0.95 ** e)),
    ('LambdaLR', dict(lr_lambda=[_Lambda(0.9), _Lambda(0.8)])),
    ('MultiplicativeLR', dict(lr_lambda=lambda e: 0.97)),
    ('StepLR', dict(step_size=7, gamma=0.5)),
    ('MultiStepLR', dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ('ConstantLR', dict(factor=0.25, total_iters=8)),
    ('LinearLR', dict(start_factor=0.2, end_factor=0.9, total_iters=13)),
    ('ExponentialLR', dict(gamma=0.93)),
    ('PolynomialLR', dict(total_iters=30, power=2.0)),
    ('CosineAnnealingLR', dict(T_max=12, eta_min=0.001)),
    ('CosineAnnealingWarmRestarts', dict(T_0=5, T_mult=2, eta_min=0.002)),
    ('CosineAnnealingWarmRestarts', dict(T_0=7)),
    ('CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=6, step_size_down=4)),
    ('CyclicLR', dict(base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=5, mode='triangular2')),
    ('CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode='exp_range',
                      gamma=0.95)),
    ('CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=_scale,
                      scale_mode='iterations')),
    ('OneCycleLR', dict(max_lr=0.5, total_steps=60)),
    ('OneCycleLR', dict(max_lr=[0.5, 0.3], epochs=5, steps_per_epoch=12,
                        anneal_strategy='linear', three_phase=True)),
]


def _lrs(lib, name, kw, opt_name='SGD', opt_kw=None, epochs=50):
    opt = _opt(lib, opt_name, **(opt_kw or {}))
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for _ in range(epochs):
            opt.step()
            sched.step()
            out.append(list(sched.get_last_lr()) +
                       [g.get('momentum', g.get('betas', (0,))[0]) for g in opt.param_groups])
    return out, opt, sched


@pytest.mark.parametrize('name,kw', SCHEDULERS,
                         ids=[f'{n}-{i}' for i, (n, _) in enumerate(SCHEDULERS)])
def test_learning_rates_match_torch(name, kw):
    e, eo, es = _lrs(ember, name, kw)
    t, to, ts = _lrs(torch, name, kw)
    np.testing.assert_allclose(np.array(e, dtype=float), np.array(t, dtype=float), rtol=1e-12,
                               atol=0)
    assert eo.param_groups[0].keys() - {'params'} == to.param_groups[0].keys() - {'params'}
    # the state dict holds the same entries (callables aside)
    esd, tsd = es.state_dict(), ts.state_dict()
    assert esd.keys() == tsd.keys()
    for k in tsd:
        if not callable(tsd[k]) and k not in ('_scale_fn_ref',):
            assert esd[k] == tsd[k], k


def test_adam_betas_cycle():
    kw = dict(max_lr=0.01, total_steps=50)
    e, *_ = _lrs(ember, 'OneCycleLR', kw, 'Adam', dict(lr=0.001), epochs=49)
    t, *_ = _lrs(torch, 'OneCycleLR', kw, 'Adam', dict(lr=0.001), epochs=49)
    np.testing.assert_allclose(np.array(e), np.array(t), rtol=1e-12)


def test_sequential_and_chained():
    res = []
    for lib in (ember, torch):
        L = lib.optim.lr_scheduler
        opt = _opt(lib)
        s = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=5),
                                 L.ExponentialLR(opt, 0.9),
                                 L.CosineAnnealingLR(opt, T_max=10)], milestones=[5, 20])
        opt2 = _opt(lib)
        c = L.ChainedScheduler([L.ConstantLR(opt2, factor=0.5, total_iters=4),
                                L.ExponentialLR(opt2, gamma=0.95),
                                L.StepLR(opt2, 6, 0.5)])
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for _ in range(50):
                opt.step()
                opt2.step()
                s.step()
                c.step()
                lrs.append(s.get_last_lr() + c.get_last_lr())
        res.append(np.array(lrs))
        sd = s.state_dict()
        assert len(sd['_schedulers']) == 3
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


def test_reduce_lr_on_plateau():
    metrics = [1.0, 0.9, 0.9, 0.91, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9] * 4 + [0.5]
    out = []
    for lib in (ember, torch):
        opt = _opt(lib)
        s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1,
                                                     min_lr=[0.001, 0.01], threshold=0.01)
        lrs = []
        for m in metrics:
            opt.step()
            s.step(m)
            lrs.append(s.get_last_lr())
        out.append(np.array(lrs))
        sd = s.state_dict()
        assert sd['best'] == pytest.approx(0.5) and sd['num_bad_epochs'] == 0
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)
    opt = _opt(ember)
    s = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, mode='max', threshold_mode='abs')
    with pytest.raises(ValueError, match='Factor should be < 1.0.'):
        ember.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)


def test_state_dict_round_trip_and_resume():
    res = []
    for lib in (ember, torch):
        opt = _opt(lib)
        s = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        for _ in range(7):
            opt.step()
            s.step()
        sd = s.state_dict()
        osd = opt.state_dict()
        opt2 = _opt(lib)
        opt2.load_state_dict(osd)
        s2 = lib.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10, last_epoch=6)
        s2.load_state_dict(sd)
        lrs = []
        for _ in range(10):
            opt2.step()
            s2.step()
            lrs.append(s2.get_last_lr())
        res.append(np.array(lrs))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)
    # a state saved by torch loads into ember's scheduler
    topt = _opt(torch)
    ts = torch.optim.lr_scheduler.StepLR(topt, 3, 0.5)
    for _ in range(5):
        topt.step()
        ts.step()
    eopt = _opt(ember)
    es = ember.optim.lr_scheduler.StepLR(eopt, 3, 0.5)
    es.load_state_dict(ts.state_dict())
    eopt.load_state_dict(topt.state_dict())
    for _ in range(5):
        eopt.step()
        topt.step()
        es.step()
        ts.step()
        assert es.get_last_lr() == ts.get_last_lr()


def test_warnings():
    opt = _opt(ember)
    s = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match=r'Detected call of `lr_scheduler.step\(\)` before'):
        s.step()
    with pytest.warns(UserWarning, match='please use `get_last_lr\\(\\)`'):
        s.get_lr()
    with pytest.raises(TypeError, match='is not an Optimizer'):
        ember.optim.lr_scheduler.StepLR(object(), 3)
