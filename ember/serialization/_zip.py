"""The ZIP container of torch.save files: a writer that lays records out as PyTorch's miniz
writer does, and a bounds-checked reader.

Layout facts (checked against files written by torch 2.13):
- every record is stored (method 0), local header flags 0x0808: sizes follow the payload in a
  data descriptor, names are UTF-8; an empty record has flags 0x0800 and no descriptor;
- every payload starts at a file offset that is a multiple of 64, reached by padding the local
  header's extra field with one ``FB`` record (``b"FB" + uint16 len + b"Z" * len``);
- the end of the archive always has a ZIP64 end-of-central-directory record and locator,
  followed by the classic end record.
``torch.load(mmap=True)`` computes payload offsets from exactly this layout, so it matters.
"""
import struct
import zlib

import numpy as np

__all__ = ['ZipWriter', 'ZipReader']

_U32_MAX = 0xFFFFFFFF
_U16_MAX = 0xFFFF
_LOCAL_SIG = b'PK\x03\x04'
_CENTRAL_SIG = b'PK\x01\x02'
_EOCD_SIG = b'PK\x05\x06'
_EOCD64_SIG = b'PK\x06\x06'
_LOC64_SIG = b'PK\x06\x07'
_DESC_SIG = b'PK\x07\x08'
_LOCAL_HEADER = struct.Struct('<4sHHHHHIIIHH')          # 30 bytes
_CENTRAL_HEADER = struct.Struct('<4sHHHHHHIIIHHHHHII')  # 46 bytes
_EOCD = struct.Struct('<4sHHHHIIH')                     # 22 bytes
_EOCD64 = struct.Struct('<4sQHHIIQQQQ')                 # 56 bytes
_LOC64 = struct.Struct('<4sIQI')                        # 20 bytes
_MAX_RATIO = 1032   # the most bytes deflate can expand one input byte into
_CHUNK = 1 << 20


def _zip_error(what):
    # the wording of PyTorchStreamReader's errors, which wrap miniz's
    return RuntimeError(
        f"PytorchStreamReader failed reading zip archive: {what}. If you are seeing this "
        "error, there is a high likelihood that your checkpoint file is corrupted. This can "
        "happen if the checkpoint was not saved properly, was transferred incorrectly, or the "
        "file was modified after saving.")


# ---- writer -----------------------------------------------------------------------------------

