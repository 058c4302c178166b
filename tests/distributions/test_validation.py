"""Argument and sample validation: torch's ValueErrors, word for word; the default switch."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')


def _message(fn):
    try:
        fn()
    except (ValueError, NotImplementedError, AssertionError) as e:
        return type(e), str(e)
    return None


BAD = [
    "D.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, -1.0]))",
    "D.Normal(0.0, -1.0)",
    "D.Uniform(lib.tensor([2.0]), lib.tensor([1.0]))",
    "D.Bernoulli(probs=lib.tensor([1.5]))",
    "D.Bernoulli()",
    "D.Bernoulli(probs=lib.tensor([0.5]), logits=lib.tensor([0.0]))",
    "D.Categorical(probs=lib.tensor([0.5, -0.5]))",
    "D.Categorical(probs=lib.tensor(0.5))",
    "D.Dirichlet(lib.tensor([1.0, 0.0]))",
    "D.Dirichlet(lib.tensor(1.0))",
    "D.Gamma(lib.tensor([1.0]), lib.tensor([0.0]))",
    "D.Geometric(probs=lib.tensor([0.0, 0.5]))",
    "D.Poisson(lib.tensor([-1.0]))",
    "D.Binomial(lib.tensor([2.5]), probs=lib.tensor([0.5]))",
    "D.MultivariateNormal(lib.zeros(2), covariance_matrix=lib.tensor([[1.0, 2.0], [2.0, 1.0]]))",
    "D.MultivariateNormal(lib.zeros(2))",
    "D.MultivariateNormal(lib.tensor(0.0), scale_tril=lib.eye(2))",
    "D.LowRankMultivariateNormal(lib.zeros(3), lib.zeros(2, 1), lib.ones(3))",
    "D.LKJCholesky(1)",
    "D.Wishart(lib.tensor(0.5), covariance_matrix=lib.eye(2))",
    "D.Independent(D.Normal(lib.zeros(2), lib.ones(2)), 2)",
    "D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(lib.zeros(2), lib.ones(2)))",
    "D.MixtureSameFamily(D.Categorical(lib.ones(3)), D.Normal(lib.zeros(2), lib.ones(2)))",
    "D.TransformedDistribution(D.Normal(0.0, 1.0), 3)",
    "D.Multinomial(lib.tensor(3), lib.ones(2))",
]


@pytest.mark.parametrize('expr', BAD)
def test_bad_arguments_as_torch(expr):
    got = [_message(lambda: eval(expr, {'D': lib.distributions, 'lib': lib}))
           for lib in (torch, ember)]
    assert got[0] is not None
    assert got[1] == got[0]


SAMPLES = [
    ("D.Normal(lib.zeros(3), lib.ones(3))", "lib.zeros(4)"),
    ("D.Normal(lib.zeros(3), lib.ones(3))", "[0.0, 1.0, 2.0]"),
    ("D.Dirichlet(lib.ones(3))", "lib.ones(2)"),
    ("D.Exponential(lib.ones(2))", "lib.tensor([-1.0, 1.0])"),
    ("D.Bernoulli(lib.tensor([0.5, 0.5]))", "lib.tensor([0.5, 1.0])"),
    ("D.Categorical(lib.ones(2, 3))", "lib.tensor([0, 3])"),
    ("D.Uniform(lib.zeros(2), lib.ones(2))", "lib.tensor([0.5, 1.5])"),
    ("D.MultivariateNormal(lib.zeros(2), lib.eye(2))", "lib.zeros(3)"),
    ("D.Beta(lib.ones(2), lib.ones(2))", "lib.tensor([0.5, 1.5])"),
]


@pytest.mark.parametrize('dist,value', SAMPLES)
def test_bad_samples_as_torch(dist, value):
    got = []
    for lib in (torch, ember):
        d = eval(dist, {'D': lib.distributions, 'lib': lib})
        v = eval(value, {'lib': lib})
        got.append(_message(lambda: d.log_prob(v)))
    assert got[0] is not None
    assert got[1] == got[0]


def test_default_validate_args():
    D = ember.distributions
    try:
        D.Distribution.set_default_validate_args(False)
        d = D.Normal(0.0, -1.0)  # accepted unchecked
        assert not d._validate_args
        assert d.log_prob(ember.tensor(0.0)).isnan()
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(1.5)
    D.Normal(0.0, -1.0, validate_args=False)  # per instance


def test_shapes_and_enumerate_support():
    D = ember.distributions
    d = D.Normal(ember.zeros(2, 1), ember.ones(3))
    assert d.batch_shape == (2, 3) and d.event_shape == ()
    assert d.sample((4, 5)).shape == (4, 5, 2, 3)
    assert d.expand((7, 2, 3)).sample().shape == (7, 2, 3)
    m = D.MultivariateNormal(ember.zeros(4, 3), ember.eye(3))
    assert m.batch_shape == (4,) and m.event_shape == (3,)
    assert m.rsample((2,)).shape == (2, 4, 3)
    i = D.Independent(D.Normal(ember.zeros(4, 3), ember.ones(4, 3)), 1)
    assert i.batch_shape == (4,) and i.event_shape == (3,)
    assert i.log_prob(ember.zeros(4, 3)).shape == (4,)
    for lib in (torch, ember):
        b = lib.distributions.Binomial(lib.tensor([2.0, 2.0]), lib.tensor([0.3, 0.6]))
        c = lib.distributions.Categorical(lib.ones(2, 3))
        o = lib.distributions.OneHotCategorical(lib.ones(2, 3))
        got = [x.enumerate_support(e) for x in (b, c, o) for e in (True, False)]
        if lib is torch:
            want = [g.numpy() for g in got]
        else:
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g.numpy(), w)
                assert g.shape == w.shape


def test_sample_n_warns_and_perplexity():
    d = ember.distributions.Normal(ember.zeros(2), ember.ones(2))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert d.sample_n(3).shape == (3, 2)
    assert any(issubclass(x.category, FutureWarning) for x in w)
    np.testing.assert_allclose(d.perplexity().numpy(), np.exp(d.entropy().numpy()))
