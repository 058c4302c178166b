"""torch.distributed.rendezvous: how processes find each other before a process group exists.
A URL names the method (``env://``, ``tcp://host:port``, ``file:///path``, or a scheme a
program registers); ``rendezvous(url)`` yields (store, rank, world_size) once.

ember's process groups meet through MPI instead; these serve programs that make their own
stores this way.
"""
import numbers
import os
from urllib.parse import urlparse, urlunparse

from ._store import FileStore, TCPStore
from .constants import default_pg_timeout

__all__ = ['register_rendezvous_handler', 'rendezvous']

_handlers = {}


def register_rendezvous_handler(scheme, handler):
    """Make `handler(url, **kwargs)` (a generator of (store, rank, world_size)) answer
    `scheme://` URLs."""
    if scheme in _handlers:
        raise RuntimeError(f'Rendezvous handler for {scheme}:// already registered')
    _handlers[scheme] = handler


def _query(query):
    return dict(pair.split('=') for pair in query.split('&') if pair)


def rendezvous(url, rank=-1, world_size=-1, **kwargs):
    """The handler of url's scheme, with rank and world_size added to the URL's query."""
    if not isinstance(url, (str, bytes)):
        raise RuntimeError(f'`url` must be a string. {type(url)}: {url}')
    if not isinstance(rank, numbers.Integral):
        raise RuntimeError(f'`rank` must be an integer. {rank}')
    if not isinstance(world_size, numbers.Integral):
        raise RuntimeError(f'`world_size` must be an integer. {world_size}')
    parts = urlparse(url)
    if rank != -1 or world_size != -1:
        query = _query(parts.query)
        if 'rank' in query or 'world_size' in query:
            raise AssertionError(f'The url: {url} has node-specific arguments(rank, '
                                 f'world_size) already.')
        if rank != -1:
            query['rank'] = str(rank)
        query['world_size'] = str(world_size)
        parts = parts._replace(query='&'.join(f'{k}={v}' for k, v in query.items()))
        url = urlunparse(parts)
    if parts.scheme not in _handlers:
        raise RuntimeError(f'No rendezvous handler for {parts.scheme}://')
    return _handlers[parts.scheme](url, **kwargs)


def _error(method, msg):
    return ValueError(f'Error initializing torch.distributed using {method}:// rendezvous: '
                      f'{msg}')


def _rank_and_size(method, query, from_env=False):
    out = []
    for key, env, what in (('rank', 'RANK', 'rank parameter'),
                           ('world_size', 'WORLD_SIZE', 'world size parameter')):
        if key in query:
            out.append(int(query[key]))
        elif from_env:
            out.append(int(_env(env)))
        else:
            raise _error(method, f'{what} missing')
    return out


def _env(var):
    value = os.environ.get(var)
    if not value:
        raise _error('env', f'environment variable {var} expected, but not set')
    return value


def _tcp_store(host, port, rank, world_size, timeout):
    """Rank 0 serves the store, unless torchrun's agent already does
    (TORCHELASTIC_USE_AGENT_STORE)."""
    if not 0 <= port < 2 ** 16:
        raise ValueError(f'port must have value from 0 to 65535 but was {port}.')
    agent = os.environ.get('TORCHELASTIC_USE_AGENT_STORE') == 'True'
    return TCPStore(host, port, world_size, is_master=rank == 0 and not agent, timeout=timeout,
                    multi_tenant=True)


def _tcp_handler(url, timeout=default_pg_timeout, **kwargs):
    parts = urlparse(url)
    if parts.port is None:
        raise _error('tcp', 'port number missing')
    rank, size = _rank_and_size('tcp', _query(parts.query))
    yield _tcp_store(parts.hostname, parts.port, rank, size, timeout), rank, size
    raise RuntimeError('Unable to perform re-rendezvous using tcp:// method')


def _env_handler(url, timeout=default_pg_timeout, **kwargs):
    rank, size = _rank_and_size('env', _query(urlparse(url).query), from_env=True)
    host, port = _env('MASTER_ADDR'), int(_env('MASTER_PORT'))
    yield _tcp_store(host, port, rank, size, timeout), rank, size
    raise RuntimeError('Unable to perform re-rendezvous using env:// method')


def _file_handler(url, **kwargs):
    parts = urlparse(url)
    if not parts.path:
        raise _error('file', 'path missing')
    rank, size = _rank_and_size('file', _query(parts.query))
    yield FileStore(parts.path, size), rank, size
    raise RuntimeError('Unable to perform rerendezvous using file:// method')


register_rendezvous_handler('tcp', _tcp_handler)
register_rendezvous_handler('env', _env_handler)
register_rendezvous_handler('file', _file_handler)
