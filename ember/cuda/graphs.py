"""torch.cuda.graphs: CUDA graph capture; nothing can be captured without CUDA, and the calls
fail as torch's CPU build fails."""
from . import Stream, is_current_stream_capturing, stream as _stream  # noqa: F401
from ._utils import dummy

__all__ = ['is_current_stream_capturing', 'graph_pool_handle', 'CUDAGraph', 'graph',
           'make_graphed_callables']


def graph_pool_handle():
    raise dummy('_graph_pool_handle')


class _CUDAGraph:
    """torch._C._CUDAGraph's stand-in: a dummy base class on a CPU build."""

    def __new__(cls, *args, **kwargs):
        raise dummy('CUDAGraph')


class CUDAGraph(_CUDAGraph):
    """A CUDA graph (cannot be made without CUDA)."""

    def __new__(cls, keep_graph=False):
        return super().__new__(cls, keep_graph)


class graph:
    """`with torch.cuda.graph(g): ...` captures CUDA work into g; needs a CUDA stream."""
    default_capture_stream = None

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode='global',
                 enable_annotations=False, check_input_liveness=False):
        if stream is None and self.__class__.default_capture_stream is None:
            self.__class__.default_capture_stream = Stream()
        self.pool = () if pool is None else (pool,)
        self.capture_stream = stream if stream is not None else \
            self.__class__.default_capture_stream
        self.stream_ctx = _stream(self.capture_stream)
        self.cuda_graph = cuda_graph
        self.capture_error_mode = capture_error_mode
        self.check_input_liveness = check_input_liveness

    def __enter__(self):
        self.stream_ctx.__enter__()

    def __exit__(self, *args):
        return self.stream_ctx.__exit__(*args)


def make_graphed_callables(callables, sample_args, num_warmup_iters=3,
                           allow_unused_input=False, pool=None):
    """Graph-captured versions of callables: each one's capture needs CUDA (the sample
    arguments are checked first, as torch checks them)."""
    just_one = not isinstance(callables, tuple)
    if just_one:
        callables, sample_args = (callables,), (sample_args,)
    for c, args in zip(callables, sample_args):
        if hasattr(c, '_forward_hooks'):
            if c._backward_hooks or c._forward_hooks or c._forward_pre_hooks:
                raise AssertionError(
                    'Modules must not have hooks registered at the time they are passed. '
                    'However, registering hooks on modules after passing them through '
                    'make_graphed_callables is allowed.')
            if not all(b.requires_grad is False for b in c.buffers()):
                raise AssertionError(
                    'In any :class:`~torch.nn.Module` passed to :func:`~make_graphed_callables`'
                    ', only parameters may be trainable. All buffers must have '
                    '``requires_grad=False``.')
        try:
            iter(args)
        except TypeError:
            raise TypeError('torch.utils._pytree.arg_tree_leaves() argument after * must be '
                            f'an iterable, not {type(args).__name__}') from None
    CUDAGraph()
