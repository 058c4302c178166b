"""Dropout layers and functions against torch: bitwise masks for the same seed, eval identity."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import torch.nn.functional as TF  # noqa: E402


def to_np(t):
    return np.array(t.detach().numpy())


SHAPES = {'dropout': (4, 5, 6), 'dropout1d': (3, 4, 5), 'dropout2d': (2, 3, 4, 4),
          'dropout3d': (2, 3, 2, 3, 2), 'alpha_dropout': (4, 7),
          'feature_alpha_dropout': (3, 4, 2, 2)}


@pytest.mark.parametrize('name', list(SHAPES))
@pytest.mark.parametrize('p', [0.2, 0.5, 0.77])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_functional_bitwise(name, p, dtype):
    x = np.random.RandomState(0).randn(*SHAPES[name]).astype(dtype)
    torch.manual_seed(7)
    ember.manual_seed(7)
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt = getattr(TF, name)(xt, p, True)
    ye = getattr(EF, name)(xe, p, True)
    np.testing.assert_array_equal(to_np(ye), to_np(yt))
    assert ye.grad_fn.name() == yt.grad_fn.name()
    g = np.random.RandomState(1).randn(*x.shape).astype(dtype)
    yt.backward(torch.tensor(g))
    ye.backward(ember.tensor(g))
    np.testing.assert_array_equal(to_np(xe.grad), to_np(xt.grad))
    # both generators advanced by the same number of draws
    np.testing.assert_array_equal(to_np(ember.rand(3)), to_np(torch.rand(3)))


@pytest.mark.parametrize('name', list(SHAPES))
def test_eval_and_edge_probabilities(name):
    x = np.random.RandomState(0).randn(*SHAPES[name]).astype(np.float32)
    xe = ember.tensor(x, requires_grad=True)
    assert getattr(EF, name)(xe, 0.5, False) is xe
    assert getattr(EF, name)(xe, 0.0, True) is xe
    torch.manual_seed(0)
    ember.manual_seed(0)
    yt = getattr(TF, name)(torch.tensor(x, requires_grad=True), 1.0, True)
    ye = getattr(EF, name)(xe, 1.0, True)
    np.testing.assert_array_equal(to_np(ye), to_np(yt))
    assert ye.grad_fn.name() == yt.grad_fn.name()
    np.testing.assert_array_equal(to_np(ember.rand(3)), to_np(torch.rand(3)))


def test_unbatched_feature_dropout():
    for name, shape in [('dropout1d', (4, 6)), ('dropout3d', (3, 2, 2, 2))]:
        x = np.random.RandomState(0).randn(*shape).astype(np.float32)
        torch.manual_seed(3)
        ember.manual_seed(3)
        yt = getattr(TF, name)(torch.tensor(x), 0.5)
        ye = getattr(EF, name)(ember.tensor(x), 0.5)
        assert tuple(ye.shape) == shape
        np.testing.assert_array_equal(to_np(ye), to_np(yt))


@pytest.mark.parametrize('name', ['dropout', 'dropout2d', 'alpha_dropout'])
def test_inplace(name):
    x = np.random.RandomState(0).randn(2, 3, 4, 4).astype(np.float32)
    torch.manual_seed(1)
    ember.manual_seed(1)
    lt, le = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    yt, ye = lt * 1, le * 1
    ot = getattr(TF, name)(yt, 0.4, True, inplace=True)
    oe = getattr(EF, name)(ye, 0.4, True, inplace=True)
    assert oe is ye
    np.testing.assert_array_equal(to_np(oe), to_np(ot))
    assert oe.grad_fn.name() == ot.grad_fn.name()
    ot.sum().backward()
    oe.sum().backward()
    np.testing.assert_array_equal(to_np(le.grad), to_np(lt.grad))


MODULES = ['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout',
           'FeatureAlphaDropout']


@pytest.mark.parametrize('name', MODULES)
def test_modules(name):
    for args in [(), (0.3,), (0.1, True)]:
        assert repr(getattr(ember.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    shape = {'Dropout1d': (2, 3, 5), 'Dropout3d': (2, 3, 2, 2, 2), 'AlphaDropout': (3, 8)}.get(
        name, (2, 3, 4, 4))
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    mt, me = getattr(torch.nn, name)(0.3), getattr(ember.nn, name)(0.3)
    torch.manual_seed(2)
    ember.manual_seed(2)
    for _ in range(2):  # consecutive calls keep consuming the same stream
        np.testing.assert_array_equal(to_np(me(ember.tensor(x))), to_np(mt(torch.tensor(x))))
    me.eval()
    xe = ember.tensor(x)
    np.testing.assert_array_equal(to_np(me(xe)), x)


def test_sequential_training_run_is_bitwise():
    """A small MLP with dropout: same seed, same weights, same outputs and gradients."""
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Dropout(0.25),
                                 lib.nn.Linear(16, 4))
    mt, me = build(torch), build(ember)
    x = np.random.RandomState(0).randn(5, 8).astype(np.float32)
    torch.manual_seed(11)
    ember.manual_seed(11)
    yt, ye = mt(torch.tensor(x)), me(ember.tensor(x))
    np.testing.assert_allclose(to_np(ye), to_np(yt), rtol=1e-6, atol=1e-6)
    yt.sum().backward()
    ye.sum().backward()
    np.testing.assert_allclose(to_np(me[0].weight.grad), to_np(mt[0].weight.grad), rtol=1e-5,
                               atol=1e-6)


def _raises(ft, fe):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(type(et.value)) as ee:
        fe()
    assert str(ee.value) == str(et.value)


def test_errors_and_warnings():
    t, e = torch.zeros(2, 3), ember.zeros(2, 3)
    _raises(lambda: TF.dropout(t, 1.5), lambda: EF.dropout(e, 1.5))
    _raises(lambda: TF.alpha_dropout(t, -0.1), lambda: EF.alpha_dropout(e, -0.1))
    _raises(lambda: TF.dropout1d(t[0], 0.5), lambda: EF.dropout1d(e[0], 0.5))
    _raises(lambda: torch.nn.Dropout(2), lambda: ember.nn.Dropout(2))
    _raises(lambda: TF.feature_alpha_dropout(t[0], 0.5, True),
            lambda: EF.feature_alpha_dropout(e[0], 0.5, True))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        EF.dropout2d(ember.zeros(2, 3, 4), 0.5)
    assert any('dropout2d: Received a 3D input' in str(m.message) for m in w)


@pytest.mark.parametrize('tdt', ['float16', 'bfloat16'])
def test_dropout_half_types_bitwise(tdt):
    x = np.random.RandomState(0).randn(6, 70).astype(np.float32)
    torch.manual_seed(3)
    ember.manual_seed(3)
    yt = TF.dropout(torch.tensor(x).to(getattr(torch, tdt)), 0.3)
    ye = EF.dropout(ember.tensor(x).to(getattr(ember, tdt)), 0.3)
    assert repr(ye.dtype) == repr(yt.dtype)
    np.testing.assert_array_equal(to_np(ye.float()), to_np(yt.float()))
    np.testing.assert_array_equal(to_np(ember.rand(3)), to_np(torch.rand(3)))
