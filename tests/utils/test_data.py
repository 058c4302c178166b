"""ember.utils.data against torch.utils.data: datasets, samplers, random_split, collation and
DataLoader batches (values, dtypes, container types and order for the same seed), with and
without worker processes."""
import collections
import random
import signal
import threading
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402
import ember.utils.data as edata  # noqa: E402

import _data_helpers as helpers  # noqa: E402

LIBS = {"ember": ember, "torch": torch}
Point = collections.namedtuple("Point", ["x", "y"])


# ============================================================================ helpers

def describe(x):
    """A comparable picture of a batch: container types and, for Tensors, dtype, shape and
    values (Tensors of either library give the same picture)."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return ("Tensor", repr(x.dtype), tuple(x.shape), x.detach().numpy().tolist())
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.tolist())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, tuple(describe(v) for v in x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [describe(v) for v in x])
    if isinstance(x, dict):
        return (type(x).__name__, {k: describe(v) for k, v in x.items()})
    return (type(x).__name__, x)


def both(fn):
    """fn(lib) for torch and for ember: (torch result, ember result)."""
    return fn(torch), fn(ember)


def assert_same(fn):
    t, e = both(fn)
    assert describe(e) == describe(t)
    return e


def outcome(fn, lib):
    try:
        return ("ok", describe(fn(lib)))
    except Exception as exc:                # the error itself is what is compared
        return (type(exc).__name__, str(exc).replace("ember", "torch"))


def raises_same(fn):
    t, e = outcome(fn, torch), outcome(fn, ember)
    assert t[0] != "ok", t
    assert e == t


def compare_seeded(seed, fn):
    """Seed each library's default generator, run fn(lib), then report a draw from the
    default generator too: checks the amount of randomness consumed, not only the result."""
    def run(lib):
        lib.manual_seed(seed)
        out = fn(lib)
        return out, lib.randint(0, 1 << 30, (2,))
    return assert_same(run)


@pytest.fixture
def deadline():
    """Fail (instead of hanging) if a worker test takes more than 60 s."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def boom(signum, frame):
        raise TimeoutError("DataLoader test hung")
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


SEEDS = [0, 1, 7, 1234, 2 ** 40 + 3]


# ============================================================================ datasets

def test_tensor_dataset():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)

    def run(lib):
        ds = lib.utils.data.TensorDataset(lib.as_tensor(x), lib.as_tensor(y))
        return len(ds), ds[2], ds[-1], ds[1:3]
    assert_same(run)
    raises_same(lambda lib: lib.utils.data.TensorDataset(lib.zeros(3), lib.zeros(4)))


def test_concat_dataset():
    def run(lib):
        D = lib.utils.data
        a = D.TensorDataset(lib.arange(3))
        b = D.TensorDataset(lib.arange(10, 15))
        c = a + b
        return (type(c).__name__, len(c), c.cumulative_sizes, [c[i] for i in range(len(c))],
                c[-1], c[-8], D.ConcatDataset([a, b, a]).cumulative_sizes)
    assert_same(run)
    raises_same(lambda lib: lib.utils.data.ConcatDataset([]))
    raises_same(lambda lib: lib.utils.data.ConcatDataset([range(3)])[-4])
    raises_same(lambda lib: lib.utils.data.ConcatDataset([range(3)])[3])
    raises_same(lambda lib: lib.utils.data.ConcatDataset(
        [helpers.RangeIterable_ember(0, 2) if lib is ember else
         helpers.RangeIterable_torch(0, 2)]))