class ZipWriter:
    """Writes records to a binary stream `f`, the way PyTorchStreamWriter does."""

    def __init__(self, f, archive_name, alignment=64, compute_crc32=True):
        self._f = f
        self._crc = compute_crc32
        self._prefix = archive_name + '/'
        self._alignment = alignment
        self._cursor = 0
        self._entries = []   # (name bytes, crc, size, local header offset, flags)

    def _write(self, data):
        self._f.write(data)
        self._cursor += len(data)

    def write_record(self, name, data):
        """Add one stored record; `data` is bytes or a 1-D contiguous uint8 ndarray."""
        full = (self._prefix + name).encode('utf-8')
        size = data.nbytes if isinstance(data, np.ndarray) else len(data)
        offset = self._cursor
        big = size >= _U32_MAX or offset >= _U32_MAX
        zip64_extra = b''
        if big:
            # miniz puts a ZIP64 extra field (sizes and/or offset) before the FB padding; with
            # a data descriptor following, its compressed size is left 0
            fields = b''
            if size >= _U32_MAX:
                fields += struct.pack('<QQ', size, 0)
            if offset >= _U32_MAX:
                fields += struct.pack('<Q', offset)
            zip64_extra = struct.pack('<HH', 1, len(fields)) + fields
        start = offset + _LOCAL_HEADER.size + len(full) + len(zip64_extra) + 4
        pad = -start % self._alignment
        extra = zip64_extra + b'FB' + struct.pack('<H', pad) + b'Z' * pad
        flags = 0x0808 if size else 0x0800
        self._write(_LOCAL_HEADER.pack(_LOCAL_SIG, 0, flags, 0, 0, 0, 0, 0, 0,
                                       len(full), len(extra)))
        self._write(full)
        self._write(extra)
        # torch.serialization.set_crc32_options(False) writes 0 in place of every CRC
        crc = zlib.crc32(data) if size and self._crc else 0
        if isinstance(data, np.ndarray):
            if size:
                self._f.write(data.data)
                self._cursor += size
        else:
            self._write(data)
        if size:
            if big:
                self._write(_DESC_SIG + struct.pack('<IQQ', crc, size, size))
            else:
                self._write(_DESC_SIG + struct.pack('<III', crc, size, size))
        self._entries.append((full, crc, size, offset, flags))

    def finish(self):
        """Write the central directory and the end records."""
        cd_start = self._cursor
        for full, crc, size, offset, flags in self._entries:
            fields = b''
            if size >= _U32_MAX:
                fields += struct.pack('<QQ', size, size)
            if offset >= _U32_MAX:
                fields += struct.pack('<Q', offset)
            extra = struct.pack('<HH', 1, len(fields)) + fields if fields else b''
            s32 = min(size, _U32_MAX)
            self._write(_CENTRAL_HEADER.pack(
                _CENTRAL_SIG, 0, 0, flags, 0, 0, 0, crc, s32, s32, len(full), len(extra),
                0, 0, 0, 0, min(offset, _U32_MAX)))
            self._write(full)
            self._write(extra)
        cd_size = self._cursor - cd_start
        n = len(self._entries)
        eocd64_at = self._cursor
        self._write(_EOCD64.pack(_EOCD64_SIG, 44, 0x031E, 0x2D, 0, 0, n, n, cd_size, cd_start))
        self._write(_LOC64.pack(_LOC64_SIG, 0, eocd64_at, 1))
        self._write(_EOCD.pack(_EOCD_SIG, 0, 0, min(n, _U16_MAX), min(n, _U16_MAX),
                               min(cd_size, _U32_MAX), min(cd_start, _U32_MAX), 0))


# ---- reader -----------------------------------------------------------------------------------

class _Entry:
    __slots__ = ('name', 'method', 'flags', 'crc', 'csize', 'usize', 'header_offset',
                 '_data_offset')

    def __init__(self, name, method, flags, crc, csize, usize, header_offset):
        self.name, self.method, self.flags, self.crc = name, method, flags, crc
        self.csize, self.usize, self.header_offset = csize, usize, header_offset
        self._data_offset = None


