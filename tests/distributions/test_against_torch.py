"""Every distribution against torch's: log_prob, entropy, moments, cdf/icdf and their gradients
in float32 and float64, shapes, support and repr."""
import numpy as np
import pytest

import ember

from ._cases import CASES, build

torch = pytest.importorskip('torch')

PROPS = ('mean', 'variance', 'stddev', 'mode')


def _np(t):
    return t.detach().numpy()


def _tol(dtype, grad=False):
    if dtype == 'float32':
        return dict(rtol=1e-4, atol=1e-5)
    # ember's trigamma (digamma's derivative) is good to ~1e-9 relative, torch's to ~1e-15
    return dict(rtol=1e-7, atol=1e-9) if grad else dict(rtol=1e-9, atol=1e-10)


@pytest.fixture(params=['float64', 'float32'])
def dtype(request):
    """Both libraries run with the case's dtype as default (torch's GeneralizedPareto makes a
    default-dtype tensor and fails on float64 parameters otherwise)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, request.param))
    ember.set_default_dtype(getattr(ember, request.param))
    yield request.param
    torch.set_default_dtype(old)


@pytest.fixture
def f64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    yield
    torch.set_default_dtype(old)


def _value(td, case):
    """A valid value in torch's support, drawn by torch (of shape (2,) + batch + event)."""
    torch.manual_seed(3)
    with torch.no_grad():
        return td.sample((2,))


def _call(d, name, *args):
    """d.name(*args) (or the property), or the exception type it raises."""
    try:
        attr = getattr(d, name)
        return attr(*args) if callable(attr) else attr
    except (NotImplementedError, ValueError, RuntimeError) as e:
        return type(e)


def _same(e, t, dtype, what, grad=False):
    if isinstance(t, type):
        assert isinstance(e, type) and issubclass(e, t if t is not RuntimeError else Exception), \
            (what, e, t)
        return
    assert not isinstance(e, type), (what, e)
    assert tuple(e.shape) == tuple(t.shape), what
    assert str(e.dtype) == str(t.dtype), what
    np.testing.assert_allclose(_np(e).astype(np.float64), t.detach().numpy().astype(np.float64),
                               err_msg=what, equal_nan=True, **_tol(dtype, grad))


@pytest.mark.parametrize('case', sorted(CASES))
def test_values_and_gradients(case, dtype):
    td, tp = build(torch, case, dtype)
    ed, ep = build(ember, case, dtype)
    assert tuple(ed.batch_shape) == tuple(td.batch_shape)
    assert tuple(ed.event_shape) == tuple(td.event_shape)
    assert ed.has_rsample == td.has_rsample
    assert ed.has_enumerate_support == td.has_enumerate_support
    tv = _value(td, case)
    ev = ember.tensor(tv.numpy())
    results = []
    for name in PROPS:
        t, e = _call(td, name), _call(ed, name)
        _same(e, t, dtype, name)
    for name, targs, eargs in (('log_prob', (tv,), (ev,)), ('entropy', (), ()),
                               ('cdf', (tv,), (ev,))):
        t, e = _call(td, name, *targs), _call(ed, name, *eargs)
        _same(e, t, dtype, name)
        if not isinstance(t, type) and t.requires_grad:
            results.append((t, e))
    if not isinstance(_call(td, 'cdf', tv), type):
        tq = torch.full(td.batch_shape, 0.3, dtype=getattr(torch, dtype))
        _same(_call(ed, 'icdf', ember.tensor(tq.numpy())), _call(td, 'icdf', tq), dtype, 'icdf')
    # gradients of everything differentiable, through one weighted sum
    tk = [k for k in tp if tp[k].requires_grad]
    while results:
        tl = sum((t * (i + 1)).sum() for i, (t, _) in enumerate(results))
        el = sum((e * (i + 1)).sum() for i, (_, e) in enumerate(results))
        try:
            tg = torch.autograd.grad(tl, [tp[k] for k in tk], allow_unused=True,
                                     retain_graph=True)
        except RuntimeError:
            # torch has no such derivative (Gamma.cdf in its concentration): nor has ember
            with pytest.raises(RuntimeError):
                ember.autograd.grad(el, [ep[k] for k in tk], allow_unused=True,
                                    retain_graph=True)
            results.pop()
            continue
        eg = ember.autograd.grad(el, [ep[k] for k in tk], allow_unused=True)
        for k, a, b in zip(tk, tg, eg):
            if a is None:
                assert b is None or not np.any(_np(b)), k
            else:
                _same(b, a, dtype, f'grad {k}', grad=True)
        break


@pytest.mark.parametrize('case', sorted(CASES))
def test_repr_support_and_expand(case, f64):
    td, _ = build(torch, case, 'float64', requires_grad=False)
    ed, _ = build(ember, case, 'float64', requires_grad=False)
    assert repr(ed) == repr(td)
    try:
        ts = td.support
    except NotImplementedError:
        ts = None
    if ts is not None:
        assert repr(ed.support) == repr(ts)
    shape = (5,) + tuple(td.batch_shape)
    te, ee = td.expand(shape), ed.expand(shape)
    assert type(ee).__name__ == type(te).__name__
    assert tuple(ee.batch_shape) == tuple(te.batch_shape)
    assert tuple(ee.event_shape) == tuple(te.event_shape)
    tv = _value(te, case)
    _same(ee.log_prob(ember.tensor(tv.numpy())), te.log_prob(tv), 'float64', 'expanded log_prob')
