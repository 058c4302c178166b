"""torch.distributed.algorithms.ddp_comm_hooks: hooks that replace DDP's gradient all-reduce
(registered with DistributedDataParallel.register_comm_hook)."""
from . import default_hooks  # noqa: F401  (torch's submodule)
