"""Optimizer steps with the parameters dealt over two threads (optimizer._run_updates): torch's
values, and bit for bit what one thread computes."""
import numpy as np
import pytest
import torch

import ember
from ember.optim import optimizer as O

SHAPES = [(7, 5), (30,), (4, 3, 2), (1,), (12, 12)]

CASES = [
    ('Adam', dict(lr=1e-2)),
    ('Adam', dict(lr=1e-2, amsgrad=True, maximize=True, weight_decay=0.1)),
    ('AdamW', dict(lr=1e-2, weight_decay=0.05)),
    ('SGD', dict(lr=0.1)),
    ('SGD', dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ('SGD', dict(lr=0.1, momentum=0.5, dampening=0.1, maximize=True)),
]


def _run(lib, name, kw, steps=4):
    rng = np.random.default_rng(3)
    params = [lib.nn.Parameter(lib.from_numpy(rng.standard_normal(s).astype(np.float32)))
              for s in SHAPES]
    opt = getattr(lib.optim, name)(params, **kw)
    for i in range(steps):
        for p in params:
            p.grad = lib.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32))
        if i == 2:
            params[3].grad = None       # a parameter without a gradient this step
        opt.step()
    state = [{k: v.detach().numpy().copy() if hasattr(v, 'numpy') else v
              for k, v in opt.state[p].items()} for p in params]
    return [p.detach().numpy().copy() for p in params], state


@pytest.fixture
def split_steps(monkeypatch, two_threads, count_splits):
    """Two threads, no size floor: every step with two or more parameters is split."""
    monkeypatch.setattr(O, '_PARALLEL_MIN', 0)
    return count_splits(O)


@pytest.mark.parametrize('name,kw', CASES)
def test_split_step_as_torch_and_as_one_thread(name, kw, split_steps, monkeypatch):
    got, state = _run(ember, name, kw)
    assert split_steps and all(n == 2 for n in split_steps)
    want, tstate = _run(torch, name, kw)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for s, t in zip(state, tstate):
        assert sorted(s) == sorted(t)
        for k in s:
            np.testing.assert_allclose(np.asarray(s[k], np.float64), np.asarray(t[k], np.float64),
                                       rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(O, '_PARALLEL_MIN', 1 << 62)
    del split_steps[:]
    one, _ = _run(ember, name, kw)
    assert not split_steps
    for a, b in zip(got, one):
        assert np.array_equal(a, b)


def test_optimizers_without_the_flag_stay_on_one_thread(split_steps):
    """An optimizer whose update is not declared per-parameter (here RMSprop) is not split."""
    got, _ = _run(ember, 'RMSprop', dict(lr=1e-2))
    want, _ = _run(torch, 'RMSprop', dict(lr=1e-2))
    assert not split_steps
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_deal_balances_by_size():
    """Biggest first to the least loaded thread: every item once, loads within one item."""
    class P:
        def __init__(self, n):
            self._data = np.zeros(n)
    todo = [(P(n), None, None) for n in (50, 10, 40, 30, 20, 5)]
    loads = O._deal(todo, 2)
    assert sorted(id(it) for b in loads for it in b) == sorted(id(it) for it in todo)
    sizes = [sum(it[0]._data.size for it in b) for b in loads]
    assert abs(sizes[0] - sizes[1]) <= 50
