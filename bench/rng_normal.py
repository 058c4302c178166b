"""Benchmark: a million float32 standard normals, ember's torch-exact stream vs NumPy's own.

    python bench/rng_normal.py            # a million numbers, best of 7
    python bench/rng_normal.py --quick    # ten thousand, best of 2: a smoke run
"""
import argparse
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from ember import _random  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='10,000 numbers, best of 2')
    args = p.parse_args()
    n, repeat = (10_000, 2) if args.quick else (1_000_000, 7)
    gen = _random.CPUGenerator(0)
    rng = np.random.default_rng(0)
    rows = []
    print('  ember (torch-exact stream) ...', end=' ', flush=True)
    rows.append(('ember normal (torch-exact)', min(timeit.repeat(
        lambda: _random.normal(gen, (n,), np.float32), number=1, repeat=repeat))))
    print(f'{rows[-1][1] * 1e3:.2f} ms\n  numpy standard_normal ...', end=' ', flush=True)
    rows.append(('numpy standard_normal', min(timeit.repeat(
        lambda: rng.standard_normal(n, dtype=np.float32), number=1, repeat=repeat))))
    print(f'{rows[-1][1] * 1e3:.2f} ms', flush=True)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        print('  torch.randn ...', end=' ', flush=True)
        torch.manual_seed(0)
        rows.append(('torch.randn', min(timeit.repeat(lambda: torch.randn(n), number=1,
                                                      repeat=repeat))))
        print(f'{rows[-1][1] * 1e3:.2f} ms', flush=True)
    print(f'\n{n:,} float32 standard normals, best of {repeat}')
    print(f"{'generator':28s} {'ms':>9s} {'vs numpy':>9s}")
    for name, t in rows:
        print(f'{name:28s} {t * 1e3:9.2f} {t / rows[1][1]:9.2f}')


if __name__ == '__main__':
    main()
