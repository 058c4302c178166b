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

# torch's DataPipes (deprecated there) and other missing names resolve to stubs that raise
# NotImplementedError when used (ember/_stubs.py), so hasattr() probes still answer True.
