"""torch.profiler and torch.autograd.profiler on ember, against torch 2.13: the schedule's state
machine, the step/on_trace_ready protocol, the events recorded for the same program (torch's
aten names at the top level), the tables (laid out character for character as torch's for the
same events), Chrome traces, the trace handler and the enums."""
import gzip
import json
import os
import warnings

import numpy as np
import pytest

import ember
from _oracle import assert_same

torch = pytest.importorskip('torch')


def _lib_profiler(L):
    return L.profiler, L.autograd.profiler


# ---- the schedule and the step protocol --------------------------------------------------------

SCHEDULES = [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=1, repeat=2),
             dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3),
             dict(wait=3, warmup=1, active=1, skip_first_wait=1),
             dict(wait=1, warmup=0, active=1, repeat=3, skip_first=1, skip_first_wait=1)]


@pytest.mark.parametrize('kw', SCHEDULES)
def test_schedule_actions(kw):
    def actions(L):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            fn = L.profiler.schedule(**kw)
        return [fn(s).name for s in range(25)], [str(x.message) for x in w]
    assert_same(actions, torch)


@pytest.mark.parametrize('kw', [dict(wait=-1, warmup=1, active=1), dict(wait=0, warmup=0,
                                active=0), dict(wait=0, warmup=1, active=1, repeat=-1)])
def test_schedule_bad_arguments(kw):
    assert_same(lambda L: L.profiler.schedule(**kw), torch)


def test_schedule_negative_step():
    assert_same(lambda L: L.profiler.schedule(wait=1, warmup=1, active=1)(-1), torch)


def _steps_program(L, kw, steps):
    """Which steps end a cycle (on_trace_ready), how many ProfilerStep ranges each cycle holds
    and the names at its top level."""
    x = L.ones(3, 3)
    ready = []

    def on_ready(p):
        evs = p.events()
        steps_seen = sorted(e.trace_name for e in evs if e.name == 'ProfilerStep*')
        ready.append((p.step_num, steps_seen))

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with L.profiler.profile(schedule=L.profiler.schedule(**kw),
                                on_trace_ready=on_ready) as p:
            for _ in range(steps):
                L.mm(x, x)
                p.step()
    return ready, p.step_num, p.current_action.name


@pytest.mark.parametrize('kw', SCHEDULES[:4])
def test_step_protocol(kw):
    assert_same(lambda L: _steps_program(L, kw, 9), torch)


def test_profiler_action_members():
    assert_same(lambda L: [(m.name, m.value) for m in L.profiler.ProfilerAction], torch)


def test_enums_print_as_torch():
    assert_same(lambda L: [repr(L.profiler.ProfilerActivity.CPU), str(L.profiler.ProfilerActivity.CUDA),
                    sorted(L.profiler.ProfilerActivity.__members__),
                    [(k, int(v.value)) for k, v in L.profiler.RecordScope.__members__.items()],
                    [(k, int(v.value)) for k, v in
                     L.autograd.profiler.ProfilerState.__members__.items()],
                    str(L.profiler.DeviceType.CPU),
                    L.profiler.supported_activities() == {L.profiler.ProfilerActivity.CPU},
                    L.profiler.kineto_available(), L.autograd.profiler.kineto_available(),
                    L.profiler.is_fbcode(), L.profiler.itt.is_available(),
                    L.profiler.itt.range_push('a'), L.profiler.itt.range_pop(),
                    L.profiler.itt.mark('m')], torch)


# ---- what gets recorded ------------------------------------------------------------------------

def _program(L, x, w):
    F = L.nn.functional
    y = x + 1
    y = y * x
    y = L.mm(x, x.t())
    y = L.relu(x - 5)
    y = F.linear(x, w)
    y = x.sum()
    y = x.mean(0)
    y = L.cat([x, x])
    y = L.matmul(x, w.t())
    y = F.softmax(x, dim=1)
    y = x[0]
    return y


def _inputs(L):
    return (L.tensor(np.arange(12.0).reshape(3, 4), dtype=L.float32),
            L.tensor(np.ones((2, 4)), dtype=L.float32))


def _top_level(L, **kw):
    x, w = _inputs(L)
    with L.profiler.profile(**kw) as p:
        with L.profiler.record_function('block'):
            _program(L, x, w)
    evs = p.events()
    block = [e for e in evs if e.name == 'block']
    assert len(block) == 1
    return [c.name for c in block[0].cpu_children]


def test_top_level_ops_are_torchs():
    assert_same(_top_level, torch)


