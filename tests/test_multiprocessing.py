"""torch.multiprocessing on ember with real processes: tensors cross process boundaries through
shared memory (writes on either side are seen by the other), spawn/start_processes report
their children's failures as torch's do."""
import pickle
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import torch
import torch.multiprocessing as tmp

import ember
import ember.multiprocessing as emp
from tests._oracle import assert_same

LIBS = [(ember, emp), (torch, tmp)]


def _add_one_from_queue(q, done):
    t = q.get()
    t.add_(1)
    done.put(t.is_shared())


def _fill(i, t, lib_name):
    t[i] = i + 10


def _raise(i, lib_name):
    if i == 1:
        raise ValueError(f"boom from {i}")


def _exit(i, lib_name):
    if i == 1:
        raise SystemExit(3)


def _square(x):
    return x * x


def _make(n):
    return ember.arange(n) * 2


def _train_step(model, done):
    with ember.no_grad():
        model.weight.fill_(7.0)
    done.put(True)


@pytest.mark.parametrize('method', ['fork', 'spawn'])
def test_tensor_through_a_queue_is_shared(method):
    ctx = emp.get_context(method)
    q, done = ctx.Queue(), ctx.Queue()
    t = ember.zeros(3)
    p = ctx.Process(target=_add_one_from_queue, args=(q, done))
    p.start()
    q.put(t)
    assert done.get(timeout=60) is True
    p.join(60)
    assert p.exitcode == 0
    # the child's in-place add landed in the parent's tensor, as torch's does
    assert t.tolist() == [1.0, 1.0, 1.0]
    assert t.is_shared()


def test_torch_does_the_same_through_a_queue():
    ctx = tmp.get_context('fork')
    q, done = ctx.Queue(), ctx.Queue()
    t = torch.zeros(3)
    p = ctx.Process(target=_add_one_from_queue, args=(q, done))
    p.start()
    q.put(t)
    assert done.get(timeout=60) is True
    p.join(60)
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_spawn_writes_into_a_shared_tensor():
    t = ember.zeros(3)
    t.share_memory_()
    assert emp.spawn(_fill, args=(t, 'ember'), nprocs=2) is None
    assert t.tolist() == [10.0, 11.0, 0.0]


def test_spawn_reports_a_childs_exception():
    with pytest.raises(emp.ProcessRaisedException) as e:
        emp.spawn(_raise, args=('ember',), nprocs=2)
    assert e.value.error_index == 1
    assert '-- Process 1 terminated with the following error:' in str(e.value)
    assert 'ValueError: boom from 1' in str(e.value)


def test_start_processes_reports_an_exit_code():
    ctx = emp.start_processes(_exit, args=('ember',), nprocs=2, join=False,
                              start_method='fork')
    assert len(ctx.pids()) == 2
    with pytest.raises(emp.ProcessExitedException, match='process 1 terminated with exit '
                                                         'code 3') as e:
        while not ctx.join():
            pass
    assert e.value.exit_code == 3 and e.value.signal_name is None
    assert pickle.loads(pickle.dumps(e.value)).exit_code == 3


def test_pool_results_come_back():
    with emp.get_context('fork').Pool(2) as pool:
        got = pool.map(_square, [ember.tensor([1., 2.]), ember.tensor([3.])])
        made = pool.map(_make, [2, 3])
    assert [g.tolist() for g in got] == [[1., 4.], [9.]]
    assert [m.tolist() for m in made] == [[0, 2], [0, 2, 4]]
    assert all(m.is_shared() for m in made)


def test_module_share_memory_hogwild():
    model = ember.nn.Linear(2, 2)
    assert model.share_memory() is model
    assert model.weight.is_shared() and model.bias.is_shared()
    ctx = emp.get_context('fork')
    done = ctx.Queue()
    p = ctx.Process(target=_train_step, args=(model, done))
    p.start()
    assert done.get(timeout=60)
    p.join(60)
    assert model.weight.tolist() == [[7.0, 7.0], [7.0, 7.0]]


def test_parameter_and_views_keep_their_kind():
    for lib, _ in LIBS:
        p = lib.nn.Parameter(lib.arange(6.).reshape(2, 3))
        v = lib.arange(12.).reshape(3, 4)[1:, ::2]
        for x in (p, v):
            got = pickle.loads(bytes(ForkingPickler.dumps(x)))
            assert type(got).__name__ == type(x).__name__
            assert got.tolist() == x.tolist() and got.requires_grad == x.requires_grad
            assert got.stride() == x.stride()


def test_refuses_a_non_leaf_that_requires_grad():
    def run(lib):
        mp = emp if lib is ember else tmp
        x = lib.ones(2, requires_grad=True) * 2
        ForkingPickler.dumps(x)
    assert_same(run, torch)


def test_sharing_strategies():
    assert_same(lambda lib: sorted((emp if lib is ember else tmp).get_all_sharing_strategies()), torch)
    assert_same(lambda lib: (emp if lib is ember else tmp).get_sharing_strategy(), torch)
    assert_same(lambda lib: (emp if lib is ember else tmp).set_sharing_strategy('x'), torch)
    emp.set_sharing_strategy('file_system')
    assert emp.get_sharing_strategy() == 'file_system'
    emp.set_sharing_strategy('file_descriptor')


def test_namespace():
    assert set(tmp.__all__) == set(emp.__all__)
    for name in ('spawn', 'start_processes', 'ProcessContext', 'ProcessExitedException',
                 'ProcessRaisedException', 'SpawnContext', 'Queue', 'Process', 'Pool',
                 'get_context', 'set_start_method', 'cpu_count'):
        assert hasattr(emp, name)
    assert ember.multiprocessing is emp
    assert ember.prepare_multiprocessing_environment('/tmp') is None
    assert issubclass(emp.ProcessExitedException, emp.spawn.__globals__['ProcessException'])


def test_share_memory_keeps_values_and_shape():
    t = ember.arange(12.).reshape(3, 4).t()
    before = t.tolist()
    assert not t.is_shared()
    assert t.share_memory_() is t
    assert t.is_shared() and t.tolist() == before and t.stride() == (1, 4)
    np.testing.assert_array_equal(t.numpy(), np.arange(12.).reshape(3, 4).T)
