"""ember's RNG against torch's CPU generator, bit for bit (ember/_random.py, ember/_ops/random.py).

Kernel tests replay torch's calls on ember's NumPy kernels; golden tests replay the stored
torch streams in tests/golden/rng_torch.npz (regenerate with tests/golden/make_golden_rng.py),
so the comparison still runs where torch is absent.
"""
import concurrent.futures
import importlib.util
import os
import sys
import threading

import numpy as np
import pytest

from ember import _random as R

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
SEEDS = (0, 1, 42, 2 ** 32 + 7)
LENGTHS = list(range(1, 41)) + [100, 1000, 1001]


def _assert_same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if a.tobytes() != b.tobytes():
        bad = np.flatnonzero(a.reshape(-1).view(np.uint8) != b.reshape(-1).view(np.uint8))
        raise AssertionError(f'not bitwise equal: first differing byte {bad[:5]}; '
                             f'{a.reshape(-1)[:4]} vs {b.reshape(-1)[:4]}')


def _np(t):
    return t.numpy()


# ----------------------------------------------------------------------------- engine

def test_engine_first_draws_and_seed_wrap():
    g = R.CPUGenerator(0)
    assert g.random(4).tolist() == [2357136044, 2546248239, 3071714933, 3626093760]
    a = R.CPUGenerator(-1).random(8)
    b = R.CPUGenerator(2 ** 32 - 1).random(8)
    assert a.tolist() == b.tolist()
    assert R.CPUGenerator(-1).initial_seed() == 2 ** 64 - 1
    assert R.CPUGenerator().initial_seed() == 67280421310721


def test_state_roundtrip_restores_stream_and_cache():
    g = R.CPUGenerator(3)
    R.normal(g, (5,), np.float32)           # leaves a cached double sample
    st = g.get_state()
    assert st.dtype == np.uint8 and st.shape == (5056,)
    a = R.normal(g, (3,), np.float32)
    g.set_state(st)
    _assert_same(R.normal(g, (3,), np.float32), a)
    _assert_same(R.CPUGenerator(0).set_state(st).get_state(), st)


# ----------------------------------------------------------------------------- vs torch

@pytest.mark.parametrize('seed', SEEDS)
def test_streams_match_torch(seed):
    torch = pytest.importorskip('torch')
    torch.manual_seed(seed)
    g = R.CPUGenerator(seed)
    _assert_same(g.get_state(), _np(torch.get_rng_state()))
    for n in LENGTHS:
        _assert_same(R.uniform(g, (n,), np.float32), _np(torch.rand(n)))
        _assert_same(R.uniform(g, (n,), np.float64), _np(torch.rand(n, dtype=torch.float64)))
        _assert_same(R.uniform(g, (n,), np.float16), _np(torch.rand(n, dtype=torch.float16)))
        _assert_same(R.normal(g, (n,), np.float32), _np(torch.randn(n)))
        _assert_same(R.normal(g, (n,), np.float64), _np(torch.randn(n, dtype=torch.float64)))
        _assert_same(R.normal(g, (n,), np.float16), _np(torch.randn(n, dtype=torch.float16)))
    _assert_same(g.get_state(), _np(torch.get_rng_state()))


def test_bernoulli_integer_compare_is_the_double_compare(kernel_path):
    # bernoulli/dropout compare the 53-bit integer, not the double: same answer for every p,
    # including p at and next to multiples of 2**-53 and outside [0, 1]
    k = np.array([0, 1, 2, 3, 2 ** 52, 2 ** 53 - 2, 2 ** 53 - 1], np.uint64)
    ps = [0.0, 2.0 ** -53, 2.0 ** -52, 1.5 * 2.0 ** -52, 0.5, np.nextafter(0.5, 0),
          np.nextafter(0.5, 1), 1 - 2.0 ** -53, 1.0, 1.5, -0.5, float('nan'), float('inf'),
          0.1, 0.9, 5e-324]
    for seed in (0, 7):
        for p in ps:
            g1, g2 = R.CPUGenerator(seed), R.CPUGenerator(seed)
            for n in (2000, 5000):      # the compiled draws take over from 4096
                got = R._bernoulli_scalar_mask(g1, p, n)
                assert got.tolist() == (R._u53(g2.random64(n)) < p).tolist(), p
    for p in ps:
        # the extreme draws themselves, through a stand-in generator
        class _G:
            def random64(self, n):
                return k.copy()
        with np.errstate(invalid='ignore'):
            want = (k & np.uint64(2 ** 53 - 1)).astype(np.float64) * 2.0 ** -53 < p
        assert R._bernoulli_scalar_mask(_G(), p, k.size).tolist() == want.tolist(), p


