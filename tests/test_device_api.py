"""The device APIs answer as the installed CPU-only torch does (issue 11, item 1).

Every case runs on both libraries: same return value, or same exception type and message.
"""
import importlib
import pickle

import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')

from _oracle import assert_same as _assert_same_both, run  # noqa: E402


def assert_same(fn):
    return _assert_same_both(fn, torch)


CUDA_CALLS = {
    'is_available': lambda L: L.cuda.is_available(),
    'device_count': lambda L: L.cuda.device_count(),
    'is_initialized': lambda L: L.cuda.is_initialized(),
    'manual_seed': lambda L: L.cuda.manual_seed(1),
    'manual_seed_all': lambda L: L.cuda.manual_seed_all(1),
    'manual_seed_bad': lambda L: L.cuda.manual_seed('a'),
    'seed': lambda L: L.cuda.seed(),
    'seed_all': lambda L: L.cuda.seed_all(),
    'initial_seed': lambda L: L.cuda.initial_seed(),
    'get_rng_state': lambda L: L.cuda.get_rng_state(),
    'get_rng_state_all': lambda L: L.cuda.get_rng_state_all(),
    'memory_allocated': lambda L: L.cuda.memory_allocated(),
    'max_memory_allocated': lambda L: L.cuda.max_memory_allocated(),
    'memory_reserved': lambda L: L.cuda.memory_reserved(),
    'max_memory_reserved': lambda L: L.cuda.max_memory_reserved(),
    'memory_stats': lambda L: dict(L.cuda.memory_stats()),
    'empty_cache': lambda L: L.cuda.empty_cache(),
    'synchronize': lambda L: L.cuda.synchronize(),
    'current_device': lambda L: L.cuda.current_device(),
    'get_device_name': lambda L: L.cuda.get_device_name(0),
    'get_device_properties': lambda L: L.cuda.get_device_properties(0),
    'get_device_capability': lambda L: L.cuda.get_device_capability(),
    'mem_get_info': lambda L: L.cuda.mem_get_info(),
    'is_bf16_supported': lambda L: L.cuda.is_bf16_supported(),
    'get_arch_list': lambda L: L.cuda.get_arch_list(),
    'init': lambda L: L.cuda.init(),
    'current_stream': lambda L: L.cuda.current_stream(),
    'Stream': lambda L: L.cuda.Stream(),
    'Event': lambda L: L.cuda.Event(),
    'device_ctx_minus1': lambda L: L.cuda.device(-1).__enter__(),
    'device_ctx_0': lambda L: L.cuda.device(0).__enter__(),
    'device_of_cpu': lambda L: L.cuda.device_of(L.zeros(1)).__enter__(),
    'stream_none': lambda L: L.cuda.stream(None).__enter__(),
}


@pytest.mark.parametrize('name', sorted(CUDA_CALLS))
def test_cuda_module(name):
    assert_same(CUDA_CALLS[name])


def test_cuda_memory_calls_without_allocator_raise():
    # torch's CPU wheel dies inside these (a missing binding); ember raises the CUDA assertion
    for name in ('reset_peak_memory_stats', 'reset_accumulated_memory_stats', 'set_device'):
        with pytest.raises(Exception):
            getattr(torch.cuda, name)(0) if name == 'set_device' else getattr(torch.cuda, name)()
        with pytest.raises(AssertionError, match='Torch not compiled with CUDA enabled'):
            getattr(ember.cuda, name)(0) if name == 'set_device' else getattr(ember.cuda, name)()


ACCEL_CALLS = {
    'is_available': lambda L: L.accelerator.is_available(),
    'current_accelerator': lambda L: L.accelerator.current_accelerator(),
    'current_accelerator_check': lambda L: L.accelerator.current_accelerator(True),
    'device_count': lambda L: L.accelerator.device_count(),
    'current_device_index': lambda L: L.accelerator.current_device_index(),
    'set_device_index': lambda L: L.accelerator.set_device_index(0),
    'synchronize': lambda L: L.accelerator.synchronize(),
    'memory_allocated': lambda L: L.accelerator.memory_allocated(),
    'empty_cache': lambda L: L.accelerator.empty_cache(),
    'current_stream': lambda L: L.accelerator.current_stream(),
    'mps_is_available': lambda L: L.mps.is_available(),
    'mps_device_count': lambda L: L.mps.device_count(),
    'mps_manual_seed': lambda L: L.mps.manual_seed(0),
    'mps_synchronize': lambda L: L.mps.synchronize(),
    'mps_empty_cache': lambda L: L.mps.empty_cache(),
    'mps_seed': lambda L: L.mps.seed(),
    'mps_event': lambda L: L.mps.Event(),
    'mps_current_allocated_memory': lambda L: L.mps.current_allocated_memory(),
    'cpu_is_available': lambda L: L.cpu.is_available(),
    'cpu_device_count': lambda L: L.cpu.device_count(),
    'cpu_current_device': lambda L: L.cpu.current_device(),
    'cpu_synchronize': lambda L: L.cpu.synchronize(),
}


