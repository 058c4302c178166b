"""torch.autograd.profiler: time ember's ops, `record_function` ranges and autograd nodes.

How ops are timed: ember's op functions are attached to their namespaces and to Tensor with no
per-call wrapper, so an idle profiler must cost nothing. While a profiler records, the op
functions (those of torch's namespaces that ember's op modules define, and Tensor's methods) are
replaced, wherever ember's modules hold them, by timing wrappers named as torch's aten ops
(`aten::addmm`, `aten::relu`), and the autograd nodes' `_apply` by wrappers that record
`autograd::engine::evaluate_function: XBackward0` around `XBackward0`; when the last profiler
stops recording, the originals are put back. A reference taken while recording (`f = x.add`)
keeps its wrapper, which then only calls through.
"""
import bisect
import contextlib
import functools
import gzip
import json
import os
import socket
import sys
import threading
import time
import traceback
import types
import uuid
import warnings
import weakref

from .._enums import pybind_enum
from .._tensor import Tensor, _DECLARED
from .._torch_function import _Unwrapped
from ..futures import Future  # noqa: F401  (torch.autograd.profiler.Future)
from .._torch_api import API
from . import graph
from .profiler_util import (DeviceType, EventList, FunctionEvent, FunctionEventAvg,  # noqa: F401
                            MemRecordsAcc, StringTable)  # noqa: F401

__all__ = ['profile', 'record_function', 'emit_itt', 'emit_nvtx', 'kineto_available',
           'ProfilerActivity', 'ProfilerConfig', 'ProfilerState', 'DeviceType', 'EventList',
           'FunctionEvent', 'FunctionEventAvg', 'KinetoStepTracker', 'EnforceUnique',
           'MemRecordsAcc']


ProfilerActivity = pybind_enum('ProfilerActivity', [('CPU', 0), ('XPU', 1), ('MTIA', 4), ('CUDA', 2),
                                              ('HPU', 3), ('PrivateUse1', 5)],
                         'torch._C._profiler')
ProfilerState = pybind_enum('ProfilerState', [
    ('Disabled', 0), ('CPU', 1), ('CUDA', 2), ('NVTX', 3), ('ITT', 4), ('PRIVATEUSE1', 5),
    ('KINETO', 6), ('KINETO_GPU_FALLBACK', 7), ('KINETO_PRIVATEUSE1_FALLBACK', 8),
    ('KINETO_PRIVATEUSE1', 9)], 'torch._C._profiler')


def kineto_available():
    """torch's CPU build profiles through Kineto; ember's recorder stands in for it."""
    return True


def _supported_activities():
    return {ProfilerActivity.CPU}


class ProfilerConfig:
    """torch._C._profiler.ProfilerConfig: what a profiling session records."""

    def __init__(self, state, report_input_shapes, profile_memory, with_stack, with_flops,
                 with_modules, experimental_config, trace_id=''):
        self.state = state
        self.report_input_shapes = report_input_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.experimental_config = experimental_config
        self.trace_id = trace_id


# ---- the recorder ------------------------------------------------------------------------------

class _Session:
    """The raw ranges one profiler records between its start and stop."""

    def __init__(self, record_shapes, profile_memory, with_stack):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.records = []
        self.start_ns = time.perf_counter_ns()
        self.wall_start_ns = time.time_ns()
        self.end_ns = None


_sessions = []          # the sessions recording now
_patched = []           # (owner, attribute, original) while ops are instrumented
_lock = threading.Lock()
_tls = threading.local()
_thread_numbers = {}


def _thread_number():
    ident = threading.get_ident()
    n = _thread_numbers.get(ident)
    if n is None:
        n = _thread_numbers[ident] = len(_thread_numbers) + 1
    return n


class _Range:
    """One open range: [name, kind, start_ns, end_ns, thread, native thread id, shapes,
    memory, stack, dtypes]."""
    __slots__ = ('name', 'kind', 'start', 'end', 'thread', 'tid', 'shapes', 'memory', 'stack',
                 'dtypes', 'sessions')


def _shape_of(a):
    if isinstance(a, Tensor):
        return list(a._data.shape)
    return []


