"""Per-op overhead: microseconds per small op, ember vs torch in one run, as a ratio.

    python bench/op_overhead.py                 # both frameworks, a table of ratios
    python bench/op_overhead.py --quick         # a few iterations only: a smoke run
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/op_overhead.py

Each framework runs in its own subprocess (so neither's import affects the other) and prints
one JSON line; the parent prints a table: us/op for each and the ratio ember/torch (--json
prints the figures as one JSON line before it). The two alternate for --rounds rounds (default
3) and each op keeps its best figure: this machine's speed drifts within seconds, and a single
pass of each read ratios up to 1.5x apart from one run to the next.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time


QUICK = False


def _bench(fn, n):
    if QUICK:
        n = max(n // 500, 2)
    for _ in range(2 if QUICK else max(n // 20, 50)):
        fn()
    best = float('inf')
    for _ in range(2 if QUICK else 5):  # best of 5 chunks: the least disturbed measure
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def measure(fw):
    import importlib
    torch = importlib.import_module(fw)
    F = torch.nn.functional
    torch.manual_seed(0)
    res = {}
    for shape, n in (((2, 20), 5000), ((64, 1000), 500)):
        tag = 'x'.join(map(str, shape))
        a, b = torch.rand(*shape), torch.rand(*shape)
        w = torch.rand(shape[1], shape[1] if shape[1] < 100 else 100)
        ag, wg = a.clone().requires_grad_(), w.clone().requires_grad_()
        res[f'add {tag}'] = _bench(lambda: a + b, n)
        res[f'mul_scalar {tag}'] = _bench(lambda: a * 0.5, n)
        res[f'matmul {tag}'] = _bench(lambda: a @ w, n)
        res[f'relu {tag}'] = _bench(lambda: F.relu(a), n)
        res[f'sum {tag}'] = _bench(lambda: a.sum(), n)
        res[f'add+grad {tag}'] = _bench(lambda: ag + b, n)
        res[f'matmul+grad {tag}'] = _bench(lambda: ag @ wg, n)
        res[f'relu+grad {tag}'] = _bench(lambda: F.relu(ag), n)

        def fwd_bwd():
            (ag @ wg).relu().sum().backward()
        res[f'matmul-relu-sum fwd+bwd {tag}'] = _bench(fwd_bwd, n // 5)
    x = torch.rand(4, 5)
    res['index x[0]'] = _bench(lambda: x[0], 5000)
    res['view'] = _bench(lambda: x.view(20), 5000)
    res['tensor([1., 2.])'] = _bench(lambda: torch.tensor([1.0, 2.0]), 5000)
    return {'framework': fw, 'us_per_op': {k: round(v, 3) for k, v in res.items()},
            'openblas_env_set': 'OPENBLAS_CORETYPE' in os.environ}


def main():
    global QUICK
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='a few iterations only (smoke run)')
    p.add_argument('--json', action='store_true', help='also print the figures as a JSON line')
    p.add_argument('--rounds', type=int, default=3,
                   help='alternating rounds of both frameworks; each op keeps its best')
    p.add_argument('--child', help=argparse.SUPPRESS)
    args = p.parse_args()
    QUICK = args.quick
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.path.dirname(here) + os.pathsep + env.get('PYTHONPATH', '')
    frameworks = ['ember'] + (['torch'] if importlib.util.find_spec('torch') else [])
    out = {}
    rounds = 1 if QUICK else max(args.rounds, 1)
    for rnd in range(rounds):
        for fw in frameworks:
            print(f'  round {rnd + 1}/{rounds}: measuring {fw} ...', end=' ', flush=True)
            t0 = time.perf_counter()
            cmd = [sys.executable, __file__, '--child', fw] + ['--quick'] * QUICK
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if p.returncode:
                print('failed')
                print(p.stderr, file=sys.stderr)
                return 1
            us = json.loads(p.stdout.strip().splitlines()[-1])['us_per_op']
            best = out.setdefault(fw, us)
            for k, v in us.items():
                best[k] = min(best[k], v)
            print(f'{time.perf_counter() - t0:.1f} s', flush=True)
    torch_us = out.get('torch', {})
    if args.json:
        print(json.dumps({'workload': 'op_overhead', 'torch': torch_us, 'ember': out['ember'],
                          'openblas_env_set': 'OPENBLAS_CORETYPE' in os.environ}))
    print(f"\nmicroseconds per op{' (--quick: too few iterations to trust)' * QUICK}")
    print(f"{'op':34s} {'torch us':>9s} {'ember us':>9s} {'ratio':>6s}")
    for k, e in out['ember'].items():
        t = torch_us.get(k)
        ts, ratio = (f'{t:9.2f}', f'{e / t:6.2f}') if t else (f"{'-':>9s}", f"{'-':>6s}")
        print(f"{k:34s} {ts} {e:9.2f} {ratio}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
