"""DistributedDataParallel training on either library, in each process of a 2-process job:
`python ddp_cases.py torch|ember OUT_DIR`. Each rank trains three models (an MLP, a CNN with
BatchNorm, a small GPT) a few steps on its DistributedSampler share of the data, plus gradient
accumulation under no_sync and a model with parameters some ranks leave unused
(find_unused_parameters), and writes its final weights and buffers to OUT_DIR/rank<r>.pkl.

Rank 0 also trains the same models in one process on the whole batch (no process group
involved) for the equivalence check; with BatchNorm the whole batch goes through as the two
ranks' halves (each normalised by its own statistics, as on the ranks) and the running
statistics follow rank 0's, as DDP's buffer broadcast makes them.
"""
import importlib
import os
import pickle
import sys

LIB, OUT = sys.argv[1], sys.argv[2]
if LIB == 'torch':
    import torch
else:
    import ember as torch
nn, F, dist = torch.nn, torch.nn.functional, torch.distributed
DDP = nn.parallel.DistributedDataParallel
DistributedSampler = torch.utils.data.DistributedSampler

dist.init_process_group('gloo')
rank, ws = dist.get_rank(), dist.get_world_size()
STEPS, N = 3, 16


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 3))

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(x.flatten(1))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab=11, d=16, heads=2, T=6):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(T, d)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(2)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight          # tied, as GPT-2's

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln(x))


def data(kind):
    g = torch.Generator().manual_seed(5)
    if kind == 'mlp':
        return torch.randn(N, 6, generator=g), torch.randint(0, 3, (N,), generator=g)
    if kind == 'cnn':
        return torch.randn(N, 1, 8, 8, generator=g), torch.randint(0, 3, (N,), generator=g)
    seq = torch.randint(0, 11, (N, 7), generator=g)
    return seq[:, :-1], seq[:, 1:]


def loss_of(kind, out, y):
    if kind == 'gpt':
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return F.cross_entropy(out, y)


def make(kind):
    torch.manual_seed(0 if rank == 0 else 100)    # DDP must make the replicas equal
    return {'mlp': MLP, 'cnn': CNN, 'gpt': GPT}[kind]()


def shares(n, epoch):
    """Each rank's sample indices for this epoch (DistributedSampler, torch's order)."""
    out = []
    for r in range(ws):
        s = DistributedSampler(range(n), num_replicas=ws, rank=r, shuffle=True, seed=3)
        s.set_epoch(epoch)
        out.append(list(s))
    return out


def state(model):
    return {k: v.detach().double().numpy().tolist() if v.dtype.is_floating_point
            else v.numpy().tolist() for k, v in model.state_dict().items()}


def train_ddp(kind):
    model = make(kind)
    ddp = DDP(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    X, Y = data(kind)
    sampler = DistributedSampler(range(N), shuffle=True, seed=3)   # world and rank: the group's
    for epoch in range(STEPS):
        sampler.set_epoch(epoch)
        idx = torch.tensor(list(sampler))
        opt.zero_grad()
        loss = loss_of(kind, ddp(X[idx]), Y[idx])
        loss.backward()
        opt.step()
    return state(ddp), sorted(ddp.state_dict())[:3], [list(sampler), len(sampler)]


def train_reference(kind):
    """One process, the whole batch: the mean loss over all samples (= the mean of the ranks'
    means, halves being equal); BatchNorm sees each rank's half on its own."""
    torch.manual_seed(0)
    model = {'mlp': MLP, 'cnn': CNN, 'gpt': GPT}[kind]()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    X, Y = data(kind)
    for epoch in range(STEPS):
        parts = shares(N, epoch)
        opt.zero_grad()
        if kind != 'cnn':
            idx = torch.tensor([i for p in parts for i in p])
            loss_of(kind, model(X[idx]), Y[idx]).backward()
        else:
            bufs = {k: b.clone() for k, b in model.named_buffers()}
            losses, after0 = [], None
            for r, p in enumerate(parts):
                with torch.no_grad():
                    for k, b in model.named_buffers():
                        b.copy_(bufs[k])
                idx = torch.tensor(p)
                losses.append(loss_of(kind, model(X[idx]), Y[idx]))
                if r == 0:
                    after0 = {k: b.clone() for k, b in model.named_buffers()}
            with torch.no_grad():
                for k, b in model.named_buffers():
                    b.copy_(after0[k])
            (sum(losses) / len(losses)).backward()
        opt.step()
    return state(model)


def accumulate_no_sync():
    """Two micro-batches per step, the first under no_sync: the same as one sync step over
    both (each rank's gradient accumulates locally, then the sum is averaged)."""
    torch.manual_seed(0)
    model = MLP()
    ddp = DDP(model)
    X, Y = data('mlp')
    mine = shares(N, 0)[rank]
    a, b = torch.tensor(mine[:4]), torch.tensor(mine[4:])
    with ddp.no_sync():
        loss_of('mlp', ddp(X[a]), Y[a]).backward()
    local = model.net[0].weight.grad.clone()
    loss_of('mlp', ddp(X[b]), Y[b]).backward()
    return (local.double().numpy().tolist(),
            [p.grad.double().numpy().tolist() for p in model.parameters()])


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 2)
        self.b = nn.Linear(4, 2)          # used by rank 1 only
        self.never = nn.Linear(4, 2)      # used by no rank

    def forward(self, x, use_b):
        return self.a(x) + self.b(x) if use_b else self.a(x)