def _type_of(a):
    if isinstance(a, Tensor):
        return str(a._data.dtype).replace('float32', 'float').replace('float64', 'double') \
            .replace('int64', 'long int').replace('int32', 'int').replace('bool', 'bool')
    if isinstance(a, (bool, int, float, complex)):
        return 'Scalar'
    if isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
        return 'TensorList'
    if isinstance(a, (list, tuple)):
        return 'ScalarList'
    return ''


_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stack():
    """The caller's Python frames (innermost first) outside ember, as torch writes them."""
    out = []
    for fr in reversed(traceback.extract_stack()):
        if fr.filename.startswith(_OWN) or fr.filename.startswith('<frozen'):
            continue
        out.append(f"{fr.filename}({fr.lineno}): {fr.name}")
    return out


def _begin(name, kind, args=(), kwargs=None):
    sessions = tuple(_sessions)
    r = _Range()
    r.name, r.kind, r.sessions = name, kind, sessions
    r.thread = _thread_number()
    r.tid = threading.get_native_id()
    r.memory = 0
    if any(s.record_shapes for s in sessions) and kind == 'cpu_op':
        # keyword options (inplace=, dim=) are no tensor inputs of torch's kernels
        inputs = list(args) + [v for v in (kwargs or {}).values() if isinstance(v, Tensor)]
        r.shapes = [_shape_of(a) for a in inputs]
        r.dtypes = [_type_of(a) for a in inputs]
    else:
        r.shapes = r.dtypes = None
    r.stack = _user_stack() if any(s.with_stack for s in sessions) else None
    r.end = None
    r.start = time.perf_counter_ns()
    return r


def _end(r, out=None):
    r.end = time.perf_counter_ns()
    if out is not None and any(s.profile_memory for s in r.sessions):
        r.memory = _fresh_bytes(out)
    for s in r.sessions:
        s.records.append(r)


_counted = {}  # id -> weakref of the result arrays already charged to the op that made them


