"""The answers a device module gives when its device is absent (torch.xpu, torch.mtia)."""

__all__ = []


def false(*args, **kwargs):
    return False


def zero(device=None):
    return 0


def nothing(*args, **kwargs):
    return None


def empty_list(*args, **kwargs):
    return []


def check_seed(seed):
    """Seeding a device that is not there: torch only checks the seed is a number."""
    int(seed)