def unused_parameters():
    torch.manual_seed(0)
    model = Branchy()
    ddp = DDP(model, find_unused_parameters=True)
    x = torch.arange(8.).reshape(2, 4) / 8 + rank
    out = []
    for step in range(2):
        ddp.zero_grad()
        ddp(x, use_b=(rank == 1)).pow(2).sum().backward()
        out.append({n: None if p.grad is None else p.grad.double().numpy().tolist()
                    for n, p in model.named_parameters()})
    return out


def unused_without_detection():
    torch.manual_seed(0)
    ddp = DDP(Branchy())
    x = torch.ones(2, 4)
    ddp(x, use_b=False).sum().backward()
    try:
        ddp(x, use_b=False)
    except RuntimeError as e:
        return str(e).split('.')[0]
    return 'no error'


def comm_hooks():
    """Training steps with each way of replacing DDP's all-reduce: torch's default hooks, the
    built-in hook types and a hook of the program's own (a sum, then a halving)."""
    hooks = importlib.import_module(LIB + '.distributed.algorithms.ddp_comm_hooks.default_hooks')

    def summed_then_halved(state, bucket):
        work = dist.all_reduce(bucket.buffer(), async_op=True)
        assert len(bucket.parameters()) == len(bucket.gradients())
        return work.get_future().then(lambda fut: fut.value()[0] / 2)

    out = []
    for register in (lambda d: d.register_comm_hook(None, hooks.allreduce_hook),
                     lambda d: d.register_comm_hook(dist.group.WORLD, hooks.fp16_compress_hook),
                     lambda d: d._register_builtin_comm_hook(dist.BuiltinCommHookType.ALLREDUCE),
                     lambda d: d.register_comm_hook({'calls': 0}, summed_then_halved)):
        model = make('mlp')
        ddp = DDP(model, bucket_cap_mb=0.0005)       # several buckets
        register(ddp)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
        X, Y = data('mlp')
        for step in range(2):
            opt.zero_grad()
            loss_of('mlp', ddp(X[rank::2]), Y[rank::2]).backward()
            opt.step()
        try:
            ddp.register_comm_hook(None, hooks.allreduce_hook)
            again = 'no error'
        except RuntimeError as e:
            again = str(e)
        out.append((state(ddp), again))
    work = dist.all_reduce(torch.ones(2) * (rank + 1), async_op=True)
    fut = work.get_future()
    out.append((fut.wait()[0].tolist(), fut.done(), fut.then(lambda f: 7).wait()))
    return out


results = {}
results['comm_hooks'] = comm_hooks()
for kind in ('mlp', 'cnn', 'gpt'):
    results[kind] = train_ddp(kind)
    if rank == 0 and LIB == 'ember':
        results[kind + '_reference'] = train_reference(kind)
results['no_sync'] = accumulate_no_sync()
results['unused'] = unused_parameters()
results['unused_error'] = unused_without_detection()
dist.destroy_process_group()
with open(os.path.join(OUT, f'rank{rank}.pkl'), 'wb') as f:
    pickle.dump(results, f)
