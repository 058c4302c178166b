"""ember.nn.utils (torch.nn.utils)."""
from ... import _lazy
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401

# loaded on first use, to keep `import ember` short. (spectral_norm and weight_norm stay above:
# each is also the name of its module, which a later import of the module would put here.)
_LAZY = dict.fromkeys(('parametrizations', 'parametrize', 'prune', 'rnn', 'clip_grad',
                       'convert_parameters', 'fusion', 'init', 'memory_format'))
_LAZY.update(_lazy.names('clip_grad_norm clip_grad_norm_ clip_grad_value_ clip_grads_with_norm_ '
                         'get_total_norm', 'clip_grad'))
_LAZY.update(_lazy.names('parameters_to_vector vector_to_parameters', 'convert_parameters'))
_LAZY.update(_lazy.names('fuse_conv_bn_eval fuse_conv_bn_weights fuse_linear_bn_eval '
                         'fuse_linear_bn_weights', 'fusion'))
_LAZY.update(_lazy.names('skip_init', 'init'))
_LAZY.update(_lazy.names('convert_conv2d_weight_memory_format '
                         'convert_conv3d_weight_memory_format', 'memory_format'))
__getattr__ = _lazy.loader(__name__, _LAZY)
__dir__ = _lazy.lister(__name__, _LAZY)