def test_autograd_profiler_records_the_same():
    def names(L):
        x, w = _inputs(L)
        with L.autograd.profiler.profile() as p:
            with L.autograd.profiler.record_function('block'):
                _program(L, x, w)
        block = [e for e in p.function_events if e.name == 'block'][0]
        return [c.name for c in block.cpu_children]
    assert_same(names, torch)


def test_record_shapes_of_top_level_ops():
    def shapes(L):
        x = L.ones(3, 4)
        with L.profiler.profile(record_shapes=True) as p:
            L.mm(x, x.t())
            L.cat([x, x], 0)
            L.relu(x)
        return [(e.name, e.input_shapes) for e in p.events() if e.cpu_parent is None
                and e.name in ('aten::mm', 'aten::relu')]
    assert_same(shapes, torch)


def test_backward_nodes_are_recorded():
    def names(L):
        x = L.ones(2, 3, requires_grad=True)
        w = L.ones(3, 3, requires_grad=True)
        with L.profiler.profile() as p:
            (L.mm(x, w).relu().sum()).backward()
        return sorted({e.name for e in p.events() if e.name.startswith('autograd::engine')
                       and 'AccumulateGrad' not in e.name})
    assert_same(names, torch)


def test_record_function_decorator_and_nesting():
    def names(L):
        @L.profiler.record_function('outer')
        def f(x):
            with L.autograd.profiler.record_function('inner'):
                return L.relu(x)
        x = L.ones(2)
        f(x)  # no profiler: nothing happens
        with L.profiler.profile() as p:
            f(x)
        outer = [e for e in p.events() if e.name == 'outer'][0]
        inner = outer.cpu_children[0]
        return (outer.cpu_parent, inner.name, [c.name for c in inner.cpu_children],
                outer.is_user_annotation, inner.cpu_parent.name)
    assert_same(names, torch)


def test_self_times_add_up():
    x = ember.ones(50, 50)
    with ember.profiler.profile() as p:
        with ember.profiler.record_function('r'):
            for _ in range(3):
                ember.mm(x, x).relu()
    evs = p.events()
    r = [e for e in evs if e.name == 'r'][0]
    assert r.cpu_time_total >= sum(c.cpu_time_total for c in r.cpu_children)
    assert abs(r.self_cpu_time_total + sum(c.cpu_time_total for c in r.cpu_children)
               - r.cpu_time_total) < 1e-6
    ka = {e.key: e for e in p.key_averages()}
    assert ka['aten::mm'].count == 3 and ka['aten::relu'].count == 3
    assert abs(evs.self_cpu_time_total - sum(e.self_cpu_time_total for e in evs)) < 1e-6


def test_profile_memory_counts_results():
    x = ember.ones(100, 100)  # float32: 40000 bytes per result
    with ember.profiler.profile(profile_memory=True) as p:
        with ember.profiler.record_function('r'):
            ember.mm(x, x)
            x + 1
    ka = {e.key: e for e in p.key_averages()}
    assert ka['aten::mm'].cpu_memory_usage == 40000
    assert ka['aten::add'].self_cpu_memory_usage == 40000
    assert ka['r'].cpu_memory_usage == 80000 and ka['r'].self_cpu_memory_usage == 0


def test_with_stack_points_at_the_caller():
    x = ember.ones(2)
    with ember.profiler.profile(with_stack=True) as p:
        ember.relu(x)
    ev = [e for e in p.events() if e.name == 'aten::relu'][0]
    assert ev.stack and __file__ in ev.stack[0] and 'test_with_stack_points_at_the_caller' \
        in ev.stack[0]


def test_idle_profiler_leaves_ops_untouched():
    before = ember.Tensor.__dict__['__add__'], ember.nn.functional.linear, ember.mm
    with ember.profiler.profile():
        assert ember.mm is not before[2]
    assert (ember.Tensor.__dict__['__add__'], ember.nn.functional.linear, ember.mm) == before
    assert ember.autograd.profiler._patched == []


# ---- tables: torch's layout for the same events ------------------------------------------------

def _events(L, shapes=False, stack=False):
    """A fixed tree of events (times in us) built with each library's FunctionEvent."""
    FE = L.autograd.profiler_util.FunctionEvent
    spec = [(1, 'model_inference', 0, 1000), (2, 'aten::linear', 10, 400),
            (3, 'aten::addmm', 20, 300), (4, 'aten::t', 310, 330),
            (5, 'aten::relu', 410, 500), (6, 'aten::clamp_min', 420, 480),
            (7, 'aten::linear', 510, 900), (8, 'aten::addmm', 520, 850),
            (9, 'a_really_long_operator_name_that_needs_to_be_cut_short_in_the_table', 910, 990)]
    evs = L.autograd.profiler_util.EventList(
        [FE(id=i, name=n, thread=1, start_us=s, end_us=e,
            input_shapes=[[3, 4], [4]] if shapes and i % 2 else [],
            stack=[f'model.py({i}): forward', 'train.py(3): <module>'] if stack else [],
            cpu_memory_usage=64 * i)
         for i, n, s, e in spec], profile_memory=True)
    evs._build_tree()
    return evs


