"""torch.profiler: time a program's ops (named as torch's aten ops), its `record_function`
ranges and its autograd nodes on the CPU; print tables, export Chrome traces, follow a
schedule of steps. The recorder is in `ember.autograd.profiler`."""
import os

from .._enums import pybind_enum
from ..autograd.profiler import (DeviceType, KinetoStepTracker, ProfilerActivity,
                                 kineto_available, record_function)
from ..optim.optimizer import Optimizer, register_optimizer_step_post_hook  # noqa: F401
from . import itt  # noqa: F401
from .profiler import (ExecutionTraceObserver, ProfilerAction, _KinetoProfile,  # noqa: F401
                       profile, schedule, supported_activities, tensorboard_trace_handler)

__all__ = ['profile', 'schedule', 'supported_activities', 'tensorboard_trace_handler',
           'ProfilerAction', 'ProfilerActivity', 'kineto_available', 'DeviceType',
           'record_function', 'ExecutionTraceObserver']

RecordScope = pybind_enum('RecordScope', [
    ('FUNCTION', 0), ('BACKWARD_FUNCTION', 1), ('TORCHSCRIPT_FUNCTION', 2),
    ('KERNEL_FUNCTION_DTYPE', 3), ('CUSTOM_CLASS', 4), ('BUILD_FEATURE', 5),
    ('LITE_INTERPRETER', 6), ('USER_SCOPE', 7), ('STATIC_RUNTIME_OP', 8),
    ('STATIC_RUNTIME_MODEL', 9)], 'torch._C._profiler')


def is_fbcode():
    """Whether this is Meta's internal build: never."""
    return False


def _optimizer_post_hook(optimizer, args, kwargs):
    KinetoStepTracker.increment_step('Optimizer')


if os.environ.get('KINETO_USE_DAEMON', ''):
    # the on-demand profiling daemon counts optimizer steps, as torch does under it
    _optimizer_step_code = register_optimizer_step_post_hook(_optimizer_post_hook)

from .._stubs import hook as _hook  # noqa: E402

_hook(__name__)
