"""Recurrent layers: RNN, LSTM, GRU and their single-step Cell forms (torch.nn.modules.rnn).

The multi-step layers run on ember/_ops/rnn.py (one fused autograd node per layer and
direction); the cells are a handful of recorded ops, like torch's.
"""
import math
import numbers
import warnings

import numpy as np

from ... import _dtype
from ..._ops import rnn as _rnn
from ..._ops.linear import linear as _linear
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module
from ..._ops.creation import zeros
from .utils import _empty

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell']


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


class RNNBase(Module):
    """Shared parameters, checks and the forward driver of RNN, LSTM and GRU."""

    __constants__ = ['mode', 'input_size', 'hidden_size', 'num_layers', 'bias', 'batch_first',
                     'dropout', 'bidirectional', 'proj_size']

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(
                f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(
                f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _rnn._GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _rnn._GATES[mode] * hidden_size

        self._flat_weights_names = []
        self._all_weights = []
        real_hidden = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                params = [('weight_ih_l{}{}', (gate_size, layer_input)),
                          ('weight_hh_l{}{}', (gate_size, real_hidden))]
                if bias:
                    params += [('bias_ih_l{}{}', (gate_size,)), ('bias_hh_l{}{}', (gate_size,))]
                if proj_size > 0:
                    params += [('weight_hr_l{}{}', (proj_size, hidden_size))]
                suffix = '_reverse' if direction == 1 else ''
                names = []
                for fmt, shape in params:
                    name = fmt.format(layer, suffix)
                    setattr(self, name, Parameter(_empty(shape, device, dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n, None) for n in self._flat_weights_names]

    def flatten_parameters(self):
        """A no-op on CPU (torch only repacks weights for cuDNN)."""

    @property
    def all_weights(self):
        return [[getattr(self, w) for w in ws] for ws in self._all_weights]

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # ---- checks (torch's messages) ----------------------------------------------------------

    def check_input(self, input, batch_sizes):
        wdtype = self._flat_weights[0].dtype
        if input.dtype != wdtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({wdtype}). "
                f"Convert input: input.to({wdtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _expected_state_size(self, input, batch_sizes, size):
        """(layers * directions, batch, size): the shape of a state (h or c) for `input`."""
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, size)

    def get_expected_hidden_size(self, input, batch_sizes):
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return self._expected_state_size(input, batch_sizes, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg='Expected hidden size {}, got {}'):
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def extra_repr(self):
        s = '{input_size}, {hidden_size}'
        if self.proj_size != 0:
            s += ', proj_size={proj_size}'
        if self.num_layers != 1:
            s += ', num_layers={num_layers}'
        if self.bias is not True:
            s += ', bias={bias}'
        if self.batch_first is not False:
            s += ', batch_first={batch_first}'
        if self.dropout != 0:
            s += ', dropout={dropout}'
        if self.bidirectional is not False:
            s += ', bidirectional={bidirectional}'
        return s.format(**self.__dict__)

    # ---- the forward driver ----------------------------------------------------------------

    def _zeros_state(self, batch, size, like):
        num_directions = 2 if self.bidirectional else 1
        return zeros(self.num_layers * num_directions, batch, size, dtype=like.dtype)

    def _prepare(self, input, hx, name):
        """Unpack/reshape the input; returns a dict the run step and _finish use."""
        st = {'packed': isinstance(input, PackedSequence), 'batched': True}
        if st['packed']:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            st.update(data=data, batch_sizes=batch_sizes, sorted=sorted_indices,
                      unsorted=unsorted_indices, batch=int(batch_sizes[0]))
            return st
        if input.dim() not in (2, 3):
            sep = ' tensor' if name == 'RNN' else ''
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{sep} instead")
        st['batched'] = input.dim() == 3
        st['batch_dim'] = 0 if self.batch_first else 1
        if not st['batched']:
            input = input.unsqueeze(st['batch_dim'])
        st.update(data=input, batch_sizes=None, sorted=None, unsorted=None,
                  batch=input.size(0) if self.batch_first else input.size(1))
        return st

    def _output_node_name(self):
        """The grad_fn class torch's CPU kernels leave on the output (shown when printed):
        the oneDNN LSTM kernel for a float32 one-way LSTM, else how the steps were joined."""
        if self.bidirectional:
            return 'CatBackward0'
        if (self.mode == 'LSTM' and self.proj_size == 0
                and self._flat_weights[0].dtype == _dtype.float32):
            return 'MkldnnRnnLayerBackward0'
        return 'StackBackward0'

    def _run(self, st, hx, cx):
        """Check nothing; run the stack. Returns (output, h_n, c_n) in the input's layout."""
        data = st['data']
        if st['packed']:
            rows = data
            bs = st['batch_sizes']._data.astype(np.int64)
        else:
            x = data.transpose(0, 1) if self.batch_first else data
            steps, batch = x.shape[0], x.shape[1]
            if steps == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            rows = x.reshape(steps * batch, x.shape[2])
            bs = np.full(steps, batch, dtype=np.int64)
        out, h, c = _rnn._rnn_stack(self.mode, rows, bs, hx, cx, self.all_weights, self.bias,
                                    self.num_layers, self.dropout, self.training,
                                    self.bidirectional, self.proj_size > 0)
        if st['packed']:
            out = PackedSequence(out, st['batch_sizes'], st['sorted'], st['unsorted'])
        else:
            out = _rnn._steps_output(out, steps, batch, self._output_node_name())
            if self.batch_first:
                # torch's RNN and GRU kernels transpose their output in place, LSTM's python
                # code takes a transposed view
                out = out.transpose(0, 1) if self.mode == 'LSTM' else out.transpose_(0, 1)
            if not st['batched']:
                out = out.squeeze(st['batch_dim'])
        return out, h, c


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop('nonlinearity', 'tanh')
        if self.nonlinearity == 'tanh':
            mode = 'RNN_TANH'
        elif self.nonlinearity == 'relu':
            mode = 'RNN_RELU'
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        return _single_state_forward(self, input, hx, 'RNN')


class GRU(RNNBase):
    """Gated recurrent unit, gates ordered (r, z, n) as in torch."""

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__('GRU', *args, **kwargs)

    def forward(self, input, hx=None):
        return _single_state_forward(self, input, hx, 'GRU')


def _single_state_forward(self, input, hx, name):
    st = self._prepare(input, hx, name)
    if not st['packed']:
        if not st['batched']:
            if hx is not None:
                if hx.dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but "
                                       f"got {hx.dim()}-D tensor")
                hx = hx.unsqueeze(1)
        elif hx is not None and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                               f"{hx.dim()}-D tensor")
    if hx is None:
        hx = self._zeros_state(st['batch'], self.hidden_size, st['data'])
    else:
        hx = self.permute_hidden(hx, st['sorted'])
    self.check_forward_args(st['data'], hx, st['batch_sizes'])
    out, h, _ = self._run(st, hx, None)
    if not st['packed'] and not st['batched']:
        h = h.squeeze(1)
    return out, self.permute_hidden(h, st['unsorted'])


