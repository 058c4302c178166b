"""CPU time per training step of the conv workloads (bench/workloads.py), ember vs torch.

    python bench/conv_cpu_time.py                  # lenet, resnet and unet
    python bench/conv_cpu_time.py lenet --chunks 8
    python bench/conv_cpu_time.py --quick          # small batches, one chunk: a smoke run

Each (workload, framework) runs in its own subprocess with one BLAS/intra-op thread and reports
the best per-step *process* time over a few chunks of steps. CPU time is much less sensitive
than wall time to other jobs sharing the cores, so its ratios are a steadier guide while
optimising; confirm with wall-clock measurements on a quiet machine. torch is needed for its
column (pip install torch==2.13.0); without it only ember is measured.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import workloads  # noqa: E402


def _child(framework, name, chunks, quick):
    import importlib
    torch = importlib.import_module(framework)
    if framework == 'torch':
        torch.set_num_threads(1)
    step, _ = workloads.build(torch, name, quick)
    per_chunk = 1 if quick else 3
    for _ in range(1 if quick else 3):
        step()
    best = float('inf')
    for _ in range(chunks):
        t0 = time.process_time()
        for _ in range(per_chunk):
            loss = step()
        best = min(best, (time.process_time() - t0) / per_chunk)
    print(json.dumps({'cpu_ms': round(best * 1e3, 2), 'loss': float(loss.item())}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('workloads', nargs='*', metavar='workload',
                   help=f"any of {', '.join(workloads.NAMES)} (default: all)")
    p.add_argument('--chunks', type=int, default=5, help='timed chunks of 3 steps (default 5)')
    p.add_argument('--quick', action='store_true', help='small batches, one chunk of one step')
    p.add_argument('--child', nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    chunks = 1 if args.quick else args.chunks
    unknown = set(args.workloads) - set(workloads.NAMES)
    if unknown:
        p.error(f"unknown workload(s) {', '.join(sorted(unknown))}")
    if args.child:
        return _child(args.child[0], args.child[1], chunks, args.quick)
    frameworks = ['ember'] + (['torch'] if importlib.util.find_spec('torch') else [])
    env = dict(os.environ, OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1',
               PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    rows = []
    for name in args.workloads or workloads.NAMES:
        res = {}
        for fw in frameworks:
            print(f'  {name} on {fw} ...', end=' ', flush=True)
            cmd = [sys.executable, __file__, '--child', fw, name, '--chunks', str(chunks)]
            out = subprocess.run(cmd + (['--quick'] if args.quick else []), env=env,
                                 capture_output=True, text=True)
            if out.returncode:
                print('failed')
                sys.stderr.write(out.stderr)
                return 1
            res[fw] = json.loads(out.stdout.strip().splitlines()[-1])['cpu_ms']
            print(f'{res[fw]:.2f} ms/step', flush=True)
        rows.append((name, res.get('torch'), res['ember']))
    print(f"\nCPU ms per training step, 1 thread{' (--quick: small batches)' * args.quick}")
    print(f"{'workload':10s} {'torch':>9s} {'ember':>9s} {'ember/torch':>12s}")
    for name, t, e in rows:
        ts = f'{t:9.2f}' if t else f"{'-':>9s}"
        ratio = f'{e / t:12.2f}' if t else f"{'-':>12s}"
        print(f'{name:10s} {ts} {e:9.2f} {ratio}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
