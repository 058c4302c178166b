"""torch.nn.parallel.DistributedDataParallel on ember's process groups (MPI).

Each process holds a replica of the model and a share of the batch. At wrap time the replicas
are made equal (rank 0's parameters and buffers are broadcast). During backward every
parameter's gradient, once accumulated, is copied (divided by the world size) into its bucket:
a flat array of ~25 MB of parameters of one dtype, in reverse registration order, because
backward produces the last layers' gradients first. A full bucket starts its non-blocking
all-reduce at once (buckets start in the same order on every rank, as MPI requires), so
communication overlaps the rest of backward; when the last bucket has started, the summed
gradients are written back into ``.grad``. As torch's, ``no_sync()`` accumulates locally,
``find_unused_parameters`` marks parameters the output does not reach as ready (and leaves
``.grad`` alone where no rank used one), ``broadcast_buffers`` broadcasts rank 0's buffers
before each forward.
"""
import contextlib

import numpy as np

from ...autograd.graph import AccumulateGrad
from ...autograd.grad_mode import is_grad_enabled
from ...distributed import distributed_c10d as dist
from ...distributed.algorithms.ddp_comm_hooks import default_hooks
from ..._tensor import Tensor, _wrap
from ..modules.module import Module

__all__ = ['DistributedDataParallel']

_FIRST_BUCKET_BYTES = 1024 * 1024      # torch's: a small first bucket starts sooner
_DEFAULT_BUCKET_MB = 25

_UNFINISHED = (
    'Expected to have finished reduction in the prior iteration before starting a new one. '
    'This error indicates that your module has parameters that were not used in producing '
    'loss. You can enable unused parameter detection by passing the keyword argument '
    '`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n'
    'making sure all `forward` function outputs participate in calculating loss. \n'
    'If you already have done the above, then the distributed data parallel module wasn\'t '
    'able to locate the output tensors in the return value of your module\'s `forward` '
    'function. Please include the loss function and the structure of the return value of '
    '`forward` of your module when reporting this issue (e.g. list, dict, iterable).')


def _tensors_in(obj, out):
    """Every Tensor inside a forward's output (tuples, lists, dicts, dataclass-like)."""
    stack = [obj]
    seen = set()
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            out.append(o)
        elif id(o) in seen:
            continue
        elif isinstance(o, (list, tuple, set)):
            seen.add(id(o))
            stack.extend(o)
        elif isinstance(o, dict):
            seen.add(id(o))
            stack.extend(o.values())
    return out


def _reached_leaves(outputs):
    """The ids of the leaves whose AccumulateGrad the outputs' graphs reach."""
    found = set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    seen = set()
    for t in outputs:
        if t.grad_fn is None and t.requires_grad:
            found.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            found.add(id(node.variable))
            continue
        for e in node._next:
            if e is not None:
                stack.append(e[0])
    return found


class _Bucket:
    __slots__ = ('index', 'params', 'flat', 'slices', 'pending', 'request', 'future')

    def __init__(self, index, params):
        self.index = index
        self.params = params                    # indices into the reducer's parameter list
        self.flat = None
        self.slices = []
        self.pending = 0
        self.request = None
        self.future = None                      # a communication hook's result