@pytest.mark.parametrize('name', sorted(ACCEL_CALLS))
def test_accelerator_mps_cpu(name):
    assert_same(ACCEL_CALLS[name])


def test_program_written_for_accelerator():
    # the idiom of today's tutorials
    def pick(L):
        acc = L.accelerator.current_accelerator()
        dev = acc.type if L.accelerator.is_available() else 'cpu'
        x = L.ones(2, device=dev)
        return dev, str(x.device)
    assert assert_same(pick) == ('ok', ('cpu', 'cpu'))


BACKEND_FLAGS = {
    'cudnn.is_available': lambda L: L.backends.cudnn.is_available(),
    'cudnn.enabled': lambda L: L.backends.cudnn.enabled,
    'cudnn.benchmark': lambda L: L.backends.cudnn.benchmark,
    'cudnn.deterministic': lambda L: L.backends.cudnn.deterministic,
    'cudnn.allow_tf32': lambda L: L.backends.cudnn.allow_tf32,
    'cudnn.version': lambda L: L.backends.cudnn.version(),
    'cuda.is_built': lambda L: L.backends.cuda.is_built(),
    'cuda.matmul.allow_tf32': lambda L: L.backends.cuda.matmul.allow_tf32,
    'cuda.matmul.fp16': lambda L: L.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
    'cuda.matmul.unknown': lambda L: L.backends.cuda.matmul.no_such_flag,
    'cuda.flash_sdp_enabled': lambda L: L.backends.cuda.flash_sdp_enabled(),
    'cuda.math_sdp_enabled': lambda L: L.backends.cuda.math_sdp_enabled(),
    'mps.is_available': lambda L: L.backends.mps.is_available(),
    'mps.is_built': lambda L: L.backends.mps.is_built(),
    'mkldnn.is_available': lambda L: L.backends.mkldnn.is_available(),
    'mkldnn.enabled': lambda L: L.backends.mkldnn.enabled,
    'openmp.is_available': lambda L: L.backends.openmp.is_available(),
    'mkl.is_available': lambda L: L.backends.mkl.is_available(),
    'opt_einsum.is_available': lambda L: L.backends.opt_einsum.is_available(),
    'opt_einsum.enabled': lambda L: L.backends.opt_einsum.enabled,
    'mha.fastpath': lambda L: L.backends.mha.get_fastpath_enabled(),
}


@pytest.mark.parametrize('name', sorted(BACKEND_FLAGS))
def test_backend_flags(name):
    assert_same(BACKEND_FLAGS[name])


@pytest.mark.parametrize('sub', ['cudnn', 'cuda', 'mps', 'mkldnn', 'openmp', 'opt_einsum', 'mkl'])
def test_backends_submodules_import(sub):
    mod = importlib.import_module('ember.backends.' + sub)
    assert mod is getattr(ember.backends, sub)
    for name in ('ember.cuda', 'ember.cuda.amp', 'ember.amp', 'ember.cpu.amp', 'ember.accelerator',
                 'ember.mps', 'ember.jit', 'ember.onnx', 'ember.distributed',
                 'ember.nn.parallel'):
        importlib.import_module(name)


def test_backend_flags_are_accepted_and_remembered():
    def setflags(L):
        c, m = L.backends.cudnn, L.backends.cuda.matmul
        old = c.benchmark, c.deterministic, m.allow_tf32, c.allow_tf32
        c.benchmark = True
        c.deterministic = True
        m.allow_tf32 = True
        c.allow_tf32 = False
        got = c.benchmark, c.deterministic, m.allow_tf32, c.allow_tf32
        c.benchmark, c.deterministic, m.allow_tf32, c.allow_tf32 = old
        with L.backends.cudnn.flags(enabled=False):
            inside = L.backends.cudnn.enabled
        return got, inside, L.backends.cudnn.enabled
    assert assert_same(setflags)[0] == 'ok'


# ---- tensors and modules on absent devices -------------------------------------------------

