"""torch.distributed's key-value stores: HashStore (one process), FileStore (processes sharing a
file system), TCPStore (processes that reach one master over TCP) and PrefixStore.

ember's process groups meet through MPI, not a store; the stores serve what programs do with
them directly (rendezvous of their own, counters, barriers) and `ember run --nnodes M`, whose
nodes find each other through a TCPStore at MASTER_ADDR:MASTER_PORT as torchrun's do.

Every store keeps bytes under string keys with torch's semantics: `get` and `wait` block until
the keys exist or the timeout passes, `add` keeps a decimal counter, `compare_set` swaps only on
a match. TCPStore's wire format is ember's own (length-prefixed byte strings, never pickle):
an ember TCPStore talks to ember TCPStores, not to torch's.
"""
import fcntl
import socket
import socketserver
import struct
import threading
import time
import weakref
from datetime import timedelta

__all__ = ['DistError', 'DistBackendError', 'DistNetworkError', 'DistStoreError',
           'QueueEmptyError', 'Store', 'HashStore', 'FileStore', 'TCPStore', 'PrefixStore']

_DEFAULT_TIMEOUT = timedelta(seconds=300)


class DistError(RuntimeError):
    pass


class DistBackendError(DistError):
    pass


class DistNetworkError(DistError):
    pass


class DistStoreError(DistError):
    pass


class QueueEmptyError(DistStoreError):
    pass


def _bytes(value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):    # torch takes a list of byte values as well
        return bytes(value)
    raise TypeError(f'a store value must be str or bytes, not {type(value).__name__}')


def _seconds(timeout):
    return timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)


def _int(raw):
    """A counter's value: torch parses it with std::stoll, whose error it passes on."""
    try:
        return int(raw.decode() if raw else '')
    except ValueError:
        raise ValueError('stoll') from None


class _Table:
    """The keys and values of one store, safe across threads; `wait` sleeps on a condition."""

    def __init__(self):
        self.data = {}
        self.cond = threading.Condition()

    def call(self, op, args, timeout):
        with self.cond:
            if op in ('get', 'wait'):
                keys = args if op == 'wait' else args[:1]
                if not self.cond.wait_for(lambda: all(k in self.data for k in keys),
                                          max(timeout, 0.0)):
                    return None             # timed out: the store raises its own message
                return [self.data[keys[0]]] if op == 'get' else []
            out = _OPS[op](self.data, args)
            if op in _WRITES:
                self.cond.notify_all()
            return out


def _cas(data, args):
    key, expected, desired = args
    if key not in data:
        if expected:
            return [expected]
        data[key] = desired
        return [desired]
    if data[key] == expected:
        data[key] = desired
    return [data[key]]


def _add(data, args):
    key, amount = args
    data[key] = str(_int(data.get(key, b'0')) + _int(amount)).encode()
    return [data[key]]


_Q = '\0queue/'     # queues live beside the keys: check() sees them, list/num_keys do not


def _queue_pop(data, args):
    queue = data.get(_Q + args[0])
    if not queue:
        return None
    item = queue.pop(0)
    if not queue:
        del data[_Q + args[0]]
    return [item]


def _keys(data):
    return [k for k in data if not k.startswith(_Q)]


