"""The seed notes' programs not covered elsewhere: the float-channel Model, BatchNorm nets,
initialize_weights with `m.bias.data.zeros_()`, the UNet Up block, to(double), named_parameters,
state_dict printing, Sequential(OrderedDict), ModuleList append/extend/insert, and seed 003's
train/val loops (verbatim but for .cuda(), then fixed)."""
import pytest

from _harness import compare, ember, torch

SEED_MODULES = r"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from collections import OrderedDict

torch.manual_seed(0)


class Model(nn.Module):
    def __init__(self, in_channel, out_channel):
        super(Model, self).__init__()
        self.layer1 = nn.Sequential(nn.Conv2d(in_channel, in_channel / 4, kernel_size=1),
                                    nn.BatchNorm2d(in_channel / 4),
                                    nn.ReLU())
        self.layer2 = nn.Sequential(nn.Conv2d(in_channel / 4, in_channel / 4),
                                    nn.BatchNorm2d(in_channel / 4),
                                    nn.ReLU())
        self.layer3 = nn.Sequential(nn.Conv2d(in_channel / 4, out_channel, kernel_size=1),
                                    nn.BatchNorm2d(out_channel),
                                    nn.ReLU())

    def forward(self, x):
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return x


try:
    Model(16, 8)
except TypeError as e:
    print('TypeError')


class FixedModel(nn.Module):
    def __init__(self, in_channel, out_channel):
        super().__init__()
        mid = in_channel // 4
        self.layer1 = nn.Sequential(nn.Conv2d(in_channel, mid, kernel_size=1),
                                    nn.BatchNorm2d(mid), nn.ReLU())
        self.layer2 = nn.Sequential(nn.Conv2d(mid, mid, kernel_size=3, padding=1),
                                    nn.BatchNorm2d(mid), nn.ReLU())
        self.layer3 = nn.Sequential(nn.Conv2d(mid, out_channel, kernel_size=1),
                                    nn.BatchNorm2d(out_channel), nn.ReLU())

    def forward(self, x):
        return self.layer3(self.layer2(self.layer1(x)))


m = FixedModel(16, 8)
print(m)
x = torch.randn(2, 16, 6, 6)
y = m(x)
print(y.shape, y.grad_fn)
print(f'{y.mean().item():.5f}')
print(m.layer1[1].running_mean)
print(m.layer1[1].num_batches_tracked)
m.eval()
print(f'{m(x).mean().item():.5f}')
print(m.layer1[1])
print([n for n, b in m.named_buffers()][:3])


def initialize_weights(self):
    for m in self.modules():
        if isinstance(m, nn.Conv2d):
            torch.nn.init.xavier_normal_(m.weight.data)
            if m.bias is not None:
                torch.nn.init.constant_(m.bias.data, 0.3)
        elif isinstance(m, nn.Linear):
            torch.nn.init.normal_(m.weight.data, 0.1)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias.data)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zeros_()


try:
    initialize_weights(m)
except AttributeError as e:
    print('AttributeError:', e)
print(m.layer1[0].bias)
print(m.layer3[1].weight)


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=False):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2,
                        diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


for bilinear in (False, True):
    torch.manual_seed(1)
    up = Up(16, 8, bilinear)
    print(up)
    x1 = torch.randn(1, 16 if not bilinear else 8, 3, 3)
    x2 = torch.randn(1, 8, 7, 7)
    out = up(x1, x2)
    print(out.shape, out.grad_fn)
    out.pow(2).mean().backward()
    print(f'{out.sum().item():.4f}', f'{up.conv.double_conv[0].weight.grad.abs().sum().item():.4f}')

linear = nn.Linear(2, 2)
print(linear.weight)
linear.to(torch.double)
print(linear.weight)
print(linear(torch.ones(1, 2, dtype=torch.double)))
linear.float()
print(linear.weight.dtype)
net = nn.Sequential(nn.Linear(2, 2))
print(type(net.named_parameters()))
for name, params in net.named_parameters():
    print(name, params)
print(net.state_dict())
print(net.state_dict().keys())
print(list(net.children()))
print(list(net.named_modules()))
model = nn.Sequential(OrderedDict([('conv1', nn.Conv2d(1, 20, 5)), ('relu1', nn.ReLU()),
                                   ('conv2', nn.Conv2d(20, 64, 5)), ('relu2', nn.ReLU())]))