def test_subset_and_stack_dataset():
    def run(lib):
        D = lib.utils.data
        base = D.TensorDataset(lib.arange(10) * 2)
        sub = D.Subset(base, [4, 1, 7])
        st = D.StackDataset(base, D.TensorDataset(lib.arange(10) + 100))
        sd = D.StackDataset(a=base, b=range(10))
        return (len(sub), sub[0], sub[2], sub.__getitems__([0, 2]), len(st), st[3],
                st.__getitems__([1, 2]), sd[4], sd.__getitems__([5]))
    assert_same(run)
    raises_same(lambda lib: lib.utils.data.StackDataset())
    raises_same(lambda lib: lib.utils.data.StackDataset(range(3), range(4)))
    raises_same(lambda lib: lib.utils.data.StackDataset(range(3), b=range(3)))
    raises_same(lambda lib: lib.utils.data.StackDataset(a=range(3), b=range(2)))

    def bad_subclass(lib):
        cls = type("MySubset", (lib.utils.data.Subset,), {"__getitem__": lambda s, i: i})
        return cls(range(4), [1, 2])
    raises_same(bad_subclass)


def test_chain_and_iterable_dataset():
    def run(lib):
        R = helpers.RangeIterable_ember if lib is ember else helpers.RangeIterable_torch
        ch = R(0, 3) + R(10, 12)
        return type(ch).__name__, list(ch), len(ch)
    assert_same(run)

    def bad(lib):
        return list(lib.utils.data.ChainDataset([range(3)]))
    raises_same(bad)


def test_dataset_base_class():
    def run(lib):
        D = lib.utils.data

        class Squares(D.Dataset[int]):          # generic subscript as in typed torch code
            def __getitem__(self, i):
                return i * i

            def __len__(self):
                return 4
        return (Squares()[3], isinstance(Squares(), D.Dataset),
                issubclass(D.IterableDataset, D.Dataset))
    assert_same(run)
    raises_same(lambda lib: lib.utils.data.Dataset()[0])
    raises_same(lambda lib: len(lib.utils.data.Dataset()))


# ============================================================================ samplers

@pytest.mark.parametrize("seed", SEEDS)
def test_random_sampler_default_generator(seed):
    def run(lib):
        s = lib.utils.data.RandomSampler(range(13))
        return [list(s), list(s), len(s)]           # two epochs: two seed draws
    compare_seeded(seed, run)


@pytest.mark.parametrize("kw", [dict(replacement=True), dict(replacement=True, num_samples=70),
                                dict(replacement=True, num_samples=5),
                                dict(num_samples=30), dict(num_samples=4)])
@pytest.mark.parametrize("seed", [0, 3])
def test_random_sampler_options(kw, seed):
    def run(lib):
        s = lib.utils.data.RandomSampler(range(9), **kw)
        g = lib.Generator().manual_seed(seed + 11)
        sg = lib.utils.data.RandomSampler(range(9), generator=g, **kw)
        return list(s), len(s), list(sg), list(sg)
    compare_seeded(seed, run)


def test_random_sampler_errors():
    raises_same(lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1))
    raises_same(lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0))
    raises_same(lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=2.0))
    raises_same(lambda lib: lib.utils.data.RandomSampler([]))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_subset_random_sampler(seed):
    def run(lib):
        s = lib.utils.data.SubsetRandomSampler([5, 9, 2, 11, 4, 3])
        g = lib.Generator().manual_seed(seed)
        sg = lib.utils.data.SubsetRandomSampler(range(20, 40), generator=g)
        return list(s), list(s), list(sg), len(s)
    compare_seeded(seed, run)


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_weighted_random_sampler(replacement, seed):
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6, 0.0, 2.5]

    def run(lib):
        s = lib.utils.data.WeightedRandomSampler(weights, 6, replacement=replacement)
        g = lib.Generator().manual_seed(seed + 5)
        sg = lib.utils.data.WeightedRandomSampler(lib.tensor(weights), 40 if replacement
                                                  else 7, replacement, generator=g)
        return list(s), list(sg), len(s), s.weights
    compare_seeded(seed, run)


def test_weighted_random_sampler_errors():
    def make(*args, **kw):
        return lambda lib: lib.utils.data.WeightedRandomSampler(*args, **kw)
    raises_same(make([1.0, 2.0], 0))
    raises_same(make([1.0, 2.0], True))
    raises_same(make([1.0, 2.0], 2, replacement=0))
    raises_same(make([[1.0, 2.0]], 2))


