"""torch.* forms of tensor operations against torch: the *_copy functions, torch.fill and the
dropout functions with a positional `train` (values and random masks for one seed)."""
import numpy as np
import pytest
import torch

import ember


def _same(e, t):
    if isinstance(t, tuple):
        assert isinstance(e, tuple) and len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
        return
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize('call', [
    lambda L, x: L.alias_copy(x), lambda L, x: L.slice_copy(x, 1, 1, 4, 2),
    lambda L, x: L.slice_copy(x), lambda L, x: L.split_copy(x, 2, 1),
    lambda L, x: L.split_with_sizes_copy(x, [1, 2], 0), lambda L, x: L.unbind_copy(x, 1),
    lambda L, x: L.fill(x, 2.5),
])
def test_copy_forms(call):
    x = np.arange(15, dtype=np.float32).reshape(3, 5)
    et, tt = ember.tensor(x), torch.tensor(x)
    e, t = call(ember, et), call(torch, tt)
    _same(e, t)
    for r in (e if isinstance(e, tuple) else (e,)):
        assert r._base is None and not np.shares_memory(r.numpy(), et.numpy())


@pytest.mark.parametrize('name,shape', [('dropout_', (4, 6)), ('alpha_dropout_', (4, 6)),
                                        ('feature_dropout', (2, 3, 4)),
                                        ('feature_dropout_', (2, 3, 4)),
                                        ('feature_alpha_dropout_', (2, 3, 4))])
@pytest.mark.parametrize('train', [True, False])
def test_dropout_forms(name, shape, train):
    x = np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    out = []
    for lib in (torch, ember):
        t = lib.tensor(x)
        lib.manual_seed(5)
        r = getattr(lib, name)(t, 0.4, train)
        out.append((r.numpy(), t.numpy(), r is t))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-6)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-6)
    assert out[0][2] == out[1][2]
