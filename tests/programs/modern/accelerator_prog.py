"""A classifier written for torch.accelerator, the way current tutorials set a program up.

The device from torch.accelerator (falling back to the CPU), cuDNN/TF32 flags set as GPU
programs set them, an AMP GradScaler and autocast that are enabled only on an accelerator,
pin_memory / non_blocking transfers, torch.inf for the best loss, torch.pi, `mask == None`
on a tensor, random_split with a generator, OneCycleLR, early stopping on the validation
loss, torch.inference_mode for evaluation, and a state_dict saved and loaded weights_only.
"""
import math
import os
import tempfile

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split

SEED = 2024
torch.manual_seed(SEED)
if torch.cuda.is_available():
    torch.cuda.manual_seed_all(SEED)

device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() \
    else torch.device('cpu')
print(f"Using {device} device ({device.type}); accelerators: {torch.accelerator.device_count()}")
print('cuda', torch.cuda.is_available(), torch.cuda.device_count(),
      'mps', torch.backends.mps.is_available())

torch.backends.cudnn.benchmark = True
torch.backends.cudnn.deterministic = False
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.set_float32_matmul_precision('high')
print('matmul precision', torch.get_float32_matmul_precision())

use_amp = device.type == 'cuda'
amp_dtype = torch.bfloat16 if use_amp else torch.float32
scaler = torch.amp.GradScaler(device.type, enabled=use_amp)
print('amp', use_amp, amp_dtype, scaler.is_enabled())
print('constants', torch.inf, -torch.inf, f'{torch.pi:.6f}', f'{torch.e:.6f}',
      math.isnan(torch.nan), torch.newaxis is None)


class Shapes(Dataset):
    """12x12 images of a ring (class 0), a filled disc (1) or a cross (2), with noise."""

    def __init__(self, n, generator):
        yy, xx = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing='ij')
        self.labels = torch.randint(0, 3, (n,), generator=generator)
        cx = 5.5 + torch.rand(n, generator=generator) - 0.5
        cy = 5.5 + torch.rand(n, generator=generator) - 0.5
        r = torch.sqrt((xx - cx[:, None, None]) ** 2 + (yy - cy[:, None, None]) ** 2)
        ring = ((r > 2.5) & (r < 4.0)).float()
        disc = (r < 3.5).float()
        cross = (((xx - cx[:, None, None]).abs() < 1) | ((yy - cy[:, None, None]).abs() < 1))
        imgs = torch.stack([ring, disc, cross.float()], 1)[torch.arange(n), self.labels]
        noise = 0.3 * torch.randn(n, 12, 12, generator=generator)
        self.images = (imgs + noise).unsqueeze(1)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


g = torch.Generator().manual_seed(SEED)
full = Shapes(180, g)
train_set, val_set = random_split(full, [0.75, 0.25], generator=torch.Generator().manual_seed(1))
print('split', len(train_set), len(val_set), train_set.indices[:6])
loader_kwargs = dict(pin_memory=torch.cuda.is_available(), num_workers=0)
train_loader = DataLoader(train_set, batch_size=27, shuffle=True, drop_last=True,
                          **loader_kwargs)
val_loader = DataLoader(val_set, batch_size=64, **loader_kwargs)


class Net(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((3, 3)),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25),
                                        nn.Linear(16 * 9, num_classes))

    def forward(self, x, mask=None):
        out = self.classifier(self.features(x))
        if mask == None:  # noqa: E711 (as real programs write it; False for a tensor)
            return out
        return out.masked_fill(~mask, -torch.inf)


model = Net().to(device)
print(model)
print('rotation', torch.cos(torch.tensor(torch.pi / 3)).item())
epochs = 6
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, epochs=epochs,
                                                steps_per_epoch=len(train_loader))
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)


def train_one_epoch(epoch):
    model.train()
    for batch, (X, y) in enumerate(train_loader):
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
            pred = model(X)
            loss = loss_fn(pred, y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if batch % 2 == 0:
            print(f"epoch {epoch} batch {batch} loss: {loss.item():>7f} "
                  f"lr: {scheduler.get_last_lr()[0]:.6f}")


def evaluate(m):
    m.eval()
    test_loss, correct = 0.0, 0
    with torch.inference_mode():
        for X, y in val_loader:
            X, y = X.to(device), y.to(device)
            pred = m(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / len(val_loader), correct / len(val_loader.dataset)


best_loss, patience, bad_epochs = torch.inf, 2, 0
ckpt = os.path.join(tempfile.mkdtemp(), 'best.pt')
for epoch in range(epochs):
    train_one_epoch(epoch)
    val_loss, acc = evaluate(model)
    print(f"val: accuracy {100 * acc:>0.1f}%, avg loss {val_loss:>8f}, best {best_loss:.6f}")
    if val_loss < best_loss:
        best_loss, bad_epochs = val_loss, 0
        torch.save(model.state_dict(), ckpt)
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            print('early stop at epoch', epoch)
            break

if torch.cuda.is_available():
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
best = Net().to(device)
print(best.load_state_dict(torch.load(ckpt, map_location=device, weights_only=True)))
os.remove(ckpt)
os.rmdir(os.path.dirname(ckpt))
val_loss, acc = evaluate(best)
print(f"best: accuracy {100 * acc:>0.1f}%, avg loss {val_loss:>8f}")
X, y = next(iter(val_loader))
with torch.no_grad():
    logits = best(X[:4])
    masked = best(X[:4], mask=torch.tensor([True, False, True]))
print(logits.argmax(1), y[:4], masked[:, 1])
print(torch.softmax(logits, dim=1).sum(1))