_OPS = {
    'set': lambda d, a: d.__setitem__(a[0], a[1]) or [],
    'multi_set': lambda d, a: d.update(zip(a[:len(a) // 2], a[len(a) // 2:])) or [],
    'append': lambda d, a: d.__setitem__(a[0], d.get(a[0], b'') + a[1]) or [],
    'add': _add,
    'compare_set': _cas,
    'check': lambda d, a: [b'1' if all(k in d or _Q + k in d for k in a) else b'0'],
    'delete_key': lambda d, a: [b'1' if d.pop(a[0], None) is not None else b'0'],
    'num_keys': lambda d, a: [str(len(_keys(d))).encode()],
    'list_keys': lambda d, a: [k.encode() for k in _keys(d)],
    'multi_get': lambda d, a: [d[k] for k in a],
    'queue_push': lambda d, a: d.setdefault(_Q + a[0], []).append(a[1]) or [],
    'queue_pop': _queue_pop,
    'queue_len': lambda d, a: [str(len(d.get(_Q + a[0], []))).encode()],
}
_WRITES = {'set', 'multi_set', 'append', 'add', 'compare_set', 'delete_key', 'queue_push',
           'queue_pop'}
_ALL_KEYS = {'wait', 'check', 'multi_get'}      # the other operations' first argument is a key


def _map_keys(op, args, f):
    """`args` of `op` with f applied to the keys among them (a prefix, a decoding)."""
    if op in _ALL_KEYS:
        return [f(k) for k in args]
    if op == 'multi_set':
        n = len(args) // 2
        return [f(k) for k in args[:n]] + args[n:]
    if op in ('num_keys', 'list_keys'):
        return args
    return [f(args[0]), *args[1:]]


class Store:
    """torch.distributed.Store: the API every store shares, on one primitive, `_call`."""

    def __init__(self):
        self._timeout = _DEFAULT_TIMEOUT

    @property
    def timeout(self):
        return self._timeout

    def set_timeout(self, timeout):
        self._timeout = timeout

    def _call(self, op, args, timeout=None):
        raise NotImplementedError(f'{type(self).__name__} does not implement the store '
                                  f'operation {op!r}')

    def _timed_out(self, keys, timeout):
        return DistStoreError('Wait timeout')

    def _blocking(self, op, keys, timeout):
        timeout = _seconds(self.timeout if timeout is None else timeout)
        out = self._call(op, keys, timeout)
        if out is None:
            raise self._timed_out(keys, timeout)
        return out

    def set(self, key, value):
        self._call('set', [key, _bytes(value)])

    def get(self, key):
        return self._blocking('get', [key], None)[0]

    def wait(self, keys, timeout=None):
        self._blocking('wait', list(keys), timeout)

    def check(self, keys):
        return self._call('check', list(keys))[0] == b'1'

    def add(self, key, amount):
        return _int(self._call('add', [key, str(int(amount)).encode()])[0])

    def append(self, key, value):
        self._call('append', [key, _bytes(value)])

    def compare_set(self, key, expected_value, desired_value):
        return self._call('compare_set', [key, _bytes(expected_value), _bytes(desired_value)])[0]

    def delete_key(self, key):
        return self._call('delete_key', [key])[0] == b'1'

    def num_keys(self):
        return int(self._call('num_keys', [])[0])

    def list_keys(self):
        return [k.decode() for k in self._call('list_keys', [])]

    def multi_get(self, keys):
        keys = list(keys)
        self.wait(keys)
        return self._call('multi_get', keys)

    def multi_set(self, keys, values):
        self._call('multi_set', list(keys) + [_bytes(v) for v in values])

    def queue_push(self, key, value):
        self._call('queue_push', [key, _bytes(value)])

    def queue_pop(self, key, block=True):
        deadline = time.monotonic() + _seconds(self.timeout)
        while True:
            out = self._call('queue_pop', [key])
            if out is not None:
                return out[0]
            if not block:
                raise QueueEmptyError('queue is empty')
            if time.monotonic() > deadline:
                raise self._timed_out([key], _seconds(self.timeout))
            time.sleep(0.01)

    def queue_len(self, key):
        return int(self._call('queue_len', [key])[0])

    def has_extended_api(self):
        return True

    def clone(self):
        return self

    def barrier(self, *args, **kwargs):
        raise NotImplementedError('Store.barrier is not supported by ember yet')


class HashStore(Store):
    """An in-memory store for the threads of one process."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def _call(self, op, args, timeout=None):
        return self._table.call(op, args, timeout or 0.0)


class PrefixStore(Store):
    """Every key of `store` under `prefix/`."""

    def __init__(self, prefix, store):
        super().__init__()
        self._prefix, self.underlying_store = prefix, store

    @property
    def timeout(self):
        return self.underlying_store.timeout

    def set_timeout(self, timeout):
        self.underlying_store.set_timeout(timeout)

    def _key(self, key):
        return f'{self._prefix}/{key}'

    def _call(self, op, args, timeout=None):
        args = _map_keys(op, args, self._key)
        return self.underlying_store._call(op, args, timeout)

    def _timed_out(self, keys, timeout):
        return self.underlying_store._timed_out(keys, timeout)

    def list_keys(self):
        head = self._prefix + '/'
        return [k[len(head):] for k in self.underlying_store.list_keys() if k.startswith(head)]


class FileStore(Store):
    """A store in one file, for processes that share a file system: every operation takes the
    file's lock, reads the table from the file and, if it changed it, writes it back."""

    def __init__(self, file_name, world_size=-1):
        super().__init__()
        self.path, self._world_size = file_name, world_size
        try:
            open(file_name, 'ab').close()
        except OSError as e:
            raise DistStoreError(e.strerror) from None

    def _timed_out(self, keys, timeout):
        return RuntimeError(f'Timeout waiting for key: {keys[0]} after {timeout * 1000:.0f} ms')

    def wait(self, keys, timeout=None):
        try:
            super().wait(keys, timeout)
        except RuntimeError:
            raise RuntimeError('Wait timeout') from None

    def delete_key(self, key):
        super().delete_key(key)
        return True             # as torch's FileStore, whether or not the key was there

    def has_extended_api(self):
        return False

    def queue_push(self, *args, **kwargs):
        raise NotImplementedError('queue support is not implemented.')

    queue_pop = queue_len = queue_push

    def _once(self, op, args):
        with open(self.path, 'r+b') as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                data = _load(f.read())
                if op in ('get', 'wait'):
                    keys = args if op == 'wait' else args[:1]
                    if not all(k in data for k in keys):
                        return None
                    return [data[keys[0]]] if op == 'get' else []
                out = _OPS[op](data, args)
                if op in _WRITES:
                    f.seek(0)
                    f.truncate()
                    f.write(_dump(data))
                return out
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _call(self, op, args, timeout=None):
        deadline = time.monotonic() + (timeout or 0.0)
        while True:
            out = self._once(op, args)
            if out is not None or op not in ('get', 'wait') or time.monotonic() > deadline:
                return out
            time.sleep(0.01)


def _frame(items):
    """Length-prefixed byte strings: the one wire format of the TCP store and the file."""
    return struct.pack('!I', len(items)) + b''.join(struct.pack('!Q', len(i)) + i for i in items)


def _unframe(buf, pos=0):
    (n,), pos = struct.unpack_from('!I', buf, pos), pos + 4
    out = []
    for _ in range(n):
        (size,), pos = struct.unpack_from('!Q', buf, pos), pos + 8
        out.append(bytes(buf[pos:pos + size]))
        pos += size
    return out, pos


def _dump(data):
    """A table as records: (key, b'v', value), or (key, b'q', *items) for a queue."""
    return b''.join(_frame([k.encode(), b'q', *v] if isinstance(v, list) else
                           [k.encode(), b'v', v]) for k, v in data.items())


def _load(raw):
    data, pos = {}, 0
    while pos < len(raw):
        (key, kind, *rest), pos = _unframe(raw, pos)
        data[key.decode()] = rest if kind == b'q' else rest[0]
    return data


# ---- TCPStore: a server thread in the master, a socket per client ---------------------------

def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError('the TCPStore connection closed')
        buf += chunk
    return bytes(buf)


def _recv_frame(sock):
    (n,) = struct.unpack('!I', _recv_exact(sock, 4))
    items = []
    for _ in range(n):
        (size,) = struct.unpack('!Q', _recv_exact(sock, 8))
        items.append(_recv_exact(sock, size))
    return items


class _Handler(socketserver.BaseRequestHandler):
    """One client connection: requests [op, timeout, *args] answered with [status, *values]."""

    def handle(self):
        table = self.server.table
        while True:
            try:
                op, timeout, *args = _recv_frame(self.request)
            except (ConnectionError, OSError, struct.error):
                return
            op = op.decode()
            try:
                keyed = _map_keys(op, args, bytes.decode)
                out = table.call(op, keyed, float(timeout))
                reply = [b'timeout'] if out is None else [b'ok', *out]
            except ValueError as e:
                reply = [b'value', str(e).encode()]
            self.request.sendall(_frame(reply))


def _stop(server):
    def stop():
        server.shutdown()
        server.server_close()
    threading.Thread(target=stop, daemon=True).start()    # shutdown() waits for the loop


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    address_family = socket.AF_INET


_TENANTS = {}     # port -> the server of this process's multi-tenant stores on it


class TCPStore(Store):
    """A store served by the master process (is_master=True) on `port`, reached over TCP by
    every other process; port 0 lets the system pick one (see `.port`)."""

    def __init__(self, host_name, port, world_size=None, is_master=False,
                 timeout=_DEFAULT_TIMEOUT, wait_for_workers=True, multi_tenant=False,
                 master_listen_fd=None, use_libuv=True):
        super().__init__()
        self._timeout, self.host, self.libuvBackend = timeout, host_name, bool(use_libuv)
        self._server = None
        if is_master and multi_tenant and int(port) in _TENANTS:
            self._server = _TENANTS[int(port)]      # this process serves that port already
        elif is_master:
            self._server = _Server(('', int(port)), _Handler, bind_and_activate=True)
            self._server.table = _Table()
            threading.Thread(target=self._server.serve_forever, daemon=True,
                             name='ember TCPStore').start()
            port = self._server.server_address[1]
            if multi_tenant:        # every multi-tenant store of the port shares one server
                _TENANTS[port] = self._server
            else:
                # a dropped master closes its port, as torch's does (not at exit: no threads)
                weakref.finalize(self, _stop, self._server).atexit = False
        self.port = int(port)
        self._lock = threading.Lock()
        self._sock = self._connect()
        if world_size is not None and int(world_size) > 0:
            self.add('__ember_workers', 1)
            if is_master and wait_for_workers:
                self._wait_workers(int(world_size))

    def _connect(self):
        limit = _seconds(self._timeout)
        deadline = time.monotonic() + limit
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=limit)
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError:
                if time.monotonic() > deadline:
                    raise DistNetworkError(
                        f'The client socket has timed out after {limit * 1000:.0f}ms while '
                        f'trying to connect to ({self.host}, {self.port}).') from None
                time.sleep(0.1)

    def _wait_workers(self, n):
        deadline = time.monotonic() + _seconds(self._timeout)
        while int(self._call('get', ['__ember_workers'], 0.0)[0]) < n:
            if time.monotonic() > deadline:
                raise DistStoreError(f'Timed out after {_seconds(self._timeout):.0f} seconds '
                                     f'waiting for clients. '
                                     f'{int(self.get("__ember_workers"))}/{n} clients joined.')
            time.sleep(0.01)

    def _timed_out(self, keys, timeout):
        return DistStoreError(f'wait timeout after {timeout * 1000:.0f}ms, keys: '
                              + ', '.join('/' + k for k in keys))

    def _call(self, op, args, timeout=None):
        msg = [op.encode(), str(timeout or 0.0).encode()]
        msg += [a.encode() if isinstance(a, str) else a for a in args]
        with self._lock:
            try:
                self._sock.sendall(_frame(msg))
                status, *out = _recv_frame(self._sock)
            except OSError as e:
                raise DistNetworkError(f'TCPStore at {self.host}:{self.port}: {e}') from None
        if status == b'timeout':
            return None
        if status == b'value':
            raise ValueError(out[0].decode())
        return out

    def num_keys(self):
        return super().num_keys() - self.check(['__ember_workers'])

    def list_keys(self):
        return [k for k in super().list_keys() if k != '__ember_workers']