class _Reducer:
    """Buckets of gradients all-reduced while backward runs (torch's C++ Reducer)."""

    def __init__(self, params, comm, world_size, bucket_bytes, find_unused):
        self.params = params
        self.comm = comm          # a communicator of its own: no clash with the user's calls
        self.world = world_size
        self.find_unused = find_unused
        self.buckets = self._assign(bucket_bytes)
        self.where = {}            # parameter index -> (bucket, offset, numel)
        for b in self.buckets:
            offset = 0
            for i in b.params:
                n = params[i]._data.size
                self.where[i] = (b, offset, n)
                b.slices.append((i, offset, n))
                offset += n
            b.flat = np.zeros(offset, dtype=params[b.params[0]]._data.dtype)
        self.expect_hooks = False
        self.started = False       # some gradient of this iteration arrived
        self.ready = set()
        self.next_bucket = 0
        self.used = np.zeros(len(params), dtype=np.int32)
        self.comm_hook = None      # (state, hook): the hook reduces each bucket instead

    def _assign(self, cap):
        """Buckets over the parameters in reverse order, per dtype, the first one small."""
        buckets, open_ = [], {}
        for i in reversed(range(len(self.params))):
            p = self.params[i]
            key = p._data.dtype
            cur = open_.setdefault(key, [[], 0])
            cur[0].append(i)
            cur[1] += p._data.nbytes
            limit = _FIRST_BUCKET_BYTES if not buckets else cap
            if cur[1] >= limit:
                buckets.append(_Bucket(len(buckets), cur[0]))
                del open_[key]
        for idx, _ in open_.values():
            buckets.append(_Bucket(len(buckets), idx))
        return buckets

    # -- one iteration --------------------------------------------------------------------
    def prepare_for_forward(self):
        if self.started:
            raise RuntimeError(_UNFINISHED)

    def prepare_for_backward(self, outputs):
        self.expect_hooks = True
        self.started = False
        self.ready = set()
        self.next_bucket = 0
        self.used[:] = 0
        for b in self.buckets:
            b.pending = len(b.params)
            b.request = b.future = None
        if self.find_unused:
            reached = _reached_leaves(outputs)
            unused = [i for i, p in enumerate(self.params) if id(p) not in reached]
            for i in unused:
                self._mark_ready(i, None)

    def hook(self, index):
        def on_grad(param):
            if self.expect_hooks:
                self.started = True
                self.used[index] = 1
                self._mark_ready(index, param)
        return on_grad

    def _mark_ready(self, i, param):
        if i in self.ready:
            raise RuntimeError(
                f'Expected to mark a variable ready only once. This error is caused by one of '
                f'the following reasons: 1) Use of a module parameter outside the `forward` '
                f'function. 2) Reused parameters in multiple reentrant backward passes. '
                f'Parameter at index {i} has been marked as ready twice.')
        self.ready.add(i)
        b, off, n = self.where[i]
        dst = b.flat[off:off + n]
        if param is None or param.grad is None:
            dst[...] = 0
        else:
            # a communication hook gets the gradients as they are: it averages them itself
            scale = 1.0 / self.world if self.comm_hook is None else 1.0
            np.multiply(param.grad._data.reshape(-1), scale, out=dst, casting='unsafe')
        b.pending -= 1
        MPI = dist._mpi()
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            nb = self.buckets[self.next_bucket]
            if self.comm_hook is None:
                nb.request = self.comm.Iallreduce(MPI.IN_PLACE, nb.flat, op=MPI.SUM)
            else:
                state, hook = self.comm_hook
                nb.future = hook(state, self._grad_bucket(nb))
            self.next_bucket += 1
        live = [x.request for x in self.buckets[:self.next_bucket] if x.request is not None]
        if live:
            MPI.Request.Testall(live)    # let MPI move the started buckets along
        if self.next_bucket == len(self.buckets):
            self._finalize()

    def _grad_bucket(self, b):
        params = [self.params[i] for i in b.params]
        views = [_wrap(b.flat[off:off + n].reshape(self.params[i]._data.shape))
                 for i, off, n in b.slices]
        return dist.GradBucket(b.index, _wrap(b.flat), views, params,
                               b.index == len(self.buckets) - 1)

    def _finalize(self):
        MPI = dist._mpi()
        if self.comm_hook is None:
            MPI.Request.Waitall([b.request for b in self.buckets])
        for b in self.buckets:
            if b.future is not None:
                out = b.future.wait()
                out = out[0] if isinstance(out, (list, tuple)) else out
                if out._data is not b.flat:
                    b.flat[...] = out._data.reshape(-1)
        self.expect_hooks = False
        self.started = False
        if self.find_unused:
            # a gradient only where some rank used the parameter (torch's global used map)
            self.comm.Allreduce(MPI.IN_PLACE, self.used, op=MPI.MAX)
        for b in self.buckets:
            for i, off, n in b.slices:
                if self.find_unused and not self.used[i]:
                    continue
                p = self.params[i]
                avg = b.flat[off:off + n].reshape(p._data.shape)
                if p.grad is None:
                    p.grad = _wrap(avg.copy())
                else:
                    p.grad._data[...] = avg
                    p.grad._vc.value += 1


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model after init_process_group, train as
    usual; every replica ends each backward with the average of all replicas' gradients."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False, gradient_as_bucket_view=False,
                 static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False):
        super().__init__()
        if process_group is None and device_mesh is None and not dist.is_initialized():
            raise ValueError(dist._NOT_INIT)
        if device_mesh is not None:
            raise NotImplementedError('ember does not implement DistributedDataParallel\'s '
                                      'device_mesh (DeviceMesh)')
        if mixed_precision is not None:
            raise NotImplementedError('ember does not implement DistributedDataParallel\'s '
                                      'mixed_precision')
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError('DistributedDataParallel is not needed when a module doesn\'t '
                               'have any parameter that requires a gradient.')
        if device_ids is not None or output_device is not None:
            raise ValueError(
                'DistributedDataParallel device_ids and output_device arguments only work with '
                'single-device/multiple-device GPU modules or CPU modules, but got device_ids '
                f'{device_ids}, output_device {output_device}, and module parameters '
                "{device(type='cpu')}.")
        self.module = module
        self.process_group = dist._resolve(process_group)
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.device_type = 'cpu'
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_grad_sync = True
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((_DEFAULT_BUCKET_MB if bucket_cap_mb is None
                                     else bucket_cap_mb) * 1024 * 1024)
        self.modules_buffers = list(module.buffers())
        self._params = params
        self._verify_same_model_everywhere()
        self._broadcast(list(module.parameters()) + self.modules_buffers)
        comm = self.process_group._comm.Dup()
        self.reducer = _Reducer(params, comm, self.process_group.size(),
                                self.bucket_bytes_cap, find_unused_parameters or static_graph)
        self._hook_handles = [p.register_post_accumulate_grad_hook(self.reducer.hook(i))
                              for i, p in enumerate(params)]

    # -- keeping the replicas equal ---------------------------------------------------------
    def _verify_same_model_everywhere(self):
        mine = [tuple(p.shape) for p in self._params]
        everyone = [None] * self.process_group.size()
        dist.all_gather_object(everyone, mine, group=self.process_group)
        for r, theirs in enumerate(everyone):
            if len(theirs) != len(mine):
                raise RuntimeError(f'DDP expects same model across all ranks, but Rank '
                                   f'{self.process_group.rank()} has {len(mine)} params, while '
                                   f'rank {r} has inconsistent {len(theirs)} params.')
            for i, (a, b) in enumerate(zip(mine, theirs)):
                if a != b:
                    raise RuntimeError(f'DDP expects same model across all ranks, but Rank '
                                       f'{self.process_group.rank()} has parameter {i} of shape '
                                       f'{list(a)}, while rank {r} has {list(b)}.')

    def _broadcast(self, tensors):
        """Rank 0's values of `tensors` on every rank: one broadcast per dtype."""
        if self.process_group.size() == 1 or not tensors:
            return
        by_type = {}
        for t in tensors:
            by_type.setdefault(t._data.dtype, []).append(t)
        for dtype, group in by_type.items():
            flat = np.concatenate([t._data.reshape(-1) for t in group])
            self.process_group._comm.Bcast(dist._mpi_bytes(flat), root=0)
            off = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat[off:off + n].reshape(t._data.shape)
                t._vc.value += 1
                off += n

    def will_sync_module_buffers(self):
        return (self.require_forward_param_sync and self.broadcast_buffers
                and len(self.modules_buffers) > 0)

    # -- forward ---------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            self.reducer.prepare_for_forward()
        if self.will_sync_module_buffers():
            self.modules_buffers = list(self.module.buffers())
            self._broadcast(self.modules_buffers)
        output = self.module(*inputs, **kwargs)
        if sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(
                _tensors_in(output, []) if self.reducer.find_unused else [])
        else:
            self.require_forward_param_sync = False
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside; the first backward after it averages them."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def train(self, mode=True):
        super().train(mode)
        return self

    def join(self, divide_by_initial_world_size=True, enable=True,
             throw_on_early_termination=False):
        raise NotImplementedError('ember does not implement DistributedDataParallel.join '
                                  '(uneven inputs) yet')

    def register_comm_hook(self, state, hook):
        """Reduce each bucket with hook(state, bucket) -> Future of the reduced gradients
        instead of DDP's all-reduce average (see distributed.algorithms.ddp_comm_hooks)."""
        if not callable(hook):
            raise TypeError('Communication hook must be callable.')
        if self.reducer.comm_hook is not None:
            raise RuntimeError('register_comm_hook or register_builtin_comm_hook can only be '
                               'called once.')
        self.reducer.comm_hook = (state, hook)

    def _register_builtin_comm_hook(self, comm_hook_type):
        chosen = {dist.BuiltinCommHookType.ALLREDUCE: default_hooks.allreduce_hook,
                  dist.BuiltinCommHookType.FP16_COMPRESS: default_hooks.fp16_compress_hook}[
                      int(comm_hook_type)]
        self.register_comm_hook(self.process_group, chosen)

    def _set_static_graph(self):
        self.static_graph = True
        self.reducer.find_unused = True
