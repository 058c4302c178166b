"""torch.autograd.profiler_util: the events a profiler records and the tables it prints.

A `FunctionEvent` is one timed range (an op, a `record_function` block, an autograd node);
an `EventList` holds them, links each to its enclosing range (`cpu_parent`/`cpu_children`,
which give the self times) and groups them (`key_averages`) into `FunctionEventAvg` rows.
Times are microseconds, as torch's; the table is laid out column for column as torch's.
"""
import bisect
import enum
import itertools
import json
import math
from collections import defaultdict
from operator import attrgetter

__all__ = ['EventList', 'FormattedTimesMixin', 'Interval', 'Kernel', 'FunctionEvent',
           'FunctionEventAvg', 'StringTable', 'MemRecordsAcc', 'DeviceType']


class DeviceType(enum.Enum):
    """torch._C._autograd.DeviceType."""
    CPU = 0
    CUDA = 1
    MKLDNN = 2
    OPENGL = 3
    OPENCL = 4
    IDEEP = 5
    HIP = 6
    FPGA = 7
    MAIA = 8
    XLA = 9
    Vulkan = 10
    Metal = 11
    XPU = 12
    MPS = 13
    Meta = 14
    HPU = 15
    VE = 16
    Lazy = 17
    IPU = 18
    MTIA = 19
    PrivateUse1 = 20

    def __int__(self):
        return self.value

    __index__ = __int__


