"""torch.profiler.profiler: the profiler with schedules, steps and trace handlers, over the
recorder of `ember.autograd.profiler` (which times ember's ops as torch's aten ops)."""
import enum
import functools
import gzip
import json
import os
import socket
import tempfile
import time
import warnings

from ..autograd import profiler as prof
from ..autograd.profiler import ProfilerActivity, KinetoStepTracker, record_function

__all__ = ['supported_activities', 'ProfilerAction', 'schedule', 'tensorboard_trace_handler',
           'profile', 'ExecutionTraceObserver']

PROFILER_STEP_NAME = 'ProfilerStep'


def supported_activities():
    """The activities this machine can profile: the CPU only."""
    return prof._supported_activities()


def _parse_activities(activities):
    parsed, filters = set(), {}
    for item in activities:
        if isinstance(item, ProfilerActivity):
            if item in parsed:
                raise ValueError(f"Activity {item} specified more than once")
            parsed.add(item)
        elif isinstance(item, dict):
            for key, val in item.items():
                if key in parsed:
                    raise ValueError(f"Activity {key} specified more than once")
                parsed.add(key)
                filters[key] = set(val)
        else:
            raise TypeError(f"Expected ProfilerActivity or dict, got {type(item)}")
    return parsed, filters


class _ITraceObserver:
    """What an execution-trace observer offers the profiler."""

    def start(self):
        pass

    def stop(self):
        pass

    def cleanup(self):
        pass


_warned_cycles = False


class _KinetoProfile:
    """A profiler without a schedule: start() / stop() record one cycle."""

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False,
                 with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        if activities is not None:
            self.activities, self.activity_filters = _parse_activities(activities)
        else:
            self.activities, self.activity_filters = supported_activities(), {}
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.experimental_config = experimental_config
        self.execution_trace_observer = execution_trace_observer
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.post_processing_timeout_s = post_processing_timeout_s
        self.profiler = None
        self.has_cudagraphs = False
        self.mem_tl = None
        self.use_device = None
        for act, dev in ((ProfilerActivity.CUDA, 'cuda'), (ProfilerActivity.XPU, 'xpu'),
                         (ProfilerActivity.MTIA, 'mtia'), (ProfilerActivity.HPU, 'hpu'),
                         (ProfilerActivity.PrivateUse1, 'privateuseone')):
            if act in self.activities:
                self.use_device = dev
                break
        self.preset_metadata = {}
        self._trace_metadata = {}

    def start(self):
        self.prepare_trace()
        self.start_trace()

    def stop(self):
        self.stop_trace()

    def prepare_trace(self):
        global _warned_cycles
        if self.profiler is not None and not self.acc_events and not _warned_cycles:
            _warned_cycles = True
            warnings.warn("Warning: Profiler clears events at the end of each cycle. Only "
                          "events from the current cycle will be reported. To keep events "
                          "across cycles, set acc_events=True.")
        if self.profiler is None or not self.acc_events:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')  # torch warns once, above, not per device
                self.profiler = prof.profile(
                    use_cpu=ProfilerActivity.CPU in self.activities, use_device=self.use_device,
                    record_shapes=self.record_shapes, with_flops=self.with_flops,
                    profile_memory=self.profile_memory, with_stack=self.with_stack,
                    with_modules=self.with_modules, use_kineto=True,
                    experimental_config=self.experimental_config, acc_events=self.acc_events,
                    custom_trace_id_callback=self.custom_trace_id_callback,
                    post_processing_timeout_s=self.post_processing_timeout_s,
                    activity_filters=self.activity_filters or None)
        self.profiler._prepare_trace()

    def start_trace(self):
        if self.execution_trace_observer:
            self.execution_trace_observer.start()
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before starting trace")
        self.profiler._start_trace()
        for flag in ('profile_memory', 'with_stack', 'record_shapes', 'with_modules',
                     'with_flops'):
            if getattr(self, flag):
                self.add_metadata_json(flag, '1')
        for k, v in self.preset_metadata.items():
            self.add_metadata_json(k, v)

    def stop_trace(self):
        if self.execution_trace_observer:
            self.execution_trace_observer.stop()
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before stopping trace")
        self.profiler.__exit__(None, None, None)

    def export_chrome_trace(self, path, use_python_export=False):
        """The last cycle as a Chrome trace JSON file (gzip-compressed when `path` ends in
        .gz)."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before exporting chrome trace")
        metadata = {k: json.loads(v) for k, v in self._trace_metadata.items()}
        return self.profiler.export_chrome_trace(path, metadata)

    def export_stacks(self, path, metric='self_cpu_time_total'):
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before exporting stacks")
        return self.profiler.export_stacks(path, metric)

    def toggle_collection_dynamic(self, enable, activities):
        if self.profiler is None:
            return
        self.profiler.toggle_collection_dynamic(enable, activities)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events of the last cycle grouped by name (see EventList.key_averages)."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before getting key averages")
        return self.profiler.key_averages(group_by_input_shape, group_by_stack_n,
                                          group_by_overload_name)

    def events(self):
        """The events of the last cycle, an EventList of FunctionEvents."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before accessing events")
        return self.profiler.function_events

    def add_metadata(self, key, value):
        """A string entry of the trace's top-level object."""
        self._trace_metadata[key] = '"' + value.replace('"', '\\"') + '"'

    def add_metadata_json(self, key, value):
        """An entry of the trace's top-level object, given as JSON text."""
        self._trace_metadata[key] = value

    def preset_metadata_json(self, key, value):
        self.preset_metadata[key] = value

    def _get_distributed_info(self):
        return None

    def export_memory_timeline(self, path, device=None):
        raise NotImplementedError("ember does not implement "
                                  "torch.profiler.profile.export_memory_timeline yet")