@pytest.mark.parametrize('args', [dict(), dict(sort_by='cpu_time_total', row_limit=4),
                                  dict(sort_by='self_cpu_time_total', top_level_events_only=True),
                                  dict(header='HEADER', time_unit='ms'),
                                  dict(max_name_column_width=20, sort_by='count')])
def test_table_layout(args):
    assert_same(lambda L: _events(L).key_averages().table(**args), torch)


@pytest.mark.parametrize('opts', [dict(shapes=True), dict(stack=True)])
def test_table_with_shapes_and_stacks(opts):
    assert_same(lambda L: (_events(L, **opts).table(row_limit=5),
                    _events(L, **opts).key_averages(group_by_input_shapes=True).table(),
                    _events(L, **opts).key_averages(group_by_stack_n=1).table()), torch)


def test_event_statistics():
    def stats(L):
        evs = _events(L)
        ka = evs.key_averages()
        tot = evs.total_average()
        return ([(e.key, e.count, e.cpu_time_total, e.self_cpu_time_total, e.cpu_time,
                  e.cpu_memory_usage, e.self_cpu_memory_usage) for e in ka],
                repr(tot), repr(ka[1]), evs.self_cpu_time_total,
                [(e.id, e.cpu_parent.id if e.cpu_parent else None,
                  [c.id for c in e.cpu_children]) for e in evs],
                [e.self_cpu_time_total_str for e in evs], str(evs) == evs.table())
    assert_same(stats, torch)


def test_profile_table_from_a_run_has_torchs_header():
    def head(L):
        x = L.ones(2, 2)
        with L.autograd.profiler.profile(record_shapes=True) as p:
            L.mm(x, x)
        lines = p.key_averages().table().splitlines()
        return lines[1].split(), lines[-1].split(':')[0]
    assert_same(head, torch)


def test_unfinished_and_reentry():
    def run(L):
        p = L.autograd.profiler.profile()
        out = [repr(p), str(p), p.table(), p.self_cpu_time_total]
        with p:
            pass
        try:
            with p:
                pass
        except RuntimeError as e:
            out.append(str(e))
        with L.autograd.profiler.profile(enabled=False) as q:
            out.append(q)
        return out
    assert_same(run, torch)


def test_device_options_warn_and_disable():
    def run(L):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            with L.autograd.profiler.profile(use_cuda=True) as p:
                pass
            with L.autograd.profiler.profile(use_device='foo') as q:
                pass
        return [(type(x.message).__name__, str(x.message)) for x in w], p.use_device, \
            q.use_device
    assert_same(run, torch)


def test_emit_nvtx_and_itt():
    def run(L):
        with L.autograd.profiler.emit_itt():
            L.relu(L.ones(1))
        with L.autograd.profiler.emit_nvtx():
            pass
    assert_same(run, torch)


def test_misc_helpers():
    def run(L):
        AP = L.autograd.profiler
        u = AP.EnforceUnique()
        u.see(1, 2)
        try:
            u.see(1, 2)
        except RuntimeError as e:
            msg = str(e)
        T = AP.KinetoStepTracker
        T.init_step_count('a')
        steps = [T.increment_step('a'), T.increment_step('a'), T.current_step()]
        T.erase_step_count('a')
        return msg, [s - steps[0] for s in steps], T.erase_step_count('nope')
    assert_same(run, torch)


def test_activities_arguments():
    assert_same(lambda L: L.profiler.profile(activities=[]), torch)
    assert_same(lambda L: L.profiler.profile(activities=[L.profiler.ProfilerActivity.CPU,
                                                  L.profiler.ProfilerActivity.CPU]), torch)
    assert_same(lambda L: L.profiler.profile(activities=['cpu']), torch)


# ---- exports -----------------------------------------------------------------------------------

def _trace(L, path, gz=False):
    x = L.ones(2, 3)
    with L.profiler.profile(record_shapes=True) as p:
        with L.profiler.record_function('blk'):
            L.relu(x)
    p.export_chrome_trace(path)
    with (gzip.open if gz else open)(path, 'rt') as f:
        return json.load(f)