class ZipReader:
    """Reads records of a ZIP archive from a seekable binary stream.

    Every size and offset is checked against the file's length before anything is read or
    allocated, so a damaged file raises RuntimeError instead of reading garbage.
    """

    def __init__(self, f, check_crc=True):
        self._f = f
        self.check_crc = check_crc
        try:
            self._base = f.tell()
            self._end = f.seek(0, 2)
        except (OSError, ValueError) as e:
            raise _zip_error(f"file is not seekable ({e})") from None
        self._size = self._end - self._base
        self._entries = {}
        self._order = []
        self._parse_directory()
        first = self._order[0]
        if '/' not in first:
            raise RuntimeError(f"file in archive is not in a subdirectory: {first}")
        self.prefix = first[:first.index('/') + 1]

    # low-level reads, relative to where the archive starts
    def _pread(self, offset, n):
        if offset < 0 or n < 0 or offset + n > self._size:
            raise _zip_error("read past the end of the file")
        self._f.seek(self._base + offset)
        data = self._f.read(n)
        if len(data) != n:
            raise _zip_error("file read failed")
        return data

    def _parse_directory(self):
        tail_len = min(self._size, _EOCD.size + _U16_MAX)
        tail = self._pread(self._size - tail_len, tail_len)
        pos = tail.rfind(_EOCD_SIG)
        while pos >= 0 and pos + _EOCD.size > len(tail):
            pos = tail.rfind(_EOCD_SIG, 0, pos)
        if pos < 0:
            raise _zip_error("failed finding central directory")
        eocd_at = self._size - tail_len + pos
        (_, disk, cd_disk, n_disk, n_total, cd_size, cd_start,
         _comment) = _EOCD.unpack_from(tail, pos)
        # prefer the ZIP64 record when a locator sits just before the end record
        if eocd_at >= _LOC64.size:
            loc = self._pread(eocd_at - _LOC64.size, _LOC64.size)
            if loc[:4] == _LOC64_SIG:
                _, _, eocd64_at, _ = _LOC64.unpack(loc)
                if eocd64_at + _EOCD64.size > eocd_at:
                    raise _zip_error("invalid ZIP64 end of central directory locator")
                rec = _EOCD64.unpack(self._pread(eocd64_at, _EOCD64.size))
                if rec[0] != _EOCD64_SIG:
                    raise _zip_error("invalid ZIP64 end of central directory record")
                disk, cd_disk, n_disk, n_total, cd_size, cd_start = rec[4:10]
                eocd_at = eocd64_at
        if disk != 0 or cd_disk != 0 or n_disk != n_total:
            raise _zip_error("multi-disk archives are not supported")
        if n_total == 0:
            raise _zip_error("archive is empty")
        if cd_start + cd_size > eocd_at or n_total * _CENTRAL_HEADER.size > cd_size:
            raise _zip_error("invalid central directory size or offset")
        cd = self._pread(cd_start, cd_size)
        pos = 0
        for _ in range(n_total):
            if pos + _CENTRAL_HEADER.size > cd_size:
                raise _zip_error("central directory is truncated")
            (sig, _, _, flags, method, _, _, crc, csize, usize, nlen, xlen, clen, _, _, _,
             offset) = _CENTRAL_HEADER.unpack_from(cd, pos)
            if sig != _CENTRAL_SIG:
                raise _zip_error("invalid header or archive is corrupted")
            pos += _CENTRAL_HEADER.size
            if pos + nlen + xlen + clen > cd_size:
                raise _zip_error("central directory is truncated")
            raw_name = cd[pos:pos + nlen]
            extra = cd[pos + nlen:pos + nlen + xlen]
            pos += nlen + xlen + clen
            usize, csize, offset = _zip64_fields(extra, usize, csize, offset)
            try:
                name = raw_name.decode('utf-8')
            except UnicodeDecodeError:
                raise _zip_error("invalid file name in central directory") from None
            if flags & 1:
                raise _zip_error(f"record {name} is encrypted")
            if offset + _LOCAL_HEADER.size + csize > cd_start:
                raise _zip_error(f"record {name} lies outside the archive")
            if name in self._entries:
                raise _zip_error(f"duplicate record {name}")
            # declared sizes are checked here, before anything is allocated for them: a stored
            # record holds exactly its bytes, a deflated one at most _MAX_RATIO times its input
            if method == 0 and csize != usize:
                raise _zip_error(f"record {name} is stored but declares {usize} bytes for "
                                 f"{csize} in the file")
            if method == 8 and usize > _MAX_RATIO * csize + 64:
                raise _zip_error(f"record {name} declares {usize} bytes, more than its {csize} "
                                 "deflated bytes can hold")
            self._entries[name] = _Entry(name, method, flags, crc, csize, usize, offset)
            self._order.append(name)

    def total_size(self):
        """Bytes of the file plus the declared sizes of its records."""
        return self._size + sum(e.usize for e in self._entries.values())

    # record access, with names relative to the archive folder
    def get_all_records(self):
        n = len(self.prefix)
        return [name[n:] for name in self._order if name.startswith(self.prefix)]

    def has_record(self, name):
        return self.prefix + name in self._entries

    def _entry(self, name):
        try:
            return self._entries[self.prefix + name]
        except KeyError:
            raise RuntimeError(
                f"PytorchStreamReader failed locating file {name}: file not found") from None

    def record_size(self, name):
        return self._entry(name).usize

    def record_offset(self, name):
        """File offset of a record's payload (reads its local header)."""
        e = self._entry(name)
        if e._data_offset is None:
            hdr = self._pread(e.header_offset, _LOCAL_HEADER.size)
            fields = _LOCAL_HEADER.unpack(hdr)
            if fields[0] != _LOCAL_SIG:
                raise _zip_error(f"invalid local header of record {name}")
            start = e.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
            if start + e.csize > self._size:
                raise _zip_error(f"record {name} lies outside the archive")
            e._data_offset = start
        return self._base + e._data_offset

    def _check(self, e, data):
        if self.check_crc and (e.crc or e.usize == 0) and zlib.crc32(data) != e.crc:
            raise RuntimeError(
                f"PytorchStreamReader failed reading file {e.name[len(self.prefix):]}: "
                "CRC-32 check failed")

    def get_record(self, name):
        """The record's bytes."""
        e = self._entry(name)
        offset = self.record_offset(name) - self._base
        if e.method not in (0, 8):
            raise _zip_error(f"record {name} uses unsupported compression method {e.method}")
        raw = self._pread(offset, e.csize)
        if e.method == 8:
            raw = _inflate(raw, e.usize, name)
        self._check(e, raw)
        return raw

    def read_into_array(self, name):
        """The record's bytes in a fresh writable uint8 array (no intermediate copy)."""
        e = self._entry(name)
        if e.method not in (0, 8):
            raise _zip_error(f"record {name} uses unsupported compression method {e.method}")
        offset = self.record_offset(name) - self._base
        out = np.empty(e.usize, np.uint8)
        if e.method == 8:
            self._inflate_into(e, offset, out)
        elif e.usize:
            self._f.seek(self._base + offset)
            got = _readinto(self._f, out)
            if got != e.usize:
                raise _zip_error("file read failed")
        self._check(e, out)
        return out

    def _inflate_into(self, e, offset, out):
        """Inflate a record into `out` piece by piece: the record costs its size once."""
        name = e.name[len(self.prefix):]
        d = zlib.decompressobj(-15)
        self._f.seek(self._base + offset)
        left = e.csize
        pos = 0
        buf = b''
        try:
            while not d.eof:
                if not buf:
                    if not left:
                        break
                    buf = self._f.read(min(left, _CHUNK))
                    if not buf:
                        raise _zip_error("file read failed")
                    left -= len(buf)
                room = out.nbytes - pos
                piece = d.decompress(buf, min(room + 1, _CHUNK))  # never 0: that is unlimited
                buf = d.unconsumed_tail
                if len(piece) > room:
                    raise _zip_error(f"record {name} has the wrong size")
                out[pos:pos + len(piece)] = np.frombuffer(piece, np.uint8)
                pos += len(piece)
        except zlib.error:
            raise _zip_error(f"record {name} is not valid deflate data") from None
        if not d.eof or pos != out.nbytes:
            raise _zip_error(f"record {name} has the wrong size")


