"""torch.utils' own names against torch: swap_tensors (contents, classes, attributes, autograd
state and torch's refusals), set_module, backcompat, deterministic, weak, the throughput
benchmark, collect_env, cpp_backtrace and the PrivateUse1 backend registration."""
import gc
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest

import ember
from _subproc import ROOT, env

torch = pytest.importorskip('torch')

from _oracle import assert_same as _assert_same_both  # noqa: E402


def assert_same(fn):
    return _assert_same_both(fn, torch)


def _state(t):
    return (type(t).__name__, t.detach().numpy().tolist(), str(t.dtype), tuple(t.shape),
            t.requires_grad, dict(t.__dict__))


def _swap_plain(L):
    a = L.ones(2, requires_grad=True)
    b = L.zeros(3, dtype=L.float64)
    a.foo = 1
    L.utils.swap_tensors(a, b)
    return _state(a), _state(b)


def _swap_param(L):
    p = L.nn.Parameter(L.ones(1))
    q = L.zeros(1)
    L.utils.swap_tensors(p, q)
    return _state(p), _state(q), isinstance(p, L.nn.Parameter), isinstance(q, L.nn.Parameter)


def _swap_then_backward(L):
    x = L.ones(2, requires_grad=True)
    y = (x * 2).sum()
    z = L.zeros(2)
    L.utils.swap_tensors(x, z)
    y.backward()


def _swap_weakref(L):
    w = L.ones(1)
    r = weakref.ref(w)
    L.utils.swap_tensors(w, L.ones(1))
    return r


def _swap_weakref_t2(L):
    w = L.ones(1)
    r = weakref.ref(w)
    L.utils.swap_tensors(L.ones(1), w)
    return r


def _swap_slots(L):
    class S(L.Tensor):
        __slots__ = ('extra',)
    return L.utils.swap_tensors(L.ones(1), S(L.ones(1)) if L is torch else
                                L.ones(1).as_subclass(S))


def _swap_grad(L):
    a = L.ones(2, requires_grad=True)
    (a * 3).sum().backward()
    b = L.zeros(2)
    L.utils.swap_tensors(a, b)
    return a.grad, b.grad.tolist(), a.is_leaf, b.is_leaf


def _set_module(L):
    class C:
        pass
    L.utils.set_module(C, 'my.mod')
    return C.__module__


