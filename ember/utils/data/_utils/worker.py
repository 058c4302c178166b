"""The DataLoader's worker processes: the loop each one runs, its seeding, get_worker_info()."""
import os
import queue
import random
from dataclasses import dataclass

import numpy as np

from ...._ops.random import manual_seed
from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper
from .fetch import _IterableDatasetFetcher, _MapDatasetFetcher


class ManagerWatchdog:
    """Tells a worker whether the process that started it is still alive."""

    def __init__(self):
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self):
        if not self.manager_dead:
            # An orphan is re-parented, so a changed parent pid means the manager died.
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


_worker_info = None


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What a DataLoader worker knows about itself (see get_worker_info)."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process, or None in the main process."""
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's note that its copy of an IterableDataset is exhausted."""
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of every epoch after the first."""
    seed: object = None


def _generate_state(base_seed, worker_id):
    """The four 32-bit words NumPy's legacy global RNG is seeded with in a worker.

    torch mixes (worker_id, base_seed) with NumPy's SeedSequence hashing so that workers get
    unrelated NumPy streams; reproduced here so NumPy draws in workers match torch's.
    """
    init_a, mult_a = 0x43B0D7E5, 0x931E8875
    init_b, mult_b = 0x8B51F9DD, 0x58F38DED
    mix_mult_l, mix_mult_r = 0xCA01F9DD, 0x4973F715
    xshift, mask32 = 16, 0xFFFFFFFF

    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    hash_const = init_a

    def hashmix(value):
        nonlocal hash_const
        value = (value ^ hash_const) & mask32
        hash_const = (hash_const * mult_a) & mask32
        value = (value * hash_const) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x, y):
        result = ((mix_mult_l * x) - (mix_mult_r * y)) & mask32
        return (result ^ (result >> xshift)) & mask32

    pool = [hashmix(e) for e in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))

    state = []
    hash_const = init_b
    for value in pool:
        value = (value ^ hash_const) & mask32
        hash_const = (hash_const * mult_b) & mask32
        value = (value * hash_const) & mask32
        state.append((value ^ (value >> xshift)) & mask32)
    return state


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation,
                 collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers,
                 persistent_workers, shared_seed):
    """Body of one worker: fetch the (task id, index) pairs it is sent, put back the data.

    The main process ends the loop by sending None; an exception while fetching is sent
    back wrapped, and re-raised by the main process when that batch's turn comes.
    """
    from ..dataloader import _DatasetKind  # cycle: the DataLoader module imports this one

    def make_fetcher():
        cls = _MapDatasetFetcher if dataset_kind == _DatasetKind.Map else _IterableDatasetFetcher
        return cls(dataset, auto_collation, collate_fn, drop_last)

    try:
        # Seed every generator a dataset may use the way torch does: the python and torch
        # streams from base_seed + worker_id, NumPy's from a hash of the pair.
        seed = base_seed + worker_id
        random.seed(seed)
        manual_seed(seed)
        np.random.seed(_generate_state(base_seed, worker_id))

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)

        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher()
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        # With an IterableDataset, a worker whose copy ran out must not read more indices
        # until it is told to resume (persistent workers) or to stop.
        iteration_end = False
        watchdog = ManagerWatchdog()
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                fetcher = make_fetcher()
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data, idx, index, r     # drop the batch before blocking on the next index
    except KeyboardInterrupt:
        # the main process handles Ctrl-C and shuts the workers down
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