def test_sequential_and_batch_sampler():
    def run(lib):
        D = lib.utils.data
        seq = D.SequentialSampler(range(10))
        out = [list(seq), len(seq)]
        for bs in (1, 3, 5, 11):
            for dl in (False, True):
                b = D.BatchSampler(seq, bs, dl)
                out += [list(b), len(b)]
        out.append(list(D.BatchSampler([7, 8, 9, 10], 3, False)))
        return out
    assert_same(run)
    for bad in (0, -1, 2.0, True):
        raises_same(lambda lib: lib.utils.data.BatchSampler(range(4), bad, False))
    raises_same(lambda lib: lib.utils.data.BatchSampler(range(4), 2, 1))
    raises_same(lambda lib: iter(lib.utils.data.Sampler()).__next__())


@pytest.mark.parametrize("n,world", [(10, 3), (10, 2), (3, 5), (1, 4), (12, 4)])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
def test_distributed_sampler(n, world, shuffle, drop_last):
    def run(lib):
        out = []
        for rank in range(world):
            s = lib.utils.data.DistributedSampler(range(n), world, rank, shuffle=shuffle,
                                                  seed=17, drop_last=drop_last)
            out.append((list(s), len(s), s.total_size))
            s.set_epoch(3)
            out.append(list(s))
        return out
    compare_seeded(0, run)


def test_distributed_sampler_errors():
    raises_same(lambda lib: lib.utils.data.DistributedSampler(range(4), 2, 2))
    raises_same(lambda lib: lib.utils.data.DistributedSampler(range(4), 2, -1))
    raises_same(lambda lib: lib.utils.data.DistributedSampler(range(4)))


# ============================================================================ random_split

@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.3, 0.3, 0.4], [0.5, 0.5],
                                     [1 / 3] * 3, [10], [0.25] * 4])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_random_split(lengths, seed):
    def run(lib):
        parts = lib.utils.data.random_split(range(10), lengths)
        g = lib.Generator().manual_seed(seed)
        parts_g = lib.utils.data.random_split(range(10), lengths, generator=g)
        return ([(type(p).__name__, list(p.indices), [p[i] for i in range(len(p))])
                 for p in parts], [list(p.indices) for p in parts_g])
    compare_seeded(seed, run)


def test_random_split_errors_and_warning():
    raises_same(lambda lib: lib.utils.data.random_split(range(10), [3, 6]))
    raises_same(lambda lib: lib.utils.data.random_split(range(10), [1.5, -0.5]))
    messages = []
    for lib in (torch, ember):
        with pytest.warns(UserWarning) as rec:
            lib.utils.data.random_split(range(2), [0.9, 0.05, 0.05])
        messages.append([str(w.message) for w in rec])
    assert messages[1] == messages[0]
    assert "Length of split at index 1 is 0" in messages[0][0]


# ============================================================================ collation

def collate_cases():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    OD = collections.OrderedDict
    return {
        "ints": lambda lib: [1, 2, 3],
        "floats": lambda lib: [1.5, 2.0, 0.1],
        "bools": lambda lib: [True, False, True],
        "mixed numbers": lambda lib: [1, 2.5],
        "strings": lambda lib: ["a", "bc"],
        "bytes": lambda lib: [b"a", b"b"],
        "tensors": lambda lib: [lib.ones(2, 3), lib.zeros(2, 3)],
        "int tensors": lambda lib: [lib.arange(3), lib.arange(3) * 2],
        "scalar tensors": lambda lib: [lib.tensor(1.5), lib.tensor(2.5)],
        "numpy": lambda lib: [arr, arr + 1],
        "numpy int": lambda lib: [np.arange(3), np.arange(3) + 5],
        "numpy scalars f32": lambda lib: [np.float32(1.5), np.float32(2)],
        "numpy scalars i32": lambda lib: [np.int32(1), np.int32(2)],
        "numpy scalars f64": lambda lib: [np.float64(1.5), np.float64(2)],
        "numpy bool": lambda lib: [np.bool_(True), np.bool_(False)],
        "0-d arrays": lambda lib: [np.array(1.0), np.array(2.0)],
        "tuples": lambda lib: [(1, 2.0, "x"), (3, 4.0, "y")],
        "lists": lambda lib: [[1, 2], [3, 4]],
        "dicts": lambda lib: [{"a": 1, "b": lib.ones(2)}, {"a": 2, "b": lib.zeros(2)}],
        "ordered dicts": lambda lib: [OD(b=1, a=2.0), OD(b=3, a=4.0)],
        "named tuples": lambda lib: [Point(1, lib.ones(2)), Point(2, lib.zeros(2))],
        "nested": lambda lib: [{"p": Point([1, 2], (np.float32(1),)), "s": "u"},
                               {"p": Point([3, 4], (np.float32(2),)), "s": "v"}],
        "tensor dataset rows": lambda lib: [(lib.ones(2), lib.tensor(3)),
                                            (lib.zeros(2), lib.tensor(4))],
    }


