"""torch.save / torch.load: PyTorch's checkpoint format, read and written without torch.

- ``save`` writes the zip format of torch >= 1.6 (records, order and 64-byte alignment as
  torch 2.13 writes them), atomically when given a path.
- ``load`` reads zip checkpoints, legacy (pre-1.6) ones and, for a ``.safetensors`` path,
  safetensors files. ``weights_only=True`` (the default) uses an allow-list unpickler that
  imports and calls nothing outside torch 2.13's list; ``add_safe_globals`` extends it.
"""
import _compat_pickle
import io
import mmap as _mmap
import os
import pickle
import re
import socket
import stat
import sys
import tempfile
import warnings
from enum import Enum

import numpy as np

from . import _unpickle
from ._legacy import MAGIC_NUMBER, PROTOCOL_VERSION, is_tarfile, legacy_load
from ._pickle import dumps as _dumps, reduce_tensor as _reduce_tensor  # noqa: F401
from ._unpickle import Storage, StorageType, WeightsOnlyUnpickler
from ._zip import ZipReader, ZipWriter
from .._tensor import device
from ..utils import safetensors as _safetensors

__all__ = ['save', 'load', 'add_safe_globals', 'safe_globals', 'get_safe_globals',
           'clear_safe_globals', 'get_unsafe_globals_in_checkpoint', 'StorageType',
           'SourceChangeWarning', 'DEFAULT_PROTOCOL', 'LoadEndianness',
           'get_default_load_endianness', 'set_default_load_endianness', 'get_crc32_options',
           'set_crc32_options']

DEFAULT_PROTOCOL = 2
_FORMAT_VERSION = 3           # the "version" record (kProducedFileFormatVersion)
_MAX_FORMAT_VERSION = 0xA     # newest the reader accepts (kMaxSupportedFileFormatVersion)
_STORAGE_ALIGNMENT = 64

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in "
    "`torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set to "
    "`False` will likely succeed, but it can result in arbitrary code execution. Do it only if "
    "you got the file from a trusted source.")


class SourceChangeWarning(Warning):
    pass


# ---- options --------------------------------------------------------------------------------

class LoadEndianness(Enum):
    NATIVE = 1
    LITTLE = 2
    BIG = 3


_load_endianness = None
_compute_crc32 = True


def get_default_load_endianness():
    """Byte order assumed for checkpoints without a byteorder record (None: little)."""
    return _load_endianness


def set_default_load_endianness(endianness):
    """Set the byte order assumed for checkpoints that carry no byteorder record."""
    global _load_endianness
    if not isinstance(endianness, LoadEndianness) and endianness is not None:
        raise TypeError("Invalid argument type in function set_default_load_endianness")
    _load_endianness = endianness


def get_crc32_options():
    """Whether save computes the CRC-32 of each record."""
    return _compute_crc32


def set_crc32_options(compute_crc32):
    """Turn the CRC-32 of saved records on or off (off writes 0, which loaders skip)."""
    global _compute_crc32
    _compute_crc32 = bool(compute_crc32)


# ---- safe globals -----------------------------------------------------------------------------

def add_safe_globals(safe_globals):
    """Mark globals (callables, or ``(callable, "full.path")`` pairs) as safe for
    ``weights_only`` loading."""
    _unpickle._marked_safe_globals.update(safe_globals)


def get_safe_globals():
    """The user-added globals that are safe for ``weights_only`` loading."""
    return list(_unpickle._marked_safe_globals)


def clear_safe_globals():
    """Forget every global added with ``add_safe_globals``."""
    _unpickle._marked_safe_globals.clear()


class safe_globals:
    """Context manager that allows some globals for ``weights_only`` loading while active."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, type, value, tb):
        _unpickle._marked_safe_globals.difference_update(self.safe_globals)


# ---- save -------------------------------------------------------------------------------------

def _is_path(f):
    return isinstance(f, (str, os.PathLike))


def _archive_name(path):
    """torch names the zip's top folder after the file, extension stripped ('sd.pt' -> 'sd')."""
    base = os.path.basename(path)
    dot = base.rfind('.')
    if dot > 0:
        base = base[:dot]
    try:
        base.encode('ascii')
    except UnicodeEncodeError:
        return 'archive'  # torch writes non-ASCII paths through a Python stream
    return base or 'archive'


def _write_zip(f, archive_name, data_pkl, storages, disable_byteorder):
    z = ZipWriter(f, archive_name, _STORAGE_ALIGNMENT, _compute_crc32)
    z.write_record('data.pkl', data_pkl)
    z.write_record('.format_version', b'1')
    z.write_record('.storage_alignment', str(_STORAGE_ALIGNMENT).encode())
    if not disable_byteorder:
        z.write_record('byteorder', sys.byteorder.encode())
    for key, raw in storages.records:
        z.write_record(f'data/{key}', raw)
    z.write_record('version', f'{_FORMAT_VERSION}\n'.encode())
    serial = ''.join(str(b % 10) for b in os.urandom(40))
    z.write_record('.data/serialization_id', serial.encode())
    z.finish()


