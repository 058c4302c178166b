"""CPU-time yardstick for the conv workloads in /work/shared/bench (robust to a busy machine).

Runs the lenet_train, cnn_bn_train and unet_small models with one BLAS/intra-op thread and
reports the best per-step *process* time over a few chunks, for torch and ember back to back.
CPU time is much less sensitive than wall time to other jobs sharing the cores, so ratios
measured here are a steadier guide while optimising (confirm with the real wall-clock scripts).

    OPENBLAS_NUM_THREADS=1 python bench/conv_cpu_time.py [workload ...]
"""
import importlib.util
import json
import os
import subprocess
import sys
import time

BENCH = os.environ.get('BENCH_DIR', '/work/shared/bench')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(workload):
    spec = importlib.util.spec_from_file_location(workload, os.path.join(BENCH, workload + '.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _steps(workload, mod):
    torch = mod.torch
    torch.manual_seed(0)
    if workload == 'lenet_train':
        net = mod.Net()
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        data = [(torch.randn(64, 1, 32, 32), torch.randint(0, 10, (64,))) for _ in range(4)]
    elif workload == 'cnn_bn_train':
        net = mod.SmallResNet()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        data = [(torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))) for _ in range(4)]
    else:
        net = mod.UNet()
        opt = None
        data = [(torch.randn(4, 1, 64, 64), torch.randint(0, 2, (4, 64, 64)))]
    net.train()
    crit = torch.nn.CrossEntropyLoss()
    state = [0]

    def step():
        x, y = data[state[0] % len(data)]
        state[0] += 1
        if opt is not None:
            opt.zero_grad()
        else:
            net.zero_grad()
        loss = crit(net(x), y)
        loss.backward()
        if opt is not None:
            opt.step()
        return loss
    return step


def _child(workload):
    mod = _load(workload)
    if hasattr(mod.torch, 'set_num_threads') and mod.FW == 'torch':
        mod.torch.set_num_threads(1)
    step = _steps(workload, mod)
    for _ in range(3):
        step()
    best = float('inf')
    for _ in range(int(os.environ.get('CHUNKS', '5'))):
        t0 = time.process_time()
        for _ in range(3):
            step()
        best = min(best, (time.process_time() - t0) / 3)
    print(json.dumps({'workload': workload, 'cpu_ms': round(best * 1e3, 2)}))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == '--child':
        return _child(sys.argv[2])
    workloads = sys.argv[1:] or ['lenet_train', 'cnn_bn_train', 'unet_small']
    env = dict(os.environ, OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1',
               PYTHONPATH=ROOT)
    for w in workloads:
        res = {}
        for fw in ('torch', 'ember'):
            out = subprocess.run([sys.executable, __file__, '--child', w],
                                 env=dict(env, BENCH_FRAMEWORK=fw), capture_output=True,
                                 text=True, check=True).stdout
            res[fw] = json.loads(out.strip().splitlines()[-1])['cpu_ms']
        print(f"{w:14s} torch {res['torch']:8.2f} ms  ember {res['ember']:8.2f} ms  "
              f"ratio {res['ember'] / res['torch']:.2f}")


if __name__ == '__main__':
    main()
