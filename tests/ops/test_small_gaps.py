"""Small gaps against torch: kthvalue's index among ties, Python ints beyond 64 bits as
scalars, convolutions with no channels, second-order gradients at NaN and at the kinks."""
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

NAN = float('nan')


# ---- kthvalue: the index among equal values is the one torch's quickselect lands on --------

@pytest.mark.parametrize('values,k', [
    ([1., 2., 2., 2., 3.], 3), ([2., 1., 2., 2., 2.], 2), ([5.] * 4, 1), ([5.] * 4, 4),
    ([1., NAN, 0., NAN], 3), ([1., NAN, 0., NAN], 4), ([3.], 1)])
def test_kthvalue_ties_1d(values, k):
    t = torch.kthvalue(torch.tensor(values), k)
    e = ember.kthvalue(ember.tensor(values), k)
    assert e.indices.item() == t.indices.item()
    np.testing.assert_equal(e.values.item(), t.values.item())


@pytest.mark.parametrize('n', [9, 20, 33])
def test_kthvalue_all_equal_every_k(n):
    for k in range(1, n + 1):
        assert ember.kthvalue(ember.full((n,), 5.), k).indices.item() == \
            torch.kthvalue(torch.full((n,), 5.), k).indices.item()


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_kthvalue_ties_random_nd(dtype):
    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = tuple(int(s) for s in rng.integers(1, 7, int(rng.integers(1, 4))))
        v = rng.integers(0, 3, shape).astype(dtype)
        if rng.random() < 0.3:
            v[rng.random(shape) < 0.3] = np.nan
        dim = int(rng.integers(-v.ndim, v.ndim))
        k = int(rng.integers(1, v.shape[dim] + 1))
        keepdim = bool(rng.random() < 0.5)
        t = torch.kthvalue(torch.from_numpy(v), k, dim, keepdim)
        e = ember.kthvalue(ember.from_numpy(v), k, dim, keepdim)
        np.testing.assert_array_equal(e.indices._data, t.indices.numpy())
        np.testing.assert_array_equal(e.values._data, t.values.numpy())


def test_kthvalue_0d():
    for L in (torch, ember):
        r = L.kthvalue(L.tensor(3.), 1)
        assert r.indices.item() == 0 and r.values.item() == 3.
        with pytest.raises(RuntimeError, match='k out of range'):
            L.kthvalue(L.tensor(3.), 2)


def test_kthvalue_ties_gradient_goes_to_the_reported_index():
    grads = []
    for L in (torch, ember):
        x = L.tensor([[1., 1., 1.], [2., 0., 2.]], requires_grad=True)
        L.kthvalue(x, 2, 1).values.sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


# ---- Python ints torch cannot unpack as int64 or uint64 -------------------------------------

@pytest.mark.parametrize('expr', [
    'L.ones(2).add_(2**64)', 'L.ones(2).add_(-2**64)', 'L.ones(2) * 2**64', 'L.ones(2) - 2**64',
    '2**64 + L.ones(2)', 'L.ones(2).add_(10**40)', 'L.ones(2).mul_(2**64)',
    'L.ones(2, dtype=L.long).add_(2**64)', 'L.ones(2).add_(2**63)', 'L.ones(2) + (-2**63)',
    'L.ones(2, dtype=L.float64).add_(2**64)'])
def test_int_scalar_range(expr):
    out = []
    for L in (torch, ember):
        try:
            out.append(eval(expr, {'L': L}).tolist())
        except OverflowError as e:
            out.append(('OverflowError', str(e)))
    assert out[0] == out[1]


# ---- convolutions with no input or output channels ------------------------------------------

