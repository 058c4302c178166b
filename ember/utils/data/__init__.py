"""ember.utils.data (torch.utils.data): datasets, samplers, DataLoader and collation."""
from . import _utils  # noqa: F401
from .dataloader import (_DatasetKind, DataLoader, default_collate,  # noqa: F401
                         default_convert, get_worker_info)
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,  # noqa: F401
                      StackDataset, Subset, TensorDataset, random_split)
from .distributed import DistributedSampler  # noqa: F401
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,  # noqa: F401
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "_DatasetKind", "default_collate",
           "default_convert", "get_worker_info", "random_split"]

# torch's DataPipes (deprecated there) are not part of ember.
_DATAPIPE_NAMES = {"DFIterDataPipe", "DataChunk", "IterDataPipe", "MapDataPipe",
                   "argument_validation", "functional_datapipe",
                   "guaranteed_datapipes_determinism", "non_deterministic",
                   "runtime_validation", "runtime_validation_disabled", "datapipes"}


def __getattr__(name):
    if name in _DATAPIPE_NAMES:
        raise NotImplementedError(f"ember does not implement torch.utils.data.{name} "
                                  "(DataPipes)")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