DEVICE_ERRORS = {
    'cuda()': lambda L: L.zeros(1).cuda(),
    'cuda(0)': lambda L: L.zeros(1).cuda(0),
    "to('cuda')": lambda L: L.zeros(1).to('cuda'),
    "to('cuda:1')": lambda L: L.zeros(1).to('cuda:1'),
    'to(device(cuda), dtype)': lambda L: L.zeros(1).to(L.device('cuda'), L.float64),
    'to(0)': lambda L: L.zeros(1).to(0),
    "to('mps')": lambda L: L.zeros(1).to('mps'),
    "to('xpu')": lambda L: L.zeros(1).to('xpu'),
    "zeros(device='cuda')": lambda L: L.zeros(1, device='cuda'),
    "tensor(device='cuda')": lambda L: L.tensor([1.0], device='cuda'),
    "randn(device='cuda')": lambda L: L.randn(2, device='cuda'),
    "ones(device=0)": lambda L: L.ones(2, device=0),
    "zeros(device='mps') type": lambda L: L.zeros(1, device='mps'),
    'pin_memory()': lambda L: L.zeros(1).pin_memory(),
    'is_pinned()': lambda L: L.zeros(1).is_pinned(),
    'device(cuda)': lambda L: str(L.device('cuda')),
    'device(cuda:0)': lambda L: repr(L.device('cuda:0')),
    "to('cpu', non_blocking)": lambda L: L.zeros(1).to('cpu', non_blocking=True).tolist(),
    'Module.cuda()': lambda L: L.nn.Linear(1, 1).cuda(),
    "Module.to('cuda')": lambda L: L.nn.Linear(1, 1).to('cuda'),
    "Module.to('mps')": lambda L: L.nn.Linear(1, 1).to('mps'),
    "Linear(device='cuda')": lambda L: L.nn.Linear(1, 1, device='cuda'),
}


@pytest.mark.parametrize('name', sorted(DEVICE_ERRORS))
def test_absent_device_errors(name):
    t, e = run(DEVICE_ERRORS[name], torch), run(DEVICE_ERRORS[name], ember)
    if name.endswith(' type'):  # torch appends its dispatcher's kernel table to the message
        assert e[0] == t[0] and e[1][0] == t[1][0], (t, e)
        assert e[1][1] == t[1][1][:len(e[1][1])], (t, e)
    else:
        assert e == t, (t, e)


# ---- GradScaler -----------------------------------------------------------------------------

