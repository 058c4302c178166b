"""ember.distributions against torch.distributions: same seed, same samples; same log_probs."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def assert_same(e, t, exact=True):
    assert tuple(e.shape) == tuple(t.shape)
    assert e.dtype.name == str(t.dtype).replace('torch.', '')
    if exact:
        np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    else:
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)


CASES = [
    ("Normal(0.0, 1.0)", (3,)),
    ("Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0]))", (4,)),
    ("Uniform(-1.0, 2.0)", (5,)),
    ("Uniform(lib.zeros(2), lib.ones(2) * 3)", (2, 3)),
    ("Bernoulli(0.3)", (6,)),
    ("Bernoulli(probs=lib.tensor([0.2, 0.9]))", (3,)),
    ("Categorical(probs=lib.tensor([0.1, 0.2, 0.7]))", (10,)),
    ("Categorical(logits=lib.tensor([[0.1, 2.0, -1.0], [0.0, 0.0, 0.0]]))", (4,)),
    ("Multinomial(10, lib.tensor([1 / 6] * 6))", ()),
    ("Multinomial(1, lib.tensor([0.2, 0.3, 0.5]))", (5,)),
    ("Exponential(lib.tensor([1.0, 3.0]))", (2,)),
    ("OneHotCategorical(lib.tensor([0.3, 0.7]))", (4,)),
]


@pytest.mark.parametrize("expr,shape", CASES, ids=[c[0] for c in CASES])
def test_samples_and_log_prob(expr, shape):
    dists = {}
    for lib in (torch, ember):
        lib.manual_seed(7)
        d = eval(expr, {"lib": lib, **{n: getattr(lib.distributions, n) for n in (
            'Normal', 'Uniform', 'Bernoulli', 'Categorical', 'Multinomial', 'Exponential',
            'OneHotCategorical')}})
        s = d.sample(shape)
        dists[lib.__name__] = (d, s, d.log_prob(s), lib.rand(2))
    (te, ts, tl, tr), (ee, es, el, er) = dists['torch'], dists['ember']
    assert_same(es, ts)                 # bitwise: the same draws as torch
    assert_same(el, tl, exact=False)
    assert_same(er, tr)                 # and the stream continues in step
    assert tuple(ee.batch_shape) == tuple(te.batch_shape)
    assert tuple(ee.event_shape) == tuple(te.event_shape)
    if hasattr(te, 'entropy') and not isinstance(te, torch.distributions.Multinomial):
        assert_same(ee.entropy(), te.entropy(), exact=False)


def test_rsample_gradient_and_repr():
    for lib in (torch, ember):
        lib.manual_seed(0)
        loc = lib.tensor([0.5, -1.0], requires_grad=True)
        d = lib.distributions.Normal(loc, lib.tensor([1.0, 2.0]))
        d.rsample((3,)).sum().backward()
        np.testing.assert_array_equal(loc.grad.numpy(), np.array([3.0, 3.0], np.float32))
    assert repr(ember.distributions.Normal(0.0, 1.0)) == \
        repr(torch.distributions.Normal(0.0, 1.0))


def test_bad_parameters_raise():
    for lib in (torch, ember):
        with pytest.raises(ValueError):
            lib.distributions.Normal(0.0, -1.0)
        with pytest.raises(ValueError):
            lib.distributions.Categorical()