class ProfilerAction(enum.Enum):
    """What a schedule asks of the profiler at a step."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A schedule: skip `skip_first` steps, then cycles of `wait` idle steps, `warmup` steps
    and `active` recorded steps (the last one RECORD_AND_SAVE), `repeat` times (0: forever).
    With `skip_first_wait`, the first cycle starts without its wait."""
    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 \
            else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup="
            f"{warmup} (need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False,
                              use_python_export=False):
    """An on_trace_ready handler writing each cycle to
    `dir_name/<worker>.<time_ns>.pt.trace.json[.gz]` (TensorBoard's profiler plugin reads
    them)."""
    def handler_fn(prof_):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name += '.gz'
        prof_.export_chrome_trace(os.path.join(dir_name, file_name),
                                  use_python_export=use_python_export)
    return handler_fn


def _warn(message):
    warnings.warn(message)


class profile(_KinetoProfile):
    """torch.profiler.profile: a context manager (or start()/stop()) that records ember's ops;
    with a `schedule`, `step()` moves through its wait/warmup/active cycles and
    `on_trace_ready(prof)` runs at the end of each active cycle."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None,
                 post_processing_timeout_s=None):
        if activities is not None:
            acts = set()
            for item in activities:
                if isinstance(item, ProfilerActivity):
                    acts.add(item)
                elif isinstance(item, dict):
                    acts.update(item.keys())
        else:
            acts = supported_activities()
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead",
                          FutureWarning, stacklevel=2)
            if use_cuda:
                acts.add(ProfilerActivity.CUDA)
            elif ProfilerActivity.CUDA in acts:
                acts.remove(ProfilerActivity.CUDA)
        if len(acts) == 0:
            raise AssertionError("No valid profiler activities found")
        super().__init__(activities=activities, record_shapes=record_shapes,
                         profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, with_modules=with_modules,
                         experimental_config=experimental_config,
                         execution_trace_observer=execution_trace_observer
                         or ExecutionTraceObserver.build_execution_trace_obs_from_env(),
                         acc_events=acc_events,
                         custom_trace_id_callback=custom_trace_id_callback,
                         post_processing_timeout_s=post_processing_timeout_s)
        if schedule:
            self.schedule = schedule
            self.record_steps = True
        else:
            self.schedule = _default_schedule_fn
            self.record_steps = False
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn = None
        action = self.schedule(self.step_num)
        if action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler "
                             "and must not be returned by a user-provided schedule")
        self.current_action = action
        self._prev_schedule_action = action
        A = ProfilerAction
        prepare, start, stop, ready = (self.prepare_trace, self.start_trace, self.stop_trace,
                                       self._trace_ready)
        # what each transition (previous action, next action; None: the end) does
        self.action_map = {
            (A.NONE, A.NONE): [],
            (A.NONE, A.WARMUP): [prepare],
            (A.NONE, A.RECORD): [prepare, start],
            (A.NONE, A.RECORD_AND_SAVE): [prepare, start],
            (A.WARMUP, A.NONE): [functools.partial(_warn, "Incorrect schedule: WARMUP "
                                                   "followed by NONE"), start, stop],
            (A.WARMUP, A.WARMUP): [],
            (A.WARMUP, A.RECORD): [start],
            (A.WARMUP, A.RECORD_AND_SAVE): [start],
            (A.RECORD, A.NONE): [functools.partial(_warn, "Incorrect schedule: RECORD "
                                                   "followed by NONE"), stop],
            (A.RECORD, A.WARMUP): [functools.partial(_warn, "Incorrect schedule: RECORD "
                                                     "followed by WARMUP"), stop],
            (A.RECORD, A.RECORD): [],
            (A.RECORD, A.RECORD_AND_SAVE): [],
            (A.RECORD_AND_SAVE, A.NONE): [stop, ready],
            (A.RECORD_AND_SAVE, A.WARMUP): [stop, ready, prepare],
            (A.RECORD_AND_SAVE, A.RECORD): [stop, ready, prepare, start],
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): [stop, ready, prepare, start],
            (A.WARMUP, None): [start, stop],
            (A.RECORD, None): [stop, ready],
            (A.RECORD_AND_SAVE, None): [stop, ready],
        }
        KinetoStepTracker.init_step_count(PROFILER_STEP_NAME)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        KinetoStepTracker.erase_step_count(PROFILER_STEP_NAME)
        if self.execution_trace_observer:
            self.execution_trace_observer.cleanup()

    def start(self):
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function('ProfilerStep#' + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self):
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)
        self.current_action = self._prev_schedule_action

    def step(self):
        """Signal the end of a training step: the schedule decides what comes next."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        self.step_num += 1
        action = self.schedule(self.step_num)
        if action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler "
                             "and must not be returned by a user-provided schedule")
        self.current_action = self._prev_schedule_action = action
        self._transit_action(prev_action, self.current_action)
        if os.environ.get('KINETO_USE_DAEMON', ''):
            KinetoStepTracker.increment_step(PROFILER_STEP_NAME)
        if self.record_steps:
            self.step_rec_fn = record_function('ProfilerStep#' + str(self.step_num))
            self.step_rec_fn.__enter__()

    def set_custom_trace_id_callback(self, callback):
        self.custom_trace_id_callback = callback

    def get_trace_id(self):
        if self.profiler is None:
            return None
        return self.profiler.trace_id

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _transit_action(self, prev_action, current_action):
        for action in self.action_map.get((prev_action, current_action)) or ():
            action()

    def _stats(self):
        return None


