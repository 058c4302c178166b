"""DistributedDataParallel scaling on this machine: 1 and 2 processes (one BLAS thread each).

    python bench/ddp_scaling.py [--steps 20] [--quick]

For each yardstick it starts `mpiexec -n P` workers (P = 1, 2) through `ember run`'s launcher
machinery; each worker trains its own batch of the same size (weak scaling: the global batch
grows with P, as with DDP in practice), so the ideal is P times the throughput of one. A step
is timed on every rank and the slowest rank's time counts. Then the all-reduce bandwidth
between 2 processes by message size (float32 SUM, torch.distributed.all_reduce).

    cnn_bn       a small residual CNN (3x3 conv + BatchNorm + ReLU blocks, a stride-2 stage,
                 global average pooling), Adam, 32 3x32x32 images per process per step
    transformer  a 2-block GPT (d=128, 4 heads, 64 tokens, vocab 512), AdamW,
                 16 sequences per process per step

Prints a table and, with --json, the numbers as JSON. Run it on a quiet machine: other
processes on the same cores distort both the step times and the bandwidth.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)     # this checkout's ember


def build_transformer(torch, quick=False):
    nn, F = torch.nn, torch.nn.functional
    d, heads, T, vocab, batch = 128, 4, 64, 512, (4 if quick else 16)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):
            B, T_, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T_, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T_, C))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(T, d)
            self.blocks = nn.Sequential(Block(), Block())
            self.ln = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)
            self.head.weight = self.tok.weight

        def forward(self, idx):
            x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
            return self.head(self.ln(self.blocks(x)))

    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(0, vocab, (batch, T + 1), generator=g) for _ in range(2)]
    model = GPT()
    return model, torch.optim.AdamW, [(s[:, :-1], s[:, 1:]) for s in seqs], \
        (lambda out, y: F.cross_entropy(out.reshape(-1, vocab), y.reshape(-1))), batch


def build_cnn_bn(torch, quick=False):
    nn, F = torch.nn, torch.nn.functional
    g = torch.Generator().manual_seed(0)
    batch = 8 if quick else 32
    data = [(torch.randn(batch, 3, 32, 32, generator=g), torch.randint(0, 10, (batch,),
                                                                        generator=g))
            for _ in range(2)]

    def cbr(i, o, s=1):
        return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU())

    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = cbr(3, 16)
            self.b1 = nn.Sequential(cbr(16, 16), cbr(16, 16))
            self.down = cbr(16, 32, 2)
            self.b2 = nn.Sequential(cbr(32, 32), cbr(32, 32))
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            x = self.stem(x)
            x = x + self.b1(x)
            x = self.down(x)
            x = x + self.b2(x)
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
    return Res(), torch.optim.Adam, data, F.cross_entropy, batch


WORKLOADS = {'cnn_bn': build_cnn_bn, 'transformer': build_transformer}


def worker(name, steps, quick):
    """One process of a measured job (started by mpiexec)."""
    import ember as torch
    import ember.distributed as dist
    dist.init_process_group('gloo')
    world = dist.get_world_size()
    torch.manual_seed(0)
    model, opt_cls, data, loss_fn, batch = WORKLOADS[name](torch, quick)
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = opt_cls(model.parameters(), lr=1e-3)
    times = []
    for i in range(steps + 2):       # two warm-up steps
        x, y = data[i % len(data)]
        dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        dt = torch.tensor([time.perf_counter() - t0], dtype=torch.float64)
        dist.all_reduce(dt, op=dist.ReduceOp.MAX)     # the slowest rank sets the pace
        times.append(dt.item())
    times = sorted(times[2:])
    # what the gradients' all-reduce alone costs (one flat buffer of them all), for the notes
    grads = torch.zeros(sum(p.numel() for p in model.parameters()))
    comm = []
    for _ in range(5):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(grads)
        comm.append(time.perf_counter() - t0)
    if dist.get_rank() == 0:
        med = times[len(times) // 2]
        print(json.dumps({'workload': name, 'world': world, 'batch_per_process': batch,
                          'step_s': med, 'samples_per_s': world * batch / med,
                          'grad_bytes': grads.numel() * 4,
                          'allreduce_s': sorted(comm)[len(comm) // 2]}))
    dist.destroy_process_group()


def bandwidth_worker(quick):
    import ember as torch
    import ember.distributed as dist
    dist.init_process_group('gloo')
    n = dist.get_world_size()
    rows = []
    sizes = [2 ** k for k in range(10, 25 if quick else 27, 2)]     # 1 KiB .. 64 MiB
    for nbytes in sizes:
        t = torch.ones(nbytes // 4)
        reps = max(3, min(200, (1 << 24) // nbytes))
        dist.all_reduce(t)
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            dist.all_reduce(t)
        dt = (time.perf_counter() - t0) / reps
        alg = nbytes / dt
        rows.append({'bytes': nbytes, 'time_us': dt * 1e6, 'algbw_GBps': alg / 1e9,
                     'busbw_GBps': alg * 2 * (n - 1) / n / 1e9})
    if dist.get_rank() == 0:
        print(json.dumps({'allreduce': rows, 'world': n}))
    dist.destroy_process_group()


def _launch(nproc, args):
    from ember._launch import _mpiexec
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    cmd = [_mpiexec(), '-n', str(nproc), sys.executable, os.path.abspath(__file__), *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--quick', action='store_true', help='small batches, few steps (smoke run)')
    p.add_argument('--json', action='store_true')
    p.add_argument('--worker', help=argparse.SUPPRESS)
    p.add_argument('--bandwidth-worker', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        return worker(a.worker, a.steps, a.quick)
    if a.bandwidth_worker:
        return bandwidth_worker(a.quick)
    steps = 3 if a.quick else a.steps
    extra = ['--quick'] if a.quick else []
    results = {'scaling': [], 'allreduce': None}
    print(f"{'workload':<12} {'procs':>5} {'batch/proc':>10} {'step ms':>9} {'samples/s':>10} "
          f"{'speed-up':>8} {'efficiency':>10} {'grad MB':>8} {'all-reduce ms':>13}")
    for name in WORKLOADS:
        one = None
        for nproc in (1, 2):
            r = _launch(nproc, ['--worker', name, '--steps', str(steps), *extra])
            one = one or r
            r['speedup'] = r['samples_per_s'] / one['samples_per_s']
            r['efficiency'] = r['speedup'] / nproc
            results['scaling'].append(r)
            print(f"{name:<12} {nproc:>5} {r['batch_per_process']:>10} {r['step_s'] * 1e3:>9.1f} "
                  f"{r['samples_per_s']:>10.1f} {r['speedup']:>8.2f} {r['efficiency']:>10.0%} "
                  f"{r['grad_bytes'] / 1e6:>8.2f} {r['allreduce_s'] * 1e3:>13.2f}")
    bw = _launch(2, ['--bandwidth-worker', *extra])
    results['allreduce'] = bw['allreduce']
    print(f"\nall_reduce between 2 processes (float32 SUM)\n{'bytes':>10} {'time us':>10} "
          f"{'algbw GB/s':>11} {'busbw GB/s':>11}")
    for row in bw['allreduce']:
        print(f"{row['bytes']:>10} {row['time_us']:>10.1f} {row['algbw_GBps']:>11.3f} "
              f"{row['busbw_GBps']:>11.3f}")
    if a.json:
        print(json.dumps(results))


if __name__ == '__main__':
    main()
