"""optim.swa_utils against torch: AveragedModel (SWA, EMA, buffers), update_bn and SWALR."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _models(dtype=np.float64):
    """The same small network with BatchNorm in both libraries (torch's weights copied)."""
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    edt = ember.float64 if dtype == np.float64 else ember.float32
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(),
                             torch.nn.Linear(4, 2)).to(tdt)
    em = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.Tanh(),
                             ember.nn.Linear(4, 2)).to(edt)
    em.load_state_dict({k: ember.from_numpy(v.numpy().copy())
                        for k, v in tm.state_dict().items()})
    return em, tm


def _batches(n, dtype):
    r = np.random.default_rng(5)
    return [(r.standard_normal((6, 3)).astype(dtype), r.standard_normal((6, 2)).astype(dtype))
            for _ in range(n)]


def _train_and_average(lib, model, batches, make_avg):
    avg = make_avg(lib, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for x, y in batches:
        opt.zero_grad()
        loss = ((model(lib.from_numpy(x)) - lib.from_numpy(y)) ** 2).mean()
        loss.backward()
        opt.step()
        avg.update_parameters(model)
    return avg


def _sd(sd):
    return {k: v.detach().numpy() for k, v in sd.items()}


AVERAGERS = {
    'swa': lambda lib, m: lib.optim.swa_utils.AveragedModel(m),
    'swa-multi': lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
    'swa-avg-fn': lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, avg_fn=lib.optim.swa_utils.get_swa_avg_fn()),
    'ema-multi-buffers': lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9), use_buffers=True),
    'ema-avg-fn': lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8)),
    'swa-buffers': lambda lib, m: lib.optim.swa_utils.AveragedModel(m, use_buffers=True),
}


