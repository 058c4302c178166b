"""Edge cases of the recurrent layers met by d2l-style programs, checked against torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


@pytest.mark.parametrize('cls', ['RNN', 'GRU', 'LSTM'])
@pytest.mark.parametrize('shape,batch_first', [((0, 2, 4), False), ((0, 4), False),
                                               ((2, 0, 4), True)])
def test_empty_sequence_is_an_error(cls, shape, batch_first):
    x = np.zeros(shape, dtype=np.float32)
    msgs = []
    for lib in (torch, ember):
        layer = getattr(lib.nn, cls)(4, 3, batch_first=batch_first)
        with pytest.raises(RuntimeError) as info:
            layer(lib.tensor(x))
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_empty_batch_runs():
    x = np.zeros((3, 0, 4), dtype=np.float32)
    t_out, t_h = torch.nn.GRU(4, 6)(torch.tensor(x))
    e_out, e_h = ember.nn.GRU(4, 6)(ember.tensor(x))
    assert tuple(e_out.shape) == tuple(t_out.shape)
    assert tuple(e_h.shape) == tuple(t_h.shape)
