"""ember.random (torch.random): the CPU generator's seeding and state."""
import contextlib

from ._random import default_generator  # noqa: F401

__all__ = ['set_rng_state', 'get_rng_state', 'manual_seed', 'seed', 'initial_seed', 'fork_rng',
           'thread_safe_generator', 'default_generator']


def _top():
    import ember
    return ember


def manual_seed(seed):
    return _top().manual_seed(seed)


def seed():
    return _top().seed()


def initial_seed():
    return _top().initial_seed()


def get_rng_state():
    return _top().get_rng_state()


def set_rng_state(new_state):
    return _top().set_rng_state(new_state)


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