@pytest.mark.parametrize('dtype', [np.float64, np.float32])
@pytest.mark.parametrize('kind', list(AVERAGERS))
def test_averaged_model_matches_torch(kind, dtype):
    em, tm = _models(dtype)
    batches = _batches(7, dtype)
    ea = _train_and_average(ember, em, batches, AVERAGERS[kind])
    ta = _train_and_average(torch, tm, batches, AVERAGERS[kind])
    esd, tsd = _sd(ea.state_dict()), _sd(ta.state_dict())
    assert list(esd) == list(tsd)
    for k in tsd:
        assert esd[k].dtype == tsd[k].dtype, k
        np.testing.assert_allclose(esd[k], tsd[k], rtol=1e-5 if dtype == np.float32 else 1e-10,
                                   atol=1e-6 if dtype == np.float32 else 1e-12, err_msg=k)
    assert int(ea.n_averaged) == int(ta.n_averaged) == 7
    assert repr(ea) == repr(ta)
    x = _batches(1, dtype)[0][0]
    ea.eval()
    ta.eval()
    np.testing.assert_allclose(ea(ember.from_numpy(x)).detach().numpy(),
                               ta(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    # the averaged copy is independent of the model
    assert ea.module[0].weight is not em[0].weight


def test_swa_multi_with_integer_buffers_fails_as_torch():
    out = []
    for lib, m in zip((ember, torch), _models()):
        avg = lib.optim.swa_utils.AveragedModel(
            m, multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn(), use_buffers=True)
        avg.update_parameters(m)
        m(lib.from_numpy(_batches(1, np.float64)[0][0]))
        with pytest.raises(RuntimeError) as info:
            avg.update_parameters(m)
        out.append(str(info.value).replace('  ', ' '))
    assert out[0] == out[1]


def test_helpers_check_decay_and_arguments():
    for lib in (ember, torch):
        su = lib.optim.swa_utils
        for fn in (su.get_ema_multi_avg_fn, su.get_ema_avg_fn):
            with pytest.raises(ValueError, match=r'Invalid decay value 1.5 provided. Please '
                                                 r'provide a value in \[0,1\] range.'):
                fn(1.5)
        m = lib.nn.Linear(2, 2)
        with pytest.raises(AssertionError, match='Only one of avg_fn and multi_avg_fn'):
            su.AveragedModel(m, avg_fn=su.get_ema_avg_fn(), multi_avg_fn=su.get_ema_multi_avg_fn())
    # the one-tensor helpers, called directly with a plain count
    a, c = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    for name, args in [('get_swa_avg_fn', ()), ('get_ema_avg_fn', (0.7,))]:
        res = [getattr(lib.optim.swa_utils, name)(*args)(lib.from_numpy(a), lib.from_numpy(c), 3)
               for lib in (ember, torch)]
        np.testing.assert_allclose(res[0].numpy(), res[1].numpy(), rtol=1e-15)
    for name, args in [('get_swa_multi_avg_fn', ()), ('get_ema_multi_avg_fn', (0.7,))]:
        res = []
        for lib in (ember, torch):
            ts = [lib.from_numpy(a.copy())]
            getattr(lib.optim.swa_utils, name)(*args)(ts, [lib.from_numpy(c)], 2)
            res.append(ts[0].numpy())
        np.testing.assert_allclose(res[0], res[1], rtol=1e-15)


@pytest.mark.parametrize('batch_kind', ['tensor', 'tuple'])
def test_update_bn_matches_torch(batch_kind):
    em, tm = _models()
    em.eval()
    tm.eval()
    batches = _batches(5, np.float64)
    res = []
    for lib, m in ((ember, em), (torch, tm)):
        if batch_kind == 'tensor':
            loader = [lib.from_numpy(x) for x, _ in batches]
        else:
            loader = [(lib.from_numpy(x), lib.from_numpy(y)) for x, y in batches]
        m[1].momentum = 0.3
        lib.optim.swa_utils.update_bn(loader, m)
        assert not m.training and m[1].momentum == 0.3
        res.append(_sd(m.state_dict()))
    for k in res[1]:
        np.testing.assert_allclose(res[0][k], res[1][k], rtol=1e-12, err_msg=k)
    assert int(res[0]['1.num_batches_tracked']) == 5
    # a model without BatchNorm is left alone
    lin = ember.nn.Linear(3, 2)
    ember.optim.swa_utils.update_bn([ember.ones(2, 3)], lin)


def _opt(lib):
    p1 = lib.nn.Parameter(lib.zeros(2))
    p2 = lib.nn.Parameter(lib.zeros(3))
    return lib.optim.SGD([{'params': [p1]}, {'params': [p2], 'lr': 0.05}], lr=0.1,
                         momentum=0.9)


SWALR_CASES = [dict(swa_lr=0.01), dict(swa_lr=[0.02, 0.005], anneal_epochs=4,
                                        anneal_strategy='linear'),
               dict(swa_lr=0.03, anneal_epochs=0), dict(swa_lr=0.2, anneal_epochs=1)]


@pytest.mark.parametrize('kw', SWALR_CASES)
def test_swalr_matches_torch(kw):
    res = []
    for lib in (ember, torch):
        opt = _opt(lib)
        L = lib.optim.lr_scheduler
        first = L.CosineAnnealingLR(opt, T_max=10)
        swa = lib.optim.swa_utils.SWALR(opt, **kw)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for epoch in range(30):
                opt.step()
                (first if epoch < 6 else swa).step()
                lrs.append(list(swa.get_last_lr()) + [g['lr'] for g in opt.param_groups])
        res.append((np.array(lrs), swa.state_dict(), opt.param_groups[0].keys()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    assert res[0][1] == res[1][1]
    assert res[0][2] == res[1][2]


def test_swalr_state_dict_and_errors():
    res = []
    for lib in (ember, torch):
        opt = _opt(lib)
        s = lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=5)
        for _ in range(3):
            opt.step()
            s.step()
        sd = s.state_dict()
        opt2 = _opt(lib)
        s2 = lib.optim.swa_utils.SWALR(opt2, swa_lr=0.5, anneal_strategy='linear')
        s2.load_state_dict(sd)
        opt2.load_state_dict(opt.state_dict())
        lrs = []
        for _ in range(5):
            opt2.step()
            s2.step()
            lrs.append(s2.get_last_lr())
        res.append(lrs)
        for kw, msg in [(dict(swa_lr=0.1, anneal_strategy='exp'),
                         "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
                        (dict(swa_lr=0.1, anneal_epochs=-1),
                         'anneal_epochs must be equal or greater than 0, got -1'),
                        (dict(swa_lr=[0.1]), 'swa_lr must have the same length as '
                                             'optimizer.param_groups. swa_lr has 1 values, '
                                             'param_groups has 2.')]:
            with pytest.raises(ValueError) as info:
                lib.optim.swa_utils.SWALR(opt, **kw)
            assert str(info.value) == msg
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)
