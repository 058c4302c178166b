"""Gaps that the whole programs in tests/programs/modern exposed, each checked against torch."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _both(fn):
    """Run fn on both libraries; return (ember result, torch result) or their exceptions."""
    out = []
    for lib in (ember, torch):
        try:
            out.append(fn(lib))
        except Exception as e:  # compared below: same type and message
            out.append(e)
    return out


def assert_same_error(e, t):
    assert isinstance(e, Exception) and isinstance(t, Exception), (e, t)
    assert type(e) is type(t) and str(e) == str(t), (e, t)


@pytest.mark.parametrize('shape,wrap', [((3, 3), False), ((2, 5), False), ((7, 3), True),
                                        ((7, 3), False), ((5, 3), True), ((4, 3), True),
                                        ((3, 7), True), ((3, 3, 3), False), ((2, 2, 2, 2), True)])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64'])
def test_fill_diagonal_(shape, wrap, dtype):
    base = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    e, t = _both(lambda lib: lib.tensor(base).fill_diagonal_(-2.5, wrap=wrap))
    assert e.dtype == getattr(ember, dtype)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_fill_diagonal_non_contiguous_and_tensor_value():
    base = np.zeros((4, 4), np.float32)
    e, t = _both(lambda lib: lib.tensor(base).t().fill_diagonal_(lib.tensor(3.0)))
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    # the view is written through to its base
    for lib in (ember, torch):
        b = lib.zeros(3, 3)
        b[:, :].fill_diagonal_(1)
        assert b.trace().item() == 3


def test_fill_diagonal_autograd():
    x0 = np.random.RandomState(0).randn(3, 3)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 2
        y.fill_diagonal_(5.0)
        (y * lib.tensor(x0)).sum().backward()
        res.append((type(y.grad_fn).__name__, y.detach().numpy(), x.grad.numpy()))
    assert res[0][0] == res[1][0] == 'CopySlices'
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][2], res[1][2])


@pytest.mark.parametrize('make', [lambda lib: lib.zeros(3, 3, requires_grad=True).fill_diagonal_(1),
                                  lambda lib: lib.zeros(2, 3, 4).fill_diagonal_(1),
                                  lambda lib: lib.zeros(3).fill_diagonal_(1)])
def test_fill_diagonal_errors(make):
    assert_same_error(*_both(make))


def test_tensor_compared_with_none():
    for lib in (ember, torch):
        t = lib.ones(2)
        assert (t == None) is False  # noqa: E711
        assert (t != None) is True  # noqa: E711
        assert (None == t) is False  # noqa: E711
        assert (t == 'text') is False
        assert t.__eq__(None) is NotImplemented
    e, t = _both(lambda lib: lib.ones(2) < None)
    assert_same_error(e, t)
    e, t = _both(lambda lib: lib.ones(2) >= 'a')
    assert_same_error(e, t)
    # comparisons with numbers and tensors are unchanged
    e, t = _both(lambda lib: (lib.arange(3) == 1, lib.arange(3) != lib.ones(3, dtype=lib.long)))
    for a, b in zip(e, t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize('n', [0, 10, 1000])
def test_storage_getsizeof_counts_the_bytes(n):
    # torchinfo's "Input size (MB)" is the sum of sys.getsizeof(t.untyped_storage())
    import sys
    import warnings
    for dtype in ('float32', 'int64'):
        e = ember.zeros(n, dtype=getattr(ember, dtype))
        t = torch.zeros(n, dtype=getattr(torch, dtype))
        assert sys.getsizeof(e.untyped_storage()) == sys.getsizeof(t.untyped_storage())
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            assert sys.getsizeof(e.storage()) == sys.getsizeof(t.storage())
        if n:
            assert sys.getsizeof(e[1:].untyped_storage()) == \
                sys.getsizeof(t[1:].untyped_storage())
