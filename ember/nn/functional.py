"""ember.nn.functional: the functional forms of the layers (torch.nn.functional).

The math lives in ember/_ops/, one file per op family; this module gathers the public names.
"""
from .._ops.linear import *  # noqa: F401,F403
from .._ops.activation import *  # noqa: F401,F403
from .._ops.conv import *  # noqa: F401,F403
from .._ops.pooling import *  # noqa: F401,F403
from .._ops.fractional_pool import *  # noqa: F401,F403
from .._ops.norm import *  # noqa: F401,F403
from .._ops.loss import *  # noqa: F401,F403
from .._ops.dropout import *  # noqa: F401,F403
from .._ops.embedding import *  # noqa: F401,F403
from .._ops.sampling import *  # noqa: F401,F403
from .._ops.attention import *  # noqa: F401,F403
from .._ops.distance import *  # noqa: F401,F403
from .._ops.vision import *  # noqa: F401,F403
from .._ops.attention import (_canonical_mask, _none_or_dtype, _mha_shape_check,  # noqa: F401
                              _in_projection_packed)
from .._ops.misc_functional import *  # noqa: F401,F403
from .. import _lazy

# the rarer functionals load with their op family on first use
__getattr__ = _lazy.loader(__name__, {'conv_tbc': 'ember._ops.native'})
