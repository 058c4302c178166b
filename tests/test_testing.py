"""ember.testing against torch.testing: the same verdicts and messages, the same draws."""
import numpy as np
import pytest
import torch

import ember


def _outcome(lib, fn):
    try:
        fn(lib)
        return 'ok'
    except Exception as e:
        return type(e).__name__, str(e)


CASES = [
    lambda L: L.testing.assert_close(L.ones(3), L.ones(3)),
    lambda L: L.testing.assert_close(True, False),
    lambda L: L.testing.assert_close(1, 1.0),
    lambda L: L.testing.assert_close(1.0, 1.5),
    lambda L: L.testing.assert_close(1.0, 1.0 + 1e-9),
    lambda L: L.testing.assert_close(L.ones(2), [1.0, 1.0]),
    lambda L: L.testing.assert_close(L.tensor([1., 2., 3.]), L.tensor([1., 2.5, 3.])),
    lambda L: L.testing.assert_close(L.tensor([[1., 2.], [3., 4.]]),
                                     L.tensor([[1., 2.], [3.5, 4.]])),
    lambda L: L.testing.assert_close(L.tensor([1., 2.]), L.tensor([1., 2. + 1e-6])),
    lambda L: L.testing.assert_close([L.ones(2)], [L.zeros(2)]),
    lambda L: L.testing.assert_close({'a': L.ones(2), 'b': 1}, {'a': L.ones(2), 'b': 2}),
    lambda L: L.testing.assert_close(L.tensor(1.), L.tensor(2.)),
    lambda L: L.testing.assert_close(L.tensor([1, 2]), L.tensor([1, 3])),
    lambda L: L.testing.assert_close(None, 1),
    lambda L: L.testing.assert_close({'a': 1}, {'b': 1}),
    lambda L: L.testing.assert_close([1, 2], [1, 2, 3]),
    lambda L: L.testing.assert_close(L.ones(2), L.ones(2, dtype=L.float64)),
    lambda L: L.testing.assert_close(L.ones(2), L.ones(3)),
    lambda L: L.testing.assert_close(L.ones(2), L.ones(2, dtype=L.float64), check_dtype=False),
    lambda L: L.testing.assert_close(L.tensor([float('nan')]), L.tensor([float('nan')])),
    lambda L: L.testing.assert_close(L.tensor([float('nan')]), L.tensor([float('nan')]),
                                     equal_nan=True),
    lambda L: L.testing.assert_close(L.tensor([float('inf')]), L.tensor([float('inf')])),
    lambda L: L.testing.assert_close(L.tensor([1., 2.]), L.tensor([1.1, 2.]), rtol=0.2, atol=0),
    lambda L: L.testing.assert_close(L.tensor([1., 2.]), L.tensor([1.1, 2.]), rtol=0.2),
    lambda L: L.testing.assert_close(L.tensor([1., 2.]), L.tensor([1.5, 2.]), msg='custom'),
    lambda L: L.testing.assert_close(np.ones(2), np.zeros(2)),
    lambda L: L.testing.assert_close(np.float32(1), np.float32(1.5)),
    lambda L: L.testing.assert_close(L.tensor([True, False]), L.tensor([True, True])),
    lambda L: L.testing.assert_close(L.tensor([0., 1.]), L.tensor([0., 0.])),
]


@pytest.mark.parametrize('i', range(len(CASES)))
def test_assert_close_matches_torch(i):
    assert _outcome(ember, CASES[i]) == _outcome(torch, CASES[i])


def test_assert_close_callable_msg():
    with pytest.raises(AssertionError, match='^PREFIX Tensor-likes'):
        ember.testing.assert_close(ember.ones(2), ember.zeros(2), msg=lambda m: 'PREFIX ' + m)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool',
                                   'int8'])
@pytest.mark.parametrize('kw', [{}, {'low': -2, 'high': 3}, {'noncontiguous': True},
                                {'exclude_zero': True}])
def test_make_tensor_draws_as_torch(dtype, kw):
    if dtype == 'bool' and 'low' in kw:
        kw = {}
    torch.manual_seed(3)
    ember.manual_seed(3)
    t = torch.testing.make_tensor(3, 4, dtype=getattr(torch, dtype), device='cpu', **kw)
    e = ember.testing.make_tensor(3, 4, dtype=getattr(ember, dtype), device='cpu', **kw)
    assert e.dtype == getattr(ember, dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e.is_contiguous() == t.is_contiguous()


def test_make_tensor_errors_and_grad():
    e = ember.testing.make_tensor((2, 3), dtype=ember.float32, device='cpu', requires_grad=True)
    assert e.requires_grad and tuple(e.shape) == (2, 3)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match='`low` must be less than `high`'):
            lib.testing.make_tensor(2, dtype=lib.float32, device='cpu', low=3, high=1)