@pytest.mark.parametrize('seed', SEEDS)
def test_dropout_noise_dtypes_match_torch(seed, kernel_path):
    torch = pytest.importorskip('torch')
    F = torch.nn.functional
    torch.manual_seed(seed)
    g = R.CPUGenerator(seed)
    for tdt, dt in ((torch.float32, np.float32), (torch.float64, np.float64),
                    (torch.float16, np.float16)):
        for shape in ((3, 333), (3, 2000)):     # the compiled draws take over from 4096
            x = torch.randn(*shape).to(tdt)
            R.normal(g, shape, np.float32)
            for p in (0.1, 0.3, 1 / 3, 0.9):
                _assert_same(_np(x) * R.dropout_noise(g, shape, dt, p), _np(F.dropout(x, p)))
    _assert_same(g.get_state(), _np(torch.get_rng_state()))


@pytest.mark.parametrize('seed', SEEDS)
def test_other_kernels_match_torch(seed):
    torch = pytest.importorskip('torch')
    F = torch.nn.functional
    torch.manual_seed(seed)
    g = R.CPUGenerator(seed)
    for dt, tdt in ((np.float32, torch.float32), (np.float64, torch.float64),
                    (np.float16, torch.float16)):
        _assert_same(R.uniform(g, (300,), dt, -0.3, 0.7),
              _np(torch.empty(300, dtype=tdt).uniform_(-0.3, 0.7)))
        for n in (7, 50):
            _assert_same(R.normal(g, (n,), dt, 2.0, 3.0),
                  _np(torch.empty(n, dtype=tdt).normal_(2.0, 3.0)))
    _assert_same(R.normal(g, (64,), np.float32, 0.5, 0.02),
          _np(torch.empty(64).normal_(0.5, 0.02)))
    _assert_same(R.randint(g, 0, 10, (100,)), _np(torch.randint(0, 10, (100,))))
    _assert_same(R.randint(g, -100, 2 ** 40, (50,)), _np(torch.randint(-100, 2 ** 40, (50,))))
    _assert_same(R.randint(g, 3, 2 ** 29, (9,), np.int32),
          _np(torch.randint(3, 2 ** 29, (9,), dtype=torch.int32)))
    _assert_same(R.randint(g, 0, 7, (9,), np.float32),
          _np(torch.randint(0, 7, (9,), dtype=torch.float32)))
    for n in (1, 2, 10, 1000):
        _assert_same(R.randperm(g, n), _np(torch.randperm(n)))
    for dt, tdt in ((np.int64, torch.int64), (np.int32, torch.int32), (np.uint8, torch.uint8),
                    (np.float32, torch.float32), (np.float64, torch.float64),
                    (np.bool_, torch.bool), (np.float16, torch.float16)):
        _assert_same(R.random_(g, (20,), dt), _np(torch.empty(20, dtype=tdt).random_()))
    _assert_same(R.random_(g, (20,), np.int64, None, 5),
                 _np(torch.empty(20, dtype=torch.int64).random_(5)))
    _assert_same(R.random_(g, (5,), np.int64, -2 ** 63),
          _np(torch.empty(5, dtype=torch.int64).random_(-2 ** 63, None)))
    _assert_same(R.bernoulli(g, 0.3, (100,), np.float32), _np(torch.empty(100).bernoulli_(0.3)))
    p32 = torch.rand(3, 40)
    _assert_same(R.uniform(g, (3, 40), np.float32), _np(p32))
    _assert_same(R.bernoulli(g, _np(p32), (3, 40), np.float32), _np(torch.bernoulli(p32)))
    p64 = p32.double()
    _assert_same(R.bernoulli(g, _np(p64), (3, 40), np.float64), _np(torch.bernoulli(p64)))
    x = torch.randn(4, 50)
    _assert_same(R.normal(g, (4, 50), np.float32), _np(x))
    for p in (0.1, 0.2, 0.3, 0.5, 0.77):
        _assert_same(_np(x) * R.dropout_noise(g, (4, 50), np.float32, p), _np(F.dropout(x, p)))
    _assert_same(R.exponential(g, (40,), np.float32), _np(torch.empty(40).exponential_()))
    _assert_same(R.exponential(g, (40,), np.float64, 2.5),
          _np(torch.empty(40, dtype=torch.float64).exponential_(2.5)))
    _assert_same(R.geometric(g, (40,), np.float32, 0.3), _np(torch.empty(40).geometric_(0.3)))
    _assert_same(R.cauchy(g, (40,), np.float64, 1.0, 2.0),
          _np(torch.empty(40, dtype=torch.float64).cauchy_(1.0, 2.0)))
    _assert_same(R.log_normal(g, (9,), np.float32, 0.5, 0.25),
          _np(torch.empty(9).log_normal_(0.5, 0.25)))
    probs = torch.rand(4, 9)
    _assert_same(R.uniform(g, (4, 9), np.float32), _np(probs))
    _assert_same(R.multinomial(g, _np(probs), 6, True), _np(torch.multinomial(probs, 6, True)))
    _assert_same(R.multinomial(g, _np(probs), 1), _np(torch.multinomial(probs, 1)))
    _assert_same(R.multinomial(g, _np(probs), 5), _np(torch.multinomial(probs, 5)))
    _assert_same(R.multinomial(g, _np(probs[0]), 3), _np(torch.multinomial(probs[0], 3)))
    mean, std = torch.rand(30), torch.rand(30)
    _assert_same(R.uniform(g, (30,), np.float32), _np(mean))
    _assert_same(R.uniform(g, (30,), np.float32), _np(std))
    _assert_same(R.normal(g, (30,), np.float32, _np(mean), _np(std)), _np(torch.normal(mean, std)))
    _assert_same(g.get_state(), _np(torch.get_rng_state()))


