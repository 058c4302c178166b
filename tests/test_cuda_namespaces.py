"""torch.cuda's submodules and device-graph APIs, torch.cuda.amp's files, torch.mps and
torch.accelerator's graphs and memory, against the installed CPU-only torch: every call gives
torch's value, or raises torch's exception type with torch's message."""
import importlib
import os
import warnings

import pytest

import ember

torch = pytest.importorskip('torch')


def run(fn, lib):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            out = 'ok', fn(lib)
        except Exception as exc:  # noqa: BLE001 - compared below
            out = 'raised', (type(exc).__name__, str(exc).replace('ember', 'torch'))
    return out, sorted({(w.category.__name__, str(w.message)) for w in caught})


def assert_same(fn):
    t, e = run(fn, torch), run(fn, ember)
    assert e == t, (t, e)


def _lib(L, a, b):
    return L.zeros(2)


CALLS = {
    # torch.cuda's top-level additions
    'CUDAGraph': lambda L: L.cuda.CUDAGraph(),
    'CUDAGraph_keep': lambda L: L.cuda.CUDAGraph(True),
    'graph': lambda L: L.cuda.graph(None),
    'graph_pool_handle': lambda L: L.cuda.graph_pool_handle(),
    'make_graphed_callables': lambda L: L.cuda.make_graphed_callables(
        L.nn.Linear(2, 2), (L.zeros(1, 2),)),
    'make_graphed_callables_bad': lambda L: L.cuda.make_graphed_callables(L.nn.Linear(2, 2), 0),
    'make_graphed_callables_hooked': lambda L: L.cuda.make_graphed_callables(
        _hooked(L), (L.zeros(1, 2),)),
    'MemPool': lambda L: L.cuda.MemPool(),
    'MemPool_sub': lambda L: issubclass(L.cuda.MemPool, object) and L.cuda.MemPool.__name__,
    'ExternalStream': lambda L: L.cuda.ExternalStream(1),
    'ExternalStream_dev': lambda L: L.cuda.ExternalStream(1, 0),
    'ExternalStream_sub': lambda L: issubclass(L.cuda.ExternalStream, L.cuda.Stream),
    'GreenContext': lambda L: type(L.cuda.GreenContext()).__name__,
    'GreenContext_create': lambda L: L.cuda.GreenContext.create(num_sms=1),
    'GreenContext_max': lambda L: L.cuda.GreenContext.max_workqueue_concurrency(),
    'CUDAPluggableAllocator': lambda L: L.cuda.CUDAPluggableAllocator('/no/such.so', 'a', 'b'),
    'caching_allocator_alloc': lambda L: L.cuda.caching_allocator_alloc(8),
    'caching_allocator_delete': lambda L: L.cuda.caching_allocator_delete(0),
    'change_current_allocator': lambda L: L.cuda.change_current_allocator(None),
    'get_allocator_backend': lambda L: L.cuda.get_allocator_backend(),
    'reset_accumulated_host': lambda L: L.cuda.reset_accumulated_host_memory_stats(),
    'reset_peak_host': lambda L: L.cuda.reset_peak_host_memory_stats(),
    'use_mem_pool': lambda L: L.cuda.use_mem_pool(None).__enter__(),
    'check_error': lambda L: L.cuda.check_error(0),
    'cudaStatus': lambda L: (L.cuda.cudaStatus.SUCCESS, L.cuda.cudaStatus.ERROR_NOT_READY),
    'cudart': lambda L: L.cuda.cudart(),
    'current_blas_handle': lambda L: L.cuda.current_blas_handle(),
    'current_solver_handle': lambda L: L.cuda.current_solver_handle(),
    'get_stream_from_external': lambda L: L.cuda.get_stream_from_external(1),
    'classproperty': lambda L: type('C', (), {'x': L.cuda.classproperty(lambda c: c.__name__)}).x,
    'device_none': lambda L: L.cuda.device(None).__enter__(),
    'device_none_idx': lambda L: L.cuda.device(None).idx,
    # the submodules hold torch's objects
    'same_objects': lambda L: [
        L.cuda.memory.memory_allocated is L.cuda.memory_allocated,
        L.cuda.memory.MemPool is L.cuda.MemPool, L.cuda.random.manual_seed is L.cuda.manual_seed,
        L.cuda.streams.Stream is L.cuda.Stream, L.cuda.streams.Event is L.cuda.Event,
        L.cuda.graphs.CUDAGraph is L.cuda.CUDAGraph,
        L.cuda.graphs.is_current_stream_capturing is L.cuda.is_current_stream_capturing,
        L.cuda.green_contexts.GreenContext is L.cuda.GreenContext,
        L.cuda.amp.autocast_mode.autocast is L.cuda.amp.autocast,
        L.cuda.amp.grad_scaler.GradScaler is L.cuda.amp.GradScaler,
        L.cuda.amp.common.amp_definitely_not_available(),
        L.mps.Tensor is L.Tensor, L.mps.event.Event is L.mps.Event,
        L.accelerator.graphs.Graph is L.accelerator.Graph,
        L.accelerator.memory.memory_allocated is L.accelerator.memory_allocated],
    # nvtx, nccl, profiler
    'nvtx_push': lambda L: L.cuda.nvtx.range_push('a'),
    'nvtx_pop': lambda L: L.cuda.nvtx.range_pop(),
    'nvtx_start': lambda L: L.cuda.nvtx.range_start('a'),
    'nvtx_end': lambda L: L.cuda.nvtx.range_end(0),
    'nvtx_mark': lambda L: L.cuda.nvtx.mark('a'),
    'nvtx_range': lambda L: L.cuda.nvtx.range('a{}', 1).__enter__(),
    'nccl_is_available': lambda L: L.cuda.nccl.is_available([L.zeros(2)]),
    'nccl_version': lambda L: L.cuda.nccl.version(),
    'nccl_unique_id': lambda L: L.cuda.nccl.unique_id(),
    'nccl_all_reduce': lambda L: L.cuda.nccl.all_reduce([L.zeros(2)]),
    'nccl_all_reduce_tensor': lambda L: L.cuda.nccl.all_reduce(L.zeros(2)),
    'nccl_reduce_both': lambda L: L.cuda.nccl.reduce([L.zeros(2)], L.zeros(2),
                                                     outputs=[L.zeros(2)]),
    'nccl_reduce_list': lambda L: L.cuda.nccl.reduce([L.zeros(2)], [L.zeros(2)]),
    'nccl_broadcast': lambda L: L.cuda.nccl.broadcast([L.zeros(2)]),
    'nccl_all_gather': lambda L: L.cuda.nccl.all_gather([L.zeros(2)], 3),
    'nccl_reduce_scatter': lambda L: L.cuda.nccl.reduce_scatter([L.zeros(2)], [L.zeros(2)]),
    'profiler_start': lambda L: L.cuda.profiler.start(),
    'profiler_stop': lambda L: L.cuda.profiler.stop(),
    'profiler_profile': lambda L: L.cuda.profiler.profile().__enter__(),
    # jiterator: made as torch makes it, refused when called
    'jiterator': lambda L: (lambda f: (f.kernel_name, f.num_outputs, f.return_by_ref,
                                       f.is_cuda_available))(L.cuda.jiterator._create_jit_fn(
                                           'template <typename T> T my_op(T x, T y) '
                                           '{ return x + y; }', alpha=1)),
    'jiterator_call': lambda L: L.cuda.jiterator._create_jit_fn(
        'template <typename T> T f(T x) { return x; }')(L.zeros(2)),
    'jiterator_bad': lambda L: L.cuda.jiterator._create_jit_fn('int f;'),
    'jiterator_multi': lambda L: L.cuda.jiterator._create_multi_output_jit_fn(
        'template <typename T> void f(T x, T& a, T& b) { a = x; b = x; }', 2).num_outputs,
    'sparse_FloatTensor': lambda L: L.cuda.sparse.FloatTensor(),
    'sparse_isinstance': lambda L: isinstance(L.zeros(2), L.cuda.sparse.FloatTensor),
    'gds_register': lambda L: L.cuda.gds.gds_register_buffer(None),
    'gds_deregister': lambda L: L.cuda.gds.gds_deregister_buffer(None),
    'gds_file_missing': lambda L: L.cuda.gds.GdsFile('/no/such/file', os.O_RDONLY),
    # torch.mps and torch.accelerator
    'mps_compile_shader': lambda L: L.mps.compile_shader('kernel void f() {}'),
    'mps_load_metallib': lambda L: L.mps.load_metallib('/x.metallib'),
    'mps_load_metallib_bytes': lambda L: L.mps.load_metallib(b'abc'),
    'mps_load_metallib_bad': lambda L: L.mps.load_metallib(3),
    'mps_event': lambda L: L.mps.event.Event(),
    'mps_profiler_start': lambda L: L.mps.profiler.start(),
    'mps_profiler_stop': lambda L: L.mps.profiler.stop(),
    'mps_profiler_profile': lambda L: L.mps.profiler.profile().__enter__(),
    'mps_capture_enabled': lambda L: L.mps.profiler.is_metal_capture_enabled(),
    'mps_capturing': lambda L: L.mps.profiler.is_capturing_metal(),
    'mps_metal_capture': lambda L: L.mps.profiler.metal_capture('x').__enter__(),
    'accelerator_Graph': lambda L: L.accelerator.Graph(),
    'accelerator_Graph_keep': lambda L: L.accelerator.Graph(keep_graph=True),
    'accelerator_memory': lambda L: L.accelerator.memory.memory_allocated(),
}


