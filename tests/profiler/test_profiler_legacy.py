"""torch.autograd's profiler names (DeviceType, ProfilerActivity, ProfilerState, ProfilerConfig),
the deprecated profiler_legacy.profile and enforce_grad_layout_policy, against torch 2.13."""
import importlib

import numpy as np
import pytest

import ember

torch = pytest.importorskip('torch')


@pytest.mark.parametrize('name', ['DeviceType', 'ProfilerActivity', 'ProfilerState'])
def test_autograd_profiler_enums_as_torch(name):
    e, t = getattr(ember.autograd, name), getattr(torch.autograd, name)
    assert {k: int(v.value) if hasattr(v, 'value') else int(v) for k, v in e.__members__.items()} \
        == {k: int(v) for k, v in t.__members__.items()}
    assert ember.autograd.ProfilerActivity is ember.profiler.ProfilerActivity


def _top_level(events):
    return [e.name for e in events if e.cpu_parent is None]


def test_profiler_legacy_records_the_ops():
    names = []
    for lib in (torch, ember):

        pl = importlib.import_module(lib.__name__ + '.autograd.profiler_legacy')
        p = pl.profile(record_shapes=True)
        assert repr(p) == '<unfinished profiler_legacy.profile>'
        with p:
            x = lib.ones(3, 4)
            (x * 2).sum()
        names.append(_top_level(p.function_events))
        assert p.profiler_kind == lib.autograd.ProfilerState.CPU
        assert 'Name' in p.table() and 'aten::mul' in p.table()
    assert names[0] == names[1] == ['aten::ones', 'aten::mul', 'aten::sum']
    with pytest.raises(RuntimeError, match='not reentrant'):
        p2 = ember.autograd.profiler_legacy.profile()
        with p2:
            p2.__enter__()


def test_profiler_legacy_use_cuda_warns_and_profiles_the_cpu():
    for lib in (torch, ember):

        pl = importlib.import_module(lib.__name__ + '.autograd.profiler_legacy')
        with pytest.warns(UserWarning, match='CUDA is not available, disabling CUDA profiling'):
            p = pl.profile(use_cuda=True)
        assert p.use_cuda is False


def test_enforce_grad_layout_policy_as_torch():
    grads = []
    for lib in (torch, ember):
        p = lib.tensor(np.arange(24.).reshape(2, 3, 4)).permute(2, 0, 1).requires_grad_()
        with lib.autograd.enforce_grad_layout_policy(False):
            (p * 2).sum().backward()

        @lib.autograd.enforce_grad_layout_policy(True)
        def f():
            (p * 3).sum().backward()
        f()
        grads.append(p.grad.numpy())
        assert lib.autograd.enforce_grad_layout_policy(False).clone().mode is False
    np.testing.assert_array_equal(grads[0], grads[1])
