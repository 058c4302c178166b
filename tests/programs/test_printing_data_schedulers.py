"""Printing of many kinds of tensors and print options, f-string formats, Dataset/DataLoader
variants and samplers, param groups and every common lr_scheduler, hooks, buffers, extra_repr."""
from _harness import compare

PROGRAM = r"""
import math
import torch
import torch.nn as nn
from torch.utils.data import (Dataset, DataLoader, Subset, ConcatDataset, WeightedRandomSampler,
                              BatchSampler, SequentialSampler, RandomSampler, TensorDataset)

torch.manual_seed(0)
print(torch.randn(3, 4) * 1000)
print(torch.randn(2, 3) * 1e-4)
print(torch.tensor([1e20, 1.0]))
print(torch.tensor([float('nan'), float('inf'), -float('inf'), 0.0, -0.0]))
print(torch.arange(2000))
print(torch.randn(30, 30))
print(torch.tensor([[1, -2], [300000, 4]]))
print(torch.tensor([1.123456789], dtype=torch.float64))
print(torch.tensor([2.0, 3.0], dtype=torch.float16), torch.tensor([1, 2], dtype=torch.int8))
print(torch.tensor([[True, False]]), torch.tensor(5), torch.tensor(2.5), torch.tensor(-0.0))
print(torch.zeros(2, 3, 2, 2))
print(torch.tensor([1 + 2j, 3 - 0.5j]))
print(torch.tensor([0.1, 0.25], dtype=torch.double) * 3)
t = torch.tensor([1.5, 2.25])
print(f'{t}', f'{t[0]:.3f}', f'{t.sum():.1e}', f'{t[1]}', '{:>10.2f}'.format(t[0]))
try:
    print(f'{t:.2f}')
except Exception as e:
    print(type(e).__name__, e)
torch.set_printoptions(precision=2)
print(torch.tensor([1.23456, 2.5]))
torch.set_printoptions(profile='default')
torch.set_printoptions(sci_mode=False)
print(torch.tensor([1e-6, 1.0]))
torch.set_printoptions(sci_mode=None)
print(torch.tensor([1e-6, 1.0]))
p = nn.Parameter(torch.ones(2))
print(p)
print(repr(nn.Parameter(torch.ones(2), requires_grad=False)))
print(torch.ones(2, requires_grad=True) * 2)
print(torch.ones(2, 2).to(torch.int32).dtype, torch.ones(1).type(torch.LongTensor).dtype)
print(torch.ones(3).type())


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor([float(i)]), i * i


ds = Squares(10)
print(len(ds), ds[3])
loader = DataLoader(ds, batch_size=4)
for xb, yb in loader:
    print(xb.view(-1), yb)
sub = Subset(ds, [1, 3, 5])
print(len(sub), sub[1])
cat = ConcatDataset([ds, sub])
print(len(cat), cat[11])
torch.manual_seed(3)
print(list(WeightedRandomSampler([0.1, 0.9, 0.4], 6, replacement=True)))
print(list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)))
torch.manual_seed(3)
print(list(RandomSampler(range(6))))
torch.manual_seed(4)
print([b.tolist() for b, _ in DataLoader(TensorDataset(torch.arange(7), torch.arange(7)), batch_size=3, shuffle=True)])
print(next(iter(DataLoader(ds, batch_size=3, collate_fn=lambda b: [x for x, _ in b]))))

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
opt = torch.optim.SGD([{'params': model[0].parameters()},
                       {'params': model[2].parameters(), 'lr': 0.01}], lr=0.1, momentum=0.9)
print(opt)
sch = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
lrs = []
for ep in range(6):
    opt.step()
    sch.step()
    lrs.append([round(g['lr'], 6) for g in opt.param_groups])
print(lrs)
opt = torch.optim.Adam(model.parameters(), lr=1.0)
for name, mk in [('exp', lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.5)),
                 ('lambda', lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1))),
                 ('onecycle', lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=6)),
                 ('cosine_wr', lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2)),
                 ('linear', lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.5, total_iters=3)),
                 ('cyclic', lambda o: torch.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2))]:
    o = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    s = mk(o)
    out = []
    for _ in range(6):
        o.step()
        s.step()
        out.append(f"{o.param_groups[0]['lr']:.5f}")
    print(name, out)
o = torch.optim.SGD(model.parameters(), lr=1.0)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode='min', factor=0.5, patience=1)
for v in [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7]:
    plateau.step(v)
    print(o.param_groups[0]['lr'], end=' ')
print()
seq = torch.optim.lr_scheduler.SequentialLR(
    o, [torch.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2),
        torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)], milestones=[2])
for _ in range(4):
    o.step()
    seq.step()
print(f"{o.param_groups[0]['lr']:.5f}")
opt.add_param_group({'params': [nn.Parameter(torch.zeros(3))], 'lr': 0.5})
print(len(opt.param_groups), opt.param_groups[1]['lr'], opt.param_groups[1]['betas'])
model.zero_grad(set_to_none=False)
print(model[0].bias.grad)
model.zero_grad()
print(model[0].bias.grad)
acts = []
h = model[1].register_forward_hook(lambda m, i, o: acts.append(o.shape))
model(torch.randn(5, 4))
h.remove()
model(torch.randn(5, 4))
print(acts)
print(model.half()[0].weight.dtype, model.float()[0].weight.dtype)
model.requires_grad_(False)
print([p.requires_grad for p in model.parameters()])
print(model.training, model.eval().training, model[0].training)


class WithExtra(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.register_buffer('count', torch.zeros(1, dtype=torch.long))
        self.register_buffer('tmp', torch.ones(1), persistent=False)

    def extra_repr(self):
        return f'scale={self.scale.item()}'

    def forward(self, x):
        self.count += 1
        return x * self.scale


w = WithExtra()
print(w)
w(torch.ones(2))
print(w.state_dict())
print(dict(w.named_buffers()))
print(w.get_parameter('scale'), w.get_buffer('count'))
"""


def test_printing_data_and_schedulers():
    compare(PROGRAM, name='printing')