def _hooked(L):
    m = L.nn.Linear(2, 2)
    m.register_forward_hook(lambda *a: None)
    return m


TUNABLE = ['is_enabled', 'tuning_is_enabled', 'record_untuned_is_enabled',
           'get_max_tuning_duration', 'get_max_tuning_iterations', 'get_filename',
           'get_results', 'get_validators', 'get_rotating_buffer_size', 'enable', 'tuning_enable',
           'record_untuned_enable']
for _name in TUNABLE:
    CALLS['tunable_' + _name] = lambda L, n=_name: getattr(L.cuda.tunable, n)()
CALLS['tunable_set_filename'] = lambda L: L.cuda.tunable.set_filename('x.csv')
CALLS['tunable_read_file'] = lambda L: L.cuda.tunable.read_file()
CALLS['tunable_tolerances'] = lambda L: L.cuda.tunable.set_numerical_check_tolerances(True)
CALLS['tunable_tune_gemm'] = lambda L: L.cuda.tunable.tune_gemm_in_file('x')
CALLS['tunable_mgpu'] = lambda L: L.cuda.tunable.mgpu_tune_gemm_in_file('/no/such*', 1)


@pytest.mark.parametrize('name', sorted(CALLS))
def test_as_cpu_torch(name):
    assert_same(CALLS[name])


