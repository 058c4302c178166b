"""torch.accelerator.memory: the current accelerator's memory counters (none here)."""
from . import (empty_cache, empty_host_cache, get_memory_info, max_memory_allocated,  # noqa: F401
               max_memory_reserved, memory_allocated, memory_reserved, memory_stats,
               reset_accumulated_memory_stats, reset_peak_memory_stats)

__all__ = ['empty_cache', 'empty_host_cache', 'get_memory_info', 'max_memory_allocated',
           'max_memory_reserved', 'memory_allocated', 'memory_reserved', 'memory_stats',
           'reset_accumulated_memory_stats', 'reset_peak_memory_stats']