@pytest.mark.parametrize("case", list(collate_cases()))
def test_default_collate(case):
    make = collate_cases()[case]
    assert_same(lambda lib: lib.utils.data.default_collate(make(lib)))


@pytest.mark.parametrize("case", list(collate_cases()))
def test_default_convert(case):
    make = collate_cases()[case]
    assert_same(lambda lib: lib.utils.data.default_convert(make(lib)))


def test_default_convert_more():
    def run(lib):
        conv = lib.utils.data.default_convert
        return (conv(np.arange(3)), conv(np.float32(2)), conv(np.array(["a"])), conv(3),
                conv((np.arange(2), "x")), conv(range(3)), conv({"a": np.ones(2)}),
                conv(Point(np.zeros(1), 1)), conv(np.str_("q")))
    assert_same(run)


def test_collate_errors():
    raises_same(lambda lib: lib.utils.data.default_collate([lib.ones(2), lib.ones(3)]))
    raises_same(lambda lib: lib.utils.data.default_collate([np.ones(2), np.ones(3)]))
    raises_same(lambda lib: lib.utils.data.default_collate([[1, 2], [3]]))
    raises_same(lambda lib: lib.utils.data.default_collate([None, None]))
    raises_same(lambda lib: lib.utils.data.default_collate([object()]))
    raises_same(lambda lib: lib.utils.data.default_collate([np.array(["a"]), np.array(["b"])]))


def test_collate_fn_map_extension():
    from ember.utils.data._utils.collate import collate, default_collate_fn_map
    from torch.utils.data._utils.collate import collate as tcollate

    def run(lib):
        coll = collate if lib is ember else tcollate
        fn_map = {lib.Tensor: lambda b, collate_fn_map: lib.cat(b)}
        return coll([(lib.ones(2), lib.zeros(1)), (lib.ones(2), lib.zeros(1))],
                    collate_fn_map=fn_map)
    assert_same(run)
    assert default_collate_fn_map[ember.Tensor] is not None


# ============================================================================ DataLoader

def _dataset(lib, n=11):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return lib.utils.data.TensorDataset(lib.as_tensor(x), lib.as_tensor(np.arange(n)))


LOADER_CASES = {
    "default": dict(),
    "batch 4": dict(batch_size=4),
    "shuffle": dict(batch_size=3, shuffle=True),
    "shuffle drop_last": dict(batch_size=3, shuffle=True, drop_last=True),
    "no batching": dict(batch_size=None),
    "no batching shuffle": dict(batch_size=None, shuffle=True),
    "collate_fn": dict(batch_size=4, collate_fn=lambda b: [len(b), b[0][1]]),
}


@pytest.mark.parametrize("case", list(LOADER_CASES))
@pytest.mark.parametrize("seed", [0, 5, 2 ** 33 + 1])
def test_dataloader_batches(case, seed):
    kw = LOADER_CASES[case]

    def run(lib):
        dl = lib.utils.data.DataLoader(_dataset(lib), **kw)
        return len(dl), list(dl), list(dl)     # two epochs: two shuffles
    compare_seeded(seed, run)


