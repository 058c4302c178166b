"""Reader of the legacy (pre-1.6, non-zip) torch.save format.

The file is a chain of protocol-2 pickles followed by raw data:
magic number, protocol version, sys_info, the object (whose persistent ids are
``('storage', StorageClass, key, location, numel, view_metadata)``), the list of storage keys,
then for each key an int64 element count and the storage's bytes.
"""
import struct

import numpy as np

from ._unpickle import (Storage, _check_int, _decode_ascii, _maybe_byteswap, _short, budget_for,
                        is_storage_type)

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def is_tarfile(f):
    """Pre-0.4 checkpoints are tar archives (``ustar`` magic at offset 257)."""
    start = f.tell()
    head = f.read(262)
    f.seek(start)
    return len(head) == 262 and head[257:262] == b'ustar'


def legacy_load(f, make_unpickler, restore_location, weights_only):
    """Load the object of a legacy checkpoint from seekable binary file `f`.

    make_unpickler(file, persistent_load) -> object with .load(); restore_location(storage,
    location) -> storage applies map_location.
    """
    start = f.tell()
    file_size = f.seek(0, 2) - start
    f.seek(start)
    # one allowance for the whole file: its five pickles share it
    budget = budget_for(file_size)

    def unpickler(persistent_load=None):
        return make_unpickler(f, persistent_load, budget)

    magic = unpickler().load()
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = unpickler().load()
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = unpickler().load()
    little = True
    if isinstance(sys_info, dict):
        little = bool(sys_info.get('little_endian', True))

    roots = {}
    views = {}
    budget = [file_size]

    def persistent_load(saved_id):
        if not isinstance(saved_id, tuple) or not saved_id:
            raise RuntimeError(f"saved_id must be a tuple, got {type(saved_id).__name__}")
        typename = _decode_ascii(saved_id[0])
        if typename == 'module' and not weights_only and len(saved_id) >= 2:
            # a pickled module class, with its source for a (skipped) change check
            return saved_id[1]
        if typename != 'storage' or len(saved_id) != 6:
            raise RuntimeError(f"Unknown saved id type: {saved_id[0]}")
        _, storage_type, root_key, location, numel, view_metadata = saved_id
        if not isinstance(root_key, (str, int)):
            raise RuntimeError(f"invalid storage key {root_key!r}")
        if not is_storage_type(storage_type):
            raise RuntimeError(f"invalid storage type {_short(storage_type)}")
        dtype = storage_type.dtype
        location = _decode_ascii(location)
        if type(location) is not str:
            raise RuntimeError(f"invalid storage location {_short(location)}")
        numel = _check_int(numel, "storage size")
        nbytes = numel * dtype.itemsize
        if root_key not in roots:
            # every byte of a storage is in the file: more than the file holds means damage,
            # and checking first keeps a bad count from allocating terabytes
            if nbytes < 0 or nbytes > budget[0]:
                raise RuntimeError(f"storage {root_key} of {numel} elements does not fit in "
                                   "the file; corrupt file?")
            budget[0] -= nbytes
            storage = Storage(np.zeros(nbytes, np.uint8), dtype)
            roots[root_key] = restore_location(storage, location)
        root = roots[root_key]
        if view_metadata is None:
            return root
        if not (isinstance(view_metadata, tuple) and len(view_metadata) == 3
                and isinstance(view_metadata[0], (str, int))):
            raise RuntimeError(f"invalid storage view {view_metadata!r}")
        view_key, offset, view_size = view_metadata
        if view_key not in views:
            item = dtype.itemsize
            offset = _check_int(offset, "view offset")
            view_size = _check_int(view_size, "view size")
            lo, hi = offset * item, (offset + view_size) * item
            if offset < 0 or view_size < 0 or hi > root.data.nbytes:
                raise RuntimeError(f"storage view {view_key} is out of bounds of its storage")
            views[view_key] = Storage(root.data[lo:hi], dtype)
        return views[view_key]

    result = unpickler(persistent_load).load()
    keys = unpickler().load()
    if not isinstance(keys, list):
        raise RuntimeError("corrupt file: the list of storage keys is missing")
    filled = set()
    for key in keys:
        if not isinstance(key, (str, int)) or key not in roots or key in filled:
            raise RuntimeError(f"storage key {_short(key)} not found in deserialized_objects")
        filled.add(key)
        storage = roots[key]
        head = f.read(8)
        if len(head) != 8:
            raise RuntimeError("unexpected EOF, expected more data; the file might be corrupted")
        (count,) = struct.unpack('<q', head)
        if count != storage.size():
            raise RuntimeError(f"storage {key} has {count} elements in the file but "
                               f"{storage.size()} in its record; corrupt file?")
        view = memoryview(storage.data)
        got = f.readinto(view) if hasattr(f, 'readinto') else _read_into(f, storage.data)
        if got != storage.data.nbytes:
            raise RuntimeError("unexpected EOF, expected more data; the file might be corrupted")
        if not little:
            _maybe_byteswap(storage.data, storage.dtype)
    if len(filled) != len(roots):
        # torch leaves such a storage uninitialised; its data is simply not in the file
        missing = next(k for k in roots if k not in filled)
        raise RuntimeError(f"storage {_short(missing)} has no data in the file; corrupt file?")
    return result


def _read_into(f, out):
    data = f.read(out.nbytes)
    out[:len(data)] = np.frombuffer(data, np.uint8)
    return len(data)
