"""Small pieces of torch's top-level namespace that a CPU-only torch answers trivially or that
wrap another part of ember: streams and events, the symbolic-number classes, from_file,
the *_copy view-copies, get_file_path, classproperty."""
import os
import warnings

import numpy as np

from . import _dtype
from ._tensor import Tensor, _wrap, device as _device
from ._enums import pybind_enum
from ._ops.sparse import sparse_csr_tensor
from .types import SymBool, SymFloat, SymInt  # noqa: F401 (torch.SymInt is torch.types.SymInt)

__all__ = ['Stream', 'Event', 'SymInt', 'SymFloat', 'SymBool', 'from_file', 'get_file_path',
           'is_distributed', 'classproperty',
           'profiler_allow_cudagraph_cupti_lazy_reinit_cuda12',
           'indices_copy', 'values_copy', 'crow_indices_copy', 'col_indices_copy',
           'ccol_indices_copy', 'row_indices_copy', 'prepare_multiprocessing_environment',
           'AggregationType', 'SUM', 'AVG', 'sparse_compressed_tensor']

_NO_EVENTS = "cpu backend doesn't support events."


def _cpu_only(dev):
    d = _device(dev) if dev is not None else _device('cpu')
    if d.type != 'cpu':
        raise RuntimeError(f"PyTorch is not linked with support for {d.type} devices")
    return d


def _idle(self, *args):
    """Waiting on the CPU: there is nothing to wait for."""
    return None


class _CpuSync:
    """What torch's CPU streams and events share: the device, and nothing ever pending."""

    @property
    def device(self):
        return _device('cpu')

    def query(self):
        return True

    synchronize = _idle


class Stream(_CpuSync):
    """torch.Stream on the CPU: one stream that is always idle."""

    def __init__(self, device=None, *, priority=0, stream_id=0, device_index=-1,
                 device_type=0):
        _cpu_only(device)
        self.stream_id = stream_id
        self.device_index = device_index if device is None else -1
        self.device_type = 0

    wait_event = __exit__ = _idle

    def wait_stream(self, stream):
        raise RuntimeError(_NO_EVENTS)

    def record_event(self, event=None):
        raise RuntimeError(_NO_EVENTS)

    @property
    def native_handle(self):
        raise RuntimeError("Backend doesn't support getting stream native handle.")

    def is_capturing(self):
        return False

    def __enter__(self):
        return self

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.stream_id, self.device_index) == \
            (other.stream_id, other.device_index)

    def __hash__(self):
        return hash((self.stream_id, self.device_index))

    def __repr__(self):
        return (f"torch.Stream device_type=cpu, device_index={self.device_index}, "
                f"stream_id={self.stream_id}")


_NO_IPC = "torch.Event ipc is not supported yet, please open an issue if you need this!"