def _readinto(f, out):
    readinto = getattr(f, 'readinto', None)
    if readinto is None:
        data = f.read(out.nbytes)
        out[:len(data)] = np.frombuffer(data, np.uint8)
        return len(data)
    view = memoryview(out)
    got = 0
    while got < out.nbytes:
        n = readinto(view[got:])
        if not n:
            break
        got += n
    return got


def _zip64_fields(extra, usize, csize, offset):
    """Replace 0xFFFFFFFF placeholders by the values of a ZIP64 extra field."""
    if usize != _U32_MAX and csize != _U32_MAX and offset != _U32_MAX:
        return usize, csize, offset
    pos = 0
    while pos + 4 <= len(extra):
        tag, ln = struct.unpack_from('<HH', extra, pos)
        body = extra[pos + 4:pos + 4 + ln]
        pos += 4 + ln
        if tag != 1:
            continue
        vals = [struct.unpack_from('<Q', body, i)[0] for i in range(0, len(body) - 7, 8)]
        try:
            if usize == _U32_MAX:
                usize = vals.pop(0)
            if csize == _U32_MAX:
                csize = vals.pop(0)
            if offset == _U32_MAX:
                offset = vals.pop(0)
        except IndexError:
            raise _zip_error("invalid ZIP64 extra field") from None
        return usize, csize, offset
    raise _zip_error("missing ZIP64 extra field")


def _inflate(raw, usize, name):
    # one output buffer of the declared size (zlib grows it only for a lying size, and then
    # no further than the deflate ratio allows)
    try:
        out = zlib.decompress(raw, -15, usize + 1)
    except zlib.error:
        raise _zip_error(f"record {name} is not valid deflate data") from None
    if len(out) != usize:
        raise _zip_error(f"record {name} has the wrong size")
    return out