print(model, '\n')
print(model[2])
print(model.conv2 is model[2])
print(model[1:])
print(len(model))
layers = nn.ModuleList([nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 1)])
layers.append(nn.Linear(1, 5))
layers.extend([nn.Linear(5, 5) for i in range(1, 3)])
print(layers)
print(layers[-1], len(layers))
layers.insert(1, nn.Tanh())
print(layers[1:3])
print(sum(p.numel() for p in layers.parameters()))
print(layers.state_dict().keys())
"""

TRAIN_VAL = r"""
import io
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
X = torch.randn(96, 1, 12, 12)
Y = (X.mean(dim=(1, 2, 3)) > 0).long() + (X[:, 0, 0, 0] > 1).long()
train_set = TensorDataset(X[:64], Y[:64])
val_set = TensorDataset(X[64:], Y[64:])
print(len(train_set), len(val_set), train_set[0][0].shape, train_set[3][1])
train_loader = DataLoader(train_set, batch_size=16, shuffle=True)
val_loader = DataLoader(val_set, batch_size=20, shuffle=False)
print(len(train_loader), len(val_loader))


class SmallNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


model = SmallNet()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)


def train(epoch):
    model.train()
    train_loss = 0
    for data, label in train_loader:
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(label, output)
        loss.backward()
        optimizer.step()
        train_loss += loss.item() * data.size(0)
    train_loss = train_loss / len(train_loader.dataset)
    print('Epoch: {} \tTraining Loss: {:.6f}'.format(epoch, train_loss))


def val(epoch):
    model.eval()
    val_loss = 0
    with torch.no_grad():
        for data, label in val_loader:
            output = model(data)
            preds = torch.argmax(output, 1)
            loss = criterion(output, label)
            val_loss += loss.item() * data.size(0)
            running_accu += torch.sum(preds == label.data)
    val_loss = val_loss / len(val_loader.dataset)
    print('Epoch: {} \tTraining Loss: {:.6f}'.format(epoch, val_loss))


# the notes' loops, verbatim but for .cuda(): both have bugs, and torch reports them
for fn in (train, val):
    try:
        fn(1)
    except Exception as e:
        print(type(e).__name__, e)


def train_fixed(epoch):
    model.train()
    train_loss = 0
    for data, label in train_loader:
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, label)
        loss.backward()
        total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        train_loss += loss.item() * data.size(0)
    scheduler.step()
    train_loss = train_loss / len(train_loader.dataset)
    print('Epoch: {} \tTraining Loss: {:.6f}\tlr {:.4g}\tnorm {:.3f}'.format(
        epoch, train_loss, scheduler.get_last_lr()[0], total))


def val_fixed(epoch):
    model.eval()
    val_loss = 0
    running_accu = 0
    with torch.no_grad():
        for data, label in val_loader:
            output = model(data)
            preds = torch.argmax(output, 1)
            loss = criterion(output, label)
            val_loss += loss.item() * data.size(0)
            running_accu += torch.sum(preds == label.data)
    val_loss = val_loss / len(val_loader.dataset)
    print('Epoch: {} \tValidation Loss: {:.6f}'.format(epoch, val_loss))
    print(f'accuracy {running_accu} {running_accu.item() / len(val_set):.3f} {running_accu.dtype}')
    return running_accu


for epoch in range(1, 5):
    train_fixed(epoch)
    acc = val_fixed(epoch)
print(acc, type(acc.item()))

# checkpoints
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, 'ckpt.pth')
    torch.save({'epoch': 4, 'model_state_dict': model.state_dict(),
                'optimizer_state_dict': optimizer.state_dict(),
                'scheduler': scheduler.state_dict(), 'loss': 0.25}, path)
    ckpt = torch.load(path)
    print(sorted(ckpt.keys()), ckpt['epoch'], ckpt['loss'])
    model2 = SmallNet()
    opt2 = torch.optim.Adam(model2.parameters(), lr=1e-2, weight_decay=1e-4)
    print(model2.load_state_dict(ckpt['model_state_dict']))
    opt2.load_state_dict(ckpt['optimizer_state_dict'])
    print(opt2.state_dict()['param_groups'][0]['lr'], len(opt2.state_dict()['state']))
    print(opt2.state_dict()['state'][0]['step'])
    print(ckpt['scheduler'])
    model2.eval()
    with torch.no_grad():
        print(torch.equal(model2(X[:8]), model(X[:8])))
    torch.save(model, os.path.join(d, 'whole.pt'))
    torch.save(model.state_dict(), os.path.join(d, 'sd.pt'))
    sd = torch.load(os.path.join(d, 'sd.pt'), weights_only=True)
    print(list(sd.keys())[:4], sd['features.1.num_batches_tracked'])
    buf = io.BytesIO()
    torch.save([torch.arange(3), {'a': torch.ones(2)}], buf)
    buf.seek(0)
    print(torch.load(buf))
    missing = model2.load_state_dict({k: v for k, v in sd.items() if 'classifier' not in k},
                                     strict=False)
    print(missing)
    try:
        model2.load_state_dict({'bogus': torch.zeros(1)})
    except RuntimeError as e:
        print(str(e).splitlines()[0])
    bad = dict(sd)
    bad['classifier.2.bias'] = torch.zeros(5)
    try:
        model2.load_state_dict(bad)
    except RuntimeError as e:
        print(e)