def test_large_normal_stress_matches_torch():
    torch = pytest.importorskip('torch')
    torch.manual_seed(7)
    g = R.CPUGenerator(7)
    _assert_same(R.normal(g, (200003,), np.float32), _np(torch.randn(200003)))
    _assert_same(R.normal(g, (50001,), np.float64), _np(torch.randn(50001, dtype=torch.float64)))
    _assert_same(R.uniform(g, (100000,), np.float32, -0.05, 0.05),
          _np(torch.empty(100000).uniform_(-0.05, 0.05)))
    _assert_same(R.normal(g, (100000,), np.float32, 0.5, 0.02),
          _np(torch.empty(100000).normal_(0.5, 0.02)))


@pytest.mark.parametrize('mean,std', [(0.0, 1.0), (0.5, 0.02), (-3.0, 7.5)])
@pytest.mark.parametrize('n', [16, 17, 1024, 65537])
def test_float32_normals_match_torch_on_both_paths(n, mean, std, kernel_path):
    # torch's AVX2 normal_fill_16: the compiled blocks (src/normal.c) and the NumPy ones
    torch = pytest.importorskip('torch')
    torch.manual_seed(n)
    g = R.CPUGenerator(n)
    got = R.normal(g, (n,), np.float32, mean, std)
    assert got.dtype == np.float32
    _assert_same(got, _np(torch.empty(n).normal_(mean, std)))
    _assert_same(g.get_state(), _np(torch.get_rng_state()))


def test_bfloat16_matches_torch():
    torch = pytest.importorskip('torch')
    ml_dtypes = pytest.importorskip('ml_dtypes')
    bf = np.dtype(ml_dtypes.bfloat16)
    torch.manual_seed(5)
    g = R.CPUGenerator(5)
    for n in (3, 16, 40):
        _assert_same(R.uniform(g, (n,), bf).astype(np.float32),
              _np(torch.rand(n, dtype=torch.bfloat16).float()))
        _assert_same(R.normal(g, (n,), bf).astype(np.float32),
              _np(torch.randn(n, dtype=torch.bfloat16).float()))


