"""Whole-model pickles both ways: ember writes torch's class names, torch's files load on ember.

Each side runs in its own subprocess, as users do (the ember side also with torch made
unimportable, and under ``ember run``); outputs of the loaded model's forward are compared.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from _subproc import ROOT, env, write

pytest.importorskip('torch')

# the program's own model class lives in __main__ and keeps that name in the pickle
MODEL = '''
import json, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(),
                                  nn.Flatten(), nn.Linear(12, 5))
        self.norm = nn.LayerNorm(5)
        self.act = F.gelu

    def forward(self, x):
        return self.act(self.norm(self.body(x)))
'''

SAVE = MODEL + '''
torch.manual_seed(0)
m = Net()
m(torch.randn(4, 1, 4, 4))      # running statistics move
m.eval()
opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
x = torch.randn(2, 1, 4, 4)
m(x).sum().backward()
opt.step()
torch.save({'model': m, 'opt': opt, 'x': x}, sys.argv[1])
torch.save(m.body, sys.argv[1] + '.body')
print(json.dumps(m(x).tolist()))
'''

LOAD = MODEL + '''
d = torch.load(sys.argv[1], weights_only=False)
m, x = d['model'], d['x']
assert type(m).__name__ == 'Net' and type(m).__module__ == '__main__'
assert type(d['opt']).__name__ == 'AdamW'
d['opt'].step()     # the optimizer works after loading
safe = [nn.Sequential, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Flatten, nn.Linear]
try:
    torch.load(sys.argv[1] + '.body', weights_only=True)
    refused = False
except Exception as e:
    refused = 'Unsupported global' in str(e) or 'weights_only' in str(e).lower()
with torch.serialization.safe_globals(safe):
    body = torch.load(sys.argv[1] + '.body', weights_only=True)
torch.serialization.add_safe_globals(safe)
body2 = torch.load(sys.argv[1] + '.body', weights_only=True)
print(json.dumps({'out': m(x).tolist(), 'body': body(x).tolist(), 'body2': body2(x).tolist(),
                  'refused': refused}))
'''

# ember with `import torch` answered by the hook but no real torch anywhere
BLOCK = '''
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == 'torch' or name.startswith('torch.'):
            raise ImportError('real torch is blocked in this test')
sys.meta_path.insert(0, _Block())
'''


def _run(tmp_path, side, script, *args):
    e = env()
    if side == 'torch':
        cmd = [sys.executable, str(script), *args]
        e['PYTHONPATH'] = ''
    elif side == 'ember-run':
        cmd = [sys.executable, '-m', 'ember', 'run', str(script), *args]
    elif side == 'ember-blocked':
        write(tmp_path, 'block/sitecustomize.py', BLOCK)
        e['PYTHONPATH'] = f"{tmp_path / 'block'}:{ROOT}"
        cmd = [sys.executable, '-m', 'ember', 'run', str(script), *args]
    else:  # a notebook-style opt-in
        cmd = [sys.executable, '-c', 'import ember, runpy, sys; ember.install_as_torch(); '
               'sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")',
               str(script), *args]
    r = subprocess.run(cmd, cwd=str(tmp_path), env=e, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, f'{side}: {r.stderr}'
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('saver,loader', [
    ('ember-run', 'torch'), ('torch', 'ember-run'),
    ('ember-blocked', 'torch'), ('torch', 'ember-blocked'), ('ember-opt-in', 'torch')])
def test_whole_model_both_ways(tmp_path, saver, loader):
    save = write(tmp_path, 'save.py', SAVE)
    load = write(tmp_path, 'load.py', LOAD)
    expected = np.array(_run(tmp_path, saver, save, 'ckpt.pt'))
    got = _run(tmp_path, loader, load, 'ckpt.pt')
    np.testing.assert_allclose(np.array(got['out']), expected, rtol=1e-5, atol=1e-6)
    # the allow-listed classes load under weights_only=True, and only with the allow-list
    assert got['refused'] is True
    body = np.array(got['body'])
    np.testing.assert_allclose(np.array(got['body2']), body)
    assert body.shape == (2, 5)


def test_ember_pickle_names_torch_classes(tmp_path):
    save = write(tmp_path, 'save.py', SAVE)
    _run(tmp_path, 'ember-blocked', save, 'ckpt.pt')
    r = subprocess.run([sys.executable, '-c', 'import torch, sys; print("\\n".join(sorted('
                        'torch.serialization.get_unsafe_globals_in_checkpoint(sys.argv[1]))))',
                        'ckpt.pt'], cwd=str(tmp_path), env=env(PYTHONPATH=''),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    names = set(r.stdout.split())
    for n in ('__main__.Net', 'torch.nn.modules.batchnorm.BatchNorm2d',
              'torch.nn.modules.linear.Linear', 'torch.nn.modules.conv.Conv2d',
              'torch.nn.modules.container.Sequential', 'torch.nn.functional.gelu',
              'torch.optim.adamw.AdamW'):
        assert n in names, (n, names)
    assert not [n for n in names if 'ember' in n], names


def test_torch_name_of_ember_objects():
    import ember
    from ember.serialization._pickle import torch_name
    assert torch_name(ember.nn.BatchNorm2d) == ('torch.nn.modules.batchnorm', 'BatchNorm2d')
    assert torch_name(ember.nn.Linear) == ('torch.nn.modules.linear', 'Linear')
    assert torch_name(ember.nn.Parameter) == ('torch.nn.parameter', 'Parameter')
    assert torch_name(ember.nn.functional.relu) == ('torch.nn.functional', 'relu')
    assert torch_name(ember.optim.Adam) == ('torch.optim.adam', 'Adam')

    class Mine:
        pass
    assert torch_name(Mine) is None
