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


@pytest.mark.parametrize('cls,kw,dtype', [
    ('RNN', {}, 'float32'), ('GRU', {}, 'float64'), ('LSTM', {}, 'float32'),
    ('LSTM', {}, 'float64'), ('LSTM', {'num_layers': 2}, 'float32'),
    ('LSTM', {'proj_size': 1}, 'float32'), ('LSTM', {'bidirectional': True}, 'float32'),
    ('GRU', {'bidirectional': True}, 'float32'), ('LSTM', {'batch_first': True}, 'float32'),
    ('RNN', {'batch_first': True, 'bidirectional': True}, 'float32'),
    ('GRU', {'batch_first': True}, 'float32')])
def test_output_grad_fn_name_as_printed(cls, kw, dtype):
    """`print(Y)` shows grad_fn=<...>: the class name must be torch's."""
    names = []
    for lib in (torch, ember):
        m = getattr(lib.nn, cls)(2, 3, **kw).to(getattr(lib, dtype))
        x = lib.ones(4, 2, 2, dtype=getattr(lib, dtype))
        y, _ = m(x)
        y2, _ = m(x[:, 0])
        names.append((y.grad_fn.name(), y2.grad_fn.name()))
    assert names[0] == names[1]


def test_renamed_output_still_backpropagates():
    m = ember.nn.LSTM(2, 3, batch_first=True)
    y, _ = m(ember.ones(1, 4, 2))
    y.sum().backward()
    assert m.weight_ih_l0.grad is not None and m.weight_ih_l0.grad.shape == (12, 2)
