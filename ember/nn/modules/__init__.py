"""All nn layers, one file per family as in torch.nn.modules."""
from ... import _lazy
from .module import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .lazy import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403

# torch keeps MultiheadAttention in torch.nn.modules.activation (its __module__ says so there)
activation.MultiheadAttention = transformer.MultiheadAttention  # noqa: F405
transformer.MultiheadAttention.__module__ = activation.__name__  # noqa: F405
# modules that only name layers where torch keeps them (torch.nn.modules.batchnorm, ...)
from . import batchnorm, instancenorm  # noqa: F401,E402

# The rarer layers load on first use (`nn.LSTM` imports rnn.py), to keep `import ember` short.
# ember.nn resolves the same names through this table.
_LAZY = dict.fromkeys(('rnn', 'padding', 'upsampling', 'pixelshuffle', 'channelshuffle',
                       'adaptive', 'fold', 'data_parallel'))  # the modules themselves
_LAZY.update(_lazy.names('RNNBase RNN LSTM GRU RNNCellBase RNNCell LSTMCell GRUCell', 'rnn'))
_LAZY.update(_lazy.names(
    'CircularPad1d ReflectionPad1d ReplicationPad1d ConstantPad1d ZeroPad1d CircularPad2d '
    'ReflectionPad2d ReplicationPad2d ConstantPad2d ZeroPad2d CircularPad3d ReflectionPad3d '
    'ReplicationPad3d ConstantPad3d ZeroPad3d', 'padding'))
_LAZY.update(_lazy.names('Upsample UpsamplingNearest2d UpsamplingBilinear2d', 'upsampling'))
_LAZY.update(_lazy.names('PixelShuffle PixelUnshuffle', 'pixelshuffle'))
_LAZY.update(_lazy.names('ChannelShuffle', 'channelshuffle'))  # its __module__ is set there
_LAZY.update(_lazy.names('AdaptiveLogSoftmaxWithLoss', 'adaptive'))
_LAZY.update(_lazy.names('Fold Unfold', 'fold'))
_LAZY.update(_lazy.names('DataParallel', 'data_parallel'))
__getattr__ = _lazy.loader(__name__, _LAZY)
__dir__ = _lazy.lister(__name__, _LAZY)
