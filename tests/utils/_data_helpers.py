"""Datasets and callables for the DataLoader worker tests, shared by ember and torch.

They live in a module that imports neither torch nor the test module, so that 'spawn'
workers can unpickle them quickly. The library is named by a string ('ember' or 'torch') and
imported where needed, because modules cannot be pickled.
"""
import importlib
import random

import numpy as np


def lib(name):
    return importlib.import_module(name)


class RandomDataset:
    """Each sample draws from the library's, NumPy's and Python's global generators, and
    records which worker made it: shows that workers are seeded as torch seeds them."""

    def __init__(self, libname, n=10):
        self.libname = libname
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        tc = lib(self.libname)
        info = tc.utils.data.get_worker_info()
        wid, seed = (-1, -1) if info is None else (info.id, info.seed)
        return {"i": i, "t": tc.rand(3), "np": np.random.rand(2), "py": random.random(),
                "worker": wid, "seed": seed}


class SquareDataset:
    """Deterministic samples of mixed types."""

    def __init__(self, n=11):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.arange(3, dtype=np.float32) * i, i * i, f"s{i}"


class FailingDataset(SquareDataset):
    def __getitem__(self, i):
        if i == 5:
            raise ValueError("bad sample 5")
        return super().__getitem__(i)


class SlowDataset(SquareDataset):
    def __getitem__(self, i):
        import time
        time.sleep(0.8)
        return i


def _range_iterable(libname):
    """An IterableDataset class of the given library that splits range(start, end) between
    the workers using get_worker_info()."""
    tc = lib(libname)

    class RangeIterable(tc.utils.data.IterableDataset):
        def __init__(self, start, end):
            super().__init__()
            self.start, self.end = start, end

        def __iter__(self):
            info = tc.utils.data.get_worker_info()
            if info is None:
                return iter(range(self.start, self.end))
            per_worker = -(-(self.end - self.start) // info.num_workers)
            lo = self.start + info.id * per_worker
            return iter(range(lo, min(lo + per_worker, self.end)))

        def __len__(self):
            return self.end - self.start

    RangeIterable.__qualname__ = RangeIterable.__name__ = f"RangeIterable_{libname}"
    return RangeIterable


RangeIterable_ember = _range_iterable("ember")


def __getattr__(name):
    # built on first use, so that ember's spawn workers never import torch
    if name == "RangeIterable_torch":
        cls = globals()[name] = _range_iterable("torch")
        return cls
    raise AttributeError(name)


def worker_init_offset(worker_id):
    """worker_init_fn: move each worker's copy of a RangeIterable to its own range."""
    import sys
    for name in ("ember", "torch"):
        info = sys.modules[name].utils.data.get_worker_info() if name in sys.modules else None
        if info is not None:
            ds = info.dataset
            ds.start, ds.end = ds.start + 100 * worker_id, ds.end + 100 * worker_id
            return


class KeyErrorDataset(SquareDataset):
    def __getitem__(self, i):
        return {}["missing"]


def failing_worker_init(worker_id):
    raise RuntimeError(f"init of worker {worker_id} failed")
