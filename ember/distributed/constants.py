"""torch.distributed.constants: the default timeout of a process group's collectives."""
from datetime import timedelta

__all__ = ['default_pg_timeout', 'default_pg_nccl_timeout']

default_pg_timeout = timedelta(minutes=30)
default_pg_nccl_timeout = None      # torch's value where NCCL is not built in
