"""torch.futures, torch.jit.fork/wait, torch.fork/wait and torch.Future on ember, against torch
2.13 (same programs, same results and errors)."""
import threading

import pytest

import ember
from _oracle import assert_same

torch = pytest.importorskip('torch')


def test_result_then_callbacks():
    def run(L):
        F = L.futures
        f = F.Future()
        out = [f.done()]
        calls = []
        f.add_done_callback(lambda fut: calls.append(fut.value()))
        chained = f.then(lambda fut: fut.wait() * 10)
        f.set_result(3)
        out += [f.done(), f.wait(), f.value(), calls, chained.wait(), chained.done()]
        late = []
        f.add_done_callback(lambda fut: late.append(fut.wait()))
        out.append(late)
        return out
    assert_same(run, torch)


def test_completing_twice_and_bad_exception():
    def twice(L):
        f = L.futures.Future()
        f.set_result(1)
        f.set_result(2)
    assert_same(twice, torch)
    assert_same(lambda L: L.futures.Future().set_exception(3), torch)


def test_exceptions():
    def run(L):
        f = L.futures.Future()
        f.set_exception(ValueError('bad'))
        out = []
        for get in (f.wait, f.value):
            try:
                get()
            except ValueError as e:
                out.append(str(e))
        return out, f.done()
    assert_same(run, torch)


def test_failing_callback_fails_the_chained_future():
    def run(L):
        f = L.futures.Future()
        g = f.then(lambda fut: 1 / 0)
        f.set_result(1)
        try:
            g.wait()
        except RuntimeError as e:
            return str(e).splitlines()[0]
    assert_same(run, torch)


def test_collect_all_and_wait_all():
    def run(L):
        F = L.futures
        a, b = F.Future(), F.Future()
        al = F.collect_all([a, b])
        before = al.done()
        a.set_result(1)
        b.set_result(L.ones(2).tolist())
        got = [x.wait() for x in al.wait()]
        c, d = F.Future(), F.Future()
        c.set_result('x')
        d.set_result('y')
        return before, al.done(), got, F.wait_all([c, d])
    assert_same(run, torch)

    def failing(L):
        e = L.futures.Future()
        e.set_exception(ValueError('x'))
        ok = L.futures.Future()
        ok.set_result(1)
        return L.futures.collect_all([ok, e]).done(), L.futures.wait_all([ok, e])
    assert_same(failing, torch)


def test_wait_blocks_until_another_thread_completes():
    f = ember.futures.Future()
    t = threading.Timer(0.05, lambda: f.set_result(7))
    t.start()
    assert f.wait() == 7
    t.join()


def test_fork_and_wait():
    def fn(x, y=1):
        return (x + y).tolist()

    def run(L):
        futs = [L.jit.fork(fn, L.ones(2), y=2), L.fork(fn, L.ones(2), y=3)]
        return ([L.jit.wait(f) for f in futs], [L.wait(f) for f in futs],
                [f.done() for f in futs], type(futs[0]).__name__)
    assert_same(run, torch)
    assert_same(lambda L: L.jit.fork(lambda: 1 / 0), torch)


def test_classes():
    def run(L):
        return (L.jit.Future is L.futures.Future, L.autograd.profiler.Future is L.futures.Future,
                issubclass(L.futures.Future, L.Future), repr(L.futures.Future[int]).split('.')[-1],
                L.Future([]).done(), L.fork.__name__, L.wait.__name__)
    assert_same(run, torch)
    assert_same(lambda L: L.Future([L.device('cpu')]), torch)