class LSTM(RNNBase):
    """Long short-term memory, gates ordered (i, f, g, o); optional output projection."""

    def __init__(self, *args, **kwargs):
        super().__init__('LSTM', *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        return self._expected_state_size(input, batch_sizes, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               'Expected hidden[0] size {}, got {}')
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               'Expected hidden[1] size {}, got {}')

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return (_apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation))

    def forward(self, input, hx=None):
        st = self._prepare(input, hx, 'LSTM')
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            hx = (self._zeros_state(st['batch'], real_hidden, st['data']),
                  self._zeros_state(st['batch'], self.hidden_size, st['data']))
            self.check_forward_args(st['data'], hx, st['batch_sizes'])
        elif st['packed']:
            hx = self.permute_hidden(hx, st['sorted'])
            self.check_forward_args(st['data'], hx, st['batch_sizes'])
        else:
            if st['batched']:
                if hx[0].dim() != 3 or hx[1].dim() != 3:
                    raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D "
                                       f"but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            else:
                if hx[0].dim() != 2 or hx[1].dim() != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D "
                                       f"but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
            self.check_forward_args(st['data'], hx, st['batch_sizes'])
        out, h, c = self._run(st, hx[0], hx[1])
        if not st['packed'] and not st['batched']:
            h, c = h.squeeze(1), c.squeeze(1)
        return out, self.permute_hidden((h, c), st['unsorted'])


