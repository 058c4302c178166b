"""Distribution classes name torch's module (torch.distributions.normal.Normal and so on)."""
import pickle

import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

NAMES = ['Normal', 'Uniform', 'Bernoulli', 'Categorical', 'Multinomial', 'OneHotCategorical',
         'Exponential', 'Distribution']


@pytest.mark.parametrize('name', NAMES)
def test_module_as_torch(name):
    e, t = getattr(ember.distributions, name), getattr(torch.distributions, name)
    assert e.__module__.replace('ember', 'torch', 1) == t.__module__
    assert e.__qualname__ == t.__qualname__


def test_pickles_by_reference():
    d = ember.distributions.Normal(ember.tensor([0.0]), ember.tensor([1.0]))
    back = pickle.loads(pickle.dumps(d))
    assert type(back) is ember.distributions.Normal
    assert back.mean.tolist() == d.mean.tolist()