def _fresh_bytes(out):
    """Bytes of the arrays an op's result owns (what it allocated), each array once (an op
    returning what an op inside it made allocated nothing itself)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    n = 0
    for t in outs:
        if isinstance(t, Tensor):
            d = t._data
            if getattr(d, 'base', 0) is None:
                seen = _counted.get(id(d))
                if seen is not None and seen() is d:
                    continue
                _counted[id(d)] = weakref.ref(d)
                n += d.nbytes
    return n


# ---- instrumenting the ops ---------------------------------------------------------------------

# Tensor methods that are metadata or conversions, not ops (torch records none of them)
_NOT_OPS = frozenset((
    'size', 'dim', 'ndimension', 'numel', 'nelement', 'element_size', 'is_contiguous',
    'is_floating_point', 'is_complex', 'is_signed', 'stride', 'storage_offset', 'data_ptr',
    'get_device', 'tolist', 'numpy', 'untyped_storage', 'storage', 'type', 'is_shared',
    'is_pinned', 'register_hook', 'register_post_accumulate_grad_hook', 'retain_grad',
    'requires_grad_', 'backward', 'share_memory_', 'dim_order', 'is_set_to', 'is_same_size',
    'is_nonzero', 'is_inference', 'is_conj', 'is_neg', 'has_names', 'refine_names',
    'rename', 'rename_', 'align_to', 'align_as', 'unflatten', 'pin_memory', 'cpu', 'cuda',
    'apply_', 'map_', 'map2_', 'new_tensor', 'storage_type', 'is_coalesced', 'sparse_dim',
    'dense_dim', 'is_meta', 'item', 'is_quantized', 'qscheme', 'module_load',
))
_DUNDER_OPS = {
    '__add__': 'add', '__radd__': 'add', '__iadd__': 'add_', '__sub__': 'sub',
    '__rsub__': 'rsub', '__isub__': 'sub_', '__mul__': 'mul', '__rmul__': 'mul',
    '__imul__': 'mul_', '__truediv__': 'div', '__rtruediv__': 'div', '__itruediv__': 'div_',
    '__floordiv__': 'floor_divide', '__rfloordiv__': 'floor_divide',
    '__ifloordiv__': 'floor_divide_', '__mod__': 'remainder', '__rmod__': 'remainder',
    '__imod__': 'remainder_', '__pow__': 'pow', '__rpow__': 'pow', '__ipow__': 'pow_',
    '__matmul__': 'matmul', '__rmatmul__': 'matmul', '__neg__': 'neg', '__abs__': 'abs',
    '__invert__': 'bitwise_not', '__and__': 'bitwise_and', '__or__': 'bitwise_or',
    '__xor__': 'bitwise_xor', '__iand__': 'bitwise_and_', '__ior__': 'bitwise_or_',
    '__ixor__': 'bitwise_xor_', '__lshift__': '__lshift__', '__rshift__': '__rshift__',
    '__eq__': 'eq', '__ne__': 'ne', '__lt__': 'lt', '__le__': 'le', '__gt__': 'gt',
    '__ge__': 'ge', '__getitem__': 'index', '__setitem__': 'index_put_',
}
# torch's kernel names where they differ from the Python function's
_ATEN = {'cross_entropy': 'cross_entropy_loss', 'nll_loss': 'nll_loss_nd',
         'binary_cross_entropy_with_logits': 'binary_cross_entropy_with_logits',
         'subtract': 'sub', 'multiply': 'mul', 'divide': 'div', 'true_divide': 'div',
         'absolute': 'abs', 'negative': 'neg', 'greater': 'gt', 'less': 'lt',
         'greater_equal': 'ge', 'less_equal': 'le', 'not_equal': 'ne', 'arccos': 'acos',
         'arcsin': 'asin', 'arctan': 'atan', 'arccosh': 'acosh', 'arcsinh': 'asinh',
         'arctanh': 'atanh', 'arctan2': 'atan2', 'clip': 'clamp', 'fix': 'trunc',
         'concat': 'cat', 'concatenate': 'cat'}
_NAMESPACES = (('torch', 'ember', ''), ('torch.nn.functional', 'ember.nn.functional', ''),
               ('torch.linalg', 'ember.linalg', 'linalg_'), ('torch.fft', 'ember.fft', 'fft_'),
               ('torch.special', 'ember.special', 'special_'))
# functions of torch's namespaces that are no single op of their own (torch.tensor records
# lift_fresh/to/detach_ inside; is_tensor and friends record nothing)
_NOT_OP_FUNCTIONS = frozenset(('tensor', 'as_tensor', 'asarray', 'from_numpy', 'frombuffer',
                               'is_tensor', 'is_storage', 'is_floating_point', 'is_complex',
                               'numel', 'result_type', 'can_cast', 'promote_types'))
_OP_HOMES = ('ember._ops.', 'ember.linalg', 'ember.fft', 'ember.special', 'ember._tensor')


def _aten(name):
    return 'aten::' + _ATEN.get(name, name)


def _getitem_name(key):
    if isinstance(key, int):
        return 'aten::select'
    if isinstance(key, slice):
        return 'aten::slice'
    return 'aten::index'


def _wrap_op(fn, name):
    if name == 'aten::index':  # x[...]: torch's kernel depends on the key
        @functools.wraps(fn)
        def getitem(self, key):
            r = _begin(_getitem_name(key), 'cpu_op', (self,))
            try:
                out = fn(self, key)
            finally:
                _end(r)
            return out
        return getitem

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if not _sessions:
            return fn(*args, **kwargs)
        r = _begin(name, 'cpu_op', args, kwargs)
        out = None
        try:
            out = fn(*args, **kwargs)
            return out
        finally:
            _end(r, out)
    op._ember_profiled = fn
    return op


def _wrap_apply(apply):
    def _apply(node, grads, create_graph):
        if not _sessions:
            return apply(node, grads, create_graph)
        name = node.name()
        outer = _begin('autograd::engine::evaluate_function: ' + name, 'cpu_op')
        try:
            inner = _begin(name, 'cpu_op')
            try:
                return apply(node, grads, create_graph)
            finally:
                _end(inner)
        finally:
            _end(outer)
    return _apply


def _op_table():
    """{id(function): (function, aten name)} for every op function ember defines."""
    ops = {}
    for ns, modname, prefix in _NAMESPACES:
        mod = sys.modules.get(modname)
        if mod is None:
            continue
        for kind, names in API.get(ns, {}).items():
            if kind != 'f':
                continue
            for n in names:
                if n in _NOT_OP_FUNCTIONS:
                    continue
                fn = mod.__dict__.get(n)
                if isinstance(fn, types.FunctionType) and id(fn) not in ops and \
                        fn.__module__.startswith(_OP_HOMES) and \
                        not getattr(fn, '_ember_missing', False):
                    ops[id(fn)] = (fn, _aten(prefix + n))
    return ops


def _set(owner, attr, value):
    """Set an attribute exactly as given (Tensor's metaclass would wrap its operators)."""
    if isinstance(owner, type):
        type.__setattr__(owner, attr, value)
    else:
        setattr(owner, attr, value)


def _wrapper(wrappers, ops, fn):
    """One timing wrapper per op function, wherever it is found."""
    w = wrappers.get(id(fn))
    if w is None:
        w = wrappers[id(fn)] = _wrap_op(fn, ops[id(fn)][1])
    return w


def _instrument():
    """Swap in the timing wrappers (called under _lock when recording starts)."""
    ops = _op_table()
    wrappers = {}
    for name, (_, obj) in list(_DECLARED.items()):
        if name in _NOT_OPS or not isinstance(obj, types.FunctionType) or \
                Tensor.__dict__.get(name) is not obj:
            continue
        if name.startswith('__'):
            if name not in _DUNDER_OPS:
                continue
            aten = _aten(_DUNDER_OPS[name])
        else:
            aten = _aten(name)
        _patched.append((Tensor, name, obj))
        _set(Tensor, name, _wrap_op(obj, aten))
    for modname, mod in list(sys.modules.items()):
        if not (modname == 'ember' or modname.startswith('ember.')) or mod is None:
            continue
        d = getattr(mod, '__dict__', None)
        if not d or d.get('_ember_missing'):
            continue
        for attr, val in list(d.items()):
            if isinstance(val, type) and val.__module__ == modname:
                # a layer family keeps its functional as a class constant (`_fn`)
                for cattr, cval in list(val.__dict__.items()):
                    if isinstance(cval, staticmethod) and id(cval.__func__) in ops:
                        w = _wrapper(wrappers, ops, cval.__func__)
                        _patched.append((val, cattr, cval))
                        _set(val, cattr, staticmethod(w))
                continue
            entry = ops.get(id(val))
            if entry is None or entry[0] is not val or attr.startswith('__'):
                continue
            _patched.append((mod, attr, val))
            setattr(mod, attr, _wrapper(wrappers, ops, val))
    todo = [graph.Node]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        apply = cls.__dict__.get('_apply')
        if apply is not None:
            _patched.append((cls, '_apply', apply))
            _set(cls, '_apply', _wrap_apply(apply))


def _restore():
    while _patched:
        owner, attr, orig = _patched.pop()
        _set(owner, attr, orig)


def _start(session):
    with _lock:
        if not _sessions:
            # (while __torch_function__'s wrappers are on, they go on over the timing ones)
            with _Unwrapped():
                _instrument()
        _sessions.append(session)


def _stop(session):
    with _lock:
        if session in _sessions:
            _sessions.remove(session)
            session.end_ns = time.perf_counter_ns()
            if not _sessions:
                with _Unwrapped():
                    _restore()
                _counted.clear()


def _events(session, use_device=None, profile_memory=False, with_flops=False):
    """The session's ranges as an EventList (ids in start order, times relative to the start,
    the tree of enclosing ranges built)."""
    t0 = session.start_ns
    records = sorted(session.records, key=lambda r: (r.start, -r.end))
    memory = _memory_in_ranges(records) if profile_memory else {}
    evs = []
    for i, r in enumerate(records, 1):
        # the steps of a scheduled profiler group as one key, 'ProfilerStep*'
        name = 'ProfilerStep*' if r.name.startswith('ProfilerStep#') else r.name
        evs.append(FunctionEvent(
            id=i, name=name, thread=r.thread, start_us=(r.start - t0) / 1000,
            end_us=(r.end - t0) / 1000, input_shapes=r.shapes if r.shapes is not None else [],
            stack=r.stack if r.stack is not None else [], use_device=use_device,
            cpu_memory_usage=memory.get(id(r), 0), trace_name=r.name,
            is_user_annotation=r.kind == 'user_annotation',
            concrete_inputs=[], input_dtypes=r.dtypes))
    out = EventList(evs, use_device=use_device, profile_memory=profile_memory,
                    with_flops=with_flops)
    out._build_tree()
    return out


def _memory_in_ranges(records):
    """{id(range): bytes allocated inside it}, as torch counts the memory records that fall in
    an op's interval: its own result's and those of every op it encloses (ranges nest, so the
    ranges ending inside another's interval are the ones it encloses)."""
    out = {}
    by_thread = {}
    for r in records:
        by_thread.setdefault(r.thread, []).append(r)
    for rs in by_thread.values():
        ends = sorted(rs, key=lambda r: r.end)
        keys = [r.end for r in ends]
        cum = [0]
        for r in ends:
            cum.append(cum[-1] + r.memory)
        for r in rs:
            out[id(r)] = cum[bisect.bisect_right(keys, r.end)] - \
                cum[bisect.bisect_left(keys, r.start)]
    return out


def _trace_id():
    return f"{uuid.uuid4().int:032X}"


def _chrome_trace(session, path, trace_id, metadata=None):
    """Write the session as Kineto writes a trace: a JSON object with `traceEvents`
    (metadata events, then a complete 'X' event per range, in microseconds)."""
    pid = os.getpid()
    base_us = session.wall_start_ns / 1000
    t0 = session.start_ns
    meta = {'ph': 'M', 'ts': base_us, 'pid': pid, 'tid': 0}
    events = [dict(meta, name='process_name', args={'name': 'python'}),
              dict(meta, name='process_labels', args={'labels': 'CPU'}),
              dict(meta, name='process_sort_index', args={'sort_index': pid})]
    tids = sorted({r.tid for r in session.records} or {threading.get_native_id()})
    for tid in tids:
        events.append(dict(meta, name='thread_name', tid=tid,
                           args={'name': f'thread {tid} (python)'}))
        events.append(dict(meta, name='thread_sort_index', tid=tid, args={'sort_index': tid}))
    records = sorted(session.records, key=lambda r: (r.start, -r.end))
    for i, r in enumerate(records):
        args = {'External id': i + 1, 'Record function id': 0}
        if r.shapes is not None:
            args['Input Dims'] = r.shapes
            args['Input type'] = r.dtypes
        args['Ev Idx'] = i
        events.append({'ph': 'X', 'cat': r.kind, 'name': r.name, 'pid': pid, 'tid': r.tid,
                       'ts': base_us + (r.start - t0) / 1000, 'dur': (r.end - r.start) / 1000,
                       'args': args})
    end = session.end_ns or time.perf_counter_ns()
    events.append({'ph': 'X', 'cat': 'Trace', 'name': 'PyTorch Profiler (0)', 'pid': 'Spans',
                   'tid': 'PyTorch Profiler', 'ts': base_us, 'dur': (end - t0) / 1000,
                   'args': {'Op count': 0}})
    trace = {'schemaVersion': 1, 'deviceProperties': [], 'trace_id': trace_id}
    trace.update(metadata or {})
    trace.update({'host_name': socket.gethostname(), 'displayTimeUnit': 'ms',
                  'baseTimeNanoseconds': session.wall_start_ns - (session.wall_start_ns % 10**9),
                  'traceEvents': events, 'traceName': os.fspath(path)})
    opener = open
    if os.fspath(path).endswith('.gz'):
        opener = gzip.open
    with opener(path, 'wt') as f:
        json.dump(trace, f)


# ---- the public API ----------------------------------------------------------------------------

class record_function(contextlib.ContextDecorator):
    """Label a block of code (`with record_function('name'):`, or as a decorator): a profiler
    that is recording shows it as a range of its own around the ops inside."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self.record = None

    def __enter__(self):
        self.record = _begin(self.name, 'user_annotation') if _sessions else None
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if not self.run_callbacks_on_exit:
            return
        record, self.record = self.record, None
        if record is not None:
            _end(record)

    def _call_end_callbacks_on_future(self, fut):
        """Close the range when `fut` (a torch.futures.Future) completes; returns a future
        with the same value."""
        if not self.run_callbacks_on_exit:
            raise RuntimeError("_call_end_callbacks_on_future can only be called once.")
        self.run_callbacks_on_exit = False
        record, self.record = self.record, None

        def done(f):
            if record is not None:
                _end(record)
            return f.wait()
        return fut.then(done)


class profile:
    """torch.autograd.profiler.profile: records while its `with` block runs; then
    `key_averages()`, `table()`, `function_events`, `export_chrome_trace()`."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None,
                 activity_filters=None):
        self.enabled = enabled
        if not enabled:
            return
        self.use_cuda = use_cuda
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = 'cuda'
        self.use_device = use_device
        self.function_events_ = None
        self._function_events = None
        self._old_function_events = None
        self.entered = False
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.record_shapes |= self.with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.acc_events = acc_events
        self.experimental_config = experimental_config
        self.kineto_results = None
        self.profiling_start_time_ns = 0
        self.profiling_end_time_ns = 0
        self.custom_trace_id_callback = custom_trace_id_callback
        self.trace_id = ''
        self._session = None
        self._sessions_done = []
        if not self.use_cpu and not use_kineto:
            raise AssertionError("Device-only events supported only with Kineto "
                                 "(use_kineto=True)")
        if self.use_device is not None:
            valid = ['cuda', 'xpu', 'mtia', 'hpu']
            if self.use_device not in valid:
                warnings.warn(f"The {self.use_device} is not a valid device option.",
                              stacklevel=2)
                self.use_device = None
            elif self.use_device == 'cuda':
                warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
                self.use_device = None
            elif self.use_device == 'xpu':
                warnings.warn("XPU is not available, disabling XPU profiling", stacklevel=2)
                self.use_device = None
            elif self.use_device == 'hpu':
                warnings.warn("HPU is not available, disabling HPU profiling", stacklevel=2)
                self.use_device = None
        if not self.use_cpu and self.use_device is None:
            raise AssertionError("No activities specified for the profiler")
        if post_processing_timeout_s is not None and post_processing_timeout_s < 0:
            raise ValueError("post_processing_timeout_s must be non-negative")
        self._needs_processing = False

    def default_trace_id(self):
        return _trace_id()

    def create_trace_id(self):
        if self.custom_trace_id_callback:
            return self.custom_trace_id_callback()
        return self.default_trace_id()

    def config(self, create_trace_id=False):
        if create_trace_id:
            self.trace_id = self.create_trace_id()
        return ProfilerConfig(ProfilerState.KINETO, self.record_shapes, self.profile_memory,
                              self.with_stack, self.with_flops, self.with_modules,
                              self.experimental_config, self.trace_id)

    def __enter__(self):
        if not self.enabled:
            return
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._prepare_trace()
        self._start_trace()
        return self

    def _prepare_trace(self):
        self.entered = True
        self.config(create_trace_id=True)

    def _start_trace(self):
        self.entered = True
        self._session = _Session(self.record_shapes, self.profile_memory, self.with_stack)
        _start(self._session)
        self.profiling_start_time_ns = time.perf_counter_ns()

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return
        if self._function_events and self.acc_events:
            self._old_function_events = self._function_events
        self._function_events = None
        self._needs_processing = True
        self.profiling_end_time_ns = time.perf_counter_ns()
        if self._session is not None:
            _stop(self._session)
            self.kineto_results = self._session
        if self.acc_events:
            self._ensure_function_events()
        return False

    def toggle_collection_dynamic(self, enabled, activities):
        """Pause (enabled=False) or resume recording of the CPU activity."""
        if ProfilerActivity.CPU not in activities or self._session is None:
            return
        if enabled:
            _start(self._session)
        else:
            _stop(self._session)

    def __repr__(self):
        return self._describe(repr)

    def __str__(self):
        return self._describe(str)

    def _describe(self, form, unfinished="<unfinished torch.autograd.profile>"):
        """repr or str (`form`) of the events, once the profile has finished."""
        if self._needs_processing:
            self._ensure_function_events()
        if self._function_events is None:
            return unfinished
        return form(self._function_events)

    def _ensure_function_events(self):
        if self._function_events is not None and not self._needs_processing:
            return
        self._needs_processing = False
        if self.kineto_results is None:  # never entered: nothing recorded
            events = EventList([], use_device=self.use_device,
                               profile_memory=self.profile_memory, with_flops=self.with_flops)
            events._tree_built = True
        else:
            events = _events(self.kineto_results, self.use_device, self.profile_memory,
                             self.with_flops)
        if self._old_function_events and self.acc_events:
            old = list(self._old_function_events)
            events = EventList(old + list(events), use_device=self.use_device,
                               profile_memory=self.profile_memory, with_flops=self.with_flops)
            events._tree_built = True
            self._old_function_events = None
        self._function_events = events

    def _check_finish(self):
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    @property
    def function_events(self):
        if self._function_events is None or self._needs_processing:
            self._ensure_function_events()
        return self._function_events

    def _results(self):
        self._ensure_function_events()
        if self._function_events is None:
            raise AssertionError("Expected profiling results")
        return self._function_events

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        return self._results().table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only)

    table.__doc__ = EventList.table.__doc__

    def export_chrome_trace(self, path, metadata=None, use_python_export=False):
        """The recorded ranges as a Chrome trace JSON file (Kineto's layout)."""
        if self.kineto_results is None:
            raise RuntimeError("Profiler didn't finish running")
        _chrome_trace(self.kineto_results, path, self.trace_id, metadata)

    def export_stacks(self, path, metric='self_cpu_time_total'):
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        return self._results().export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        return self._results().key_averages(group_by_input_shape, group_by_stack_n,
                                            group_by_overload_name)

    key_averages.__doc__ = EventList.key_averages.__doc__

    def total_average(self):
        return self._results().total_average()

    @property
    def self_cpu_time_total(self):
        """The sum of all self times, in microseconds."""
        return self._results().self_cpu_time_total