def _format_time(time_us):
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        if time_us != 0:
            raise AssertionError(f"Expected time_us == 0 but got {time_us}")
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def _format_memory(nbytes):
    for unit, size in (('GB', 1 << 30), ('MB', 1 << 20), ('KB', 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes * 1.0 / size:.2f} {unit}"
    return f"{nbytes} B"


def _time_str(attr):
    return property(lambda self: _format_time(getattr(self, attr)))


class FormattedTimesMixin:
    """The `*_str` forms of an event's times and the per-call averages."""
    cpu_time_str = _time_str('cpu_time')
    device_time_str = _time_str('device_time')
    cpu_time_total_str = _time_str('cpu_time_total')
    device_time_total_str = _time_str('device_time_total')
    self_cpu_time_total_str = _time_str('self_cpu_time_total')
    self_device_time_total_str = _time_str('self_device_time_total')

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else 1.0 * self.cpu_time_total / self.count

    @property
    def device_time(self):
        return 0.0 if self.count == 0 else 1.0 * self.device_time_total / self.count

    @property
    def cuda_time(self):
        return self.device_time


class Interval:
    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        return self.end - self.start


class Kernel:
    __slots__ = ('name', 'device', 'duration')

    def __init__(self, name, device, duration):
        self.name, self.device, self.duration = name, device, duration

    def __repr__(self):
        return f"Kernel(name={self.name!r}, device={self.device!r}, duration={self.duration!r})"


def _self_part(total):
    """A FunctionEvent property: its `total` less its direct children's (0 for an async or a
    non-CPU event)."""
    def get(self):
        if self.is_async or self.device_type != DeviceType.CPU:
            return 0
        return getattr(self, total) - sum(getattr(c, total) for c in self.cpu_children)
    return property(get)


class FunctionEvent(FormattedTimesMixin):
    """One profiled range: an op, a user annotation or an autograd node."""

    def __init__(self, id, name, thread, start_us, end_us, overload_name=None, fwd_thread=None,
                 input_shapes=None, stack=None, scope=0, use_device=None, cpu_memory_usage=0,
                 device_memory_usage=0, is_async=False, is_remote=False, sequence_nr=-1,
                 node_id=-1, device_type=DeviceType.CPU, device_index=0,
                 device_resource_id=None, is_legacy=False, flops=None, trace_name=None,
                 concrete_inputs=None, kwinputs=None, is_user_annotation=False,
                 is_python_function=False, activity_type=None, metadata_json=None,
                 flow_id=None, flow_type=None, flow_start=None, external_id=0,
                 linked_correlation_id=0, extra_meta=None, structured_input_shapes=None,
                 structured_input_strides=None, input_dtypes=None, python_id=-1,
                 python_parent_id=-1, python_module_id=-1):
        self.id = id
        self.node_id = node_id
        self.name = name
        self.overload_name = overload_name
        self.trace_name = trace_name
        self.time_range = Interval(start_us, end_us)
        self.thread = thread
        self.fwd_thread = fwd_thread
        self.kernels = []
        self.count = 1
        self.cpu_children = []
        self.cpu_parent = None
        self.input_shapes = input_shapes
        self.concrete_inputs = concrete_inputs
        self.kwinputs = kwinputs
        self.stack = stack
        self.scope = scope
        self.use_device = use_device
        self.cpu_memory_usage = cpu_memory_usage
        self.device_memory_usage = device_memory_usage
        self.is_async = is_async
        self.is_remote = is_remote
        self.sequence_nr = sequence_nr
        self.device_type = device_type
        self.device_index = device_index
        self.device_resource_id = thread if device_resource_id is None else device_resource_id
        self.is_legacy = is_legacy
        self.flops = flops
        self.is_user_annotation = is_user_annotation
        self.is_python_function = is_python_function
        self.activity_type = activity_type
        self.self_cpu_percent = -1
        self.total_cpu_percent = -1
        self.total_device_percent = -1
        self._metadata_json = metadata_json
        self.flow_id = flow_id
        self.flow_type = flow_type
        self.flow_start = flow_start
        self.external_id = external_id
        self.linked_correlation_id = linked_correlation_id
        self.event_metadata = None
        self.structured_input_shapes = structured_input_shapes
        self.structured_input_strides = structured_input_strides
        self.input_dtypes = input_dtypes
        self.python_id = python_id
        self.python_parent_id = python_parent_id
        self.python_module_id = python_module_id

    def append_kernel(self, name, device, duration):
        _check_cpu(self)
        self.kernels.append(Kernel(name, device, duration))

    def append_cpu_child(self, child):
        """Add a directly enclosed range (self times subtract only direct children)."""
        _check_cpu(self)
        _check_cpu_relative(child, 'child')
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        _check_cpu(self)
        _check_cpu_relative(parent, 'parent')
        self.cpu_parent = parent

    @property
    def metadata_json(self):
        return self._metadata_json

    self_cpu_memory_usage = _self_part('cpu_memory_usage')
    self_device_memory_usage = _self_part('device_memory_usage')

    self_cuda_memory_usage = self_device_memory_usage

    @property
    def cpu_time_total(self):
        if self.device_type == DeviceType.CPU:
            return self.time_range.elapsed_us()
        return 0

    self_cpu_time_total = _self_part('cpu_time_total')

    @property
    def device_time_total(self):
        if self.is_async or not self.use_device:
            return 0
        return sum(k.duration for k in self.kernels) + sum(
            c.device_time_total for c in self.cpu_children)

    @property
    def self_device_time_total(self):
        if self.is_async or not self.use_device:
            return 0
        return self.device_time_total - sum(c.device_time_total for c in self.cpu_children)

    cuda_time_total = device_time_total
    self_cuda_time_total = self_device_time_total

    @property
    def key(self):
        return self.name

    def __repr__(self):
        device_name = self.use_device
        device_time = self.device_time_str
        device_memory_usage = self.device_memory_usage
        return (
            f"<FunctionEvent id={self.id} name={self.name} overload_name={self.overload_name} "
            f"device_type={self.device_type} node_id={self.node_id} "
            f"cpu_time={self.cpu_time_str} start_us={self.time_range.start} "
            f"end_us={self.time_range.end} "
            f"cpu_children={str([child.id for child in self.cpu_children])} "
            f"{device_name}_time={device_time} name={self.name} thread={self.thread} "
            f"input_shapes={str(self.input_shapes)} cpu_memory_usage={self.cpu_memory_usage} "
            f"{device_name}_memory_usage={device_memory_usage} is_async={self.is_async} "
            f"is_remote={self.is_remote} seq_nr={self.sequence_nr} "
            f"is_legacy={self.is_legacy}>")



def _check_cpu(event):
    if event.device_type != DeviceType.CPU:
        raise AssertionError("Expected device_type to be CPU")


def _check_cpu_relative(event, role):
    """Only CPU FunctionEvents nest: `event` is to be the `role` (child, parent) of one."""
    if not isinstance(event, FunctionEvent):
        raise AssertionError(f"Expected {role} to be a FunctionEvent")
    if event.device_type != DeviceType.CPU:
        raise AssertionError(f"Expected {role} device_type to be CPU")

_SUMMED = ('cpu_time_total', 'device_time_total', 'self_cpu_time_total',
           'self_device_time_total', 'cpu_memory_usage', 'device_memory_usage',
           'self_cpu_memory_usage', 'self_device_memory_usage', 'count')
_COPIED = ('key', 'node_id', 'is_async', 'is_remote', 'cpu_parent', 'cpu_children',
           'overload_name', 'input_shapes', 'stack', 'scope', 'device_type', 'is_legacy',
           'use_device', 'is_user_annotation')


class FunctionEventAvg(FormattedTimesMixin):
    """The statistics of the events that share a key (one row of key_averages)."""

    def __init__(self):
        for name in _SUMMED:  # add() accumulates these from zero
            setattr(self, name, 0)
        self.key = None
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.use_device = None
        self.input_shapes = None
        self.overload_name = None
        self.stack = None
        self.scope = None
        self.cpu_children = None
        self.cpu_parent = None
        self.device_type = DeviceType.CPU
        self.is_legacy = False
        self.flops = 0

    def add(self, other):
        if self.key is None:  # the first event of the group gives the descriptive fields
            for name in _COPIED:
                setattr(self, name, getattr(other, name))
        if not isinstance(other, (FunctionEvent, FunctionEventAvg)):
            raise AssertionError("Expected other to be a FunctionEvent or FunctionEventAvg")
        if other.key != self.key:
            raise AssertionError(f"Expected keys to match, but got {other.key} vs {self.key}")
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if self.flops is None:
            self.flops = other.flops
        elif other.flops is not None:
            self.flops += other.flops
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self):
        device_name = 'cuda' if not self.use_device else self.use_device
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
            f"cpu_time={self.cpu_time_str}  self_{device_name}_time="
            f"{self.self_device_time_total_str} {device_name}_time={self.device_time_str} "
            f"input_shapes={str(self.input_shapes)} cpu_memory_usage={self.cpu_memory_usage} "
            f"{device_name}_memory_usage={self.device_memory_usage}>")