CASES = {
    'swap_plain': _swap_plain,
    'swap_param': _swap_param,
    'swap_then_backward': _swap_then_backward,
    'swap_weakref': _swap_weakref,
    'swap_weakref_t2': _swap_weakref_t2,
    'swap_slots': _swap_slots,
    'swap_grad': _swap_grad,
    'set_module': _set_module,
    'set_module_bad': lambda L: L.utils.set_module(int, 3),
    'backcompat': lambda L: (L.utils.backcompat.broadcast_warning.enabled,
                             L.utils.backcompat.keepdim_warning.enabled),
    'deterministic': lambda L: L.utils.deterministic.fill_uninitialized_memory,
    'format_time': lambda L: [L.utils.throughput_benchmark.format_time(**kw) for kw in (
        dict(time_us=12.5), dict(time_us=1234), dict(time_ms=1.5), dict(time_s=2))],
    'format_time_bad': lambda L: L.utils.throughput_benchmark.format_time(),
    'benchmark_no_input': lambda L: L.utils.ThroughputBenchmark(lambda x: x).benchmark(),
    'benchmark_run_once': lambda L: L.utils.ThroughputBenchmark(
        lambda x, y=1: x * y).run_once(L.ones(2), y=3).tolist(),
    'weak_all': lambda L: sorted(L.utils.weak.__all__),
    'tensor_weak_ref_bad': lambda L: L.utils.weak.TensorWeakRef(3),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_as_torch(name):
    assert_same(CASES[name])


def test_backcompat_switches_as_torch():
    for lib in (torch, ember):
        w = lib.utils.backcompat.keepdim_warning
        w.enabled = True
        assert w.get_enabled() is True
        w.set_enabled(False)
        assert w.enabled is False


def test_deterministic_switch_as_torch():
    for lib in (torch, ember):
        d = lib.utils.deterministic
        d.fill_uninitialized_memory = False
        assert d.fill_uninitialized_memory is False
        d.fill_uninitialized_memory = True
        assert d.fill_uninitialized_memory is True


def test_swap_keeps_identity_and_views():
    a, b = ember.arange(4.), ember.zeros(2)
    ida, idb = id(a), id(b)
    ember.utils.swap_tensors(a, b)
    assert (id(a), id(b)) == (ida, idb)
    a += 1  # a now owns b's former storage
    np.testing.assert_array_equal(a.numpy(), [1, 1])
    np.testing.assert_array_equal(b.numpy(), [0, 1, 2, 3])


def test_weak_id_key_dictionary_by_identity():
    for lib in (torch, ember):
        d = lib.utils.weak.WeakIdKeyDictionary()
        t1, t2 = lib.ones(2), lib.ones(2)
        d[t1] = 'a'
        d[t2] = 'b'
        assert (d[t1], d[t2], len(d), t1 in d, lib.ones(2) in d) == ('a', 'b', 2, True, False)
        del t1
        gc.collect()
        assert len(d) == 1 and list(d.values()) == ['b']
        ref = lib.utils.weak.TensorWeakRef(t2)
        assert ref() is t2
        assert lib.utils.weak.WeakTensorKeyDictionary is lib.utils.weak.WeakIdKeyDictionary
        r1, r2 = lib.utils.weak.WeakIdRef(t2), lib.utils.weak.WeakIdRef(t2)
        assert r1 == r2 and hash(r1) == hash(r2) == id(t2)


def test_throughput_benchmark_counts_every_call():
    calls = []
    model = ember.nn.Linear(3, 2)
    bench = ember.utils.ThroughputBenchmark(lambda x: calls.append(1) or model(x))
    bench.add_input(ember.ones(1, 3))
    bench.add_input(ember.zeros(1, 3))
    with pytest.warns(UserWarning, match='Starting benchmark on an nn.Module'):
        stats = bench.benchmark(num_calling_threads=2, num_warmup_iters=3, num_iters=20)
    assert len(calls) == 23 and stats.num_iters == 20
    assert stats.latency_avg_ms > 0 and stats.benchmark_config.num_calling_threads == 2
    assert stats.total_time_seconds == pytest.approx(20 * stats.latency_avg_ms / 1000 / 2)
    assert stats.iters_per_second == pytest.approx(20 / stats.total_time_seconds)
    lines = str(stats).splitlines()
    assert [line.split(':')[0] for line in lines] == [
        line.split(':')[0] for line in str(_torch_stats()).splitlines()]


def _torch_stats():
    bench = torch.utils.ThroughputBenchmark(torch.nn.Linear(3, 2))
    bench.add_input(torch.ones(1, 3))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return bench.benchmark(1, 1, 2)


def test_collect_env_reports_ember_with_torchs_headings():
    r = subprocess.run([sys.executable, '-m', 'ember.utils.collect_env'], capture_output=True,
                       text=True, env=env(), cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('Collecting environment information...\nPyTorch version: ember ')
    info = ember.utils.collect_env.get_env_info()
    assert info.is_cuda_available == 'False' and 'ember==' in info.pip_packages
    headings = {line.split(':')[0] for line in r.stdout.splitlines() if ': ' in line}
    for h in ('Is debug build', 'OS', 'Python version', 'Python platform', 'Is CUDA available',
              'Libc version', 'cuDNN version'):
        assert h in headings


def test_cpp_backtrace_is_a_frame_listing():
    text = ember.utils.get_cpp_backtrace()
    assert text.startswith('frame #0: ') and 'test_cpp_backtrace_is_a_frame_listing' in text
    assert ember.utils.get_cpp_backtrace(maximum_number_of_frames=1).count('\n') == 1


_PRIVATEUSE1 = r'''
import sys, importlib
L = importlib.import_module(sys.argv[1])
out = []
def show(f):
    try:
        out.append(repr(f()))
    except Exception as e:
        out.append(f'!{type(e).__name__}: {e}'.replace('ember', 'torch'))
br = L.utils.backend_registration
show(lambda: L.utils.rename_privateuse1_backend('foo'))
show(lambda: L.utils.rename_privateuse1_backend('foo'))
show(lambda: L.utils.rename_privateuse1_backend('bar'))
show(lambda: str(L.device('foo:1')))
show(lambda: L.utils.generate_methods_for_privateuse1_backend())
show(lambda: L.ones(1).is_foo)
show(lambda: L.ones(1).foo())
show(lambda: L.nn.Linear(1, 1).foo())
show(lambda: L.utils.generate_methods_for_privateuse1_backend())
print(out)
'''


def test_privateuse1_backend_as_torch():
    got = []
    for lib in ('torch', 'ember'):
        r = subprocess.run([sys.executable, '-c', _PRIVATEUSE1, lib], capture_output=True,
                           text=True, env=env(), cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        got.append(r.stdout.splitlines()[-1].replace('<class \'torch.Tensor\'>', 'Tensor'))
    assert got[1] == got[0]
