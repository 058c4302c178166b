"""Constraints, transforms and biject_to/transform_to against torch: checks, reprs, forward and
inverse values, log|det J| and its gradient, shapes, caching, equality."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')

R = np.random.RandomState(2)

# name -> expression of the constraint in `C` (the constraints module) and a test value
CONSTRAINTS = {
    'boolean': ('C.boolean', np.array([0., 1., 0.5, 2.])),
    'one_hot': ('C.one_hot', np.array([[0., 1., 0.], [1., 1., 0.], [0., 0., 0.]])),
    'nonnegative_integer': ('C.nonnegative_integer', np.array([0., 1.5, -1., 3.])),
    'positive_integer': ('C.positive_integer', np.array([0., 1., 2.5, 7.])),
    'integer_interval': ('C.integer_interval(1, 4)', np.array([0., 1., 4., 5., 2.5])),
    'real': ('C.real', np.array([0., np.nan, np.inf, -3.])),
    'real_vector': ('C.real_vector', np.array([[0., 1.], [np.nan, 1.]])),
    'positive': ('C.positive', np.array([0., 1., -1.])),
    'nonnegative': ('C.nonnegative', np.array([0., 1., -1.])),
    'greater_than': ('C.greater_than(1.5)', np.array([1.5, 2., 0.])),
    'greater_than_eq': ('C.greater_than_eq(1.5)', np.array([1.5, 2., 0.])),
    'less_than': ('C.less_than(-1.0)', np.array([-1., -2., 0.])),
    'unit_interval': ('C.unit_interval', np.array([0., 1., 1.5, -0.1])),
    'interval': ('C.interval(-1.0, 2.0)', np.array([-1., 2., 2.5])),
    'half_open_interval': ('C.half_open_interval(-1.0, 2.0)', np.array([-1., 2., 0.])),
    'simplex': ('C.simplex', np.array([[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]])),
    'multinomial': ('C.multinomial(5)', np.array([[1., 2., 2.], [3., 3., 0.], [-1., 1., 1.]])),
    'lower_triangular': ('C.lower_triangular', np.array([[[1., 0.], [2., 3.]],
                                                         [[1., 1.], [0., 1.]]])),
    'lower_cholesky': ('C.lower_cholesky', np.array([[[1., 0.], [2., 3.]],
                                                     [[1., 0.], [2., -3.]]])),
    'corr_cholesky': ('C.corr_cholesky', np.array([[[1., 0.], [0.6, 0.8]],
                                                   [[1., 0.], [0.6, 0.7]]])),
    'square': ('C.square', np.ones((2, 2, 3))),
    'symmetric': ('C.symmetric', np.array([[[1., 2.], [2., 1.]], [[1., 2.], [3., 1.]]])),
    'positive_semidefinite': ('C.positive_semidefinite', np.array([[[1., 1.], [1., 1.]],
                                                                   [[1., 2.], [2., 1.]]])),
    'positive_definite': ('C.positive_definite', np.array([[[2., 1.], [1., 2.]],
                                                           [[1., 1.], [1., 1.]]])),
    'independent': ('C.independent(C.positive, 1)', np.array([[1., 2.], [1., -1.]])),
    'cat': ('C.cat([C.positive, C.real], 0, [1, 2])', np.array([1., -2., 3.])),
    'stack': ('C.stack([C.positive, C.unit_interval], 1)', np.array([[1., 0.5], [-1., 2.]])),
    'mixture': ('C.MixtureSameFamilyConstraint(C.positive)', np.array([1., -1.])),
}


@pytest.mark.parametrize('name', sorted(CONSTRAINTS))
def test_constraint_against_torch(name):
    expr, value = CONSTRAINTS[name]
    t = eval(expr, {'C': torch.distributions.constraints})
    e = eval(expr, {'C': ember.distributions.constraints})
    assert repr(e) == repr(t)
    assert e.is_discrete == t.is_discrete and e.event_dim == t.event_dim
    tc, ec = t.check(torch.tensor(value)), e.check(ember.tensor(value))
    assert tuple(ec.shape) == tuple(tc.shape) and str(ec.dtype) == str(tc.dtype)
    np.testing.assert_array_equal(ec.numpy(), tc.numpy())


def test_dependent_and_names():
    C, TC = ember.distributions.constraints, torch.distributions.constraints
    assert sorted(C.__all__) == sorted(TC.__all__)
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match='Cannot determine validity of dependent constraint'):
        C.dependent.check(ember.zeros(1))
    with pytest.raises(NotImplementedError, match='.event_dim cannot be determined'):
        C.dependent.event_dim
    d = C.dependent(is_discrete=True, event_dim=1)
    assert d.is_discrete and d.event_dim == 1
    assert repr(C.dependent) == repr(TC.dependent) == 'Dependent()'


# transform expression -> input value (in the domain)
TRANSFORMS = {
    'Exp': ('T.ExpTransform()', R.normal(size=(3,))),
    'ExpInv': ('T.ExpTransform().inv', R.uniform(0.5, 2, (3,))),
    'Affine': ('T.AffineTransform(1.5, -2.0)', R.normal(size=(2, 3))),
    'AffineTensor': ('T.AffineTransform(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([0.5, -1.0, '
                     '2.0]), event_dim=1)', R.normal(size=(2, 3))),
    'Sigmoid': ('T.SigmoidTransform()', R.normal(size=(4,))),
    'Softplus': ('T.SoftplusTransform()', R.normal(size=(4,))),
    'Tanh': ('T.TanhTransform()', R.normal(size=(4,))),
    'Abs': ('T.AbsTransform()', R.normal(size=(4,))),
    'Power': ('T.PowerTransform(lib.tensor(2.5))', R.uniform(0.5, 2, (4,))),
    'Softmax': ('T.SoftmaxTransform()', R.normal(size=(2, 4))),
    'StickBreaking': ('T.StickBreakingTransform()', R.normal(size=(2, 3))),
    'LowerCholesky': ('T.LowerCholeskyTransform()', R.normal(size=(2, 3, 3))),
    'PositiveDefinite': ('T.PositiveDefiniteTransform()', R.normal(size=(3, 3))),
    'CorrCholesky': ('T.CorrCholeskyTransform()', R.normal(size=(2, 6))),
    'Compose': ('T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.ExpTransform(), '
                'T.PowerTransform(lib.tensor(0.5))])', R.normal(size=(3,))),
    'Independent': ('T.IndependentTransform(T.SigmoidTransform(), 1)', R.normal(size=(2, 3))),
    'Reshape': ('T.ReshapeTransform((2, 3), (6,))', R.normal(size=(4, 2, 3))),
    'Cat': ('T.CatTransform([T.ExpTransform(), T.SigmoidTransform()], dim=1, lengths=[2, 1])',
            R.normal(size=(2, 3))),
    'Stack': ('T.StackTransform([T.ExpTransform(), T.TanhTransform()], dim=1)',
              R.normal(size=(3, 2))),
    'CDF': ('T.CumulativeDistributionTransform(lib.distributions.Normal(0.5, 2.0))',
            R.normal(size=(4,))),
    'Identity': ('T.identity_transform', R.normal(size=(3,))),
}


def _make(lib, name):
    return eval(TRANSFORMS[name][0], {'T': lib.distributions.transforms, 'lib': lib})


@pytest.mark.parametrize('dtype', ['float64', 'float32'])
@pytest.mark.parametrize('name', sorted(TRANSFORMS))
def test_transform_against_torch(name, dtype):
    if dtype == 'float32':
        torch.set_default_dtype(torch.float32)
    t, e = _make(torch, name), _make(ember, name)
    x = TRANSFORMS[name][1].astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    ty, ey = t(tx), e(ex)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), **tol)
    assert repr(e) == repr(t)
    assert e.bijective == t.bijective
    for attr in ('domain', 'codomain'):
        assert repr(getattr(e, attr)) == repr(getattr(t, attr))
    np.testing.assert_allclose(e.inv(ey).detach().numpy(), t.inv(ty).detach().numpy(), **tol)
    assert tuple(e.forward_shape(ex.shape)) == tuple(t.forward_shape(tx.shape))
    assert tuple(e.inverse_shape(ey.shape)) == tuple(t.inverse_shape(ty.shape))
    try:
        tj = t.log_abs_det_jacobian(tx, ty)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            e.log_abs_det_jacobian(ex, ey)
        return
    ej = e.log_abs_det_jacobian(ex, ey)
    assert tuple(ej.shape) == tuple(tj.shape)
    np.testing.assert_allclose(ej.detach().numpy(), tj.detach().numpy(), **tol)
    (tg,) = torch.autograd.grad((tj.sum() + ty.sum()), tx)
    (eg,) = ember.autograd.grad((ej.sum() + ey.sum()), ex)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), **tol)


def test_cache_equality_and_sign():
    T = ember.distributions.transforms
    t = T.ExpTransform(cache_size=1)
    x = ember.randn(3)
    y = t(x)
    assert t(x) is y and t.inv(y) is x
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.AffineTransform(0.0, -2.0).sign == -1
    assert T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, -1.0)]).sign == -1
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match='cache_size must be 0 or 1'):
        T.ExpTransform(cache_size=2)
    c = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)])
    assert c.inv.inv is c


BIJECT = ['C.real', 'C.positive', 'C.nonnegative', 'C.greater_than(2.0)',
          'C.greater_than_eq(-1.0)', 'C.less_than(3.0)', 'C.interval(-2.0, 5.0)',
          'C.unit_interval', 'C.half_open_interval(0.0, 3.0)', 'C.simplex', 'C.corr_cholesky',
          'C.independent(C.positive, 1)', 'C.cat([C.positive, C.real], 0, [2, 1])',
          'C.stack([C.positive, C.unit_interval], 0)', 'C.lower_cholesky',
          'C.positive_definite', 'C.positive_semidefinite']


@pytest.mark.parametrize('expr', BIJECT)
def test_biject_to_and_transform_to(expr):
    for reg in ('biject_to', 'transform_to'):
        t_reg = getattr(torch.distributions, reg)
        e_reg = getattr(ember.distributions, reg)
        tc = eval(expr, {'C': torch.distributions.constraints})
        ec = eval(expr, {'C': ember.distributions.constraints})
        try:
            tt = t_reg(tc)
        except NotImplementedError as err:
            with pytest.raises(NotImplementedError, match=str(err)):
                e_reg(ec)
            continue
        et = e_reg(ec)
        assert repr(et) == repr(tt)
        shape = tt.inverse_shape((3,) if 'cat' in expr else (2, 3) if tc.event_dim < 2
                                 else (3, 3))
        x = R.normal(size=shape)
        ty, ey = tt(torch.tensor(x)), et(ember.tensor(x))
        np.testing.assert_allclose(ey.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12)
        assert bool(ec.check(ey).all())
