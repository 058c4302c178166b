"""torch.distributed's option records for the process-group calls, BackendConfig, GroupName and
breakpoint."""
import datetime
import pdb
import sys
import traceback
import typing
import warnings

from .distributed_c10d import Backend, ReduceOp, barrier, get_rank

__all__ = ['AllToAllOptions', 'AllreduceCoalescedOptions', 'AllreduceOptions', 'BarrierOptions',
           'BroadcastOptions', 'GatherOptions', 'ReduceOptions', 'ReduceScatterOptions',
           'ScatterOptions', 'BackendConfig', 'GroupName', 'breakpoint']

_UNSET_TIMEOUT = datetime.timedelta(milliseconds=-1)   # c10d's kUnsetTimeout


def _options(name, **defaults):
    """A record with torch's fields and defaults; setting another attribute is an
    AttributeError, as on torch's bound C++ struct."""
    fields = dict(asyncOp=True, timeout=_UNSET_TIMEOUT, **defaults)

    def __init__(self):
        for k, v in fields.items():
            setattr(self, k, v() if callable(v) else v)
    return type(name, (), {'__slots__': tuple(fields), '__init__': __init__,
                           '__module__': __name__,
                           '__doc__': f"torch.distributed.{name}: "
                                      + ', '.join(sorted(fields)) + '.'})


AllToAllOptions = _options('AllToAllOptions')
AllreduceOptions = _options('AllreduceOptions', reduceOp=ReduceOp)
AllreduceCoalescedOptions = _options('AllreduceCoalescedOptions', reduceOp=ReduceOp)
BarrierOptions = _options('BarrierOptions', device=None, device_ids=list)
BroadcastOptions = _options('BroadcastOptions', rootRank=0, rootTensor=0)
GatherOptions = _options('GatherOptions', rootRank=0)
ReduceOptions = _options('ReduceOptions', reduceOp=ReduceOp, rootRank=0, rootTensor=0)
ReduceScatterOptions = _options('ReduceScatterOptions', reduceOp=ReduceOp)
ScatterOptions = _options('ScatterOptions', rootRank=0)

GroupName = typing.NewType('GroupName', str)
GroupName.__module__ = 'ember.distributed.distributed_c10d'


class BackendConfig:
    """Which backend serves each device type, parsed from init_process_group's `backend`
    ('gloo', 'cpu:gloo,cuda:nccl', ...) as torch parses it."""

    def __init__(self, backend):
        self.device_backend_map = {}
        backend = str(backend)
        if backend == Backend.UNDEFINED:
            self.device_backend_map['cpu'] = Backend(Backend.default_device_backend_map['cpu'])
        elif backend.lower() in Backend.backend_capability:
            value = Backend(backend)
            self.device_backend_map = dict.fromkeys(Backend.backend_capability[backend.lower()],
                                                    value)
        elif ':' in backend.lower():
            usage = (f"The custom backend string argument is invalid: {backend}.\n"
                     "                Custom backend string is an experimental feature where "
                     "the backend string must be in the format:\n"
                     "                \"<device_type1>:<backend1>,<device_type2>:<backend2>...\"."
                     " e.g. 'cpu:gloo,cuda:nccl'")
            for pair in backend.lower().split(','):
                parts = pair.split(':')
                if len(parts) != 2:
                    raise ValueError(f"Invalid device:backend pairing:                          "
                                     f"            {pair}. {usage}")
                device, name = parts
                if device in self.device_backend_map:
                    raise ValueError(f"Duplicate device type {device}                          "
                                     f"            in backend string: {name}. {usage}")
                self.device_backend_map[device] = Backend(name)
        else:
            warnings.warn(f"Device capability of {backend} unknown, assuming `cpu` and `cuda`. "
                          "You can specify it in `device:backend` format in "
                          "`init_process_group` call.", stacklevel=2)
            value = Backend(backend)
            self.device_backend_map = {'cpu': value, 'cuda': value, 'xpu': value}

    def __repr__(self):
        return ','.join(f'{d}:{b}' for d, b in self.device_backend_map.items())

    def get_device_backend_map(self):
        return self.device_backend_map


_BREAKPOINT_SEEN = {}


def breakpoint(rank=0, skip=0, timeout_s=3600):
    """Stop in the debugger on one rank; the others wait at a barrier until it continues.
    `skip` lets the first `skip` passes through (counted per call site)."""
    if skip > 0:
        key = hash(''.join(traceback.format_stack()[:-1]))
        _BREAKPOINT_SEEN[key] = _BREAKPOINT_SEEN.get(key, 0) + 1
        if _BREAKPOINT_SEEN[key] <= skip:
            warnings.warn(f"Skip the breakpoint, counter={_BREAKPOINT_SEEN[key]}")
            return
    if get_rank() == rank:
        debugger = pdb.Pdb()
        debugger.message("\n!!! ATTENTION !!!\n\nType 'up' to get to the frame that called "
                         f"dist.breakpoint(rank={rank})\n")
        debugger.set_trace(sys._getframe(1))
    barrier()
