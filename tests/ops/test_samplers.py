"""torch.poisson and torch.binomial draw for draw against torch's CPU samplers (same seed, same
values, and the generator left where torch leaves it), plus their grad_fn and errors."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

from ._compare import assert_same, run_both  # noqa: E402


def _both(fn, seed=0):
    ember.manual_seed(seed)
    torch.manual_seed(seed)
    e, t = fn(ember), fn(torch)
    # the stream continues where torch's does
    assert_same(ember.rand(3, dtype=ember.float64), torch.rand(3, dtype=torch.float64))
    return e, t


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('seed', [0, 1, 7])
def test_poisson_matches_torch(dtype, seed):
    rng = np.random.default_rng(seed)
    rates = np.concatenate([rng.uniform(0, 10, 40), rng.uniform(10, 200, 40), [0.0, 10.0, 1e4],
                            rng.uniform(0, 1, 10)]).astype(dtype)
    e, t = _both(lambda lib: lib.poisson(lib.tensor(rates)), seed)
    assert_same(e, t)
    m = rates[:60].reshape(6, 10)
    e, t = _both(lambda lib: lib.poisson(lib.tensor(m).t()), seed)
    assert_same(e, t)
    assert e.stride() == t.stride()


def test_poisson_generator_and_grad():
    rates = np.array([0.5, 3.0, 15.0], np.float32)
    ge, gt = ember.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    assert_same(ember.poisson(ember.tensor(rates), ge), torch.poisson(torch.tensor(rates), gt))
    x = ember.tensor(rates, requires_grad=True)
    y = ember.poisson(x)
    assert y.grad_fn.name() == 'PoissonBackward0'
    y.sum().backward()
    assert_same(x.grad, torch.zeros(3))
    run_both(lambda: ember.poisson(ember.tensor([-1.0])),
             lambda: torch.poisson(torch.tensor([-1.0])))
    run_both(lambda: ember.poisson(ember.tensor([1, 2])),
             lambda: torch.poisson(torch.tensor([1, 2])))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('seed', [0, 3])
def test_binomial_matches_torch(dtype, seed):
    rng = np.random.default_rng(seed)
    n = np.concatenate([rng.integers(0, 20, 30), rng.integers(20, 2000, 30), [0, 5, 5, 5, 100]])
    p = np.concatenate([rng.uniform(0, 1, 60), [0.5, 0.0, 1.0, 0.999, 0.001]])
    n, p = n.astype(dtype), p.astype(dtype)
    e, t = _both(lambda lib: lib.binomial(lib.tensor(n), lib.tensor(p)), seed)
    assert_same(e, t)
    e, t = _both(lambda lib: lib.binomial(lib.full((2, 3), 40.0, dtype=getattr(lib, dtype)),
                                          lib.tensor(p[:3])), seed)
    assert_same(e, t)


def test_binomial_grad_and_errors():
    c = ember.full((3,), 10.0, requires_grad=True)
    y = ember.binomial(c, ember.full((3,), 0.5))
    assert y.grad_fn.name() == 'NotImplemented'
    with pytest.raises(RuntimeError, match='derivative for aten::binomial is not implemented'):
        y.sum().backward()
    run_both(lambda: ember.binomial(ember.ones(2, dtype=ember.int64),
                                    ember.ones(2, dtype=ember.int64)),
             lambda: torch.binomial(torch.ones(2, dtype=torch.int64),
                                    torch.ones(2, dtype=torch.int64)))
    run_both(lambda: ember.binomial(ember.ones(2), ember.ones(2, dtype=ember.float64)),
             lambda: torch.binomial(torch.ones(2), torch.ones(2, dtype=torch.float64)))


def test_distributions_sample_as_torch():
    def draw(lib):
        p = lib.distributions.Poisson(lib.tensor([1.0, 20.0, 4.5]))
        b = lib.distributions.Binomial(lib.tensor([10., 50.]), lib.tensor([0.3, 0.8]))
        return p.sample((4,)), b.sample((3,))
    e, t = _both(draw, 5)
    for a, b in zip(e, t):
        assert_same(a, b)
