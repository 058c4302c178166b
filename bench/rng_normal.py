"""Benchmark: a million float32 standard normals, ember's torch-exact stream vs NumPy's own.

Run: python bench/rng_normal.py
"""
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from ember import _random  # noqa: E402

N = 1_000_000


def main():
    gen = _random.CPUGenerator(0)
    rng = np.random.default_rng(0)
    ours = min(timeit.repeat(lambda: _random.normal(gen, (N,), np.float32), number=1, repeat=7))
    ref = min(timeit.repeat(lambda: rng.standard_normal(N, dtype=np.float32), number=1,
                            repeat=7))
    print(f'ember normal (torch-exact, float32, n={N}): {ours * 1e3:8.2f} ms')
    print(f'numpy standard_normal (float32, n={N}):     {ref * 1e3:8.2f} ms')
    print(f'ratio: {ours / ref:.2f}x')
    try:
        import torch
        torch.manual_seed(0)
        t = min(timeit.repeat(lambda: torch.randn(N), number=1, repeat=7))
        print(f'torch.randn (reference, n={N}):              {t * 1e3:8.2f} ms')
    except ImportError:
        pass


if __name__ == '__main__':
    main()