class StringTable(defaultdict):
    """Names as given (torch demangles C++ symbols here; ember has none)."""

    def __missing__(self, key):
        self[key] = key
        return key


class MemRecordsAcc:
    """Finds the memory records (objects with a `start_ns()` method) inside a time range."""

    def __init__(self, mem_records):
        self._mem_records = mem_records
        self._start_nses = []
        self._indices = []
        if mem_records:
            pairs = sorted((r[0].start_ns(), i) for i, r in enumerate(mem_records))
            self._start_nses, self._indices = [p[0] for p in pairs], [p[1] for p in pairs]

    def in_interval(self, start_us, end_us):
        lo = bisect.bisect_left(self._start_nses, start_us * 1000)
        hi = bisect.bisect_right(self._start_nses, end_us * 1000)
        for i in range(lo, hi):
            yield self._mem_records[self._indices[i]]


class EventList(list):
    """A list of FunctionEvents with the profiler's summaries."""

    def __init__(self, *args, **kwargs):
        use_device = kwargs.pop('use_device', None)
        profile_memory = kwargs.pop('profile_memory', False)
        with_flops = kwargs.pop('with_flops', False)
        super().__init__(*args, **kwargs)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._tree_built = False
        self._with_flops = with_flops

    def _build_tree(self):
        self._populate_cpu_children()
        self._remove_dup_nodes()
        self._tree_built = True

    def __str__(self):
        return self.table()

    def _remove_dup_nodes(self):
        """An op whose only child is an op of the same name (a method calling its function)
        is shown once."""
        while True:
            drop = set()
            for i, evt in enumerate(self):
                parent = evt.cpu_parent
                if parent is not None and parent.name == evt.name and \
                        len(parent.cpu_children) == 1:
                    parent.cpu_children = evt.cpu_children
                    parent.kernels = evt.kernels
                    for ch in evt.cpu_children:
                        ch.cpu_parent = parent
                    drop.add(i)
            if not drop:
                return
            kept = [e for i, e in enumerate(self) if i not in drop]
            self.clear()
            self.extend(kept)

    def _populate_cpu_children(self):
        """Link each range to the innermost range of its thread that encloses it."""
        sync = sorted((e for e in self if not e.is_async and e.device_type == DeviceType.CPU),
                      key=attrgetter('thread'))
        for _, group in itertools.groupby(sync, key=lambda e: (e.thread, e.node_id)):
            ordered = sorted(group, key=lambda e: (e.time_range.start, -e.time_range.end))
            open_ranges = []
            for evt in ordered:
                while open_ranges:
                    top = open_ranges[-1]
                    if evt.time_range.start >= top.time_range.end or \
                            evt.time_range.end > top.time_range.end:
                        open_ranges.pop()
                    else:
                        top.append_cpu_child(evt)
                        evt.set_cpu_parent(top)
                        break
                open_ranges.append(evt)

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events as torch's text table, sorted by `sort_by` (an attribute such as
        'cpu_time_total' or 'self_cpu_memory_usage'), at most `row_limit` rows."""
        return _build_table(self, sort_by=sort_by, row_limit=row_limit,
                            max_src_column_width=max_src_column_width,
                            max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width, header=header,
                            profile_memory=self._profile_memory, with_flops=self._with_flops,
                            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        """The events as a Chrome trace (a JSON array of complete events)."""
        out = []
        for evt in self:
            if evt.trace_name is None:
                continue
            out.append({'name': evt.trace_name, 'ph': 'X', 'ts': evt.time_range.start,
                        'dur': evt.time_range.elapsed_us(),
                        'tid': evt.thread if not evt.is_remote else
                        f' node_id:{evt.node_id}, thread_id:{evt.thread} ',
                        'pid': 'CPU functions', 'args': {}})
        with open(path, 'w') as f:
            json.dump(out, f)

    def supported_export_stacks_metrics(self):
        return ['self_cpu_time_total', 'self_cuda_time_total', 'self_xpu_time_total',
                'self_privateuse1_time_total']

    def export_stacks(self, path, metric):
        """Folded stacks ('frame;frame;... value' per line) for flame graphs."""
        if metric not in self.supported_export_stacks_metrics():
            raise ValueError("metric should be one of: "
                             + str(self.supported_export_stacks_metrics()))
        translate = str.maketrans(" ;\t\n", "____")
        attr = metric.replace('cuda', 'device').replace('xpu', 'device').replace(
            'privateuse1', 'device')
        with open(path, 'w') as f:
            for evt in self:
                if evt.stack:
                    value = getattr(evt, attr)
                    if int(value) > 0:
                        frames = ';'.join(e.translate(translate) for e in reversed(evt.stack))
                        f.write(f"{frames} {int(value)}\n")

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """One FunctionEventAvg per key (name; plus input shapes, the top stack frames or the
        overload name when asked)."""
        if not self._tree_built:
            raise AssertionError("Expected tree to be built before calling key_averages")
        stats = defaultdict(FunctionEventAvg)
        for evt in self:
            key = [str(evt.key), str(evt.node_id), str(evt.device_type), str(evt.is_legacy),
                   str(evt.is_user_annotation)]
            if group_by_overload_name:
                key.append(evt.overload_name)
            if group_by_input_shapes:
                key.append(str(evt.input_shapes))
            if group_by_stack_n > 0:
                key += (evt.stack or [])[:group_by_stack_n]
            stats[tuple(key)].add(evt)
        avgs = EventList(stats.values(), use_device=self._use_device,
                         profile_memory=self._profile_memory, with_flops=self._with_flops)
        for evt in avgs:
            evt.stack = (evt.stack or [])[:group_by_stack_n]
            if not group_by_input_shapes:
                evt.input_shapes = ''
            if not group_by_overload_name:
                evt.overload_name = ''
        return avgs

    def total_average(self):
        total = FunctionEventAvg()
        for evt in self:
            total += evt
            total.key = None
        total.key = 'Total'
        return total


def _build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                 max_name_column_width=55, max_shapes_column_width=80, with_flops=False,
                 profile_memory=False, top_level_events_only=False, time_unit=None):
    """torch's summary table: a row per event, columns of `width` separated by two spaces."""
    if len(events) == 0:
        return ''
    has_device_time = any(e.self_device_time_total > 0 for e in events)
    use_device = events[0].use_device
    has_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0 for e in events)
    has_overload = any(e.overload_name is not None and len(e.overload_name) > 0
                       for e in events)
    if sort_by is not None:
        attr = sort_by.replace('cuda', 'device').replace('xpu', 'device').replace(
            'privateuse1', 'device')
        events = EventList(sorted(events, key=lambda e: getattr(e, attr), reverse=True),
                           use_device=use_device, profile_memory=profile_memory,
                           with_flops=with_flops)
    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_width = min(shapes_width, max_shapes_column_width)
    width = 12
    stacks = [e.stack for e in events if e.stack is not None and len(e.stack) > 0]
    src_width = None
    if stacks:
        src_width = max(max(len(s) for s in st) for st in stacks) + 4
        if max_src_column_width is not None:
            src_width = min(src_width, max_src_column_width)

    headers = ['Name'] + (['Overload Name'] if has_overload else []) + [
        'Self CPU %', 'Self CPU', 'CPU total %', 'CPU total', 'CPU time avg']
    dev = use_device.upper() if use_device is not None else 'None'
    if has_device_time:
        headers += [f'Self {dev}', f'Self {dev} %', f'{dev} total', f'{dev} time avg']
    if profile_memory:
        headers += ['CPU Mem', 'Self CPU Mem']
    headers.append('# of Calls')
    with_node_id = any(e.node_id != -1 for e in events)
    if with_node_id:
        headers.append('Node ID')

    columns = [(name_width, '>')] * (1 + has_overload) + \
        [(width, '>')] * (len(headers) - 1 - has_overload)
    if has_shapes:
        headers.append('Input Shapes')
        columns.append((shapes_width, '>'))
    if stacks:
        headers.append('Source Location')
        columns.append((src_width, '<'))
    flops_scale = None
    if with_flops:
        raw = [e.flops for e in events if e.flops and e.flops > 0]
        if raw:
            units = ['FLOPs', 'KFLOPs', 'MFLOPs', 'GFLOPs', 'TFLOPs', 'PFLOPs']
            level = max(0, min(math.log10(min(raw)) / 3, float(len(units) - 1)))
            flops_scale = pow(10, math.floor(level) * -3.0)
            headers.append(f'Total {units[int(level)]}')
            columns.append((width, '>'))
    row_format = ''.join('{: ' + d + str(w) + '}  ' for w, d in columns)
    separator = ''.join('-' * w + '  ' for w, _ in columns)
    line_length = sum(w + 2 for w, _ in columns) - 2

    lines = []
    total_self_cpu = sum(e.self_cpu_time_total for e in events)
    total_self_device = 0

    def unit(t_us, default):
        if time_unit == 's':
            return f"{t_us / 1e6:.3f}s"
        if time_unit == 'ms':
            return f"{t_us / 1e3:.3f}ms"
        if time_unit == 'us':
            return f"{t_us:.3f}us"
        return default

    def trim(path):
        if len(path) > src_width:
            path = path[len(path) - src_width:]
            if len(path) > 3:
                path = '...' + path[3:]
        return path

    if header is not None:
        lines += ['=' * line_length, header]
    if top_level_events_only:
        lines += ['=' * line_length, 'This report only display top-level ops statistics']
    lines += [separator, row_format.format(*headers), separator]
    shown = 0
    for evt in events:
        if shown == row_limit:
            break
        if top_level_events_only and evt.cpu_parent is not None:
            continue
        shown += 1
        name = evt.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + '...'
        evt.self_cpu_percent = _format_time_share(evt.self_cpu_time_total, total_self_cpu)
        evt.total_cpu_percent = 0 if evt.is_async else _format_time_share(
            evt.cpu_time_total, total_self_cpu)
        row = [name]
        if has_overload:
            ov = evt.overload_name
            if max_name_column_width is not None and len(ov) >= max_name_column_width - 3:
                ov = ov[:max_name_column_width - 3] + '...'
            row.append(ov)
        row += [evt.self_cpu_percent, unit(evt.self_cpu_time_total, evt.self_cpu_time_total_str),
                evt.total_cpu_percent, unit(evt.cpu_time_total, evt.cpu_time_total_str),
                unit(evt.cpu_time, evt.cpu_time_str)]
        if has_device_time:
            evt.total_device_percent = _format_time_share(evt.self_device_time_total,
                                                          total_self_device)
            row += [unit(evt.self_device_time_total, evt.self_device_time_total_str),
                    evt.total_device_percent,
                    unit(evt.device_time_total, evt.device_time_total_str),
                    unit(evt.device_time, evt.device_time_str)]
        if profile_memory:
            row += [_format_memory(evt.cpu_memory_usage),
                    _format_memory(evt.self_cpu_memory_usage)]
        row.append(evt.count)
        if with_node_id:
            row.append(evt.node_id)
        if has_shapes:
            row.append(str(evt.input_shapes)[:shapes_width])
        if flops_scale is not None:
            row.append('--' if not evt.flops or evt.flops <= 0
                       else f"{evt.flops * flops_scale:8.3f}")
        if stacks:
            row.append(trim(evt.stack[0]) if evt.stack else '')
        lines.append(row_format.format(*row))
        if stacks:
            blank = [''] * (len(headers) - 1)
            for entry in (evt.stack or [])[1:]:
                lines.append(row_format.format(*(blank + [trim(entry)])))
            lines.append(row_format.format(*(blank + [''])))
    lines.append(separator)
    lines.append(f"Self CPU time total: {unit(total_self_cpu, _format_time(total_self_cpu))}")
    return ''.join(line + '\n' for line in lines)
