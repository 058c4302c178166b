"""torch.hub on ember against torch 2.13: the cache directory, downloads (file:// URLs and a
local HTTP server started here; never the internet), hash checks, checkpoints (zip and legacy
zipped) and a local repository's hubconf.py."""
import hashlib
import http.server
import os
import threading
import zipfile

import numpy as np
import pytest

import ember
from _oracle import assert_same

torch = pytest.importorskip('torch')


@pytest.fixture
def hub_home(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'home'))
    monkeypatch.delenv('XDG_CACHE_HOME', raising=False)
    for L in (torch, ember):
        monkeypatch.setattr(L.hub, '_hub_dir', None)
    return tmp_path


def test_get_dir_and_set_dir(hub_home, monkeypatch):
    assert_same(lambda L: L.hub.get_dir(), torch)
    monkeypatch.delenv('TORCH_HOME')
    monkeypatch.setenv('XDG_CACHE_HOME', str(hub_home / 'xdg'))
    assert_same(lambda L: L.hub.get_dir(), torch)
    monkeypatch.delenv('XDG_CACHE_HOME')
    assert_same(lambda L: L.hub.get_dir(), torch)
    assert ember.hub.get_dir() == os.path.expanduser('~/.cache/torch/hub')

    def set_get(L):
        L.hub.set_dir('~/somewhere')
        return L.hub.get_dir()
    assert_same(set_get, torch)


def _checkpoint(L, path):
    sd = {'w': L.tensor(np.arange(6.0).reshape(2, 3)), 'b': L.tensor([1, 2])}
    L.save(sd, path)
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _as_plain(sd):
    return {k: (str(v.dtype), v.tolist()) for k, v in sd.items()}


def test_load_state_dict_from_file_url(hub_home, capsys):
    src = hub_home / 'src'
    src.mkdir()
    digest = _checkpoint(ember, src / 'model.pt')
    named = src / f'resnet-{digest[:8]}.pth'
    os.link(src / 'model.pt', named)
    for L in (torch, ember):
        L.hub._hub_dir = None
        d = hub_home / f'models_{L.__name__}'
        sd = L.hub.load_state_dict_from_url(named.as_uri(), model_dir=str(d), check_hash=True,
                                            progress=False)
        assert _as_plain(sd) == {'w': ('torch.float64' if L is torch else 'torch.float64',
                                       [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]),
                                 'b': ('torch.int64', [1, 2])}
        assert os.listdir(d) == [named.name]
    out = capsys.readouterr().out
    assert out.count('Downloading: "file://') == 2
    # default directory get_dir()/checkpoints, file_name=, cached: no second download
    sd = ember.hub.load_state_dict_from_url(named.as_uri(), file_name='x.pt', progress=False)
    assert os.path.exists(os.path.join(ember.hub.get_dir(), 'checkpoints', 'x.pt'))
    capsys.readouterr()
    ember.hub.load_state_dict_from_url(named.as_uri(), file_name='x.pt', progress=False)
    assert capsys.readouterr().out == ''


def test_hash_mismatch_raises_as_torch(hub_home):
    src = hub_home / 'src'
    src.mkdir()
    digest = _checkpoint(ember, src / 'm.pt')
    wrong = '0123abcd' if not digest.startswith('0123abcd') else 'ffffffff'
    bad = src / f'm-{wrong}.pt'
    os.link(src / 'm.pt', bad)

    def run(L):
        d = hub_home / f'd_{L.__name__}'
        try:
            L.hub.load_state_dict_from_url(bad.as_uri(), model_dir=str(d), check_hash=True,
                                           progress=False)
        finally:
            left = sorted(os.listdir(d))
        return left
    assert_same(run, torch)
    assert_same(lambda L: L.hub.download_url_to_file(bad.as_uri(), str(hub_home / 'x'),
                                              hash_prefix=wrong, progress=False), torch)
    assert not os.path.exists(hub_home / 'x')


