"""NumPy's `axis=` keyword for `dim=` on shape ops, as torch's argument parser accepts it."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

CALLS = [
    lambda L, X: L.cat((X, X), axis=1),
    lambda L, X: L.concat((X, X), axis=0),
    lambda L, X: L.concatenate((X, X), axis=1),
    lambda L, X: L.stack([X, X], axis=2),
    lambda L, X: L.unsqueeze(X, axis=0),
    lambda L, X: X.unsqueeze(axis=1),
    lambda L, X: X[None].squeeze(axis=0),
    lambda L, X: L.squeeze(X[:, None], axis=1),
    lambda L, X: L.narrow(X, axis=1, start=1, length=2),
    lambda L, X: L.select(X, axis=1, index=2),
    lambda L, X: X.chunk(3, axis=1)[1],
    lambda L, X: L.unbind(X, axis=1)[2],
    lambda L, X: X.tensor_split(2, axis=0)[1],
    lambda L, X: L.diff(X, axis=0),
    lambda L, X: X.clone().unsqueeze_(axis=0),
    lambda L, X: X[None].clone().squeeze_(axis=0),
]


@pytest.mark.parametrize('i', range(len(CALLS)))
def test_axis_keyword(i):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = CALLS[i](torch, torch.tensor(a))
    e = CALLS[i](ember, ember.tensor(a))
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_dim_and_axis_together_is_a_type_error():
    for L in (torch, ember):
        X = L.zeros(2, 3)
        with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
            L.cat([X], dim=0, axis=1)