class Event(_CpuSync):
    """torch.Event on the CPU: nothing to record, every wait returns at once."""

    def __init__(self, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        _cpu_only(device)
        self._flag = 1 if enable_timing else 0
        self.event_id = 0

    def record(self, stream=None):
        raise RuntimeError(_NO_EVENTS)

    wait = _idle

    def elapsed_time(self, end_event):
        if not (self._flag and end_event._flag):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise ValueError("Both events must be recorded before calculating elapsed time.")

    def ipc_handle(self):
        raise NotImplementedError(_NO_IPC)

    @classmethod
    def from_ipc_handle(cls, device, ipc_handle):
        raise NotImplementedError(_NO_IPC)

    def __repr__(self):
        return (f"torch.Event device_type=cpu, device_index=-1, event_flag={self._flag}, "
                f"event_id={self.event_id}")


# How torch's throughput benchmark combines values (a pybind enum, as torch binds it)
AggregationType = pybind_enum('AggregationType', [('SUM', 0), ('AVG', 1)], 'ember')
SUM, AVG = AggregationType.SUM, AggregationType.AVG


def profiler_allow_cudagraph_cupti_lazy_reinit_cuda12():
    return True


def prepare_multiprocessing_environment(path):
    """A hook torch's internal builds use to set up subprocesses; nothing to do."""
    return None


def is_distributed(input):
    """torch.is_distributed: no ember tensor is a distributed one."""
    return False


def get_file_path(*path_components):
    """A path inside the installed package (torch's for torch, ember's for ember)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        *path_components)


class _ClassProperty:
    def __init__(self, fget):
        self.fget = fget

    def __get__(self, instance, owner=None):
        return self.fget.__get__(instance, owner if owner is not None else type(instance))()


def classproperty(func):
    """A read-only property of the class (torch._utils.classproperty)."""
    if not isinstance(func, (classmethod, staticmethod)):
        func = classmethod(func)
    return _ClassProperty(func)


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False, requires_grad=False):
    """torch.from_file: a tensor of `size` elements over a file's bytes; with shared=True the
    file is mapped (created or grown to fit) and writes go to it, otherwise it is read."""
    dtype = dtype or _dtype.get_default_dtype()
    npd = _dtype.to_numpy(dtype)
    need = size * npd.itemsize
    filename = os.fspath(filename)
    if shared:
        try:
            fd = os.open(filename, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise RuntimeError(f"unable to open shared memory object <{filename}> in read-write "
                               f"mode: {e.strerror} ({e.errno})") from None
        try:
            if os.fstat(fd).st_size < need:
                os.ftruncate(fd, need)
        finally:
            os.close(fd)
        arr = (np.memmap(filename, dtype=npd, mode='r+', shape=(size,)) if size
               else np.empty(0, npd))
    else:
        try:
            have = os.path.getsize(filename)
        except OSError as e:
            raise RuntimeError(f"unable to open file <{filename}> in read-only mode: "
                               f"{e.strerror} ({e.errno})") from None
        if have < need:
            raise RuntimeError(f"file <{filename}> size <{have}> is smaller than the required "
                               f"mapping size <{need}>")
        arr = np.fromfile(filename, dtype=npd, count=size)
    t = _wrap(np.asarray(arr) if not shared else arr.view(np.ndarray))
    if requires_grad:
        t.requires_grad_()
    return t


_LAYOUT_NAMES = {'torch.strided': 'Strided', 'torch.sparse_coo': 'Sparse',
                 'torch.sparse_csr': 'SparseCsr', 'torch.sparse_csc': 'SparseCsc'}


def sparse_compressed_tensor(compressed_indices, plain_indices, values, size=None, *,
                             dtype=None, layout=None, device=None, pin_memory=False,
                             requires_grad=False, check_invariants=None):
    """torch.sparse_compressed_tensor: a compressed sparse tensor of the given layout (ember
    holds sparse_csr ones; sparse_csc/bsr/bsc raise NotImplementedError naming the layout)."""
    lay = repr(layout) if layout is not None else None
    if lay not in ('torch.sparse_csr', 'torch.sparse_csc', 'torch.sparse_bsr',
                   'torch.sparse_bsc'):
        got = 'none' if lay is None else _LAYOUT_NAMES.get(lay, lay)
        raise RuntimeError("sparse_compressed_tensor expected sparse compressed tensor layout "
                           f"but got {got}")
    if lay != 'torch.sparse_csr':
        raise NotImplementedError(f"ember does not implement {lay} tensors yet")
    with warnings.catch_warnings():
        # torch's compressed constructor does not warn about unchecked invariants
        warnings.filterwarnings('ignore', 'Sparse invariant checks are implicitly disabled')
        return sparse_csr_tensor(compressed_indices, plain_indices, values, size, dtype=dtype,
                                 device=device, pin_memory=pin_memory,
                                 requires_grad=requires_grad, check_invariants=check_invariants)


def _view_copy(name, wants, layouts):
    """torch.<name>_copy: a copy of Tensor.<name>() for the layouts whose kernel torch has
    (the compressed ones: torch registers none of these for SparseCPU)."""
    def fn(input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}_copy(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        lay = repr(input.layout)
        if lay == 'torch.sparse_coo':
            raise NotImplementedError(
                f"Could not run 'aten::{name}_copy' with arguments from the 'SparseCPU' backend. "
                "This could be because the operator doesn't exist for this backend, or was "
                "omitted during the selective/custom build process (if using custom build).")
        if lay not in layouts:
            raise RuntimeError(f"{name} expected {wants} tensor layout but got "
                               f"{_LAYOUT_NAMES.get(lay, lay)}")
        return getattr(input, name)().clone()
    fn.__name__ = fn.__qualname__ = f'{name}_copy'
    fn.__doc__ = f"torch.{name}_copy: a copy of Tensor.{name}()."
    return fn


_ROW = ('torch.sparse_csr',)
_COL = ('torch.sparse_csc',)
indices_copy = _view_copy('indices', 'sparse coordinate', ())
values_copy = _view_copy('values', 'sparse', _ROW + _COL)
crow_indices_copy = _view_copy('crow_indices', 'sparse row compressed', _ROW)
col_indices_copy = _view_copy('col_indices', 'sparse row compressed', _ROW)
ccol_indices_copy = _view_copy('ccol_indices', 'sparse column compressed', _COL)
row_indices_copy = _view_copy('row_indices', 'sparse column compressed', _COL)