def test_map_location_and_weights_only(hub_home):
    src = hub_home / 'm.pt'
    _checkpoint(ember, src)
    sd = ember.hub.load_state_dict_from_url(src.as_uri(), model_dir=str(hub_home / 'c'),
                                            map_location='cpu', weights_only=True,
                                            progress=False)
    assert sd['w'].device == ember.device('cpu')


def test_legacy_zipped_checkpoint(hub_home):
    """A checkpoint saved by torch < 1.6 was zipped alone into a .zip: torch.hub extracts and
    loads it (with a FutureWarning)."""
    inner = hub_home / 'weights.pt'
    _checkpoint(torch, inner)
    z = hub_home / 'weights.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        zf.write(inner, 'weights.pt')

    def run(L):
        d = hub_home / f'lz_{L.__name__}'
        with pytest.warns(FutureWarning, match='Falling back to the old format'):
            sd = L.hub.load_state_dict_from_url(z.as_uri(), model_dir=str(d), progress=False)
        return _as_plain(sd), sorted(os.listdir(d))
    assert_same(run, torch)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_over_http_with_progress(hub_home, capfd):
    root = hub_home / 'www'
    root.mkdir()
    payload = bytes(range(256)) * 2000
    (root / 'blob.bin').write_bytes(payload)
    handler = lambda *a, **kw: _Handler(*a, directory=str(root), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = f'http://127.0.0.1:{server.server_address[1]}/blob.bin'
        digest = hashlib.sha256(payload).hexdigest()
        for L in (torch, ember):
            dst = hub_home / f'blob_{L.__name__}'
            L.hub.download_url_to_file(url, str(dst), hash_prefix=digest[:10], progress=True)
            assert dst.read_bytes() == payload
        err = capfd.readouterr().err
        assert '100%' in err
        with pytest.raises(Exception) as te:
            torch.hub.download_url_to_file(url + 'x', str(hub_home / 'n'), progress=False)
        with pytest.raises(type(te.value)) as ee:
            ember.hub.download_url_to_file(url + 'x', str(hub_home / 'n'), progress=False)
        assert str(ee.value) == str(te.value)
        assert sorted(os.listdir(hub_home)) == sorted(
            ['blob_torch', 'blob_ember', 'www'])
    finally:
        server.shutdown()
        server.server_close()


HUBCONF = '''
"""a test hub"""
dependencies = ['numpy']
from helper import width


def tiny(out=2, **kw):
    """A tiny linear layer."""
    import torch
    return torch.nn.Linear(width(), out, **kw)


def _private():
    pass


not_callable = 3
'''


@pytest.fixture
def repo(tmp_path):
    d = tmp_path / 'repo'
    d.mkdir()
    (d / 'hubconf.py').write_text(HUBCONF)
    (d / 'helper.py').write_text('def width():\n    return 3\n')
    return d


def _run_as_torch(L, fn):
    """hubconf.py says `import torch`: run it with L standing for torch."""
    import sys
    saved = sys.modules.get('torch')
    sys.modules['torch'] = L
    try:
        return fn()
    finally:
        sys.modules['torch'] = saved


def test_local_repository(repo):
    def run(L):
        m = _run_as_torch(L, lambda: L.hub.load(str(repo), 'tiny', 4, source='local',
                                                bias=False))
        return type(m).__name__, tuple(m.weight.shape), m.bias
    assert_same(run, torch)
    assert_same(lambda L: L.hub.load(str(repo), 'nope', source='local'), torch)
    assert_same(lambda L: L.hub.load(str(repo), 'not_callable', source='local'), torch)
    assert_same(lambda L: L.hub.load(str(repo), 3, source='local'), torch)
    assert_same(lambda L: L.hub.load(str(repo), 'tiny', source='svn'), torch)


def test_missing_dependencies(repo):
    (repo / 'hubconf.py').write_text(HUBCONF.replace("['numpy']",
                                                     "['numpy', 'no_such_pkg_ember']"))
    assert_same(lambda L: L.hub.load(str(repo), 'tiny', source='LOCAL'), torch)