def _host_tag():
    return re.sub(r'[^A-Za-z0-9]', '', socket.gethostname())[:32]


# .<file name>.ember-<host>-<pid>-<mkstemp's 8 characters>.tmp
_TEMP_NAME = re.compile(r'\.(?P<base>.+)\.ember-(?P<host>[A-Za-z0-9]*)-(?P<pid>[0-9]+)-'
                        r'[a-z0-9_]{8}\.tmp')


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True   # someone else's live process, or not ours to judge
    return True


def _remove_stale_temps(folder):
    """Remove the temporary files of saves that died before renaming them (killed, power
    lost): only names ember makes, on this host, by a process that no longer runs, owned by
    this user, and regular files (never a link)."""
    host = _host_tag()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = _TEMP_NAME.fullmatch(entry.name)
        if m is None or m['host'] != host:
            continue
        pid = int(m['pid'])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
                continue
            os.unlink(entry.path)
        except OSError:
            pass


def _atomic_write(path, write):
    """Write a file beside `path`, fsync it and rename it into place: a failure at any point
    leaves the previous file untouched, and a save killed midway leaves a temporary file that
    the next successful save in that folder removes."""
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or '.'
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{os.path.basename(target)}.ember-{_host_tag()}-{os.getpid()}-',
        suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = os.stat(target).st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    _remove_stale_temps(folder)


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save `obj` to a path or a writable binary file in torch's checkpoint format."""
    if not _is_path(f) and not hasattr(f, 'write'):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")
    if pickle_module is not pickle:
        name = getattr(pickle_module, '__name__', pickle_module)
        raise NotImplementedError("ember.save supports only the standard pickle module as "
                                  f"pickle_module, got {name}")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip format; "
                                  "_use_new_zipfile_serialization=False is not supported")
    data_pkl, storages = _dumps(obj, pickle_protocol)

    if _is_path(f):
        path = os.fspath(f)
        name = _archive_name(path)
        _atomic_write(path, lambda fh: _write_zip(fh, name, data_pkl, storages,
                                                  _disable_byteorder_record))
    else:
        _write_zip(f, 'archive', data_pkl, storages, _disable_byteorder_record)
        flush = getattr(f, 'flush', None)
        if flush is not None:
            flush()


# ---- load -------------------------------------------------------------------------------------