def test_chrome_trace_is_kinetos_layout(tmp_path):
    t = _trace(torch, str(tmp_path / 't.json'))
    e = _trace(ember, str(tmp_path / 'e.json'))
    assert list(e) == list(t)
    assert e['traceName'] == str(tmp_path / 'e.json') and e['record_shapes'] == 1

    def x_events(tr):
        return {ev['name']: ev for ev in tr['traceEvents'] if ev['ph'] == 'X'}
    te, ee = x_events(t), x_events(e)
    for name in ('blk', 'aten::relu'):
        assert ee[name]['cat'] == te[name]['cat']
        assert set(ee[name]) == set(te[name])
        assert ee[name]['ts'] <= ee[name]['ts'] + ee[name]['dur']
    assert ee['aten::relu']['args']['Input Dims'] == te['aten::relu']['args']['Input Dims']
    blk, relu = ee['blk'], ee['aten::relu']
    assert blk['ts'] <= relu['ts'] and relu['ts'] + relu['dur'] <= blk['ts'] + blk['dur']
    assert [m['name'] for m in e['traceEvents'] if m['ph'] == 'M'][:3] == \
        [m['name'] for m in t['traceEvents'] if m['ph'] == 'M'][:3]


def test_gzip_trace_and_tensorboard_handler(tmp_path):
    e = _trace(ember, str(tmp_path / 'e.json.gz'), gz=True)
    assert any(ev['name'] == 'aten::relu' for ev in e['traceEvents'])
    for L, sub in ((torch, 't'), (ember, 'e')):
        d = tmp_path / sub
        with L.profiler.profile(schedule=L.profiler.schedule(wait=0, warmup=1, active=1),
                                on_trace_ready=L.profiler.tensorboard_trace_handler(
                                    str(d), worker_name='w', use_gzip=True)) as p:
            for _ in range(4):
                L.ones(2).sum()
                p.step()
    names = {sub: sorted(os.listdir(tmp_path / sub)) for sub in 'te'}
    assert len(names['e']) == len(names['t']) == 2
    for n in names['e']:
        worker, stamp, rest = n.split('.', 2)
        assert worker == 'w' and stamp.isdigit() and rest == 'pt.trace.json.gz'
        with gzip.open(tmp_path / 'e' / n, 'rt') as f:
            assert any(ev['name'] == 'aten::sum' for ev in json.load(f)['traceEvents'])


def test_legacy_chrome_trace_and_stacks(tmp_path):
    x = ember.ones(2)
    with ember.autograd.profiler.profile(with_stack=True) as p:
        ember.relu(x)
    p.export_chrome_trace(str(tmp_path / 'a.json'))
    assert json.load(open(tmp_path / 'a.json'))['traceEvents']
    p.export_stacks(str(tmp_path / 's.txt'), 'self_cpu_time_total')
    line = open(tmp_path / 's.txt').read().splitlines()[0]
    frames, value = line.rsplit(' ', 1)
    assert 'test_legacy_chrome_trace_and_stacks' in frames and int(value) >= 0
    with pytest.raises(ValueError, match='metric should be one of'):
        p.function_events.export_stacks(str(tmp_path / 's.txt'), 'nope')


def test_execution_trace_observer(tmp_path):
    path = str(tmp_path / 'et.json')
    et = ember.profiler.ExecutionTraceObserver().register_callback(path)
    assert et.is_registered and et.get_output_file_path() == path
    x = ember.ones(2)
    et.start()
    ember.relu(x)
    et.stop()
    et.unregister_callback()
    nodes = json.load(open(path))['nodes']
    assert [n['name'] for n in nodes][1:] == ['aten::relu']
    assert_same(lambda L: L.profiler.ExecutionTraceObserver().get_output_file_path(), torch)


def test_ops_are_recorded_while_a_subclass_arms_dispatch():
    # a live Tensor subclass puts __torch_function__'s wrappers on ember's functions: the
    # profiler's timing wrappers go under them, and both come off in order afterwards
    def names(L):
        class Mine(L.Tensor):
            pass

        keep = L.ones(1).as_subclass(Mine)
        got = _top_level(L)
        with L.profiler.profile() as p:
            r = keep + 1
        sub = [e.name for e in p.events() if e.cpu_parent is None]
        return got, sub, type(r).__name__, type(L.ones(2) + 1).__name__

    e, t = names(ember), names(torch)
    assert e[0] == t[0] and e[2:] == t[2:] == ('Mine', 'Tensor')
    assert 'aten::add' in e[1] and 'aten::add' in t[1]
