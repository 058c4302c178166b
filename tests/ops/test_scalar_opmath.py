"""A tensor and a Python number: torch's mul and div compute a float16 or bfloat16 tensor's
result in float32 with the number as a float32 (NumPy would round the number to the tensor's
dtype first), and its `number / tensor` is the reciprocal times the number. Bits, dtypes,
gradients and the graph against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')
pytest.importorskip('ml_dtypes')

DTYPES = ['float16', 'bfloat16', 'float32', 'float64']
NUMBERS = [0.1, 1.7, 1e-3, 3.3333, 1000.1, 3, 5001, 1, -2.5]


def _x(dtype):
    v = np.random.default_rng(0).standard_normal(4000) * 10
    v[::50] = 0.0
    return v


def _bits(t):
    return t.detach().float().numpy()


def _forms(lib, t, s):
    c1, c2 = t.clone(), t.clone()
    c1 *= s
    c2 /= s
    return [t * s, s * t, t / s, s / t, c1, c2, t.mul(s), lib.div(t, s), t.mul_(1.0) * s]


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('s', NUMBERS)
def test_number_times_and_over_a_tensor(dtype, s):
    got = []
    for lib in (ember, torch):
        t = lib.from_numpy(_x(dtype).astype(np.float32)).to(getattr(lib, dtype))
        got.append(_forms(lib, t, s))
    for i, (e, r) in enumerate(zip(*got)):
        assert str(e.dtype) == str(r.dtype), i
        mine, ref = _bits(e), _bits(r)
        same = (mine == ref) | (np.isnan(mine) & np.isnan(ref))
        assert same.all(), (i, int((~same).sum()))


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_gradients_and_graph(dtype):
    g = np.random.default_rng(1).standard_normal(4000)
    res = []
    for lib in (ember, torch):
        x = lib.from_numpy(_x(dtype) + 20.5).to(getattr(lib, dtype)).requires_grad_()
        y = 3.7 / x + x * 0.3 - x / 1.9
        y.backward(lib.from_numpy(g).to(x.dtype))
        node = (2.5 / x).grad_fn
        res.append((_bits(y), _bits(x.grad), type(node).__name__,
                    [type(n).__name__ for n, _ in node.next_functions]))
    (ye, ge, ne, nfe), (yt, gt, nt, nft) = res
    np.testing.assert_array_equal(ye, yt)
    np.testing.assert_array_equal(ge, gt)
    # (torch lists the number as a second, empty edge: ember's known difference)
    assert (ne, nfe[0]) == (nt, nft[0]) == ('MulBackward0', 'ReciprocalBackward0')


def test_integer_and_bool_tensors_over_a_number():
    for data in ([1, 2, 3, -4], [True, False, True, True]):
        e, t = 0.7 / ember.tensor(data), 0.7 / torch.tensor(data)
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize('dtype', DTYPES + ['int64', 'int32', 'uint8'])
@pytest.mark.parametrize('s', [1.0, 0.1, 3, -7, 2 ** 60, 1e300])
def test_add_and_sub_with_a_number_and_tensor_differences(dtype, s):
    """`x + 1.0`, `x - 1` (_float_scalar) and `a - b` of one dtype (the operator's fast path):
    values and dtypes as torch's, errors where torch raises."""
    got = []
    for lib in (ember, torch):
        v = np.abs(_x(dtype)) if dtype == 'uint8' else _x(dtype)  # (no negative to unsigned)
        x = lib.from_numpy(v).to(getattr(lib, dtype))
        try:
            with np.errstate(all='ignore'):
                got.append([x + s, x - s, s - x, s + x, x - x.flip(0), x + x])
        except (RuntimeError, OverflowError) as e:
            got.append(type(e))
    if not isinstance(got[0], list) or not isinstance(got[1], list):
        assert got[0] == got[1]
        return
    for i, (e, r) in enumerate(zip(*got)):
        assert str(e.dtype) == str(r.dtype), i
        mine, ref = _bits(e), _bits(r)
        assert ((mine == ref) | (np.isnan(mine) & np.isnan(ref))).all(), i


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_sub_operator_graph_and_bool_error(dtype):
    res = []
    for lib in (ember, torch):
        a = lib.from_numpy(_x(dtype)).requires_grad_()
        b = lib.from_numpy(_x(dtype)[::-1].copy()).requires_grad_()
        y = (a - b) * (a - 2.5) + (b + 1)
        y.sum().backward()
        res.append((_bits(y), _bits(a.grad), _bits(b.grad), type((a - b).grad_fn).__name__,
                    type((a - 2.5).grad_fn).__name__))
        with pytest.raises(RuntimeError, match='Subtraction, the `-` operator, with two bool'):
            lib.tensor([True]) - lib.tensor([False])
    for mine, ref in zip(*res):
        if isinstance(mine, str):
            assert mine == ref
        else:
            np.testing.assert_array_equal(mine, ref)


@pytest.mark.parametrize('expr', [
    'lib.ones(2) - True', 'lib.tensor([True]) - 1', 'lib.tensor([True]) - lib.tensor([1.0])',
    'lib.ones(2).sub(True)', '1 - lib.tensor([True])', 'True - lib.ones(2)',
    'lib.ones(2).sub_(True)', 'lib.ones(2).sub_(lib.tensor([True, False]))',
    'lib.rsub(lib.ones(2), True)', 'lib.tensor([True]) - True',
    'lib.ones(2) - lib.tensor(True)', 'lib.ones(2).subtract(True, alpha=2)',
    'lib.ones(2, requires_grad=True) - True', 'lib.ones(2) + True', 'lib.ones(2) * True',
    'lib.tensor([True]) + lib.tensor([True])'])
def test_subtraction_with_a_bool_operand_as_torch(expr):
    # torch refuses a bool operand of a subtraction, a Python bool included
    got = []
    for lib in (ember, torch):
        try:
            got.append(eval(expr, {'lib': lib}).tolist())
        except RuntimeError as e:
            got.append(str(e))
    assert got[0] == got[1]