@pytest.mark.parametrize("seed", [0, 9])
def test_dataloader_samplers_and_generator(seed):
    def run(lib):
        D = lib.utils.data
        ds = _dataset(lib, 9)
        g = lib.Generator().manual_seed(seed + 1)
        out = [list(D.DataLoader(ds, batch_size=2, shuffle=True, generator=g))]
        out.append(list(D.DataLoader(ds, batch_size=2, sampler=D.SubsetRandomSampler(
            [1, 3, 5, 7]))))
        out.append(list(D.DataLoader(ds, batch_sampler=D.BatchSampler(
            D.RandomSampler(ds), 4, False))))
        out.append(list(D.DataLoader(ds, batch_size=None, sampler=[8, 0, 4])))
        out.append(list(D.DataLoader(ds, batch_sampler=[[0, 1], [5, 2, 3]])))
        out.append(list(D.DataLoader(ds, sampler=D.WeightedRandomSampler(
            [1.0] * 9, 5), batch_size=2)))
        return out
    compare_seeded(seed, run)


def test_dataloader_mixed_samples():
    def run(lib):
        ds = [{"x": np.full(2, i, dtype=np.float64), "label": i % 3, "name": f"n{i}",
               "pt": Point(float(i), [i, -i])} for i in range(7)]
        return list(lib.utils.data.DataLoader(ds, batch_size=3))
    assert_same(run)


def test_dataloader_len():
    def run(lib):
        D = lib.utils.data
        ds = _dataset(lib, 10)
        R = helpers.RangeIterable_ember if lib is ember else helpers.RangeIterable_torch
        return [len(D.DataLoader(ds)), len(D.DataLoader(ds, batch_size=3)),
                len(D.DataLoader(ds, batch_size=3, drop_last=True)),
                len(D.DataLoader(ds, batch_size=None)),
                len(D.DataLoader(ds, batch_sampler=[[0], [1, 2]])),
                len(D.DataLoader(R(0, 10), batch_size=3)),
                len(D.DataLoader(R(0, 10), batch_size=3, drop_last=True)),
                len(D.DataLoader(R(0, 10), batch_size=None))]
    assert_same(run)


def test_dataloader_iterable_dataset():
    def run(lib):
        R = helpers.RangeIterable_ember if lib is ember else helpers.RangeIterable_torch
        D = lib.utils.data
        return (list(D.DataLoader(R(3, 10), batch_size=3)),
                list(D.DataLoader(R(3, 10), batch_size=3, drop_last=True)),
                list(D.DataLoader(R(3, 6), batch_size=None)))
    assert_same(run)


def test_dataloader_iterable_len_warning():
    for lib in (torch, ember):
        R = helpers.RangeIterable_ember if lib is ember else helpers.RangeIterable_torch
        ds = R(0, 5)
        ds.__class__ = type("Liar", (type(ds),), {"__len__": lambda self: 2})
        dl = lib.utils.data.DataLoader(ds, batch_size=None)
        assert len(dl) == 2
        with pytest.warns(UserWarning, match="was reported to be 2"):
            list(dl)


def test_dataloader_option_errors():
    def loader(**kw):
        return lambda lib: lib.utils.data.DataLoader(_dataset(lib), **kw)
    raises_same(loader(num_workers=-1))
    raises_same(loader(timeout=-1))
    raises_same(loader(prefetch_factor=2))
    raises_same(loader(num_workers=1, prefetch_factor=-1))
    raises_same(loader(persistent_workers=True))
    raises_same(loader(sampler=[0, 1], shuffle=True))
    raises_same(loader(batch_sampler=[[0]], batch_size=2))
    raises_same(loader(batch_sampler=[[0]], drop_last=True))
    raises_same(loader(batch_size=None, drop_last=True))
    raises_same(loader(multiprocessing_context="fork"))
    raises_same(loader(num_workers=1, multiprocessing_context="nope"))
    raises_same(loader(num_workers=1, multiprocessing_context=3))
    raises_same(lambda lib: iter(lib.utils.data.DataLoader(_dataset(lib), timeout=1)))

    def iterable(**kw):
        def run(lib):
            R = helpers.RangeIterable_ember if lib is ember else helpers.RangeIterable_torch
            return lib.utils.data.DataLoader(R(0, 3), **kw)
        return run
    raises_same(iterable(shuffle=True))
    raises_same(iterable(sampler=[0]))
    raises_same(iterable(batch_sampler=[[0]]))

    def set_attr(lib):
        dl = lib.utils.data.DataLoader(_dataset(lib))
        dl.batch_size = 3
    raises_same(set_attr)


