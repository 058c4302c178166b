"""ember.optim (torch.optim): optimizers and learning-rate schedulers."""
from .. import _lazy

# Every optimizer loads on first use (`ember.optim.SGD` imports sgd.py), to keep `import ember`
# and a program's start short: a program uses one or two of them.
_LAZY = {
    'Optimizer': 'optimizer', 'SGD': 'sgd', 'Adam': 'adam', 'AdamW': 'adamw',
    'RMSprop': 'rmsprop', 'Adagrad': 'adagrad', 'Adadelta': 'adadelta', 'Adamax': 'adamax',
    'NAdam': 'nadam', 'RAdam': 'radam', 'Rprop': 'rprop', 'ASGD': 'asgd',
    'Adafactor': '_adafactor', 'SparseAdam': 'sparse_adam', 'Muon': '_muon', 'LBFGS': 'lbfgs',
    'lr_scheduler': None, 'swa_utils': None, 'lbfgs': None}
__getattr__ = _lazy.loader(__name__, _LAZY)
__dir__ = _lazy.lister(__name__, _LAZY)

__all__ = ['ASGD', 'Adadelta', 'Adafactor', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'LBFGS',
           'Muon', 'NAdam', 'Optimizer', 'RAdam', 'RMSprop', 'Rprop', 'SGD', 'SparseAdam',
           'lr_scheduler', 'swa_utils']
