"""torch.backends.cudnn.rnn: cuDNN's RNN helpers; only the precision flag means anything
without CUDA."""
import sys

from .. import _flags
from .._flags import PropModule

__all__ = ['get_cudnn_mode', 'Unserializable', 'init_dropout_state', 'CudnnRNNModule']

_MODES = ('RNN_RELU', 'RNN_TANH', 'LSTM', 'GRU')


def get_cudnn_mode(mode):
    if mode in _MODES:
        # torch reads the mode from its cuDNN bindings, absent from a CPU build
        raise AttributeError("'NoneType' object has no attribute 'RNNMode'")
    raise ValueError(f'Unknown mode: {mode}')


class Unserializable:
    """Kept for old checkpoints: pickles as a placeholder, loads as None."""

    def __getstate__(self):
        return '<unserializable>'

    def __setstate__(self, state):
        self.inner = None

    def __init__(self, inner):
        self.inner = inner

    def get(self):
        return self.inner


def init_dropout_state(dropout, train, dropout_seed, dropout_state):
    raise AssertionError('Torch not compiled with CUDA enabled')


class ContextProp(_flags.ContextProp):
    """cudnn.rnn's own property: not subject to disable_global_flags (as torch's)."""

    def __set__(self, obj, val):
        self.setter(val)


class CudnnRNNModule(PropModule):
    fp32_precision = ContextProp(_flags.precision_getter('cuda', 'rnn'),
                                 _flags.precision_setter('cuda', 'rnn'))


sys.modules[__name__] = CudnnRNNModule(sys.modules[__name__], __name__)
