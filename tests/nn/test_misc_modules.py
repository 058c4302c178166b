"""Fold/Unfold modules, DataParallel on the CPU, F.gumbel_softmax: against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def run_both(fn):
    out = {}
    for lib in (torch, ember):
        lib.manual_seed(3)
        out[lib.__name__] = fn(lib)
    return out['torch'], out['ember']


def assert_same(t, e):
    if hasattr(t, 'detach'):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6)
        assert tuple(e.shape) == tuple(t.shape)
    else:
        assert e == t


@pytest.mark.parametrize('hard', [False, True])
def test_gumbel_softmax_same_draws(hard):
    def prog(lib):
        logits = lib.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], requires_grad=True)
        y = lib.nn.functional.gumbel_softmax(logits, tau=0.7, hard=hard)
        (y * lib.arange(3.0)).sum().backward()
        return y, logits.grad
    (ty, tg), (ey, eg) = run_both(prog)
    assert_same(ty, ey)
    assert_same(tg, eg)


def test_fold_unfold_modules():
    def prog(lib):
        x = lib.arange(2 * 3 * 5 * 5, dtype=lib.float32).reshape(2, 3, 5, 5)
        u = lib.nn.Unfold((2, 3), padding=1, stride=2)
        cols = u(x)
        f = lib.nn.Fold((5, 5), (2, 3), padding=1, stride=2)
        return cols, f(cols), repr(u), repr(f)
    t, e = run_both(prog)
    for a, b in zip(t, e):
        assert_same(a, b)


def test_data_parallel_is_transparent_on_cpu():
    def prog(lib):
        m = lib.nn.DataParallel(lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.ReLU()))
        out = m(lib.ones(4, 3))
        return out, list(m.state_dict().keys()), repr(m)
    t, e = run_both(prog)
    for a, b in zip(t, e):
        assert_same(a, b)
