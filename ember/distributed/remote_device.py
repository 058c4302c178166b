"""torch.distributed.remote_device: a device on a named or numbered worker."""
from .._tensor import device as _device

__all__ = []


class _remote_device:
    """``"<worker>/<device>"``, ``"rank:<r>/<device>"`` or a local ``"<device>"`` (the device
    defaults to the CPU)."""

    def __init__(self, remote_device):
        bad = (f'Could not parse remote_device: {remote_device}. The valid format is '
               "'<workername>/<device>' or 'rank:<rank>/<device>' or '<device>'")
        self._worker_name = self._rank = None
        if isinstance(remote_device, _device):
            dev = remote_device
        elif isinstance(remote_device, str):
            fields = remote_device.split('/')
            if len(fields) > 2:
                raise ValueError(bad)
            if len(fields) == 2:
                self._worker_name, dev = fields
            elif _is_device(fields[0]):
                dev = fields[0]
            else:
                self._worker_name, dev = fields[0], 'cpu'
        else:
            raise TypeError(f'Invalid type for remote_device: {type(remote_device)}')
        if self._worker_name is not None and not self._worker_name:
            raise ValueError(bad)
        self._device = _device(dev)
        if self._worker_name is not None and ':' in self._worker_name:
            kind, _, num = self._worker_name.partition(':')
            if kind != 'rank' or not num.isdigit():
                raise ValueError(bad)
            self._rank, self._worker_name = int(num), None

    def worker_name(self):
        return self._worker_name

    def rank(self):
        return self._rank

    def device(self):
        return self._device

    def __repr__(self):
        if self._worker_name is not None:
            return f'{self._worker_name}/{self._device}'
        if self._rank is not None:
            return f'rank:{self._rank}/{self._device}'
        return str(self._device)

    def __eq__(self, other):
        return (isinstance(other, _remote_device) and self._worker_name == other._worker_name
                and self._device == other._device and self._rank == other._rank)

    def __hash__(self):
        return hash((self._worker_name, self._device, self._rank))


def _is_device(text):
    try:
        _device(text)
        return True
    except Exception:   # noqa: BLE001 -- anything torch.device refuses is a worker name
        return False