# ---- cells ------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """Parameters and repr shared by RNNCell, LSTMCell and GRUCell."""

    __constants__ = ['input_size', 'hidden_size', 'bias']

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_empty((num_chunks * hidden_size, input_size), device, dtype))
        self.weight_hh = Parameter(_empty((num_chunks * hidden_size, hidden_size), device, dtype))
        if bias:
            self.bias_ih = Parameter(_empty(num_chunks * hidden_size, device, dtype))
            self.bias_hh = Parameter(_empty(num_chunks * hidden_size, device, dtype))
        else:
            self.register_parameter('bias_ih', None)
            self.register_parameter('bias_hh', None)
        self.reset_parameters()

    def extra_repr(self):
        s = '{input_size}, {hidden_size}'
        if 'bias' in self.__dict__ and self.bias is not True:
            s += ', bias={bias}'
        if 'nonlinearity' in self.__dict__ and self.nonlinearity != 'tanh':
            s += ', nonlinearity={nonlinearity}'
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_dims(self, name, input, hx, what='hidden'):
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {hx.dim()}D instead")

    def _check_cell(self, input, states):
        """torch's check_rnn_cell_forward_input / _hidden."""
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        for i, h in enumerate(states):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} "
                                   f"batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, "
                                   f"expected {self.hidden_size}")

    def _zeros(self, input):
        return zeros(input.size(0), self.hidden_size, dtype=input.dtype)

    def _batched(self, name, input, hx):
        """RNNCell's and GRUCell's (input, hx, batched): the dims checked, a batch dimension
        added to an unbatched input and hx, zeros for a missing hx."""
        self._check_dims(name, input, hx)
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        hx = self._zeros(input) if hx is None else (hx if batched else hx.unsqueeze(0))
        return input, hx, batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN."""

    __constants__ = ['input_size', 'hidden_size', 'bias', 'nonlinearity']

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, hx, batched = self._batched('RNNCell', input, hx)
        if self.nonlinearity not in ('tanh', 'relu'):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check_cell(input, (hx,))
        pre = (_linear(input, self.weight_ih, self.bias_ih)
               + _linear(hx, self.weight_hh, self.bias_hh))
        ret = pre.tanh() if self.nonlinearity == 'tanh' else pre.relu()
        return ret if batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of an LSTM; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got "
                                     f"{value.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = self._zeros(input)
            hx = (zeros, zeros)
        elif not batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        h, c = hx
        self._check_cell(input, (h, c))
        gates = (_linear(input, self.weight_ih, self.bias_ih)
                 + _linear(h, self.weight_hh, self.bias_hh))
        i, f, g, o = gates.chunk(4, 1)
        cy = f.sigmoid() * c + i.sigmoid() * g.tanh()
        hy = o.sigmoid() * cy.tanh()
        return (hy, cy) if batched else (hy.squeeze(0), cy.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of a GRU."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, hx, batched = self._batched('GRUCell', input, hx)
        self._check_cell(input, (hx,))
        xr, xz, xn = _linear(input, self.weight_ih, self.bias_ih).chunk(3, 1)
        hr, hz, hn = _linear(hx, self.weight_hh, self.bias_hh).chunk(3, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        ret = n + z * (hx - n)
        return ret if batched else ret.squeeze(0)
