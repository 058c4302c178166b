"""ember.random (torch.random): the CPU generator's seeding and state."""
import contextlib

from ._random import default_generator  # noqa: F401

__all__ = ['set_rng_state', 'get_rng_state', 'manual_seed', 'seed', 'initial_seed', 'fork_rng',
           'thread_safe_generator', 'default_generator']


# the very functions ember exports at the top level (torch.random.manual_seed is
# torch.manual_seed), so both paths name one object
from ._ops.random import (manual_seed, seed, initial_seed, get_rng_state,  # noqa: E402,F401
                          set_rng_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller='fork_rng', _devices_kw='devices',
             device_type=None):
    """Restores the CPU generator's state on exit (ember has no other device)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def thread_safe_generator():
    """The generator of a DataLoader thread worker; None elsewhere (the default generator)."""
    return None


from ._stubs import hook as _hook  # noqa: E402
_hook(__name__)
