"""ember.optim (torch.optim): optimizers and learning-rate schedulers."""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam  # noqa: F401
from .adamw import AdamW  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adamax import Adamax  # noqa: F401
from .nadam import NAdam  # noqa: F401
from .radam import RAdam  # noqa: F401
from .rprop import Rprop  # noqa: F401
from .asgd import ASGD  # noqa: F401
from ._adafactor import Adafactor  # noqa: F401
from .sparse_adam import SparseAdam  # noqa: F401
from ._muon import Muon  # noqa: F401
from .. import _lazy

# loaded on first use, to keep `import ember` short
__getattr__ = _lazy.loader(__name__, {'lr_scheduler': None, 'swa_utils': None, 'lbfgs': None,
                                      'LBFGS': 'lbfgs'})

__all__ = ['ASGD', 'Adadelta', 'Adafactor', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'LBFGS',
           'Muon', 'NAdam', 'Optimizer', 'RAdam', 'RMSprop', 'Rprop', 'SGD', 'SparseAdam',
           'lr_scheduler', 'swa_utils']
