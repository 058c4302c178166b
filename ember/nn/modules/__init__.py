"""All nn layers, one file per family as in torch.nn.modules."""
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
from .rnn import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .adaptive import *  # noqa: F401,F403

# torch keeps MultiheadAttention in torch.nn.modules.activation (its __module__ says so there)
activation.MultiheadAttention = transformer.MultiheadAttention  # noqa: F405
transformer.MultiheadAttention.__module__ = activation.__name__  # noqa: F405
# modules that only name layers where torch keeps them (torch.nn.modules.batchnorm, ...)
from . import batchnorm, instancenorm, channelshuffle  # noqa: F401,E402
from .fold import *  # noqa: F401,F403,E402
from .data_parallel import *  # noqa: F401,F403,E402
