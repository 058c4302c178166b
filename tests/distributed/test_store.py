"""torch.distributed's key-value stores: the same operations on ember's and torch's stores give
the same values and errors (HashStore, FileStore, TCPStore with a client thread, PrefixStore)."""
import threading
import time
from datetime import timedelta

import pytest
import torch
import torch.distributed as tdist

import ember.distributed as edist


def _script(dist, store, other=None):
    """Every store operation a program uses, with what each gives back (or raises); `other`
    (another client of the same store) sets a key while `store` waits for it."""
    out = []

    def rec(f, *args):
        try:
            out.append(repr(f(*args)))
        except Exception as e:   # noqa: BLE001 -- the error is the result compared
            out.append(f'{type(e).__name__} {e}'.split('\n')[0])

    rec(store.set, 'a', 'x')
    rec(store.get, 'a')
    rec(store.set, 'b', b'\x00\x01')
    rec(store.get, 'b')
    rec(store.add, 'c', 3)
    rec(store.add, 'c', -5)
    rec(store.get, 'c')
    rec(store.check, ['a', 'zz'])
    rec(store.check, ['a', 'b'])
    rec(store.delete_key, 'a')
    rec(store.delete_key, 'a')
    rec(store.compare_set, 'k', 'old', 'new')
    rec(store.compare_set, 'k', '', 'new')
    rec(store.compare_set, 'k', 'new', 'v2')
    rec(store.compare_set, 'k', 'wrong', 'v3')
    rec(store.append, 'ap', 'x')
    rec(store.append, 'ap', b'y')
    rec(store.get, 'ap')
    rec(store.multi_set, ['m1', 'm2'], ['1', b'2'])
    rec(store.multi_get, ['m1', 'm2'])
    rec(store.queue_push, 'q', 'first')
    rec(store.queue_push, 'q', 'second')
    rec(store.queue_len, 'q')
    rec(store.queue_pop, 'q')
    rec(store.queue_pop, 'q', False)
    rec(store.queue_pop, 'q', False)
    rec(lambda: sorted(store.list_keys()))
    rec(store.num_keys)
    rec(store.has_extended_api)
    rec(lambda: store.timeout)
    store.set_timeout(timedelta(milliseconds=150))
    rec(lambda: store.timeout)
    rec(store.get, 'missing')
    rec(store.wait, ['missing', 'a'])
    rec(store.wait, ['b'], timedelta(milliseconds=50))
    # a key set by another thread wakes a waiting get
    threading.Timer(0.05, (other or store).set, ('late', 'here')).start()
    store.set_timeout(timedelta(seconds=10))
    rec(store.get, 'late')
    pre = dist.PrefixStore('pre', store)
    rec(pre.set, 'p', '1')
    rec(store.get, 'pre/p')
    rec(pre.add, 'n', 2)
    rec(pre.check, ['p', 'n'])
    rec(lambda: pre.underlying_store is store)
    return out


def test_hash_store():
    assert _script(edist, edist.HashStore()) == _script(tdist, tdist.HashStore())


def test_file_store(tmp_path):
    e = _script(edist, edist.FileStore(str(tmp_path / 'e'), 1))
    t = _script(tdist, tdist.FileStore(str(tmp_path / 't'), 1))
    # torch's FileStore keeps a reference count of its own among the keys (list_keys and
    # num_keys, items 26 and 27, show it): ember's does not
    assert e[:26] + e[28:] == t[:26] + t[28:]
    assert len(e) == len(t) == 40


def test_file_store_in_a_missing_directory(tmp_path):
    # torch 2.13 raises DistStoreError('No such file or directory') here, but after another
    # FileStore in the same process it can block in its constructor: checked on ember only
    with pytest.raises(edist.DistStoreError, match='^No such file or directory$'):
        edist.FileStore(str(tmp_path / 'none' / 'f'), 1)


def test_file_store_is_shared_between_instances(tmp_path):
    path = str(tmp_path / 'f')
    a, b = edist.FileStore(path, 2), edist.FileStore(path, 2)
    a.set('x', '1')
    assert b.get('x') == b'1' and b.add('n', 4) == 4 and a.add('n', 1) == 5


def test_tcp_store_master_and_client():
    master = {}
    for lib, dist in (('ember', edist), ('torch', tdist)):
        s = dist.TCPStore('127.0.0.1', 0, is_master=True, wait_for_workers=False)
        c = dist.TCPStore('127.0.0.1', s.port, is_master=False)
        other = dist.TCPStore('127.0.0.1', s.port, is_master=False)
        master[lib] = (_script(dist, c, other), s.get('c'), s.get('pre/p'), s.num_keys(),
                       s.port > 0)
    assert master['ember'] == master['torch']


