"""ember.autograd.profiler_legacy (torch.autograd.profiler_legacy): the deprecated profiler.

It records through the same recorder as torch.autograd.profiler.profile, with the legacy
constructor (no device or Kineto options) and the legacy messages."""
import warnings

from .profiler import profile as _profile, ProfilerConfig, ProfilerState
from .profiler_util import EventList, FunctionEvent, DeviceType

__all__ = ['profile']
_ = (EventList, FunctionEvent, DeviceType)   # torch's module has them too
MEMORY_EVENT_NAME = '[memory]'


class profile(_profile):
    """DEPRECATED: use torch.profiler instead."""

    def __init__(self, enabled=True, *, use_cuda=False, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False):
        super().__init__(enabled, record_shapes=record_shapes, with_flops=with_flops,
                         profile_memory=profile_memory, with_stack=with_stack,
                         with_modules=with_modules)
        if not enabled:
            return
        self.use_cuda = use_cuda
        if use_cuda:   # ember, as a CPU-only torch, has no CUDA to profile
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
            self.use_cuda = False
        self.profiler_kind = ProfilerState.CPU

    def config(self, create_trace_id=False):
        return ProfilerConfig(self.profiler_kind, self.record_shapes, self.profile_memory,
                              self.with_stack, self.with_flops, self.with_modules, None)

    def __repr__(self):
        return self._describe(repr, "<unfinished profiler_legacy.profile>")

    def __str__(self):
        return self._describe(str, "<unfinished profile.profiler_legacy.profile>")