def _get_wo_message(message):
    """torch's wrapping of a weights-only failure."""
    docs = ("\n\nCheck the documentation of torch.load to learn more about types accepted by "
            "default with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
    if re.search(r"GLOBAL (\S+) was not an allowed global by default.", message):
        return ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, \033[1mdo those steps only if you trust the source of the checkpoint"
                f"\033[0m. \n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following error "
                "message.\n\tWeightsUnpickler error: " + message + docs)
    if re.search(r"(\S+) must be (\S+) to load", message):
        return f"Weights only load failed. {message}\n {UNSAFE_MESSAGE}\n" + docs
    out = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
    if not re.search(r"whose module (\S+) is blocked", message):
        out += ("Please file an issue with the following so that we can make "
                "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
    return out + "\n\n" + message + docs


def _device_type(target):
    return device(target).type


def _check_target(target):
    kind = _device_type(str(target))
    if kind == 'cpu':
        return
    if kind == 'cuda':
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
            "False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU.")
    raise RuntimeError(f"ember can only load storages to the CPU, not to '{target}'")


def _check_saved_location(location):
    """A storage's saved location must name a device (torch's default_restore_location)."""
    try:
        _device_type(location)
    except (RuntimeError, ValueError, TypeError):
        raise RuntimeError("don't know how to restore data location of "
                           "torch.storage.UntypedStorage (tagged with "
                           f"{_unpickle._short(location)[1:-1]})") from None


def _restore_location(map_location):
    """map_location -> fn(storage, saved_location) -> storage. ember computes on the CPU, so
    the saved location ('cuda:0' ...) is accepted and mapped there; an explicit non-CPU
    target raises as torch does on a machine without that device."""
    if map_location is None:
        def restore(storage, location):
            _check_saved_location(location)
            return storage
        return restore
    if isinstance(map_location, dict):
        def restore(storage, location):
            if location in map_location:
                _check_target(map_location[location])
            else:
                _check_saved_location(location)
            return storage
        return restore
    if isinstance(map_location, (str, bytes)) or type(map_location).__name__ == 'device':
        target = map_location.decode() if isinstance(map_location, bytes) else map_location
        _check_target(target)
        return lambda storage, location: storage
    if callable(map_location):
        def restore(storage, location):
            result = map_location(storage, location)
            if result is None:
                _check_saved_location(location)
                return storage
            if not isinstance(result, Storage):
                raise RuntimeError("map_location must return a storage or None, got "
                                   f"{type(result).__name__}")
            return result
        return restore
    raise TypeError(f"map_location should be a str, device, dict or callable, got "
                    f"{type(map_location).__name__}")


class _ZipStorageLoader:
    """persistent_load for zip checkpoints: reads data/<key> once per key."""

    def __init__(self, reader, restore, mapped, byteorder):
        self.reader = reader
        self.restore = restore
        self.mapped = mapped          # an mmap of the whole file, or None
        self.swap = byteorder != sys.byteorder
        self.loaded = {}

    def __call__(self, saved_id):
        if not isinstance(saved_id, tuple):
            raise RuntimeError(f"saved_id must be a tuple, got {type(saved_id).__name__}")
        if len(saved_id) != 5:
            raise RuntimeError(f"invalid storage id of length {len(saved_id)}")
        typename, storage_type, key, location, numel = saved_id
        if _unpickle._decode_ascii(typename) != 'storage':
            raise RuntimeError("Unknown typename for persistent_load, expected 'storage' but "
                               f"got '{typename}'")
        if type(key) is not str:
            raise RuntimeError(f"invalid storage key of type {type(key).__name__} in checkpoint")
        if key in self.loaded:
            return self.loaded[key]
        if not _unpickle.is_storage_type(storage_type):
            raise RuntimeError(f"invalid storage type {_unpickle._short(storage_type)} in "
                               "checkpoint")
        dtype = storage_type.dtype
        location = _unpickle._decode_ascii(location)
        if type(location) is not str:
            raise RuntimeError(f"invalid storage location {_unpickle._short(location)}")
        numel = _unpickle._check_int(numel, "storage size")
        nbytes = numel * dtype.itemsize
        name = f'data/{key}'
        have = self.reader.record_size(name)
        if have != nbytes:
            raise RuntimeError(
                f"storage {name} holds {have} bytes but the checkpoint declares {numel} "
                f"elements of {dtype} ({nbytes} bytes); the file is corrupted or its dtype "
                "tag is wrong")
        if self.mapped is not None and self.reader._entry(name).method == 0:
            data = np.ndarray((nbytes,), np.uint8, buffer=self.mapped,
                              offset=self.reader.record_offset(name))
        else:
            data = self.reader.read_into_array(name)
        if self.swap:
            _unpickle._maybe_byteswap(data, dtype)
        storage = self.restore(Storage(data, dtype), location)
        self.loaded[key] = storage
        return storage


def _make_unpickler_factory(weights_only, pickle_module, pickle_load_args):
    if weights_only:
        encoding = pickle_load_args.get('encoding', 'utf-8')

        def make(file, persistent_load, budget=None):
            return WeightsOnlyUnpickler(file, encoding=encoding, persistent_load=persistent_load,
                                        budget=budget)
        return make
    cls = _unpickle.full_unpickler_class(pickle_module)

    def make(file, persistent_load, budget=None):
        u = cls(file, **pickle_load_args)
        if persistent_load is not None:
            u.persistent_load = persistent_load
        return u
    return make


def _load_zip(opened, path, map_location, make_unpickler, mmap, weights_only):
    reader = ZipReader(opened, check_crc=True)
    records = reader.get_all_records()
    if 'constants.pkl' in records:
        if weights_only:
            raise RuntimeError("Cannot use ``weights_only=True`` with TorchScript archives "
                               "passed to ``torch.load``. " + UNSAFE_MESSAGE)
        raise NotImplementedError("ember cannot load TorchScript archives (torch.jit.load): "
                                  "this file holds a scripted program, not a pickled object")
    version_name = '.data/version' if reader.has_record('.data/version') else 'version'
    if not reader.has_record(version_name):
        raise RuntimeError("PytorchStreamReader failed locating file .data/version: file not "
                           "found")
    try:
        version = int(reader.get_record(version_name).decode('ascii').strip())
    except (UnicodeDecodeError, ValueError):
        raise RuntimeError("PytorchStreamReader failed reading the version record") from None
    if not 1 <= version <= _MAX_FORMAT_VERSION:
        raise RuntimeError(
            f"Attempted to read a PyTorch file with version {version}, but the maximum "
            f"supported version for reading is {_MAX_FORMAT_VERSION}. Your PyTorch "
            "installation may be too old.")
    byteorder = {LoadEndianness.BIG: 'big', LoadEndianness.NATIVE: sys.byteorder}.get(
        _load_endianness, 'little')
    if reader.has_record('byteorder'):
        byteorder = reader.get_record('byteorder').decode('ascii', 'replace')
        if byteorder not in ('little', 'big'):
            raise ValueError("Unknown endianness type: " + byteorder)
    mapped = None
    if mmap:
        if path is None:
            raise ValueError("f must be a file path in order to use the mmap argument")
        # storages become slices of a copy-on-write mapping (torch's MAP_PRIVATE default);
        # their pages, and so their CRCs, are read only when used
        mapped = _mmap.mmap(opened.fileno(), 0, access=_mmap.ACCESS_COPY)
    loader = _ZipStorageLoader(reader, _restore_location(map_location), mapped, byteorder)
    data_pkl = reader.get_record('data.pkl')
    budget = _unpickle.budget_for(reader.total_size())
    return make_unpickler(io.BytesIO(data_pkl), loader, budget).load()


def _weights_only_default(weights_only, pickle_module):
    not_set = weights_only is None
    if not_set:
        weights_only = pickle_module is None
    true_values = ('1', 'y', 'yes', 'true')
    force = os.getenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '0').lower() in true_values
    force_no = os.getenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0').lower() in true_values
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were set.")
    if force:
        return True
    if force_no and not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the"
                      "`weights_only` argument was not explicitly passed to `torch.load`, "
                      "forcing weights_only=False.", UserWarning, stacklevel=3)
        return False
    return weights_only


