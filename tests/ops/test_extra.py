"""The less common ops of ember/_ops/extra.py against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 6))
V = rng.standard_normal(7)

CASES = [
    ("x.unfold(1, 3, 2)", A), ("x.unfold(0, 2, 1)", V), ("torch.diff(x)", V),
    ("torch.diff(x, n=2, dim=0)", A), ("x.quantile(0.3)", V),
    ("torch.quantile(x, torch.tensor([0.1, 0.9], dtype=torch.float64), dim=1)", A),
    ("torch.cov(x)", A), ("torch.corrcoef(x)", A), ("torch.diagflat(x[:3])", V),
    ("torch.matrix_power(x[:4, :4], 3)", A), ("torch.matrix_power(x[:4, :4] + 4 * "
                                              "torch.eye(4, dtype=torch.float64), -2)", A),
    ("torch.slice_scatter(x, torch.ones(4, 2, dtype=torch.float64), 1, 0, 4, 2)", A),
    ("torch.select_scatter(x, torch.ones(6, dtype=torch.float64), 0, 1)", A),
    ("torch.diagonal_scatter(x, torch.ones(4, dtype=torch.float64), 1)", A),
    ("torch.trapezoid(x)", A), ("torch.cumulative_trapezoid(x)", A),
    ("x.renorm(2, 0, 1.0)", A), ("x.sum_to_size(1, 6)", A), ("torch.vander(x[:4])", V),
    ("x.new(2, 3).shape", A), ("x.where(x > 0, 0.0)", A), ("x.adjoint()", A),
]


@pytest.mark.parametrize("expr,arr", CASES, ids=[c[0] for c in CASES])
def test_forward_and_grad(expr, arr):
    te = ember.tensor(arr, requires_grad=True)
    tt = torch.tensor(arr, requires_grad=True)
    e = eval(expr, {"torch": ember, "x": te})
    t = eval(expr, {"torch": torch, "x": tt})
    if isinstance(t, torch.Size):
        assert tuple(e) == tuple(t)
        return
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-7, atol=1e-9)
    assert e.dtype.name == str(t.dtype).replace("torch.", "")
    if t.requires_grad and "vander" not in expr:  # torch's vander backward is broken
        g = rng.standard_normal(tuple(t.shape))
        e.backward(ember.tensor(g))
        t.backward(torch.tensor(g))
        np.testing.assert_allclose(te.grad.numpy(), tt.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_integer_helpers():
    a = np.array([12, 18, -7, 0])
    b = np.array([8, 4, 3, 5])
    for name in ("gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift"):
        e = getattr(ember, name)(ember.tensor(a), ember.tensor(np.abs(b)))
        t = getattr(torch, name)(torch.tensor(a), torch.tensor(np.abs(b)))
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_storage_views():
    x = ember.arange(10.0)
    y = x[2:]
    assert y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert x.storage().size() == 10 and y.storage_offset() == 2


def test_resize_and_post_accumulate_hook():
    e = ember.arange(6.0)
    t = torch.arange(6.0)
    e.resize_(2, 2)
    t.resize_(2, 2)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    p = ember.ones(3, requires_grad=True)
    seen = []
    p.register_post_accumulate_grad_hook(lambda q: seen.append(q.grad.clone()))
    (p * 2).sum().backward()
    assert len(seen) == 1 and seen[0].tolist() == [2.0, 2.0, 2.0]
