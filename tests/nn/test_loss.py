"""Every loss against torch: value and input gradients, for each reduction, float32/float64."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ['none', 'mean', 'sum']
DTYPES = ['float32', 'float64']


def _rng(seed=0):
    return np.random.default_rng(seed)


def _pair(a, grad=False):
    """The same array as an ember and a torch tensor."""
    a = np.array(a, order='C')  # (ascontiguousarray would make 0-d arrays 1-d)
    e = ember.from_numpy(a.copy())
    t = torch.from_numpy(a.copy())
    if grad:
        e.requires_grad_()
        t.requires_grad_()
    return e, t


def _check(efn, tfn, arrays, grads, dtype, rtol=None):
    """Run both, compare the value, dtype and the gradients of every grad input."""
    rtol = rtol or (1e-5 if dtype == 'float32' else 1e-10)
    es, ts = [], []
    for a, g in zip(arrays, grads):
        e, t = _pair(a, g)
        es.append(e)
        ts.append(t)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        eo = efn(*es)
        to = tfn(*ts)
    assert tuple(eo.shape) == tuple(to.shape)
    assert str(eo.dtype) == str(to.dtype)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol,
                               atol=rtol * 10)
    if any(grads):
        up = _rng(7).standard_normal(tuple(to.shape)).astype(to.detach().numpy().dtype)
        eo.backward(ember.from_numpy(up.copy()))
        to.backward(torch.from_numpy(up.copy()))
        for e, t, g in zip(es, ts, grads):
            if g and t.grad is None:
                assert e.grad is None or not e.grad.numpy().any()
            elif g:
                np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=rtol,
                                           atol=rtol * 10)
    return eo, to


def _same_grad_fn(eo, to):
    if to.grad_fn is not None:
        assert eo.grad_fn.name() == to.grad_fn.name()


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('name', ['l1_loss', 'mse_loss', 'smooth_l1_loss', 'huber_loss',
                                  'soft_margin_loss'])
def test_pointwise_losses(name, reduction, dtype):
    r = _rng(1)
    x = r.standard_normal((4, 5)).astype(dtype) * 2
    y = r.standard_normal((4, 5)).astype(dtype) * 2
    if name == 'soft_margin_loss':
        y = np.sign(y)
    eo, to = _check(lambda a, b: getattr(EF, name)(a, b, reduction=reduction),
                    lambda a, b: getattr(TF, name)(a, b, reduction=reduction),
                    [x, y], [True, name != 'soft_margin_loss'], dtype)
    _same_grad_fn(eo, to)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_smooth_l1_beta_huber_delta(reduction):
    r = _rng(2)
    x, y = r.standard_normal((3, 7)) * 3, r.standard_normal((3, 7))
    for beta in (0.0, 0.5, 2.0):
        eo, to = _check(lambda a, b: EF.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                        lambda a, b: TF.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                        [x, y], [True, True], 'float64')
        _same_grad_fn(eo, to)
    for delta in (0.3, 1.0, 4.0):
        _check(lambda a, b: EF.huber_loss(a, b, reduction=reduction, delta=delta),
               lambda a, b: TF.huber_loss(a, b, reduction=reduction, delta=delta),
               [x, y], [True, True], 'float64')


def test_weighted_and_broadcast_regression():
    r = _rng(3)
    x, y, w = r.standard_normal((3, 4)), r.standard_normal((3, 4)), r.random((3, 4))
    for name in ('l1_loss', 'mse_loss'):
        for red in REDUCTIONS:
            _check(lambda a, b, c: getattr(EF, name)(a, b, reduction=red, weight=c),
                   lambda a, b, c: getattr(TF, name)(a, b, reduction=red, weight=c),
                   [x, y, w], [True, False, False], 'float64')
    # broadcasting target warns and broadcasts
    with pytest.warns(UserWarning, match='different to the input size'):
        EF.mse_loss(ember.zeros(3, 4), ember.zeros(4))
    _check(lambda a, b: EF.mse_loss(a, b), lambda a, b: TF.mse_loss(a, b),
           [x, y[0]], [True, True], 'float64')
    # legacy flags
    _check(lambda a, b: EF.mse_loss(a, b, size_average=False),
           lambda a, b: TF.mse_loss(a, b, size_average=False), [x, y], [True, False], 'float64')
    _check(lambda a, b: EF.l1_loss(a, b, reduce=False),
           lambda a, b: TF.l1_loss(a, b, reduce=False), [x, y], [True, False], 'float64')


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_nll_and_cross_entropy(reduction, dtype):
    r = _rng(4)
    x = r.standard_normal((6, 5)).astype(dtype)
    t = np.array([0, 4, 2, 2, 1, 3])
    w = r.random(5).astype(dtype) + 0.5
    for kw in ({}, {'weight': w}, {'ignore_index': 2}, {'weight': w, 'ignore_index': 4},
               {'label_smoothing': 0.2}, {'label_smoothing': 0.1, 'weight': w,
                                          'ignore_index': 2}):
        for name in ('cross_entropy', 'nll_loss'):
            if name == 'nll_loss' and 'label_smoothing' in kw:
                continue

            def ef(a, b, name=name, kw=kw):
                k = dict(kw)
                if 'weight' in k:
                    k['weight'] = ember.from_numpy(k['weight'])
                return getattr(EF, name)(a, b, reduction=reduction, **k)

            def tf(a, b, name=name, kw=kw):
                k = dict(kw)
                if 'weight' in k:
                    k['weight'] = torch.from_numpy(k['weight'])
                return getattr(TF, name)(a, b, reduction=reduction, **k)
            eo, to = _check(ef, tf, [x, t], [True, False], dtype)
            _same_grad_fn(eo, to)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_cross_entropy_high_rank_and_probs(reduction):
    r = _rng(5)
    x = r.standard_normal((2, 4, 3, 5))
    t = r.integers(0, 4, (2, 3, 5))
    t[0, 0, 0] = -100
    w = r.random(4) + 0.1
    for kw in ({}, {'label_smoothing': 0.3}):
        _check(lambda a, b: EF.cross_entropy(a, b, reduction=reduction, **kw),
               lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **kw),
               [x, t], [True, False], 'float64')
    _check(lambda a, b: EF.nll_loss(a, b, reduction=reduction, weight=ember.from_numpy(w)),
           lambda a, b: TF.nll_loss(a, b, reduction=reduction, weight=torch.from_numpy(w)),
           [x, t], [True, False], 'float64')
    # class probabilities (any rank), with weight and label smoothing
    p = r.random((2, 4, 3, 5))
    p /= p.sum(1, keepdims=True)
    for kw in ({}, {'label_smoothing': 0.25}):
        eo, to = _check(lambda a, b: EF.cross_entropy(a, b, reduction=reduction, **kw),
                        lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **kw),
                        [x, p], [True, True], 'float64')
    _check(lambda a, b: EF.cross_entropy(a, b, ember.from_numpy(w), reduction=reduction),
           lambda a, b: TF.cross_entropy(a, b, torch.from_numpy(w), reduction=reduction),
           [x, p], [True, False], 'float64')
    # unbatched
    _check(lambda a, b: EF.cross_entropy(a, b, reduction=reduction),
           lambda a, b: TF.cross_entropy(a, b, reduction=reduction),
           [x[0, :, 0, 0], np.array(2)], [True, False], 'float64')


def test_nll_errors():
    x = ember.randn(4, 3)
    cases = [
        (lambda: EF.nll_loss(x, ember.zeros(4)), RuntimeError,
         "expected target dtype to be Long or Byte, but got Float"),
        (lambda: EF.nll_loss(x, ember.zeros(5, dtype=ember.long)), ValueError,
         r"Expected input batch_size \(4\) to match target batch_size \(5\)."),
        (lambda: EF.nll_loss(x, ember.zeros(4, 2, dtype=ember.long)), RuntimeError,
         "0D or 1D target tensor expected, multi-target not supported"),
        (lambda: EF.nll_loss(x, ember.tensor([0, 1, 2, 3])), IndexError,
         "Target 3 is out of bounds."),
        (lambda: EF.nll_loss(ember.randn(2, 3, 4, 5), ember.zeros(2, 4, 4, dtype=ember.long)),
         RuntimeError, r"size mismatch \(got input: \[2, 3, 4, 5\] , target: \[2, 4, 4\]"),
        (lambda: EF.cross_entropy(x, ember.rand(4, 3), ignore_index=1), RuntimeError,
         "ignore_index is not supported for floating point target"),
        (lambda: EF.cross_entropy(x, ember.tensor([0, 1, 2, 1]), label_smoothing=1.5),
         RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
        (lambda: EF.mse_loss(x, x, reduction='foo'), ValueError,
         "foo is not a valid value for reduction"),
        (lambda: EF.binary_cross_entropy(ember.rand(4), ember.rand(4, 1)), ValueError,
         "is deprecated. Please ensure they have the same size."),
        (lambda: EF.binary_cross_entropy(ember.rand(4) + 1, ember.rand(4)), RuntimeError,
         "all elements of input should be between 0 and 1"),
        (lambda: EF.binary_cross_entropy_with_logits(ember.rand(4), ember.rand(4, 1)),
         ValueError, r"Target size \(torch.Size\(\[4, 1\]\)\) must be the same as input size"),
        (lambda: EF.multi_margin_loss(x, ember.tensor([0, 1, 2, 1]), p=3), ValueError,
         "only p == 1 and p == 2 supported"),
        (lambda: EF.multilabel_margin_loss(x, ember.zeros(4, 2, dtype=ember.long)),
         RuntimeError, r"inconsistent target size: \[4, 2\] for input of size: \[4, 3\]"),
        (lambda: EF.triplet_margin_loss(x, x, x, margin=0), ValueError,
         "margin must be greater than 0, got 0"),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fn()


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_binary_cross_entropies(reduction, dtype):
    r = _rng(6)
    x = r.standard_normal((4, 3)).astype(dtype) * 3
    p = (1 / (1 + np.exp(-x))).astype(dtype)
    y = r.random((4, 3)).astype(dtype)
    w = r.random((4, 3)).astype(dtype)
    pw = (r.random(3) * 2).astype(dtype)
    eo, to = _check(lambda a, b: EF.binary_cross_entropy(a, b, reduction=reduction),
                    lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction),
                    [p, y], [True, True], dtype)
    _same_grad_fn(eo, to)
    _check(lambda a, b, c: EF.binary_cross_entropy(a, b, c, reduction=reduction),
           lambda a, b, c: TF.binary_cross_entropy(a, b, c, reduction=reduction),
           [p, y, w[0]], [True, False, False], dtype)
    eo, to = _check(lambda a, b: EF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                    lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                    [x, y], [True, True], dtype)
    _same_grad_fn(eo, to)
    _check(lambda a, b, c, d: EF.binary_cross_entropy_with_logits(
               a, b, c, reduction=reduction, pos_weight=d),
           lambda a, b, c, d: TF.binary_cross_entropy_with_logits(
               a, b, c, reduction=reduction, pos_weight=d),
           [x, y, w, pw], [True, True, False, False], dtype)


def test_bce_extremes_are_stable():
    x = ember.tensor([-1000.0, 1000.0, 0.0], requires_grad=True)
    y = ember.tensor([1.0, 0.0, 1.0])
    tx = torch.tensor([-1000.0, 1000.0, 0.0], requires_grad=True)
    ty = torch.tensor([1.0, 0.0, 1.0])
    eo = EF.binary_cross_entropy_with_logits(x, y)
    to = TF.binary_cross_entropy_with_logits(tx, ty)
    np.testing.assert_allclose(eo.item(), to.item(), rtol=1e-6)
    p = ember.tensor([0.0, 1.0, 0.5])
    np.testing.assert_allclose(EF.binary_cross_entropy(p, y).item(),
                               TF.binary_cross_entropy(torch.tensor([0.0, 1.0, 0.5]),
                                                       ty).item(), rtol=1e-6)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_composite_losses(reduction):
    r = _rng(8)
    x = r.standard_normal((4, 3))
    y = r.standard_normal((4, 3))
    pos = r.random((4, 3)) + 0.1
    sign = np.sign(r.standard_normal((4, 3)))
    cases = [
        ('poisson_nll_loss', [x, pos * 3], {}),
        ('poisson_nll_loss', [pos, np.round(pos * 5)], {'log_input': False, 'full': True}),
        ('gaussian_nll_loss', [x, y, pos], {}),
        ('gaussian_nll_loss', [x, y, pos[:, :1]], {'full': True}),
        ('kl_div', [np.log(pos), pos], {}),
        ('kl_div', [np.log(pos), np.log(pos[::-1].copy())], {'log_target': True}),
        ('margin_ranking_loss', [x[:, 0], y[:, 0], sign[:, 0]], {'margin': 0.3}),
        ('hinge_embedding_loss', [x, sign], {'margin': 0.5}),
        ('multilabel_soft_margin_loss', [x, (sign > 0).astype(float)], {}),
        ('cosine_embedding_loss', [x, y, sign[:, 0]], {'margin': 0.2}),
        ('triplet_margin_loss', [x, y, pos], {}),
        ('triplet_margin_loss', [x, y, pos], {'p': 1, 'swap': True, 'margin': 2.0}),
        ('triplet_margin_with_distance_loss', [x, y, pos], {'swap': True}),
    ]
    for name, arrays, kw in cases:
        grads = [a.dtype.kind == 'f' for a in arrays]
        _check(lambda *a: getattr(EF, name)(*a, reduction=reduction, **kw),
               lambda *a: getattr(TF, name)(*a, reduction=reduction, **kw),
               arrays, grads, 'float64')
    if reduction == 'sum':
        _check(lambda a, b: EF.kl_div(a, b, reduction='batchmean'),
               lambda a, b: TF.kl_div(a, b, reduction='batchmean'),
               [np.log(pos), pos], [True, True], 'float64')
        _check(lambda *a: EF.triplet_margin_with_distance_loss(
                   *a, distance_function=lambda u, v: (u - v).abs().sum(-1)),
               lambda *a: TF.triplet_margin_with_distance_loss(
                   *a, distance_function=lambda u, v: (u - v).abs().sum(-1)),
               [x, y, pos], [True, True, True], 'float64')


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_margin_losses_fused(reduction, dtype):
    r = _rng(9)
    x = r.standard_normal((5, 4)).astype(dtype)
    t = np.array([0, 3, 1, 1, 2])
    w = (r.random(4) + 0.5).astype(dtype)
    for kw in ({}, {'p': 2, 'margin': 0.7}, {'weight': w}):
        def ef(a, b, kw=kw):
            k = dict(kw)
            if 'weight' in k:
                k['weight'] = ember.from_numpy(k['weight'])
            return EF.multi_margin_loss(a, b, reduction=reduction, **k)

        def tf(a, b, kw=kw):
            k = dict(kw)
            if 'weight' in k:
                k['weight'] = torch.from_numpy(k['weight'])
            return TF.multi_margin_loss(a, b, reduction=reduction, **k)
        eo, to = _check(ef, tf, [x, t], [True, False], dtype)
        _same_grad_fn(eo, to)
    ml = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [0, -1, 2, 2], [-1, 0, 0, 0], [2, 1, 0, 3]])
    eo, to = _check(lambda a, b: EF.multilabel_margin_loss(a, b, reduction=reduction),
                    lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction),
                    [x, ml], [True, False], dtype)
    _same_grad_fn(eo, to)
    _check(lambda a, b: EF.multilabel_margin_loss(a, b, reduction=reduction),
           lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction),
           [x[0], ml[1]], [True, False], dtype)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('zero_infinity', [False, True])
def test_ctc_loss(reduction, zero_infinity):
    r = _rng(10)
    T, N, C = 12, 3, 5
    logits = r.standard_normal((T, N, C))
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = np.array([[1, 2, 2, 3], [4, 1, 0, 0], [3, 3, 3, 3]])
    il = np.array([12, 9, 4])       # the last sequence is too short: infinite loss
    tl = np.array([4, 2, 4])
    for layout in ('padded', 'concat'):
        tg = targets if layout == 'padded' else np.concatenate(
            [targets[n, :tl[n]] for n in range(N)])

        def ef(a, layout=layout, tg=tg):
            return EF.ctc_loss(a, ember.from_numpy(tg), ember.from_numpy(il),
                               ember.from_numpy(tl), reduction=reduction,
                               zero_infinity=zero_infinity)

        def tf(a, layout=layout, tg=tg):
            return TF.ctc_loss(a, torch.from_numpy(tg), torch.from_numpy(il),
                               torch.from_numpy(tl), reduction=reduction,
                               zero_infinity=zero_infinity)
        if zero_infinity:
            _check(ef, tf, [lp], [True], 'float64')
        else:
            # infinite losses: compare the finite ones and their gradients
            e, t = _pair(lp, True)
            eo = EF.ctc_loss(e, ember.from_numpy(tg), ember.from_numpy(il),
                             ember.from_numpy(tl), reduction='none', blank=0)
            to = TF.ctc_loss(t, torch.from_numpy(tg), torch.from_numpy(il),
                             torch.from_numpy(tl), reduction='none', blank=0)
            np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-10)
            eo[:2].sum().backward()
            to[:2].sum().backward()
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    # a blank other than 0, float32 and unbatched input
    lp32 = lp.astype(np.float32)
    _check(lambda a: EF.ctc_loss(a, ember.tensor([0, 1, 0]), ember.tensor(12), ember.tensor(3),
                                 blank=4, reduction=reduction),
           lambda a: TF.ctc_loss(a, torch.tensor([0, 1, 0]), torch.tensor(12), torch.tensor(3),
                                 blank=4, reduction=reduction),
           [lp32[:, 0]], [True], 'float32', rtol=1e-4)


def test_loss_modules_match_torch():
    r = _rng(11)
    x = r.standard_normal((4, 3))
    y = r.standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    w = r.random(3) + 0.5
    pairs = [
        (enn.L1Loss(), torch.nn.L1Loss(), [x, y]),
        (enn.MSELoss(reduction='sum'), torch.nn.MSELoss(reduction='sum'), [x, y]),
        (enn.CrossEntropyLoss(weight=ember.from_numpy(w), label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w), label_smoothing=0.1), [x, t]),
        (enn.NLLLoss(ignore_index=1), torch.nn.NLLLoss(ignore_index=1), [x, t]),
        (enn.NLLLoss2d(), torch.nn.NLLLoss2d(), [x, t]),
        (enn.BCEWithLogitsLoss(pos_weight=ember.from_numpy(w)),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(w)), [x, np.abs(y) / 3]),
        (enn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5), [x, y]),
        (enn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5), [x, y]),
        (enn.PoissonNLLLoss(), torch.nn.PoissonNLLLoss(), [x, np.abs(y)]),
        (enn.GaussianNLLLoss(), torch.nn.GaussianNLLLoss(), [x, y, np.abs(y) + 0.1]),
        (enn.KLDivLoss(reduction='batchmean'), torch.nn.KLDivLoss(reduction='batchmean'),
         [x, np.abs(y)]),
        (enn.MarginRankingLoss(0.1), torch.nn.MarginRankingLoss(0.1),
         [x[:, 0], y[:, 0], np.sign(y[:, 1])]),
        (enn.HingeEmbeddingLoss(), torch.nn.HingeEmbeddingLoss(), [x, np.sign(y)]),
        (enn.SoftMarginLoss(), torch.nn.SoftMarginLoss(), [x, np.sign(y)]),
        (enn.MultiLabelSoftMarginLoss(weight=ember.from_numpy(w)),
         torch.nn.MultiLabelSoftMarginLoss(weight=torch.from_numpy(w)), [x, (y > 0) * 1.0]),
        (enn.MultiMarginLoss(p=2), torch.nn.MultiMarginLoss(p=2), [x, t]),
        (enn.MultiLabelMarginLoss(), torch.nn.MultiLabelMarginLoss(),
         [x, np.array([[1, -1, 0]] * 4)]),
        (enn.TripletMarginLoss(swap=True), torch.nn.TripletMarginLoss(swap=True), [x, y, -x]),
        (enn.TripletMarginWithDistanceLoss(margin=2.0),
         torch.nn.TripletMarginWithDistanceLoss(margin=2.0), [x, y, -x]),
        (enn.CosineEmbeddingLoss(0.1), torch.nn.CosineEmbeddingLoss(0.1),
         [x, y, np.sign(y[:, 0])]),
    ]
    for em, tm, arrays in pairs:
        if not (isinstance(em, enn.TripletMarginWithDistanceLoss)
                and not hasattr(enn, 'PairwiseDistance')):
            assert repr(em) == repr(tm)
        grads = [a.dtype.kind == 'f' and i == 0 for i, a in enumerate(arrays)]
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            _check(em, tm, arrays, grads, 'float64')
    assert repr(enn.CTCLoss()) == repr(torch.nn.CTCLoss())
    assert enn.CrossEntropyLoss().reduction == 'mean'
    with pytest.warns(UserWarning):
        assert enn.MSELoss(size_average=False).reduction == 'sum'
    m = enn.CrossEntropyLoss(weight=ember.ones(3))
    assert 'weight' in dict(m.named_buffers())
    assert isinstance(m, enn.modules.loss._WeightedLoss)
    assert isinstance(enn.L1Loss(), enn.modules.loss._Loss)


def test_linear_cross_entropy():
    r = _rng(12)
    x = r.standard_normal((5, 4))
    W = r.standard_normal((3, 4))
    b = r.standard_normal(3)
    t = np.array([0, 2, 1, 1, 0])
    for red in REDUCTIONS:
        _check(lambda a, c, d: EF.linear_cross_entropy(a, c, ember.from_numpy(t), linear_bias=d,
                                                       reduction=red),
               lambda a, c, d: TF.linear_cross_entropy(a, c, torch.from_numpy(t),
                                                       linear_bias=d, reduction=red),
               [x, W, b], [True, True, True], 'float64')
    ember.manual_seed(0)
    m = enn.LinearCrossEntropyLoss(4, 3, bias=True)
    tm = torch.nn.LinearCrossEntropyLoss(4, 3, bias=True)
    with torch.no_grad():
        tm.linear.weight.copy_(torch.from_numpy(m.linear.weight.detach().numpy()))
        tm.linear.bias.copy_(torch.from_numpy(m.linear.bias.detach().numpy()))
    assert repr(m) == repr(tm)
    xe, xt = _pair(x.astype(np.float32))
    np.testing.assert_allclose(m(xe, ember.from_numpy(t)).item(),
                               tm(xt, torch.from_numpy(t)).item(), rtol=1e-5)


def test_cross_entropy_double_backward():
    # the gradient of log_softmax is itself differentiable (gradient penalties)
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    loss = EF.cross_entropy(x * x, ember.tensor([0, 1, 3]))
    g, = ember.autograd.grad(loss, x, create_graph=True)
    g.sum().backward()
    tx = torch.from_numpy(x.detach().numpy().copy()).requires_grad_()
    tl = TF.cross_entropy(tx * tx, torch.tensor([0, 1, 3]))
    tg, = torch.autograd.grad(tl, tx, create_graph=True)
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize('dt', [np.float32, np.float64])
@pytest.mark.parametrize('n', [1, 16, 17, 64, 257, 4099, 70000])
def test_nll_loss_reduces_in_torchs_order(n, dt, kernel_path):
    # the cascade of eight partial sums (compiled, and the NumPy levels): the same bits as
    # torch, with ignored targets (which neither add nor flush a level) and class weights
    rs = np.random.RandomState(n)
    logp = (rs.randn(n, 7) * 10.0 ** rs.randint(-2, 3, (n, 1))).astype(dt)
    t = rs.randint(0, 7, n)
    t[rs.rand(n) < 0.3] = -100
    w = rs.rand(7).astype(dt)
    for reduction in ('mean', 'sum'):
        for wt in (None, w):
            a = torch.nn.functional.nll_loss(
                torch.from_numpy(logp), torch.from_numpy(t), reduction=reduction,
                weight=None if wt is None else torch.from_numpy(wt))
            b = ember.nn.functional.nll_loss(
                ember.from_numpy(logp), ember.from_numpy(t), reduction=reduction,
                weight=None if wt is None else ember.from_numpy(wt))
            assert b.dtype == (ember.float32 if dt == np.float32 else ember.float64)
            assert b.numpy().tobytes() == a.numpy().tobytes(), (reduction, wt is None)
