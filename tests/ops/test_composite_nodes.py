"""Ops that torch builds from several kernels record one node of their own, declared with
@derivative under torch's grad_fn name: its formula and its name against torch's, one node for
the two outputs of var_mean / std_mean / aminmax."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
A34 = RNG.standard_normal((3, 4))
B45 = RNG.standard_normal((4, 5))
C43 = RNG.standard_normal((4, 3))
D43 = RNG.standard_normal((4, 3))

CASES = {
    'stack': (lambda lib, a, b: lib.stack([a, b], 1), (C43, D43)),
    'stack_neg_dim': (lambda lib, a, b: lib.stack([a, b, a], -1), (C43, D43)),
    'rot90': (lambda lib, a: lib.rot90(a, 1, (0, 1)), (A34,)),
    'rot90_neg': (lambda lib, a: lib.rot90(a, -3, (1, 0)), (A34,)),
    'rot90_k5': (lambda lib, a: a.rot90(5, (0, 1)), (A34,)),
    'einsum_mm': (lambda lib, a, b: lib.einsum('ij,jk->ik', a, b), (A34, B45)),
    'einsum_t': (lambda lib, a: lib.einsum('ij->ji', a), (A34,)),
    'einsum_sum': (lambda lib, a: lib.einsum('ij->i', a), (A34,)),
    'einsum_mul': (lambda lib, a, b: lib.einsum('ij,ij->ij', a, b), (C43, D43)),
    'tensordot': (lambda lib, a, b: lib.tensordot(a, b, 1), (A34, B45)),
    'tensordot_outer': (lambda lib, a, b: lib.tensordot(a, b, 0), (A34, C43)),
    'cross': (lambda lib, a, b: lib.cross(a, b, dim=1), (C43, D43)),
    'cross_broadcast': (lambda lib, a, b: lib.linalg.cross(a, b[:1]), (C43, D43)),
    'trace': (lambda lib, a: lib.trace(a), (A34,)),
    'trace_tall': (lambda lib, a: a.trace(), (B45.T,)),
    'kron': (lambda lib, a, b: lib.kron(a, b), (A34, C43)),
    'kron_ranks': (lambda lib, a, b: lib.kron(a, b[0]), (A34, C43)),
}


def _run(lib, fn, arrays, dtype):
    leaves = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out = fn(lib, *leaves)
    upstream = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(dtype)
    out.backward(lib.tensor(upstream))
    return out, leaves


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('case', sorted(CASES))
def test_node_name_values_and_gradients_match_torch(case, dtype):
    fn, arrays = CASES[case]
    (eo, el), (to, tl) = (_run(lib, fn, arrays, dtype) for lib in (ember, torch))
    assert type(eo.grad_fn).__name__ == type(to.grad_fn).__name__
    assert eo.dtype.name == str(to.dtype).replace('torch.', '')
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    for e, t in zip(el, tl):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


def test_kron_ends_with_unsafe_view_over_mul_as_torch():
    for lib in (ember, torch):
        a = lib.tensor(A34, requires_grad=True)
        fn = lib.kron(a, a).grad_fn
        assert type(fn).__name__ == 'UnsafeViewBackward0'
        assert type(fn.next_functions[0][0]).__name__ == 'MulBackward0'


@pytest.mark.parametrize('case', ['stack', 'rot90_neg', 'einsum_mm', 'tensordot', 'cross',
                                  'cross_broadcast', 'trace', 'trace_tall', 'kron'])
def test_formulas_pass_gradcheck_twice(case):
    fn, arrays = CASES[case]
    leaves = tuple(ember.tensor(a, requires_grad=True) for a in arrays)
    f = lambda *xs: fn(ember, *xs)  # noqa: E731
    assert gradcheck(f, leaves)
    # contiguous upstream gradients (gradcheck perturbs an input through a flat view)
    upstream = ember.tensor(RNG.standard_normal(tuple(f(*leaves).shape)), requires_grad=True)
    assert gradgradcheck(f, leaves, (upstream,))


# ---- two outputs, one node ----------------------------------------------------------------

TWO = {
    'var_mean': lambda lib, x: lib.var_mean(x, 1),
    'var_mean_all_keepdim': lambda lib, x: lib.var_mean(x, None, keepdim=True, correction=0),
    'std_mean': lambda lib, x: lib.std_mean(x, 0),
    'std_mean_all': lambda lib, x: lib.std_mean(x),
    'aminmax_dim': lambda lib, x: tuple(lib.aminmax(x, dim=1)),
    'aminmax_keepdim': lambda lib, x: tuple(lib.aminmax(x, dim=0, keepdim=True)),
    'aminmax_all': lambda lib, x: tuple(lib.aminmax(x)),
}
X = np.round(RNG.standard_normal((3, 4)), 1)
X[1, 2] = X[1, 0] = X[1].max()  # a tie, shared evenly as torch does


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('use', ['first', 'second', 'both'])
@pytest.mark.parametrize('case', sorted(TWO))
def test_two_outputs_share_one_node(case, use, dtype):
    got = []
    for lib in (ember, torch):
        x = lib.tensor(X.astype(dtype), requires_grad=True)
        a, b = TWO[case](lib, x)
        assert a.grad_fn is b.grad_fn and (a.output_nr, b.output_nr) == (0, 1)
        loss = {'first': lambda: (a * 2).sum(), 'second': lambda: (b ** 2).sum(),
                'both': lambda: (a * 3).sum() + (b * b).sum()}[use]()
        loss.backward()
        got.append((type(a.grad_fn).__name__, a.detach().numpy(), b.detach().numpy(),
                    x.grad.numpy()))
    (en, ea, eb, eg), (tn, ta, tb, tg) = got
    assert en == tn
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for e, t in ((ea, ta), (eb, tb), (eg, tg)):
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


@pytest.mark.parametrize('case', ['var_mean', 'std_mean', 'aminmax_dim'])
def test_two_output_formulas_pass_gradcheck_twice(case):
    x = ember.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    f = lambda t: TWO[case](ember, t)  # noqa: E731
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))
