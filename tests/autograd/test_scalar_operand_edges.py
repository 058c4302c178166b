"""A Python number operand of add, sub, mul and div: torch wraps it as a tensor, so the node
lists an edge for it, (None, 0) in next_functions. The graph's shape, and the gradients through
it (second order included), against torch."""
import numpy as np
import pytest
import torch

import ember

EXPRESSIONS = [
    'x * 2.5', '2.5 * x', 'x + 1', 'x + 1.5', 'x - 1', '1 - x', 'x / 2', '2 / x', 'x ** 2',
    'lib.add(x, 1, alpha=2)', 'x.sub(1, alpha=2)', 'lib.mul(x, lib.tensor(2.0))', 'x.mul(2)',
    'x.multiply(3)', 'x.true_divide(2)', '(x * 1).add_(1)', '(x * 1).mul_(2)',
    '(x * 1).sub_(1)', '(x * 1).div_(2)', 'x.div(2, rounding_mode="floor")',
    'x.div(2, rounding_mode="trunc")', 'x.div(x, rounding_mode="floor")', 'x.double() * 2',
    'x.half() + 1', 'x % 2', 'x.clamp(0, 1)', 'lib.where(x > 0, x, 0.0)', 'x.exp() * 3 - 1',
]


def _graph(lib, expr):
    x = lib.tensor([0.5, 1.25, -2.0], dtype=lib.float64, requires_grad=True)
    y = eval(expr, {'lib': lib, 'x': x})
    edges = [(type(f).__name__ if f is not None else None, i)
             for f, i in y.grad_fn.next_functions]
    y.double().sum().backward()
    return type(y.grad_fn).__name__, edges, x.grad.numpy().tolist()


@pytest.mark.parametrize('expr', EXPRESSIONS)
def test_next_functions_and_gradients_match_torch(expr):
    assert _graph(ember, expr) == _graph(torch, expr)


def test_second_order_through_scalar_operands():
    got = []
    for lib in (ember, torch):
        x = lib.tensor([0.5, 1.25, -2.0], dtype=lib.float64, requires_grad=True)
        y = ((x * 3.0 + 1) * x - 2) / 4
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        got.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-15)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-15)