class ExecutionTraceObserver(_ITraceObserver):
    """Writes an execution trace (the ops run between start() and stop(), with their inputs'
    shapes and types) as JSON to the file given to register_callback."""

    def __init__(self):
        self._registered = False
        self._execution_trace_running = False
        self.extra_resources_collection = False
        self.resources_dir = ''
        self.output_file_path = ''
        self.output_file_path_observer = ''
        self._session = None

    def __del__(self):
        self.unregister_callback()

    @staticmethod
    def build_execution_trace_obs_from_env():
        """An observer when ENABLE_PYTORCH_EXECUTION_TRACE=1 asks for one, else None."""
        if os.environ.get('ENABLE_PYTORCH_EXECUTION_TRACE', '0') == '1':
            fp = tempfile.NamedTemporaryFile('w+t', suffix='.et.json', delete=False)
            fp.close()
            et = ExecutionTraceObserver()
            et.register_callback(fp.name)
            return et
        return None

    def set_extra_resource_collection(self, val):
        self.extra_resources_collection = val

    def register_callback(self, output_file_path):
        if not self._registered:
            self.output_file_path = output_file_path
            self.output_file_path_observer = output_file_path
            self._registered = True
        return self

    def get_resources_dir(self):
        return self.resources_dir

    def unregister_callback(self):
        if getattr(self, '_execution_trace_running', False):
            self.stop()
        self._registered = False

    @property
    def is_registered(self):
        return self._registered

    def is_running(self):
        return self._execution_trace_running

    def start(self):
        if self._registered and not self._execution_trace_running:
            self._session = prof._Session(True, False, False)
            prof._start(self._session)
            self._execution_trace_running = True

    def stop(self):
        if self._execution_trace_running:
            prof._stop(self._session)
            self._execution_trace_running = False
            self._write()

    def cleanup(self):
        pass

    def get_output_file_path(self):
        return self.output_file_path or None

    def _write(self):
        s = self._session
        records = sorted(s.records, key=lambda r: (r.start, -r.end))
        nodes = [{'id': 1, 'name': '[pytorch|profiler|execution_trace|process]',
                  'ctrl_deps': 0, 'inputs': {'values': [], 'shapes': [], 'types': []},
                  'outputs': {'values': [], 'shapes': [], 'types': []}, 'attrs': []}]
        for i, r in enumerate(records, 2):
            nodes.append({'id': i, 'name': r.name, 'ctrl_deps': 1,
                          'inputs': {'values': [], 'shapes': r.shapes or [],
                                     'types': r.dtypes or []},
                          'outputs': {'values': [], 'shapes': [], 'types': []},
                          'attrs': [{'name': 'rf_id', 'type': 'uint64', 'value': i - 2},
                                    {'name': 'tid', 'type': 'uint64', 'value': r.tid}]})
        trace = {'schema': '1.1.1-chakra.0.0.4', 'pid': os.getpid(),
                 'time': time.strftime('%Y-%m-%d %H:%M:%S'), 'start_ts': s.start_ns // 1000,
                 'nodes': nodes, 'finish_ts': (s.end_ns or time.perf_counter_ns()) // 1000}
        opener = gzip.open if self.output_file_path.endswith('.gz') else open
        with opener(self.output_file_path, 'wt') as f:
            json.dump(trace, f)

