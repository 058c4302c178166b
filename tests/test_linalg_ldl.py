"""torch.linalg.ldl_factor(_ex) and ldl_solve against torch: LAPACK's Bunch-Kaufman pivots and
compact LD (1x1 and 2x2 blocks), solutions, batches, the refused gradient and errors."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

from tests.ops._compare import assert_same, run_both  # noqa: E402


def _symmetric(rng, n, small_diag=False, batch=()):
    a = rng.normal(size=batch + (n, n))
    a = a + np.swapaxes(a, -1, -2)
    if small_diag:
        a[..., np.arange(n), np.arange(n)] *= 0.01   # forces 2x2 pivots
    return a


@pytest.mark.parametrize('n', [1, 2, 3, 5, 8])
@pytest.mark.parametrize('small_diag', [False, True])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_ldl_factor_and_solve(n, small_diag, dtype):
    rng = np.random.default_rng(n)
    for _ in range(5):
        a = _symmetric(rng, n, small_diag).astype(dtype)
        e = ember.linalg.ldl_factor_ex(ember.tensor(a))
        t = torch.linalg.ldl_factor_ex(torch.tensor(a))
        assert_same(e.pivots, t.pivots)
        assert_same(e.info, t.info)
        assert_same(e.LD, t.LD, atol=1e-5 if dtype == 'float32' else 1e-12)
        b = rng.normal(size=(n, 3)).astype(dtype)
        assert_same(ember.linalg.ldl_solve(e.LD, e.pivots, ember.tensor(b)),
                    torch.linalg.ldl_solve(t.LD, t.pivots, torch.tensor(b)),
                    atol=1e-3 if dtype == 'float32' else 1e-9)


def test_batched_and_plain_factor():
    rng = np.random.default_rng(0)
    a = _symmetric(rng, 4, True, (2, 3))
    e, t = ember.linalg.ldl_factor(ember.tensor(a)), torch.linalg.ldl_factor(torch.tensor(a))
    assert type(e).__name__ == type(t).__name__ == 'linalg_ldl_factor'
    assert_same(e.pivots, t.pivots)
    assert_same(e.LD, t.LD)
    b = rng.normal(size=(3, 4, 2))
    assert_same(ember.linalg.ldl_solve(e.LD, e.pivots, ember.tensor(b)),
                torch.linalg.ldl_solve(t.LD, t.pivots, torch.tensor(b)))


def test_singular_gradient_and_errors():
    for lib in (ember, torch):
        r = lib.linalg.ldl_factor_ex(lib.zeros(3, 3, dtype=lib.float64))
        assert int(r.info) == 1
        x = lib.eye(3, dtype=lib.float64, requires_grad=True)
        r = lib.linalg.ldl_factor(x)
        assert type(r.LD.grad_fn).__name__ == 'NotImplemented' and not r.pivots.requires_grad
        with pytest.raises(RuntimeError, match='derivative for aten::linalg_ldl_factor_ex'):
            r.LD.sum().backward()
    run_both(lambda: ember.linalg.ldl_factor(ember.ones(2, 3)),
             lambda: torch.linalg.ldl_factor(torch.ones(2, 3)))
    run_both(lambda: ember.linalg.ldl_factor(ember.ones(3)),
             lambda: torch.linalg.ldl_factor(torch.ones(3)))
