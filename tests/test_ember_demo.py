"""`ember demo` run as a user runs it (a subprocess of `python -m ember demo`): it learns the
digits, and what it leaves behind (a torch checkpoint, a PNG) is what it says it is."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCHS = 5  # the one-cycle schedule anneals over whatever count it is given
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    return env


def _ember(*args, cwd, code=None):
    cmd = [sys.executable] + (['-c', code] if code else ['-m', 'ember']) + list(args)
    return subprocess.run(cmd, cwd=str(cwd), env=_env(), capture_output=True, text=True,
                          timeout=600)


def _report(proc):
    out = proc.stdout
    epochs = re.findall(r'^epoch +(\d+)/(\d+) .*held-out accuracy +([\d.]+)%$', out, re.M)
    final = re.search(r'^held-out accuracy: ([\d.]+)% \((\d+)/(\d+)\)', out, re.M)
    ckpt = re.search(r'^checkpoint: (.+\.pt)$', out, re.M)
    png = re.search(r'^curves: +(.+\.png)$', out, re.M)
    assert final and ckpt and png, out
    return epochs, final, ckpt.group(1), png.group(1)


def _held_out(torch, ckpt):
    """The demo's held-out images and labels, prepared as it prepares them."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    torch.manual_seed(0)
    order = torch.randperm(len(digits.target))[:360]
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode='bilinear', align_corners=False)
    x = (x - ckpt['input_mean']) / ckpt['input_std']
    return x[order], torch.tensor(digits.target)[order]


def _lenet(torch):
    nn, F = torch.nn, torch.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(400, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
    return LeNet()


@pytest.fixture(scope='module')
def ember_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp('demo')
    proc = _ember('demo', '--epochs', str(EPOCHS), '--out', 'out', cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd, proc


def test_demo_learns_the_digits(ember_run):
    cwd, proc = ember_run
    epochs, final, _, _ = _report(proc)
    assert [(int(e), int(n)) for e, n, _ in epochs] == [(e, EPOCHS) for e in range(1, EPOCHS + 1)]
    accuracy, right, total = float(final.group(1)), int(final.group(2)), int(final.group(3))
    assert total == 360 and abs(accuracy - 100 * right / total) < 0.01
    assert accuracy >= 97.0, proc.stdout
    assert float(epochs[-1][2]) == accuracy
    # the torchinfo summary of the LeNet and a tqdm bar per epoch
    assert 'Total params: 61,706' in proc.stdout
    assert re.search(r'Conv2d: 1-1 +\[32, 6, 28, 28\] +156', proc.stdout)
    for e in range(1, EPOCHS + 1):
        assert re.search(rf'epoch {e}/{EPOCHS}: 100%.*45/45', proc.stderr)


def test_demo_checkpoint_loads_in_torch_and_ember(ember_run):
    torch = pytest.importorskip('torch')
    import ember
    cwd, proc = ember_run
    _, final, ckpt_path, _ = _report(proc)
    assert os.path.isabs(ckpt_path) and ckpt_path.startswith(str(cwd / 'out'))
    ckpt = torch.load(ckpt_path)  # weights_only=True: plain tensors and numbers
    assert ckpt['epochs'] == EPOCHS
    model = _lenet(torch)
    model.load_state_dict(ckpt['model'])
    model.eval()
    x, y = _held_out(torch, ckpt)
    with torch.no_grad():
        right = (model(x).argmax(1) == y).sum().item()
    # torch, running the weights ember trained, agrees with what ember reported
    assert abs(right - int(final.group(2))) <= 1

    state = ember.load(ckpt_path)['model']
    assert list(state) == list(ckpt['model'])
    for k, v in state.items():
        np.testing.assert_array_equal(v.numpy(), ckpt['model'][k].numpy())
    emodel = _lenet(ember)
    emodel.load_state_dict(state)


def test_demo_png_is_an_image(ember_run):
    from matplotlib import image
    _, proc = ember_run
    _, _, _, png_path = _report(proc)
    with open(png_path, 'rb') as f:
        assert f.read(8) == PNG_SIGNATURE
    pixels = image.imread(png_path)
    assert pixels.ndim == 3 and pixels.shape[0] >= 200 and pixels.shape[1] >= 400
    assert pixels.std() > 0.05  # curves, axes and text: not a blank canvas


def test_demo_on_torch(tmp_path):
    pytest.importorskip('torch')
    proc = _ember('demo', '--framework', 'torch', '--epochs', '1', '--out', 'out', cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'on PyTorch 2.13' in proc.stdout
    _, _, ckpt_path, png_path = _report(proc)
    assert os.path.basename(ckpt_path) == 'lenet_digits_torch.pt'
    assert os.path.exists(ckpt_path) and os.path.exists(png_path)


_BLOCK = ("import sys\n"
          "for name in {names!r}:\n"
          "    sys.modules[name] = None  # as if not installed: importing it fails\n"
          "from ember._cli import main\n"
          "sys.exit(main(sys.argv[1:]))\n")


def test_demo_without_its_extras_names_the_install(tmp_path):
    code = _BLOCK.format(names=['tqdm', 'sklearn'])
    proc = _ember('demo', cwd=tmp_path, code=code)
    assert proc.returncode == 1
    assert 'scikit-learn' in proc.stderr and 'tqdm' in proc.stderr
    assert 'matplotlib' not in proc.stderr
    assert 'pip install "ember[demo]"' in proc.stderr
    assert not os.path.exists(tmp_path / 'ember-demo')


def test_demo_framework_torch_without_torch(tmp_path):
    proc = _ember('demo', '--framework', 'torch', cwd=tmp_path,
                  code=_BLOCK.format(names=['torch']))
    assert proc.returncode == 1
    assert 'PyTorch is not installed' in proc.stderr and 'pip install torch' in proc.stderr


def test_demo_seeds_walk_through(tmp_path):
    proc = _ember('demo', '--seeds', cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '=== training LeNet with a DataLoader' in proc.stdout
    assert 'Training Loss' in proc.stdout and 'True' in proc.stdout.splitlines()[-1]