@pytest.mark.parametrize('make,shape', [
    ('L.nn.Conv2d(0, 4, 3)', (2, 0, 5, 5)), ('L.nn.Conv2d(0, 4, 3, stride=2, padding=1)',
                                             (2, 0, 5, 6)),
    ('L.nn.Conv2d(0, 4, 3, bias=False)', (2, 0, 5, 5)), ('L.nn.Conv1d(0, 4, 3)', (2, 0, 5)),
    ('L.nn.Conv3d(0, 2, 3)', (1, 0, 4, 4, 4)), ('L.nn.Conv2d(0, 4, 3)', (0, 5, 5)),
    ('L.nn.Conv2d(0, 4, 3)', (0, 0, 5, 5)), ('L.nn.Conv2d(4, 0, 3)', (1, 4, 5, 5)),
    ('L.nn.ConvTranspose2d(0, 4, 3)', (2, 0, 5, 5))])
def test_conv_without_channels(make, shape):
    res = []
    for L in (torch, ember):
        L.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # "Initializing zero-element tensors is a no-op"
            m = eval(make, {'L': L})
        x = L.ones(shape, requires_grad=True)
        try:
            y = m(x)
        except RuntimeError as e:
            res.append(('RuntimeError', str(e)))
            continue
        y.sum().backward()
        res.append((tuple(y.shape), tuple(x.grad.shape), tuple(m.weight.grad.shape),
                    None if m.bias is None else m.bias.grad.tolist()))
    assert res[0] == res[1]


# ---- second-order gradients at NaN and at the kinks --------------------------------------------

def _second(L, name, vals):
    F = L.nn.functional
    fn = {'elu': F.elu, 'elu_a': lambda x: F.elu(x, 0.5), 'celu': F.celu, 'selu': F.selu,
          'hardswish': F.hardswish, 'abs': L.abs, 'logit': L.logit,
          'logit_eps': lambda x: L.logit(x, 0.1), 'elu_': lambda x: F.elu(x * 1, inplace=True)
          }[name]
    x = L.tensor(vals, requires_grad=True)
    g, = L.autograd.grad(fn(x).sum(), x, create_graph=True)
    g2, = L.autograd.grad((g * L.linspace(0.5, 2, len(vals))).sum(), x)
    # torch's abs gives its double backward as an efficient zero tensor (no storage)
    return g.detach().numpy().copy() if L is torch else g._data, \
        np.zeros(len(vals)) if name == 'abs' and L is torch else np.asarray(g2.tolist())


@pytest.mark.parametrize('name', ['elu', 'elu_a', 'celu', 'selu', 'hardswish', 'abs',
                                  'logit', 'logit_eps', 'elu_'])
def test_second_order_at_nan_and_kinks(name):
    # one element at a time: torch's SIMD kernels answer differently at NaN for whole
    # vectors (NaN) than for a scalar tail (what ember follows)
    if name.startswith('logit'):
        values = [NAN, 0.25, 0.0, 1.0, 0.5, -0.5, 1.5, 0.95, 0.05]
    else:
        values = [NAN, -1.0, 0.0, -0.0, 1.0, 0.5, 3.5, -3.5, 3.0, -3.0]
    for v in values:
        te, t2 = _second(torch, name, [v])
        ee, e2 = _second(ember, name, [v])
        np.testing.assert_allclose(ee, te, rtol=1e-5, equal_nan=True, err_msg=f"grad at {v}")
        np.testing.assert_allclose(e2, t2, rtol=1e-5, equal_nan=True,
                                   err_msg=f"second-order grad at {v}")


def test_lerp_takes_torchs_branch_per_weight():
    """torch interpolates from the nearer end (|w| < 0.5 from input); with w = 0.5 or 1.5 the
    two formulas round differently, and ember now gives torch's bits there."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(2000).astype(np.float32)
    b = rng.standard_normal(2000).astype(np.float32)
    for w in (0.5, 1.5):
        e = ember.lerp(ember.tensor(a), ember.tensor(b), w).numpy()
        t = torch.lerp(torch.tensor(a), torch.tensor(b), w).numpy()
        assert (e == t).all(), w