class _Annotations:
    """A context manager handing every op's range to an external tool (ITT, NVTX)."""
    _tool = ''

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled = enabled
        self.entered = False
        self.record_shapes = record_shapes

    def __enter__(self):
        if not self.enabled:
            return
        if self.entered:
            raise RuntimeError(f"{self._tool} annotation context manager is not reentrant")
        self.entered = True
        self._start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self.enabled:
            self.entered = False
        return False


class emit_itt(_Annotations):
    """Annotate every op as an ITT range for Intel VTune: without VTune attached nothing
    receives them (ember emits none), as with torch."""
    _tool = 'ITT'

    def _start(self):
        pass


class emit_nvtx(_Annotations):
    """Annotate ranges for NVIDIA's nvprof/Nsight (NVTX): there is no CUDA on this machine."""
    _tool = 'NVTX'

    def _start(self):
        raise AssertionError("Torch not compiled with CUDA enabled")


class EnforceUnique:
    """Raises if a key is seen twice."""

    def __init__(self):
        self.seen = set()

    def see(self, *key):
        if key in self.seen:
            raise RuntimeError("duplicate key: " + str(key))
        self.seen.add(key)


class KinetoStepTracker:
    """Counts training steps for several requesters (the profiler, the optimizer hook) and
    reports the largest count as the global step."""
    _current_step = 0
    _step_dict = {}

    @classmethod
    def init_step_count(cls, requester):
        cls._step_dict[requester] = cls._current_step

    @classmethod
    def erase_step_count(cls, requester):
        return cls._step_dict.pop(requester, None) is not None

    @classmethod
    def increment_step(cls, requester):
        if requester not in cls._step_dict:
            cls.init_step_count(requester)
        cls._step_dict[requester] += 1
        new_step = max(cls._step_dict.values())
        if new_step > cls._current_step:
            cls._current_step = new_step
        return cls._current_step

    @classmethod
    def current_step(cls):
        return cls._current_step



from .._stubs import hook as _hook  # noqa: E402

_hook(__name__)
