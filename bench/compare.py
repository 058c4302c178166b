"""ember against torch on every yardstick of ../shared/bench, in one run, as ratios.

    python bench/compare.py                        # 5 alternating runs of each, both BLAS settings
    python bench/compare.py --repeats 3 lenet_train cnn_bn_train
    python bench/compare.py --blas unset           # only with the OpenBLAS variables removed
    python bench/compare.py --quick                # one short run of each: a smoke test

For each repeat and workload it runs ember, then torch (each in a fresh process, the workload
script choosing its framework from BENCH_FRAMEWORK), once with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from that process's environment (what users have) and once as the
machine sets them; progress goes to stderr as each run ends. Then a table: median time per
step of each framework, the ratio ember / torch (below 1.0: ember is faster) and each run's
peak memory (the process's maximum resident set, from wait4), with --json the figures as one
JSON line. Run it on a quiet machine: torch slows 10x and more when another process takes a
core.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOADS = ('mlp_seed', 'mlp_small_latency', 'lenet_train', 'cnn_bn_train', 'unet_small',
             'transformer_block', 'gemm_peak')
BLAS_VARS = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')


def _default_bench_dir():
    """../shared/bench beside the checkout (or beside one of its parents: a git worktree)."""
    d = ROOT
    while os.path.dirname(d) != d:
        d = os.path.dirname(d)
        if os.path.isdir(os.path.join(d, 'shared', 'bench')):
            return os.path.join(d, 'shared', 'bench')
    return os.path.normpath(os.path.join(ROOT, '..', 'shared', 'bench'))


def run_one(bench_dir, workload, framework, unset_blas, quick, timeout):
    """One process of one workload: (its JSON line as a dict, peak RSS in MB)."""
    env = dict(os.environ, BENCH_FRAMEWORK=framework)
    if framework == 'ember':       # this checkout's ember
        env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    if unset_blas:
        for k in BLAS_VARS:
            env.pop(k, None)
    if quick:
        env.update(BENCH_CHUNKS='1', BENCH_STEPS='2', BENCH_MAX_S='3', BENCH_REPEATS='1',
                   BENCH_SCALE='0.1', BENCH_GEMM_N='256', BENCH_REPS='2')
    proc = subprocess.Popen([sys.executable, os.path.join(bench_dir, workload + '.py')],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while True:     # wait4 gives this child's own peak memory (getrusage: all children's max)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return {'error': f'timed out after {timeout} s'}, None
        time.sleep(0.05)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    lines = [ln for ln in out.splitlines() if ln.startswith('{')]
    if os.waitstatus_to_exitcode(status) != 0 or not lines:
        tail = (err.strip().splitlines() or ['no output'])[-1]
        return {'error': f'exit {os.waitstatus_to_exitcode(status)}: {tail[:200]}'}, None
    rss_mb = usage.ru_maxrss / 1024 if sys.platform != 'darwin' else usage.ru_maxrss / 2 ** 20
    return json.loads(lines[-1]), rss_mb


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('workloads', nargs='*', default=list(WORKLOADS))
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--blas', choices=('both', 'unset', 'set'), default='both',
                   help='OpenBLAS variables removed (unset), as the machine sets them, or both')
    p.add_argument('--bench-dir', default=_default_bench_dir())
    p.add_argument('--quick', action='store_true', help='one short run of each workload')
    p.add_argument('--timeout', type=float, default=300)
    p.add_argument('--json', action='store_true')
    a = p.parse_args(argv)
    if not os.path.isdir(a.bench_dir):
        p.error(f'no yardsticks at {a.bench_dir} (give --bench-dir)')
    repeats = 1 if a.quick else a.repeats
    settings = {'both': (True, False), 'unset': (True,), 'set': (False,)}[a.blas]
    runs = {}       # (workload, unset, framework) -> [(ms per step, peak MB)]
    total = repeats * len(a.workloads) * len(settings) * 2
    done = 0
    for r in range(repeats):
        for w in a.workloads:
            for unset in settings:
                for fw in ('ember', 'torch'):      # alternating, so drift hits both alike
                    line, rss = run_one(a.bench_dir, w, fw, unset, a.quick, a.timeout)
                    done += 1
                    ms = line.get('ms_per_step')
                    runs.setdefault((w, unset, fw), []).append((ms, rss, line.get('error')))
                    what = line.get('error') or f'{ms:.4g} ms/step, {rss:.0f} MB'
                    print(f'[{done}/{total}] repeat {r + 1} {w} {fw} '
                          f"(OpenBLAS vars {'unset' if unset else 'set'}): {what}",
                          file=sys.stderr, flush=True)
    rows = []
    for w in a.workloads:
        for unset in settings:
            row = {'workload': w, 'openblas_vars': 'unset' if unset else 'set'}
            for fw in ('ember', 'torch'):
                ok = [(ms, rss) for ms, rss, err in runs[(w, unset, fw)] if err is None]
                row[fw + '_ms'] = statistics.median(ms for ms, _ in ok) if ok else None
                row[fw + '_peak_mb'] = max(rss for _, rss in ok) if ok else None
                row[fw + '_runs'] = len(ok)
            e, t = row['ember_ms'], row['torch_ms']
            row['ratio'] = e / t if e and t else None
            rows.append(row)
    if a.json:
        print(json.dumps({'repeats': repeats, 'rows': rows}))
    print(f"{'workload':<20}{'OpenBLAS':>9}{'ember ms':>11}{'torch ms':>11}{'ratio':>8}"
          f"{'ember MB':>10}{'torch MB':>10}{'runs':>6}")

    def fmt(v, spec):
        return format(v, spec) if v is not None else '-'
    for row in rows:
        print(f"{row['workload']:<20}{row['openblas_vars']:>9}"
              f"{fmt(row['ember_ms'], '11.4g')}{fmt(row['torch_ms'], '11.4g')}"
              f"{fmt(row['ratio'], '8.2f')}{fmt(row['ember_peak_mb'], '10.0f')}"
              f"{fmt(row['torch_peak_mb'], '10.0f')}"
              f"{min(row['ember_runs'], row['torch_runs']):>6}")
    return 0 if all(row['ratio'] is not None for row in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