SUBMODULES = ['cuda.memory', 'cuda.random', 'cuda.streams', 'cuda.graphs', 'cuda.nvtx',
              'cuda.nccl', 'cuda.profiler', 'cuda.sparse', 'cuda.tunable', 'cuda.gds',
              'cuda.green_contexts', 'cuda.amp.autocast_mode', 'cuda.amp.grad_scaler',
              'cuda.amp.common', 'mps.event', 'mps.profiler', 'accelerator.graphs',
              'accelerator.memory']


@pytest.mark.parametrize('sub', SUBMODULES)
def test_submodule_names_as_torch(sub):
    t = importlib.import_module('torch.' + sub)
    e = importlib.import_module('ember.' + sub)
    assert e is getattr(importlib.import_module('ember.' + sub.rpartition('.')[0]),
                        sub.rpartition('.')[2])
    if hasattr(t, '__all__'):
        names = [n for n in t.__all__ if n not in ('annotations', 'ctypes', 'torch')]
        assert sorted(e.__all__) == sorted(names)
    else:  # the public names the module defines or takes from torch.cuda/torch.mps
        names = [n for n in dir(t) if not n.startswith('_') and n != 'torch'
                 and getattr(getattr(t, n), '__module__', '').startswith('torch.')]
    for n in names:
        assert callable(getattr(e, n)) == callable(getattr(t, n)), n
        assert isinstance(getattr(e, n), type) == isinstance(getattr(t, n), type), n