# ----------------------------------------------------------------------------- golden files

def _load_golden_module():
    spec = importlib.util.spec_from_file_location(
        'make_golden_rng', os.path.join(GOLDEN_DIR, 'make_golden_rng.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ember_call(g, kind, a):
    dt = np.dtype(a.get('dtype', 'float32'))
    if kind == 'uniform':
        return R.uniform(g, a['shape'], dt, a.get('low', 0.0), a.get('high', 1.0))
    if kind == 'normal':
        return R.normal(g, a['shape'], dt, a.get('mean', 0.0), a.get('std', 1.0))
    if kind == 'randint':
        return R.randint(g, a['low'], a['high'], a['shape'])
    if kind == 'randperm':
        return R.randperm(g, a['n'])
    if kind == 'bernoulli':
        return R.bernoulli(g, a['p'], a['shape'], np.float32)
    if kind == 'exponential':
        return R.exponential(g, a['shape'], np.float32, a['lambd'])
    raise ValueError(kind)


def test_golden_streams():
    mod = _load_golden_module()
    data = np.load(mod.PATH)
    for seed in mod.SEEDS:
        g = R.CPUGenerator(seed)
        for name, kind, args in mod.stream_calls():
            _assert_same(_ember_call(g, kind, args), data[f'{seed}/{name}'])
        _assert_same(g.get_state(), data[f'{seed}/state'])


# ----------------------------------------------------------------------------- public API

def _api():
    from ember._ops import random as E
    from ember._tensor import _wrap, _view_of
    return E, _wrap, _view_of


@pytest.mark.parametrize('seed', SEEDS)
def test_public_api_matches_torch(seed):
    torch = pytest.importorskip('torch')
    E, _wrap, _view_of = _api()
    E.manual_seed(seed)
    torch.manual_seed(seed)
    assert E.initial_seed() == torch.initial_seed()
    _assert_same(E.get_rng_state()._data, _np(torch.get_rng_state()))
    for n in (1, 5, 16, 17, 100):
        _assert_same(E.rand(n)._data, _np(torch.rand(n)))
        _assert_same(E.randn(n)._data, _np(torch.randn(n)))
    _assert_same(E.rand(2, 3)._data, _np(torch.rand(2, 3)))
    _assert_same(E.rand((4, 5), dtype=E._dtype.float64)._data,
          _np(torch.rand((4, 5), dtype=torch.float64)))
    _assert_same(E.randn([3, 7])._data, _np(torch.randn([3, 7])))
    _assert_same(E.randn(torch.Size([2, 9]))._data, _np(torch.randn(torch.Size([2, 9]))))
    _assert_same(E.randint(10, (3,))._data, _np(torch.randint(10, (3,))))
    _assert_same(E.randint(-5, 5, (2, 4))._data, _np(torch.randint(-5, 5, (2, 4))))
    _assert_same(E.randint(0, 2 ** 35, size=(6,))._data, _np(torch.randint(0, 2 ** 35, size=(6,))))
    _assert_same(E.randperm(50)._data, _np(torch.randperm(50)))
    _assert_same(E.normal(2.0, 3.0, (20,))._data, _np(torch.normal(2.0, 3.0, (20,))))
    mean = E.rand(3, 4)
    tmean = torch.rand(3, 4)
    _assert_same(mean._data, _np(tmean))
    _assert_same(E.normal(mean, 0.5)._data, _np(torch.normal(tmean, 0.5)))
    _assert_same(E.normal(0.5, mean)._data, _np(torch.normal(0.5, tmean)))
    _assert_same(E.normal(mean, mean)._data, _np(torch.normal(tmean, tmean)))
    _assert_same(E.bernoulli(mean)._data, _np(torch.bernoulli(tmean)))
    _assert_same(E.bernoulli(mean, 0.25)._data, _np(torch.bernoulli(tmean, 0.25)))
    _assert_same(E.multinomial(mean, 2)._data, _np(torch.multinomial(tmean, 2)))
    _assert_same(E.multinomial(mean, 9, True)._data, _np(torch.multinomial(tmean, 9, True)))
    _assert_same(E.rand_like(mean)._data, _np(torch.rand_like(tmean)))
    _assert_same(E.randn_like(mean)._data, _np(torch.randn_like(tmean)))
    _assert_same(E.randint_like(mean, 7)._data, _np(torch.randint_like(tmean, 7)))
    _assert_same(E.randint_like(mean, 3, 7)._data, _np(torch.randint_like(tmean, 3, 7)))
    # in-place samplers, on contiguous tensors and on a transposed view
    for shape in ((40,), (3, 5)):
        t = torch.empty(shape)
        e = _wrap(np.empty(shape, np.float32))
        for name, args in (('uniform_', (-2, 3)), ('normal_', (1.0, 0.1)),
                           ('bernoulli_', (0.6,)), ('exponential_', (2.0,)),
                           ('geometric_', (0.2,)), ('cauchy_', ()), ('log_normal_', ()),
                           ('random_', ()), ('random_', (7,)), ('random_', (-3, 9))):
            getattr(e, name)(*args)
            getattr(t, name)(*args)
            _assert_same(e._data, _np(t))
    base_t = torch.empty(6, 5)
    base_e = _wrap(np.empty((6, 5), np.float32))
    view_e = _view_of(base_e, base_e._data.T)
    for name, args in (('uniform_', ()), ('normal_', ()), ('normal_', (0.0, 2.0))):
        getattr(view_e, name)(*args)
        getattr(base_t.t(), name)(*args)
        _assert_same(base_e._data, _np(base_t))
    _assert_same(E.get_rng_state()._data, _np(torch.get_rng_state()))


def test_generator_objects_match_torch():
    torch = pytest.importorskip('torch')
    E, _wrap, _ = _api()
    g, tg = E.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert str(g.device) == str(tg.device) == 'cpu'
    _assert_same(g.get_state()._data, _np(tg.get_state()))
    assert g.manual_seed(2 ** 40 + 3) is g
    tg.manual_seed(2 ** 40 + 3)
    _assert_same(E.rand(7, generator=g)._data, _np(torch.rand(7, generator=tg)))
    _assert_same(E.randn(3, generator=g)._data, _np(torch.randn(3, generator=tg)))
    st, tst = g.get_state(), tg.get_state()
    _assert_same(st._data, _np(tst))
    a = E.randn(5, generator=g)._data
    g.set_state(st)
    _assert_same(E.randn(5, generator=g)._data, a)
    # a torch state restores into ember, cached normal sample included
    g2 = E.Generator().set_state(_wrap(_np(tst).copy()))
    _assert_same(E.randn(5, generator=g2)._data, a)
    tg.set_state(tst)
    _assert_same(_np(torch.randn(5, generator=tg)), a)
    _assert_same(E.randperm(20, generator=g2)._data, _np(torch.randperm(20, generator=tg)))
    # the default generator is left alone by generator= calls
    E.manual_seed(1)
    torch.manual_seed(1)
    E.rand(3, generator=g)
    _assert_same(E.rand(3)._data, _np(torch.rand(3)))
    s = E.seed()
    assert E.initial_seed() == s and 0 <= s < 2 ** 64


def test_errors_match_torch():
    torch = pytest.importorskip('torch')
    E, _wrap, _ = _api()
    cases = [
        (lambda m: m.empty(3).uniform_(1, 0), lambda: E.rand(3).uniform_(1, 0)),
        (lambda m: m.empty(3).normal_(0, -1), lambda: E.rand(3).normal_(0, -1)),
        (lambda m: m.randint(5, 2, (3,)), lambda: E.randint(5, 2, (3,))),
        (lambda m: m.multinomial(m.rand(3), 4), lambda: E.multinomial(E.rand(3), 4)),
        (lambda m: m.empty(3).bernoulli_(1.5), lambda: E.rand(3).bernoulli_(1.5)),
        (lambda m: m.empty(3).exponential_(-1), lambda: E.rand(3).exponential_(-1)),
        (lambda m: m.rand(3, dtype=m.int64), lambda: E.rand(3, dtype=E._dtype.int64)),
    ]
    for tf, ef in cases:
        with pytest.raises(Exception) as te:
            tf(torch)
        with pytest.raises(Exception) as ee:
            ef()
        assert type(ee.value) is type(te.value)
        assert str(ee.value) == str(te.value)


def test_dropout_prefetch_keeps_the_stream(kernel_path):
    # large bernoulli draws are drawn ahead on a worker thread; whatever runs in between
    # (other draws, reseeding, state restores, other sizes), the stream must stay torch's
    torch = pytest.importorskip('torch')
    import ember
    F = torch.nn.functional
    threads = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        torch.manual_seed(5)
        ember.manual_seed(5)
        big, mid = (4, 128, 256), (2, 128, 256)
        x = {s: torch.randn(*s) for s in (big, mid)}
        e = {s: ember.tensor(_np(x[s])) for s in (big, mid)}
        ember.randn(*big), ember.randn(*mid)            # the same draws as the two randn
        plan = [big, mid, mid] * 3 + ['rand', big, mid, 'seed', mid, mid, 'state', big, big,
                                      'randn', mid, big, mid]
        saved = None
        for item in plan:
            if item == 'rand':
                _assert_same(_np(ember.rand(70000)), _np(torch.rand(70000)))
            elif item == 'randn':
                _assert_same(_np(ember.randn(3)), _np(torch.randn(3)))
            elif item == 'seed':
                torch.manual_seed(9)
                ember.manual_seed(9)
            elif item == 'state':
                if saved is None:
                    saved = (torch.get_rng_state(), ember.get_rng_state())
                torch.set_rng_state(saved[0])
                ember.set_rng_state(saved[1])
            else:
                _assert_same(_np(ember.nn.functional.dropout(e[item], 0.1)),
                             _np(F.dropout(x[item], 0.1)))
        _assert_same(_np(ember.get_rng_state()), _np(torch.get_rng_state()))
        if kernel_path == 'compiled':   # it draws on the caller's thread: nothing ahead
            assert R.default_generator._prefetch is None
    finally:
        ember.set_num_threads(threads)


def test_dropout_prefetch_runs_at_the_lowest_priority_and_is_waited_for_a_while(monkeypatch):
    """The prefetching thread has nice 19 on Linux, and a draw whose prefetch does not finish
    within about a draw's time is made by the caller: the stream stays torch's either way.
    (The NumPy draws: the compiled ones draw nothing ahead.)"""
    torch = pytest.importorskip('torch')
    import ember
    monkeypatch.setitem(R._kernels._STATE, 'on', False)
    threads = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        x = torch.randn(2, 128, 256)
        e = ember.tensor(_np(x))
        torch.manual_seed(3)
        ember.manual_seed(3)
        for _ in range(2):          # the second draw starts a prefetch of the third
            _assert_same(_np(ember.nn.functional.dropout(e, 0.2)),
                         _np(torch.nn.functional.dropout(x, 0.2)))
        pf = R.default_generator._prefetch
        assert pf is not None
        pf.future.result()
        if sys.platform.startswith('linux'):
            tid = R._WORKER[1].submit(threading.get_native_id).result()
            with open(f'/proc/self/task/{tid}/stat') as f:
                assert int(f.read().rsplit(')', 1)[1].split()[16]) == 19
        # a prefetch that does not finish in time is dropped: the caller draws the same values
        def late(self, timeout=None):
            assert timeout is not None and timeout > 0
            raise concurrent.futures.TimeoutError
        monkeypatch.setattr(type(pf.future), 'result', late)
        for _ in range(3):
            _assert_same(_np(ember.nn.functional.dropout(e, 0.2)),
                         _np(torch.nn.functional.dropout(x, 0.2)))
        _assert_same(_np(ember.get_rng_state()), _np(torch.get_rng_state()))
    finally:
        ember.set_num_threads(threads)
