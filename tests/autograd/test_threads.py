"""Grad mode is per thread, as in torch; anomaly mode and the default dtype stay process-wide.
Real threads, really interleaved."""
import sys
import threading

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")

LIBS = [ember, torch]


@pytest.fixture
def fast_switching():
    """Make the interpreter switch threads often, so the threads really interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _in_thread(fn):
    out = {}

    def run():
        try:
            out['value'] = fn()
        except BaseException as e:  # re-raised in the caller
            out['error'] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if 'error' in out:
        raise out['error']
    return out['value']


def _mode(lib):
    return (lib.is_grad_enabled(), lib.is_inference_mode_enabled())


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
@pytest.mark.parametrize('ctx', ['no_grad', 'inference_mode', 'set_grad_enabled_false'])
def test_new_thread_starts_with_grad_enabled(lib, ctx):
    make = {'no_grad': lambda: lib.no_grad(), 'inference_mode': lambda: lib.inference_mode(),
            'set_grad_enabled_false': lambda: lib.set_grad_enabled(False)}[ctx]
    with make():
        assert not lib.is_grad_enabled()

        def child():
            x = lib.ones(2, requires_grad=True)
            return _mode(lib), (x * 2).requires_grad
        assert _in_thread(child) == ((True, False), True)
        assert not lib.is_grad_enabled()
    assert _mode(lib) == (True, False)


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_modes_set_in_a_thread_stay_there(lib):
    # the thread enters each mode (and set_grad_enabled(False) without a with) and holds it
    # while the main thread looks
    entered, release = threading.Event(), threading.Event()
    seen = []

    def child():
        lib.set_grad_enabled(False)
        with lib.inference_mode():
            seen.append(_mode(lib))
            entered.set()
            release.wait(10)
            seen.append(_mode(lib))
    t = threading.Thread(target=child)
    t.start()
    assert entered.wait(10)
    assert _mode(lib) == (True, False)
    x = lib.ones(2, requires_grad=True)
    assert (x * 3).requires_grad
    with lib.no_grad():
        assert not (x * 3).requires_grad
    release.set()
    t.join()
    assert seen == [(False, True), (False, True)]
    assert _mode(lib) == (True, False)


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_enable_grad_in_thread_under_main_no_grad(lib):
    with lib.no_grad():
        def child():
            with lib.enable_grad():
                inner = lib.is_grad_enabled()
            with lib.no_grad():
                off = lib.is_grad_enabled()
            return inner, off, lib.is_grad_enabled()
        assert _in_thread(child) == (True, False, True)
        assert not lib.is_grad_enabled()


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_decorated_no_grad_in_threads(lib, fast_switching):
    @lib.no_grad()
    def evaluate(x):
        return (x * 2).requires_grad

    results = []

    def child(k):
        x = lib.ones(3, requires_grad=True)
        for _ in range(200):
            a = evaluate(x)
            b = (x * 2).requires_grad
            results.append((a, b))
    ts = [threading.Thread(target=child, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(results) == 800 and set(results) == {(False, True)}


@pytest.mark.parametrize('lib', LIBS, ids=['ember', 'torch'])
def test_anomaly_mode_and_default_dtype_are_process_wide(lib):
    # as in torch: these two are global, not per thread
    try:
        _in_thread(lambda: (lib.autograd.set_detect_anomaly(True),
                            lib.set_default_dtype(lib.float64)))
        assert lib.is_anomaly_enabled()
        assert lib.get_default_dtype() == lib.float64
    finally:
        lib.autograd.set_detect_anomaly(False)
        lib.set_default_dtype(lib.float32)


def test_backward_in_one_thread_leaves_others_recording(fast_switching):
    # the engine turns grad mode off while it runs (create_graph=False): only in its own thread
    stop = threading.Event()
    bad = []

    def trainer():
        w = ember.ones(64, requires_grad=True)
        while not stop.is_set():
            (w * w).sum().backward()

    def recorder():
        x = ember.ones(8, requires_grad=True)
        for _ in range(3000):
            if not (x * 2).requires_grad:
                bad.append(1)
        stop.set()
    ts = [threading.Thread(target=trainer), threading.Thread(target=recorder)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not bad


def test_function_apply_in_threads(fast_switching):
    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            assert not ember.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    errors = []

    def child():
        try:
            for _ in range(300):
                x = ember.ones(3, requires_grad=True)
                y = Double.apply(x)
                assert y.requires_grad and ember.is_grad_enabled()
                y.sum().backward()
                assert x.grad.tolist() == [2.0, 2.0, 2.0]
        except BaseException as e:
            errors.append(e)
    ts = [threading.Thread(target=child) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


# ---- two models trained at once ---------------------------------------------------------------

def _setup(seed):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                          nn.Linear(16, 1))
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal((32, 6)).astype(np.float32))
    y = ember.tensor(rng.standard_normal((32, 1)).astype(np.float32))
    xv = ember.tensor(rng.standard_normal((16, 6)).astype(np.float32))
    yv = ember.tensor(rng.standard_normal((16, 1)).astype(np.float32))
    return model, (x, y, xv, yv)


def _train(model, data, steps, evaluate, start=None):
    x, y, xv, yv = data
    opt = ember.optim.Adam(model.parameters(), lr=1e-2) if evaluate else \
        ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()
    val = []
    if start is not None:
        start.wait(10)
    for step in range(steps):
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if evaluate and step % 7 == 0:
            model.eval()
            with ember.no_grad():
                out = model(xv)
                assert not out.requires_grad
                val.append(loss_fn(out, yv).item())
    return [p.detach().numpy().copy() for p in model.parameters()], val


def test_two_threads_train_two_models_as_one_after_the_other(fast_switching):
    steps = 300
    # one after the other, in this thread
    ref = [_train(*_setup(seed), steps, evaluate) for seed, evaluate in ((1, True), (2, False))]
    # at once, in two threads started together
    models = [_setup(1), _setup(2)]
    start = threading.Barrier(2)
    got, errors = [None, None], []

    def run(i, evaluate):
        try:
            got[i] = _train(*models[i], steps, evaluate, start)
        except BaseException as e:
            errors.append(e)
    ts = [threading.Thread(target=run, args=(0, True)), threading.Thread(target=run, args=(1, False))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]
    for (ref_w, ref_val), (w, val) in zip(ref, got):
        assert len(ref_w) == len(w)
        for a, b in zip(ref_w, w):
            assert np.array_equal(a, b)
        assert ref_val == val
    assert len(got[0][1]) == len(range(0, steps, 7)) and not got[1][1]
