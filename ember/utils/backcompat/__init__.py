"""torch.utils.backcompat: switches for warnings about behaviour changed long ago (broadcasting,
keepdim); kept as torch keeps them, off by default."""
__all__ = ['Warning', 'broadcast_warning', 'keepdim_warning']


class Warning:  # noqa: A001 - torch's name
    def __init__(self, setter, getter):
        self.setter = setter
        self.getter = getter

    def set_enabled(self, value):
        self.setter(value)

    def get_enabled(self):
        return self.getter()

    enabled = property(get_enabled, set_enabled)


def _switch():
    state = [False]

    def set_(value):
        state[0] = bool(value)
    return set_, lambda: state[0]


broadcast_warning = Warning(*_switch())
keepdim_warning = Warning(*_switch())