def test_dataloader_pin_memory_warns_like_torch():
    for lib in (torch, ember):
        dl = lib.utils.data.DataLoader(_dataset(lib), batch_size=4, pin_memory=True)
        with pytest.warns(UserWarning, match="'pin_memory' argument is set as true"):
            batches = list(dl)
        assert len(batches) == 3


# ============================================================================ workers

def _worker_loader_kw(**kw):
    # the timeout guards against hangs; spawned workers start slowly on a busy machine
    base = dict(num_workers=2, timeout=300)
    base.update(kw)
    return base


@pytest.mark.parametrize("kw", [dict(batch_size=3, shuffle=True), dict(batch_size=None),
                                dict(batch_size=2, shuffle=True, drop_last=True,
                                     prefetch_factor=1)])
def test_workers_same_batches_as_torch_and_as_no_workers(kw, deadline):
    def run(lib):
        ds = _dataset(lib, 13)
        dl = lib.utils.data.DataLoader(ds, **_worker_loader_kw(**kw))
        return list(dl), list(dl)
    e = compare_seeded(4, run)
    # and the same as loading in this process
    ember.manual_seed(4)
    kw0 = {k: v for k, v in kw.items() if k != "prefetch_factor"}
    dl0 = edata.DataLoader(_dataset(ember, 13), **kw0)
    assert describe((list(dl0), list(dl0))) == describe(e[0])


def test_workers_seeding_matches_torch(deadline):
    # Each worker seeds ember (as torch), NumPy and random from the loader's base seed.
    def run(lib):
        dl = lib.utils.data.DataLoader(helpers.RandomDataset(lib.__name__, 10), batch_size=2,
                                       **_worker_loader_kw(shuffle=True))
        return list(dl)
    compare_seeded(12, run)
    g_runs = both(lambda lib: list(lib.utils.data.DataLoader(
        helpers.RandomDataset(lib.__name__, 6), batch_size=3,
        generator=lib.Generator().manual_seed(99), **_worker_loader_kw())))
    assert describe(g_runs[1]) == describe(g_runs[0])


def test_workers_mixed_types_and_errors(deadline):
    def run(lib):
        return list(lib.utils.data.DataLoader(helpers.SquareDataset(9), batch_size=4,
                                              **_worker_loader_kw()))
    assert_same(run)
    for lib in (torch, ember):
        dl = lib.utils.data.DataLoader(helpers.FailingDataset(9), batch_size=2,
                                       **_worker_loader_kw())
        it = iter(dl)
        assert len(describe([next(it), next(it)])) == 2      # batches before the bad one
        with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker "
                                             "process 0.") as exc:
            next(it)
        assert "bad sample 5" in str(exc.value)
        assert "Original Traceback" in str(exc.value)
        # the traceback keeps `it` alive in a cycle: stop its workers now, not at exit
        it._shutdown_workers()


@pytest.mark.parametrize("kw", [dict(dataset=helpers.KeyErrorDataset(4)),
                                dict(dataset=list(range(4)),
                                     worker_init_fn=helpers.failing_worker_init)])
def test_workers_reraise_like_torch(kw, deadline):
    def run(lib):
        it = iter(lib.utils.data.DataLoader(**_worker_loader_kw(**kw)))
        try:
            next(it)
        except Exception as exc:     # compare type, first and last line of the message
            lines = str(exc).splitlines()
            return type(exc).__name__, lines[0], lines[-1]
        finally:
            it._shutdown_workers()
    assert_same(run)


