"""torch.masked against torch: the masked reductions and normalisations (values, dtypes,
gradients, gradcheck, errors) and MaskedTensor (construction, printing, elementwise ops,
reductions, views)."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

from tests.ops.op_db import OpInfo, Sample, FLOAT, make  # noqa: E402
from tests.ops._compare import assert_same, run_both  # noqa: E402
from tests.ops import test_ops as _t  # noqa: E402

warnings.filterwarnings('ignore', message='.*prototype stage.*')


def _mask(rng, shape, full_row=False):
    m = rng.random(shape) > 0.4
    if full_row and len(shape) >= 2:
        m[0] = False      # one slice entirely masked out
    return m


def _reduce_samples(dims=True, tuple_dims=True, full_row=True, **kw):
    def gen(rng, dt):
        lo = 0.5 if kw.pop('_positive', False) else -2.0
        out = [Sample(make(rng, (3, 4), dt, lo), mask=_mask(rng, (3, 4)), **kw),
               Sample(make(rng, (3, 4), dt, lo), mask=_mask(rng, (4,)), **kw),
               Sample(make(rng, (3, 4), dt, lo)),
               Sample(make(rng, (3, 4), dt, lo, layout='t'), mask=_mask(rng, (3, 4)), **kw)]
        if dims:
            out += [Sample(make(rng, (3, 4), dt, lo), 1, mask=_mask(rng, (3, 4), full_row),
                           **kw),
                    Sample(make(rng, (2, 3, 4), dt, lo), -1, keepdim=True,
                           mask=_mask(rng, (2, 3, 4)), **kw)]
        if tuple_dims:
            out.append(Sample(make(rng, (2, 3, 4), dt, lo), (0, 2),
                              mask=_mask(rng, (2, 3, 4)), **kw))
        return out
    return gen


def _dim_samples(extra=(), **kw):
    def gen(rng, dt):
        return [Sample(make(rng, (3, 4), dt), 1, *extra, mask=_mask(rng, (3, 4), True), **kw),
                Sample(make(rng, (2, 3, 4), dt), 0, *extra, mask=_mask(rng, (2, 3, 4)), **kw),
                Sample(make(rng, (3, 4), dt), -1, *extra, **kw)]
    return gen


def _m(name, **kw):
    return lambda lib, *a, **k: getattr(lib.masked, name)(*a, **k)


NUMERIC = FLOAT + ('int64',)
OPS = [
    OpInfo('masked.sum', _m('sum'), _reduce_samples(), dtypes=NUMERIC + ('bool',),
           grad_fn='SumBackward1'),
    OpInfo('masked.prod', _m('prod'), _reduce_samples(), dtypes=NUMERIC),
    OpInfo('masked.amax', _m('amax'), _reduce_samples(full_row=False), dtypes=NUMERIC),
    OpInfo('masked.amin', _m('amin'), _reduce_samples(full_row=False), dtypes=NUMERIC),
    OpInfo('masked.argmax', _m('argmax'), _reduce_samples(tuple_dims=False), dtypes=NUMERIC,
           grad=False),
    OpInfo('masked.argmin', _m('argmin'), _reduce_samples(tuple_dims=False), dtypes=NUMERIC,
           grad=False),
    OpInfo('masked.mean', _m('mean'), _reduce_samples(), dtypes=FLOAT, gradcheck=False),
    OpInfo('masked.mean_int', _m('mean'), _reduce_samples(), dtypes=('int64',), grad=False),
    OpInfo('masked.median', _m('median'), lambda rng, dt: [
        Sample(make(rng, (3, 5), dt), mask=_mask(rng, (3, 5), True)),
        Sample(make(rng, (3, 5), dt), 0, mask=_mask(rng, (3, 5))),
        Sample(make(rng, (2, 3, 4), dt), 1, keepdim=True, mask=_mask(rng, (2, 3, 4))),
        Sample(make(rng, (3, 4), dt), 1, mask=np.ones((3, 4), bool))], dtypes=NUMERIC),
    OpInfo('masked.logsumexp', _m('logsumexp'), _reduce_samples(), dtypes=FLOAT),
    OpInfo('masked.norm', _m('norm'), lambda rng, dt: [
        Sample(make(rng, (3, 4), dt), 2.0, mask=_mask(rng, (3, 4))),
        Sample(make(rng, (3, 4), dt), 1.0, 1, mask=_mask(rng, (3, 4))),
        Sample(make(rng, (3, 4), dt), float('inf'), 0, keepdim=True, mask=_mask(rng, (3, 4))),
        Sample(make(rng, (3, 4), dt), float('-inf'), 1, mask=_mask(rng, (3, 4))),
        Sample(make(rng, (2, 3, 4), dt), 3.0, (0, 2), mask=_mask(rng, (2, 3, 4)))],
        dtypes=FLOAT, gradcheck=False),
    OpInfo('masked.var', _m('var'), _reduce_samples(), dtypes=FLOAT, gradcheck=False),
    OpInfo('masked.var_unbiased', _m('var'), lambda rng, dt: [
        Sample(make(rng, (3, 4), dt), 1, False, mask=_mask(rng, (3, 4))),
        Sample(make(rng, (3, 4), dt), 0, correction=0, keepdim=True, mask=_mask(rng, (3, 4))),
        Sample(make(rng, (3, 4), dt), None, correction=2, mask=_mask(rng, (3, 4)))],
        dtypes=FLOAT + ('int64',), gradcheck=False),
    OpInfo('masked.std', _m('std'), _reduce_samples(), dtypes=FLOAT, gradcheck=False),
    OpInfo('masked.cumsum', _m('cumsum'), _dim_samples(), dtypes=NUMERIC),
    OpInfo('masked.cumprod', _m('cumprod'), _dim_samples(), dtypes=NUMERIC),
    OpInfo('masked.softmax', _m('softmax'), _dim_samples(), dtypes=FLOAT),
    OpInfo('masked.log_softmax', _m('log_softmax'), _dim_samples(), dtypes=FLOAT),
    OpInfo('masked.softmin', _m('softmin'), _dim_samples(), dtypes=FLOAT),
    OpInfo('masked.normalize', _m('normalize'), lambda rng, dt: [
        Sample(make(rng, (3, 4), dt), 2.0, 1, mask=_mask(rng, (3, 4))),
        Sample(make(rng, (2, 3, 4), dt), 1.0, 0, mask=_mask(rng, (2, 3, 4)), eps=1e-3),
        Sample(make(rng, (3, 4), dt), 2.0, -1)], dtypes=FLOAT),
    OpInfo('masked.logaddexp', _m('logaddexp'), lambda rng, dt: [
        Sample(make(rng, (3, 4), dt), make(rng, (3, 4), dt), input_mask=_mask(rng, (3, 4)),
               other_mask=_mask(rng, (3, 4))),
        Sample(make(rng, (3, 4), dt), make(rng, (4,), dt), input_mask=_mask(rng, (4,))),
        Sample(make(rng, (3,), dt), make(rng, (3,), dt))], dtypes=FLOAT),
]


test_forward, test_grad, test_gradcheck, _ = _t.table_tests(OPS)


def test_mean_var_gradcheck_where_defined():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    mask = ember.tensor(rng.random((3, 4)) > 0.3)
    mask[:2, :] = True
    for fn in (lambda t: ember.masked.mean(t, 0, mask=mask),
               lambda t: ember.masked.var(t, 0, mask=mask),
               lambda t: ember.masked.std(t, (0, 1), mask=mask),
               lambda t: ember.masked.norm(t, 2.0, 1, mask=mask)):
        assert ember.autograd.gradcheck(fn, (x,))


def test_errors():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match='Could not infer output dtype'):
            lib.masked.mean(lib.ones(3, dtype=lib.int64), mask=lib.ones(3, dtype=lib.bool))
        with pytest.raises(IndexError, match='higher than of the input'):
            lib.masked.sum(lib.ones(3), mask=lib.ones(2, 3, dtype=lib.bool))
        with pytest.raises(RuntimeError, match='appears multiple times'):
            lib.masked.sum(lib.ones(3, 2), (0, 0))
        with pytest.raises(ValueError, match='fully masked out rows'):
            lib.masked.median(lib.ones(2, 3, dtype=lib.int64), 1,
                              mask=lib.tensor([[True] * 3, [False] * 3]))
    run_both(lambda: ember.masked.sum(ember.ones(3), 2),
             lambda: torch.masked.sum(torch.ones(3), 2))


def test_reduction_identity_and_output_mask():
    x = np.arange(6.).reshape(2, 3)
    m = np.array([[True, False, True], [False, False, False]])
    for op in ('sum', 'prod', 'amax', 'amin', 'logsumexp', 'norm', 'median'):
        e = ember.masked._reduction_identity(op, ember.tensor(x))
        t = torch.masked._reduction_identity(op, torch.tensor(x))
        assert_same(e, t)
    for op in ('sum', 'amax', 'softmax'):
        args = (1,) if op != 'sum' else ()
        e = ember.masked._output_mask(getattr(ember.masked, op), ember.tensor(x), *args,
                                      mask=ember.tensor(m))
        t = torch.masked._output_mask(getattr(torch.masked, op), torch.tensor(x), *args,
                                      mask=torch.tensor(m))
        assert_same(e, t)


# ---- MaskedTensor ------------------------------------------------------------------------------

_DATA = np.array([[0.5, -1.25, 2.0], [3.0, 4.5, -5.0]], np.float32)
_MASK = np.array([[True, False, True], [False, False, True]])


def _mts(data=_DATA, mask=_MASK):
    return (ember.masked.masked_tensor(ember.tensor(data), ember.tensor(mask)),
            torch.masked.masked_tensor(torch.tensor(data), torch.tensor(mask)))


def assert_same_mt(e, t):
    assert ember.masked.is_masked_tensor(e) and torch.masked.is_masked_tensor(t)
    assert_same(e.get_mask(), t.get_mask())
    m = t.get_mask().numpy()
    ed, td = e.get_data().detach()._data, t.get_data().detach().numpy()
    assert ed.dtype == td.dtype and ed.shape == td.shape
    np.testing.assert_allclose(ed[m], td[m], rtol=1e-6, atol=1e-6)
    assert repr(e) == repr(t)


@pytest.mark.parametrize('fn', [
    lambda mt: mt, lambda mt: mt.sin(), lambda mt: mt.exp(), lambda mt: mt.abs(),
    lambda mt: -mt, lambda mt: mt + mt, lambda mt: mt * 2, lambda mt: mt - mt * 3,
    lambda mt: mt / 2, lambda mt: mt.pow(2), lambda mt: mt > 0, lambda mt: mt.maximum(mt),
    lambda mt: mt.sum(), lambda mt: mt.sum(1), lambda mt: mt.sum(0, keepdim=True),
    lambda mt: mt.mean(), lambda mt: mt.amax(1), lambda mt: mt.amin(), lambda mt: mt.argmax(),
    lambda mt: mt.prod(0), lambda mt: mt.std(), lambda mt: mt.var(1),
    lambda mt: (mt > 0).all(), lambda mt: mt[0], lambda mt: mt[:, 1:], lambda mt: mt.t(),
    lambda mt: mt.transpose(0, 1), lambda mt: mt.unsqueeze(0), lambda mt: mt.view(3, 2),
    lambda mt: mt.expand(2, 2, 3), lambda mt: mt.select(1, 2), lambda mt: mt.clamp(-1, 1),
    lambda mt: mt.to(ember.float64 if isinstance(mt, ember.Tensor) else torch.float64),
])
def test_masked_tensor_ops(fn):
    e, t = _mts()
    assert_same_mt(fn(e), fn(t))


def test_masked_tensor_printing_and_access():
    for data, mask in ((np.arange(3), np.array([True, False, True])),
                       (np.array(2.5), np.array(False)), (np.array(2.5), np.array(True)),
                       (np.array([True, False]), np.array([True, True]))):
        e, t = _mts(data, mask)
        assert repr(e) == repr(t)
        assert str(e) == str(t)
    e, t = _mts()
    assert_same(e.to_tensor(0), t.to_tensor(0))
    assert e.shape == t.shape and str(e.dtype) == str(t.dtype) and e.dim() == t.dim()
    assert_same(ember.masked.as_masked_tensor(ember.ones(2), ember.ones(2) > 0).get_data(),
                torch.masked.as_masked_tensor(torch.ones(2), torch.ones(2) > 0).get_data())


def test_masked_tensor_errors():
    for lib in (ember, torch):
        with pytest.raises(TypeError, match='data must be a Tensor'):
            lib.masked.masked_tensor([1.0], lib.ones(1) > 0)
        with pytest.raises(TypeError, match='mask must have dtype bool'):
            lib.masked.masked_tensor(lib.ones(2), lib.ones(2))
        with pytest.raises(ValueError, match='data.dim'):
            lib.masked.masked_tensor(lib.ones(2), lib.ones(1, 2) > 0)
        with pytest.raises(TypeError, match='is not supported in MaskedTensor'):
            lib.masked.masked_tensor(lib.ones(2, dtype=lib.complex64), lib.ones(2) > 0)
        a = lib.masked.masked_tensor(lib.ones(2), lib.tensor([True, False]))
        b = lib.masked.masked_tensor(lib.ones(2), lib.tensor([True, True]))
        with pytest.raises(ValueError, match='Input masks must match'):
            a + b
    e, _ = _mts()
    with pytest.raises(NotImplementedError):
        ember.matmul(e, ember.ones(3, 2))     # no silent answer from the masked-out values
    with pytest.raises(NotImplementedError):
        ember.exp(e)
    with pytest.raises(NotImplementedError):
        e.numpy()


def test_masked_functions_take_masked_tensors():
    e, t = _mts()
    for name in ('sum', 'amax', 'mean', 'norm'):
        assert_same(getattr(ember.masked, name)(e), getattr(torch.masked, name)(t))
    assert_same(ember.masked.softmax(e, 1), torch.masked.softmax(t, 1))
