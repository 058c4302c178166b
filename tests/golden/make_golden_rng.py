"""Regenerate tests/golden/rng_torch.npz from real torch: ``python tests/golden/make_golden_rng.py``.

Each seed runs one continuous stream of random calls (the list in ``stream_calls``), so a
miscounted draw anywhere desynchronises everything after it. ``tests/test_random.py`` replays
the same list through ember and compares bit for bit, with or without torch installed.
"""
import os

import numpy as np

SEEDS = (0, 1, 42, 12345, 2 ** 32 + 7)
HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, 'rng_torch.npz')


def stream_calls():
    """(name, kind, args) for one stream; `kind` names the kernel both sides run."""
    calls = []
    for n in (1, 2, 3, 5, 15, 16, 17, 31, 33, 100, 1001):
        calls.append((f'rand_f32_{n}', 'uniform', dict(shape=(n,), dtype='float32')))
        calls.append((f'randn_f32_{n}', 'normal', dict(shape=(n,), dtype='float32')))
    calls += [
        ('rand_f64', 'uniform', dict(shape=(333,), dtype='float64')),
        ('rand_f16', 'uniform', dict(shape=(77,), dtype='float16')),
        ('randn_5', 'normal', dict(shape=(5,), dtype='float32')),
        ('randn_1_cached', 'normal', dict(shape=(1,), dtype='float32')),
        ('randn_f64_100', 'normal', dict(shape=(100,), dtype='float64')),
        ('randn_f64_7', 'normal', dict(shape=(7,), dtype='float64')),
        ('randn_f16_40', 'normal', dict(shape=(40,), dtype='float16')),
        ('normal_2_3_50', 'normal', dict(shape=(50,), dtype='float32', mean=2.0, std=3.0)),
        ('normal_2_3_7', 'normal', dict(shape=(7,), dtype='float32', mean=2.0, std=3.0)),
        ('uniform_m03_07', 'uniform', dict(shape=(500,), dtype='float32', low=-0.3, high=0.7)),
        ('uniform_f64_m03_07', 'uniform', dict(shape=(50,), dtype='float64', low=-0.3,
                                               high=0.7)),
        ('randint_0_10', 'randint', dict(shape=(50,), low=0, high=10)),
        ('randint_big', 'randint', dict(shape=(20,), low=-100, high=2 ** 40)),
        ('randperm_10', 'randperm', dict(n=10)),
        ('randperm_1000', 'randperm', dict(n=1000)),
        ('bernoulli_03', 'bernoulli', dict(shape=(64,), p=0.3)),
        ('exponential', 'exponential', dict(shape=(30,), lambd=1.5)),
        ('rand_tail', 'uniform', dict(shape=(10,), dtype='float32')),
    ]
    return calls


def torch_call(torch, kind, a):
    dt = getattr(torch, a.get('dtype', 'float32'))
    if kind == 'uniform':
        return torch.empty(a['shape'], dtype=dt).uniform_(a.get('low', 0.0), a.get('high', 1.0))
    if kind == 'normal':
        return torch.empty(a['shape'], dtype=dt).normal_(a.get('mean', 0.0), a.get('std', 1.0))
    if kind == 'randint':
        return torch.randint(a['low'], a['high'], a['shape'])
    if kind == 'randperm':
        return torch.randperm(a['n'])
    if kind == 'bernoulli':
        return torch.empty(a['shape']).bernoulli_(a['p'])
    if kind == 'exponential':
        return torch.empty(a['shape']).exponential_(a['lambd'])
    raise ValueError(kind)


def main():
    import torch
    out = {}
    for seed in SEEDS:
        torch.manual_seed(seed)
        for name, kind, args in stream_calls():
            out[f'{seed}/{name}'] = torch_call(torch, kind, args).numpy()
        out[f'{seed}/state'] = torch.get_rng_state().numpy()
    out['torch_version'] = np.array(torch.__version__)
    out['cpu_capability'] = np.array(torch.backends.cpu.get_cpu_capability())
    np.savez_compressed(PATH, **out)
    print(f'wrote {PATH}: {len(out)} arrays, torch {torch.__version__}, '
          f'{torch.backends.cpu.get_cpu_capability()}')


if __name__ == '__main__':
    main()
