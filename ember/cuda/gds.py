"""torch.cuda.gds: GPUDirect Storage (cuFile); unsupported on this platform, as in torch's CPU
build."""
import os

__all__ = ['gds_register_buffer', 'gds_deregister_buffer', 'GdsFile']


def _unsupported(name):
    return RuntimeError(f'torch._C.{name} is not supported on this platform')


def gds_register_buffer(s):
    raise _unsupported('_gds_register_buffer')


def gds_deregister_buffer(s):
    raise _unsupported('_gds_deregister_buffer')


class GdsFile:
    """A file opened for cuFile reads and writes of CUDA storages: the file is opened as torch
    opens it (O_DIRECT added), registering it with cuFile is refused."""

    def __init__(self, filename, flags):
        self.filename = filename
        self.flags = flags
        self.fd = os.open(filename, flags | os.O_DIRECT)
        self.handle = None
        self.register_handle()

    def __del__(self):
        if getattr(self, 'handle', None) is not None:
            self.deregister_handle()
        if hasattr(self, 'fd'):
            os.close(self.fd)

    def register_handle(self):
        if self.handle is not None:
            raise AssertionError('Cannot register a handle that is already registered.')
        raise _unsupported('_gds_register_handle')

    def deregister_handle(self):
        if self.handle is None:
            raise AssertionError('Cannot deregister a handle that is not registered.')
        raise _unsupported('_gds_deregister_handle')

    def load_storage(self, storage, offset=0):
        if self.handle is None:
            raise AssertionError('Cannot load data from a file that is not registered.')
        raise _unsupported('_gds_load_storage')

    def save_storage(self, storage, offset=0):
        if self.handle is None:
            raise AssertionError('Cannot save data to a file that is not registered.')
        raise _unsupported('_gds_save_storage')