# reproducibility
torch.manual_seed(7)
a = torch.rand(3)
torch.manual_seed(7)
print(torch.equal(a, torch.rand(3)))
g = torch.Generator().manual_seed(5)
print(torch.randn(2, generator=g))
parts = random_split(range(10), [7, 3], generator=torch.Generator().manual_seed(42))
print([list(p) for p in parts])
loader = DataLoader(TensorDataset(torch.arange(10.), torch.arange(10)), batch_size=4, shuffle=True,
                    drop_last=True, generator=torch.Generator().manual_seed(3))
for xb, yb in loader:
    print(xb, yb)
print(next(iter(DataLoader(list(range(5)), batch_size=2))))
print(next(iter(DataLoader([(1, 2.0), (3, 4.0)], batch_size=2))))
print(next(iter(DataLoader([{'x': torch.ones(2), 'y': 1}] * 3, batch_size=3))))
logits = torch.tensor([[2.0, 0.5, 0.1], [0.1, 0.2, 3.0], [1.0, 1.1, 0.9]])
target = torch.tensor([0, 2, 2])
loss = F.cross_entropy(logits, target)
print(f"{loss:.4f}", f"{loss.item():.4f}", f"{loss}", format(loss, '.2f'))
print(loss.numpy(), type(loss.numpy()), logits.argmax(1).tolist(), logits.numpy().dtype)
acc = (logits.argmax(dim=1) == target).float().mean()
print(acc, acc.item(), f'{acc * 100:.1f}%')
print((logits.argmax(dim=1) == target).sum(), int((logits.argmax(1) == target).sum()))
print(F.softmax(logits, dim=1))
print(torch.max(logits, 1))
print(logits.max(dim=1).values.tolist())
print(str(loss), repr(acc), float(acc), round(loss.item(), 3))
"""


def test_seed_modules():
    compare(SEED_MODULES, rtol=1e-5, atol=1e-4, name='seed_modules')


def test_seed_train_val_loops_checkpoints_and_idioms():
    compare(TRAIN_VAL, rtol=1e-5, atol=2e-6, name='train_val')


def test_float_channel_count_message():
    msgs = []
    for lib in (torch, ember):
        with pytest.raises(TypeError) as err:
            lib.nn.Conv2d(16, 16 / 4, kernel_size=1)
        msgs.append(str(err.value))
    assert msgs[1] == msgs[0]


def test_cross_entropy_sums_like_torch_kernel():
    """nll_loss reduces in torch's cascade order, so losses agree to the last bit."""
    import numpy as np
    rs = np.random.RandomState(0)
    for n in (3, 17, 300, 5000):
        logp = rs.randn(n, 5).astype(np.float32)
        t = rs.randint(0, 5, n)
        t[rs.rand(n) < 0.2] = -100
        w = rs.rand(5).astype(np.float32)
        for kw in ({}, {'reduction': 'sum'}):
            for wt in (None, w):
                a = torch.nn.functional.nll_loss(torch.tensor(logp), torch.tensor(t), **kw,
                                                 weight=None if wt is None else torch.tensor(wt))
                b = ember.nn.functional.nll_loss(ember.tensor(logp), ember.tensor(t), **kw,
                                                 weight=None if wt is None else ember.tensor(wt))
                assert b.item() == a.item()


@pytest.mark.xfail(strict=True, reason=(
    "ember/_ops/reduce.py log_softmax/softmax: about 20% of elements differ from torch by 1 ulp "
    "(torch's vectorised exp and lane-wise sum, and x - (max + log(sum)) rounding), so printed "
    "CrossEntropyLoss values differ in the last digits of loss.item()"))
def test_log_softmax_bitwise():
    import numpy as np
    x = np.random.RandomState(0).randn(200, 10).astype(np.float32)
    np.testing.assert_array_equal(ember.tensor(x).log_softmax(1).numpy(),
                                  torch.tensor(x).log_softmax(1).numpy())