def test_workers_iterable_dataset(deadline):
    def run(lib):
        R = getattr(helpers, f"RangeIterable_{lib.__name__}")
        D = lib.utils.data
        split = list(D.DataLoader(R(3, 12), batch_size=2, **_worker_loader_kw()))
        # without splitting in __iter__, every worker yields its own copy (offset here)
        init = list(D.DataLoader(R(0, 3), batch_size=2, **_worker_loader_kw(
            worker_init_fn=helpers.worker_init_offset)))
        single = list(D.DataLoader(R(3, 7), batch_size=None, **_worker_loader_kw()))
        return split, init, single
    assert_same(run)


def test_workers_get_worker_info(deadline):
    assert edata.get_worker_info() is None

    def run(lib):
        dl = lib.utils.data.DataLoader(helpers.RandomDataset(lib.__name__, 4), batch_size=1,
                                       **_worker_loader_kw(generator=lib.Generator()
                                                           .manual_seed(5)))
        return [(b["worker"].item(), b["seed"].item()) for b in dl]
    t, e = both(run)
    assert e == t
    assert sorted({w for w, _ in e}) == [0, 1]


def test_workers_persistent(deadline):
    def run(lib):
        dl = lib.utils.data.DataLoader(helpers.RandomDataset(lib.__name__, 6), batch_size=2,
                                       **_worker_loader_kw(shuffle=True,
                                                           persistent_workers=True))
        out = [list(dl), list(dl), list(dl)]
        assert dl._iterator is not None
        dl._iterator._shutdown_workers()
        return out
    compare_seeded(3, run)

    def iterable(lib):
        R = getattr(helpers, f"RangeIterable_{lib.__name__}")
        dl = lib.utils.data.DataLoader(R(0, 7), batch_size=2, **_worker_loader_kw(
            persistent_workers=True))
        out = [list(dl), list(dl)]
        dl._iterator._shutdown_workers()
        return out
    assert_same(iterable)


def test_workers_partial_epoch_then_new_epoch(deadline):
    def run(lib):
        dl = lib.utils.data.DataLoader(_dataset(lib, 20), batch_size=2,
                                       **_worker_loader_kw(shuffle=True))
        it = iter(dl)
        first = [next(it), next(it)]
        del it
        return first, list(dl)
    compare_seeded(8, run)


def test_workers_out_of_order_same_content(deadline):
    dl = edata.DataLoader(_dataset(ember, 12), batch_size=2, in_order=False,
                          **_worker_loader_kw())
    got = sorted(b[1].tolist() for b in dl)
    assert got == [[i, i + 1] for i in range(0, 12, 2)]


def test_workers_timeout(deadline):
    for lib in (torch, ember):
        it = iter(lib.utils.data.DataLoader(helpers.SlowDataset(2), num_workers=1,
                                            timeout=0.3))
        with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
            next(it)
        it._shutdown_workers()


def test_workers_spawn(deadline):
    def run(lib):
        dl = lib.utils.data.DataLoader(helpers.RandomDataset(lib.__name__, 4), batch_size=2,
                                       multiprocessing_context="spawn",
                                       **_worker_loader_kw(shuffle=True))
        return list(dl)
    # ember only: spawning torch workers costs seconds; the fork tests compare with torch
    # and seeding does not depend on the start method.
    ember.manual_seed(21)
    spawned = run(ember)
    ember.manual_seed(21)
    forked = list(edata.DataLoader(helpers.RandomDataset("ember", 4), batch_size=2,
                                   multiprocessing_context="fork",
                                   **_worker_loader_kw(shuffle=True)))
    assert describe(spawned) == describe(forked)


def test_worker_number_warning():
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            lib.utils.data.DataLoader(_dataset(lib), num_workers=1000)
        assert any("This DataLoader will create 1000 worker processes" in str(w.message)
                   for w in rec)


def test_generate_state_matches_torch():
    from ember.utils.data._utils.worker import _generate_state
    from torch.utils.data._utils.worker import _generate_state as tgen
    rng = random.Random(0)
    for _ in range(20):
        base, wid = rng.getrandbits(63), rng.randrange(8)
        assert _generate_state(base, wid) == tgen(base, wid)
