"""torch.autograd's engine flags and small queries against torch: set_multithreading_enabled
and _force_original_view_tracking (immediate, context manager, decorator), is_tensor_like,
kineto_available (no profiler backend in ember)."""
import torch

import ember


def _trace(lib):
    A = lib.autograd
    out = [A.is_multithreading_enabled()]
    A.set_multithreading_enabled(False)
    out.append(A.is_multithreading_enabled())
    with A.set_multithreading_enabled(True):
        out.append(A.is_multithreading_enabled())
    out.append(A.is_multithreading_enabled())
    A.set_multithreading_enabled(True)

    @A.set_multithreading_enabled(False)
    def inside():
        return A.is_multithreading_enabled()
    out += [inside(), A.is_multithreading_enabled(), A.is_view_replay_enabled()]
    with A.grad_mode._force_original_view_tracking(True):
        out.append(A.is_view_replay_enabled())
    out += [A.is_view_replay_enabled(), A.is_tensor_like(lib.ones(1)), A.is_tensor_like(3),
            A.is_tensor_like(lib.nn.Parameter(lib.ones(1)))]
    return out


def test_flags_follow_torch():
    assert _trace(ember) == _trace(torch)
    assert ember.autograd.kineto_available() is False