def _load_safetensors(path, map_location):
    device = 'cpu'
    if map_location is not None:
        if isinstance(map_location, dict):
            raise RuntimeError("Loading safetensors file with dict map_location is not "
                               "supported. Use a device string or torch.device instead.")
        if callable(map_location) and not isinstance(map_location, (str, bytes)) \
                and type(map_location).__name__ != 'device':
            raise RuntimeError("Loading safetensors file with callable map_location is not "
                               "supported. Use a device string or torch.device instead.")
        device = str(map_location)
    return _safetensors.load_file(path, device=device)


def _check_seekable(f):
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as e:
        msg = str(e)
        if 'seek' in msg or 'tell' in msg:
            raise type(e)(msg + ". You can only torch.load from a file that is seekable. Please "
                          "pre-load the data into a buffer like io.BytesIO and try to load "
                          "from it instead.") from None
        raise


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved with torch.save (or ember.save) from a path or a binary file."""
    weights_only = _weights_only_default(weights_only, pickle_module)
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                               "specified")
    elif pickle_module is None:
        pickle_module = pickle
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    if 'encoding' not in pickle_load_args:
        pickle_load_args['encoding'] = 'utf-8'
    mmap = bool(mmap)

    path = None
    if _is_path(f):
        path = os.fspath(f)
        if path.endswith('.safetensors'):
            return _load_safetensors(path, map_location)

    make_unpickler = _make_unpickler_factory(weights_only, pickle_module, pickle_load_args)
    opened = open(path, 'rb') if path is not None else f
    try:
        if path is None:
            _check_seekable(opened)
        try:
            start = opened.tell()
            is_zip = opened.read(4) == b'PK\x03\x04'
            opened.seek(start)
            if is_zip:
                return _load_zip(opened, path, map_location, make_unpickler, mmap,
                                 weights_only)
            if mmap:
                name = "" if not isinstance(f, str) else f"{f}, "
                raise RuntimeError(
                    "mmap can only be used with files saved with "
                    f"`torch.save({name}_use_new_zipfile_serialization=True), please torch.save "
                    "your checkpoint with this option in order to use mmap.")
            if is_tarfile(opened):
                if weights_only:
                    raise RuntimeError("Cannot use ``weights_only=True`` with files saved in the "
                                       "legacy .tar format. " + UNSAFE_MESSAGE)
                raise NotImplementedError("ember cannot load the pre-0.4 .tar checkpoint format")
            return legacy_load(opened, make_unpickler, _restore_location(map_location),
                               weights_only)
        except pickle.UnpicklingError as e:
            if weights_only:
                raise pickle.UnpicklingError(_get_wo_message(str(e))) from None
            raise
    finally:
        if path is not None:
            opened.close()


def get_unsafe_globals_in_checkpoint(f):
    """GLOBALs of a checkpoint's data.pkl that are not allowed for ``weights_only`` loading."""
    import pickletools  # lazy: a large module, for this diagnostic only
    safe = set(_unpickle.allowed_globals()) | set(_unpickle.user_allowed_globals())
    opened = open(f, 'rb') if _is_path(f) else f
    try:
        if opened.read(4) != b'PK\x03\x04':
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        opened.seek(-4, 1)
        reader = ZipReader(opened)
        if 'constants.pkl' in reader.get_all_records():
            raise ValueError("Expected input to be a checkpoint returned by torch.save but got "
                             "a torchscript checkpoint")
        data = reader.get_record('data.pkl')
    finally:
        if _is_path(f):
            opened.close()
    found = set()
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name == 'GLOBAL':
            module, name = arg.split(' ', 1)
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
            found.add(f"{module}.{name}")
    return list(found - safe)