def test_tcp_store_waits_for_its_workers():
    s = edist.TCPStore('127.0.0.1', 0, world_size=3, is_master=True, wait_for_workers=False)
    clients = []
    threads = [threading.Thread(target=lambda: clients.append(
        edist.TCPStore('127.0.0.1', s.port, world_size=3))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(clients) == 2 and s.num_keys() == 0
    start = time.monotonic()
    got = []
    threading.Thread(target=lambda: got.append(clients[0].get('go'))).start()
    clients[1].set('go', 'now')
    while not got and time.monotonic() - start < 10:
        time.sleep(0.01)
    assert got == [b'now']


def test_tcp_store_connect_timeout():
    for dist in (edist, tdist):
        with pytest.raises(dist.DistNetworkError, match='timed out after 500ms while trying '
                                                        r'to connect to \(127.0.0.1, 1\)'):
            dist.TCPStore('127.0.0.1', 1, is_master=False, timeout=timedelta(milliseconds=500))


def test_error_classes_are_torchs():
    for name in ('DistError', 'DistBackendError', 'DistNetworkError', 'DistStoreError',
                 'QueueEmptyError'):
        e, t = getattr(edist, name), getattr(tdist, name)
        assert [c.__name__ for c in e.__mro__] == [c.__name__ for c in t.__mro__]
    assert torch.__version__.startswith('2.13')


def _rendezvous(dist, tmp_path, monkeypatch):
    """What rendezvous gives (or raises) for each URL form, with torchrun's variables set."""
    port = _free_port()
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(port))
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    out = []
    for url, kw in ((f'file://{tmp_path}/rdzv', dict(rank=0, world_size=1)),
                    (f'tcp://127.0.0.1:{_free_port()}', dict(rank=0, world_size=1)),
                    ('env://', {}), ('env://?rank=0&world_size=1', {}),
                    ('file://', dict(rank=0, world_size=1)), ('file:///x', {}),
                    ('tcp://127.0.0.1', dict(rank=0, world_size=1)),
                    ('tcp://127.0.0.1:1?rank=0', dict(world_size=1)),
                    ('nope://x', {}), (3, {}), ('env://', dict(rank='0'))):
        try:
            store, r, n = next(dist.rendezvous(url, **kw))
            store.set('k', 'v')
            out.append((type(store).__name__, r, n, store.get('k')))
        except Exception as e:   # noqa: BLE001 -- the error is the result compared
            out.append((type(e).__name__, str(e).replace(str(tmp_path), '')))
    monkeypatch.delenv('RANK')
    try:
        next(dist.rendezvous('env://'))
    except ValueError as e:
        out.append(str(e))
    return out


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_rendezvous_as_torch(tmp_path, monkeypatch):
    (tmp_path / 'e').mkdir()
    (tmp_path / 't').mkdir()
    e = _rendezvous(edist, tmp_path / 'e', monkeypatch)
    t = _rendezvous(tdist, tmp_path / 't', monkeypatch)
    assert e == t and e[0] == ('FileStore', 0, 1, b'v')


def test_register_rendezvous_handler():
    def handler(url, **kwargs):
        yield edist.HashStore(), 7, 9
    edist.register_rendezvous_handler('mine', handler)
    _, rank, size = next(edist.rendezvous('mine://here'))
    assert (rank, size) == (7, 9)
    with pytest.raises(RuntimeError, match='Rendezvous handler for mine:// already registered'):
        edist.register_rendezvous_handler('mine', handler)
    with pytest.raises(RuntimeError, match='Rendezvous handler for env:// already registered'):
        tdist.register_rendezvous_handler('env', handler)


def test_remote_device_as_torch():
    from ember.distributed.remote_device import _remote_device as E
    from torch.distributed.remote_device import _remote_device as T
    for text in ('worker1/cpu', 'rank:0/cpu', 'trainer0', 'cpu', 'rank:3', 'a/b/c', '/cpu',
                 'rank:x/cpu', 'w:1:2/cpu'):
        got = []
        for cls in (E, T):
            try:
                d = cls(text)
                got.append((repr(d), d.worker_name(), d.rank(), str(d.device())))
            except ValueError as e:
                got.append(str(e))
        assert got[0] == got[1], text


def test_constants():
    assert edist.constants.default_pg_timeout == tdist.constants.default_pg_timeout
    assert edist.constants.default_pg_nccl_timeout == tdist.constants.default_pg_nccl_timeout