def _scaler_loop(L, make_scaler, steps=5, blowup_at=(2,)):
    """A tiny training loop through a GradScaler; returns everything observable."""
    L.manual_seed(0)
    model = L.nn.Linear(3, 2)
    opt = L.optim.SGD(model.parameters(), lr=0.1)
    scaler = make_scaler(L)
    x = L.tensor(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
    seen = []
    for i in range(steps):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        if i in blowup_at:
            loss = loss * float('inf')
        scaled = scaler.scale(loss)
        scaled.backward()
        scaler.unscale_(opt)
        g = model.weight.grad.clone()
        ret = scaler.step(opt)
        scaler.update()
        seen.append((float(scaled.item()), scaler.get_scale(), g.tolist(), ret,
                     model.weight.tolist(), scaler.state_dict()))
    return seen, scaler.is_enabled()


@pytest.mark.parametrize('make', [
    lambda L: L.amp.GradScaler('cpu'),
    lambda L: L.amp.GradScaler('cpu', init_scale=4.0, growth_interval=2),
    lambda L: L.amp.GradScaler('cpu', enabled=False),
    lambda L: L.amp.GradScaler(),  # 'cuda': warns and disables
    lambda L: L.cuda.amp.GradScaler(),
    lambda L: L.cuda.amp.GradScaler(enabled=False),
])
def test_grad_scaler_matches_torch(make):
    (t, t_on), (e, e_on) = _scaler_loop(torch, make), _scaler_loop(ember, make)
    assert e_on == t_on
    for te, ee in zip(t, e):
        # scale, return value and state exactly; values up to the ops' float32 rounding
        assert ee[1] == te[1] and ee[3] == te[3] and ee[5] == te[5]
        np.testing.assert_allclose(ee[0], te[0], rtol=1e-6)
        np.testing.assert_allclose(ee[2], te[2], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(ee[4], te[4], rtol=1e-5, atol=1e-7)


def test_grad_scaler_warnings_and_state():
    for L in (torch, ember):
        with pytest.warns(UserWarning, match='CUDA is not available.  Disabling.'):
            s = L.amp.GradScaler('cuda')
        assert s.is_enabled() is False and s.state_dict() == {} and s.get_scale() == 1.0
        with pytest.warns(FutureWarning, match='torch.cuda.amp.GradScaler'):
            L.cuda.amp.GradScaler(enabled=False)
        x = L.ones(2)
        assert s.scale(x) is x
    for L in (torch, ember):
        s = L.amp.GradScaler('cpu')
        s2 = pickle.loads(pickle.dumps(s))
        assert s2.get_scale() == 65536.0
    assert_same(lambda L: L.amp.GradScaler('cpu', growth_factor=1.0))
    assert_same(lambda L: L.amp.GradScaler('cpu').step(L.optim.SGD([L.nn.Parameter(L.ones(1))], 0.1)))
    assert_same(lambda L: L.amp.GradScaler('cpu').scale([L.ones(1), (L.ones(2),)])[1][0].tolist())
    assert_same(lambda L: L.amp.GradScaler('cpu').scale(3))


# ---- autocast -------------------------------------------------------------------------------

def test_autocast_cuda_warns_and_disables():
    for L in (torch, ember):
        with pytest.warns(UserWarning, match='CUDA is not available or torch_xla is imported'):
            ac = L.autocast('cuda')
        with ac:
            assert L.is_autocast_enabled() is False
            y = L.ones(2, 2) @ L.ones(2, 2)
        assert y.dtype == L.float32
        with pytest.warns(FutureWarning):
            with L.cuda.amp.autocast():
                pass


def test_autocast_state_and_arguments():
    assert_same(lambda L: (L.is_autocast_enabled(), L.is_autocast_enabled('cpu'),
                    str(L.get_autocast_dtype('cpu')), str(L.get_autocast_dtype('cuda')),
                    L.amp.is_autocast_available('cpu'), L.is_autocast_cache_enabled()))
    assert_same(lambda L: L.autocast('xyz'))
    assert_same(lambda L: L.autocast(3))
    assert_same(lambda L: str(L.autocast('cpu').fast_dtype))
    assert_same(lambda L: L.autocast('cpu', dtype=L.float32)._enabled)
    with pytest.warns(UserWarning, match='CPU Autocast only supports dtypes'):
        ember.autocast('cpu', dtype=ember.float32)

    def disabled(L):
        with L.autocast('cpu', enabled=False):
            y = L.ones(2, 2) @ L.ones(2, 2)
            return str(y.dtype), L.is_autocast_enabled('cpu')
    assert_same(disabled)


def test_autocast_cpu_applies_the_cast_policy():
    # the policy itself is compared with torch in tests/test_autocast_cpu.py
    pytest.importorskip('ml_dtypes')
    with ember.autocast('cpu', dtype=ember.bfloat16):
        assert ember.is_autocast_enabled('cpu')
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.bfloat16
    with ember.amp.autocast(device_type='cpu'):
        assert ember.get_autocast_dtype('cpu') == ember.bfloat16
    assert ember.is_autocast_enabled('cpu') is False


def test_autocast_state_is_per_thread():
    import threading
    seen = []
    with ember.autocast('mps'):
        assert ember.is_autocast_enabled('mps')
        th = threading.Thread(target=lambda: seen.append(ember.is_autocast_enabled('mps')))
        th.start()
        th.join()
    assert seen == [False]
    assert ember.is_autocast_enabled('mps') is False


# ---- compile / jit / onnx -------------------------------------------------------------------

def test_compile_module_keeps_torch_structure():
    def build(L):
        L.manual_seed(0)
        m = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.ReLU(), L.nn.Linear(4, 2))
        cm = L.compile(m)
        x = L.ones(2, 3)
        out = cm(x).tolist()
        cm.eval()
        return (type(cm).__name__, list(cm.state_dict()), [n for n, _ in cm.named_parameters()],
                [n for n, _ in cm.named_modules()], repr(cm), cm._orig_mod is m,
                cm[0].weight is m[0].weight, out, m.training, len(cm),
                L.compile(m, disable=True) is m, isinstance(cm, L.nn.Sequential))
    assert_same(build)


def test_compile_functions_and_arguments():
    def build(L):
        def f(x):
            return x * 2 + 1
        cf = L.compile(f)
        deco = L.compile(mode='max-autotune')(f)
        full = L.compile(f, fullgraph=True, dynamic=False, backend='eager')
        return (cf(L.ones(2)).tolist(), cf.__wrapped__ is f, deco(L.ones(1)).tolist(),
                full(L.ones(1)).tolist(), cf.__name__)
    assert_same(build)
    assert_same(lambda L: L.compile(lambda x: x, mode='fast'))
    assert_same(lambda L: L.compile(lambda x: x, mode='default', options={}))


def test_compiled_model_trains_and_checkpoints_like_torch(tmp_path):
    def train(L):
        L.manual_seed(0)
        model = L.compile(L.nn.Linear(3, 1))
        opt = L.optim.SGD(model.parameters(), lr=0.1)
        x = L.ones(4, 3)
        for _ in range(3):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
        return {k: v.tolist() for k, v in model.state_dict().items()}
    t, e = train(torch), train(ember)
    assert list(e) == list(t) == ['_orig_mod.weight', '_orig_mod.bias']
    for k in t:
        np.testing.assert_allclose(e[k], t[k], rtol=1e-6)


def test_jit_script_and_trace():
    def build(L):
        L.manual_seed(0)
        m = L.nn.Linear(2, 3)
        s = L.jit.script(m)
        tr = L.jit.trace(m, L.ones(1, 2))
        x = L.ones(1, 2)
        s.eval()
        return (repr(s), repr(tr), list(s.state_dict()), list(tr.state_dict()),
                s(x).tolist(), tr(x).tolist(), s.weight is m.weight, m.training,
                isinstance(s, L.jit.ScriptModule), isinstance(s, L.nn.Module),
                L.jit.is_scripting(), L.jit.is_tracing())
    assert_same(build)

    def decorators(L):
        def g(x):
            return x + 1
        return (L.jit.ignore(g) is g, L.jit.unused(g) is g, L.jit.export(g) is g,
                L.jit.annotate(int, 3), L.jit.trace(g, L.ones(1))(L.ones(2)).tolist())
    assert_same(decorators)


def test_torchscript_artefacts_raise_not_implemented(tmp_path):
    m = ember.jit.script(ember.nn.Linear(2, 3))
    for call in (lambda: m.save(str(tmp_path / 'm.pt')),
                 lambda: ember.jit.save(m, str(tmp_path / 'm.pt')),
                 lambda: ember.jit.load(str(tmp_path / 'm.pt')),
                 lambda: m.code,
                 lambda: ember.onnx.export(ember.nn.Linear(2, 3), ember.ones(2), 'm.onnx')):
        with pytest.raises(NotImplementedError, match='TorchScript|onnx'):
            call()
    assert ember.onnx.is_in_onnx_export() is False


# ---- distributed / parallel -----------------------------------------------------------------

DIST_CALLS = {
    'is_available': lambda L: L.distributed.is_available(),
    'is_initialized': lambda L: L.distributed.is_initialized(),
    'get_rank': lambda L: L.distributed.get_rank(),
    'get_world_size': lambda L: L.distributed.get_world_size(),
    'barrier': lambda L: L.distributed.barrier(),
    'all_reduce': lambda L: L.distributed.all_reduce(L.zeros(1)),
    'is_torchelastic_launched': lambda L: L.distributed.is_torchelastic_launched(),
    'destroy_process_group': lambda L: L.distributed.destroy_process_group(),
    'ReduceOp.SUM': lambda L: int(L.distributed.ReduceOp.SUM),
    'DDP': lambda L: L.nn.parallel.DistributedDataParallel(L.nn.Linear(2, 2)),
    'DataParallel': lambda L: (repr(L.nn.parallel.DataParallel(L.nn.Linear(2, 2))),
                               list(L.nn.DataParallel(L.nn.Linear(2, 2)).state_dict())),
    'data_parallel': lambda L: L.nn.parallel.data_parallel(L.nn.Linear(2, 2), L.ones(2)),
}


@pytest.mark.parametrize('name', sorted(DIST_CALLS))
def test_distributed_and_parallel(name):
    assert_same(DIST_CALLS[name])


def test_distributed_init_refuses_nccl_without_gpus():
    with pytest.raises(RuntimeError, match="doesn't have NCCL built in"):
        ember.distributed.init_process_group('nccl')
    assert ember.nn.parallel.DataParallel is ember.nn.DataParallel


def test_cudnn_flags_context_restores_as_torch():
    def run(lib):
        c = lib.backends.cudnn
        inside = []
        with c.flags(enabled=False, deterministic=True):
            inside = (c.enabled, c.deterministic, c.benchmark_limit)
        return inside, (c.enabled, c.deterministic, c.benchmark_limit)
    assert run(ember) == run(torch)


def test_device_strings_as_torch():
    import torch
    import ember
    for s in ['cuda:x', 'cuda:0', 'cpu:1', 'foo', 'cuda:-1', 'cuda:01', 'cuda:10', 'cpu']:
        outcomes = []
        for lib in (torch, ember):
            try:
                outcomes.append(repr(lib.device(s)))
            except RuntimeError as e:
                outcomes.append(f'RuntimeError: {e}')
        assert outcomes[0] == outcomes[1], s
