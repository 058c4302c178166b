"""torch.backends against torch's CPU build: the flags' values, what setting them does to the
rest of the float32-precision tree, the flags() blocks, disable_global_flags, and the errors.

Every scenario runs in a fresh subprocess per library (the flags are process-wide state,
torch's included), from the same defaults, and prints each result as a repr or as the raised
exception's type and message.
"""
import json
import subprocess
import sys

import pytest

from _subproc import ROOT, env

pytest.importorskip('torch')

# each scenario is a body run with L = torch or ember; `show(...)` records a value
SCENARIOS = {
    'defaults': '''
b = L.backends
for obj, name in [(b, 'fp32_precision'), (b.cudnn, 'fp32_precision'),
                  (b.cudnn.conv, 'fp32_precision'), (b.cudnn.rnn, 'fp32_precision'),
                  (b.mkldnn, 'fp32_precision'), (b.mkldnn.matmul, 'fp32_precision'),
                  (b.mkldnn.conv, 'fp32_precision'), (b.mkldnn.rnn, 'fp32_precision'),
                  (b.cuda.matmul, 'fp32_precision'), (b.cudnn, 'allow_tf32'),
                  (b.cuda.matmul, 'allow_tf32'), (b.mkldnn, 'allow_tf32'),
                  (b.cudnn, 'depthwise_kernel'), (b.cudnn, 'benchmark_limit'),
                  (b.cudnn, 'enabled'), (b.mkldnn, 'deterministic'), (b.miopen, 'immediate'),
                  (b.quantized, 'engine'), (b.quantized, 'supported_engines'),
                  (b.opt_einsum, 'enabled'), (b.opt_einsum, 'strategy'),
                  (b.cuda.matmul, 'allow_fp16_reduced_precision_reduction_split_k'),
                  (b.cuda.matmul, 'allow_bf16_reduced_precision_reduction_split_k'),
                  (b.cuda.matmul, 'allow_fp16_accumulation')]:
    show(lambda: getattr(obj, name))
show(L.get_float32_matmul_precision)
show(b.flags_frozen)
for f in [b.nnpack.is_available, b.kleidiai.is_available, b.cusparselt.is_available,
          b.cusparselt.version, b.cusparselt.get_max_alg_id, b.mkldnn.is_acl_available,
          b.mps.get_name, b.mps.get_core_count, b.cuda.is_ck_sdpa_available,
          b.cuda.cublas_workspace_size, b.cuda.cublaslt_workspace_size,
          lambda: b.cuda.cublas_workspace_size(1024), b.cuda.blas_workspace_size,
          lambda: b.cuda.blas_workspace_size(backend='ck'),
          lambda: b.cuda.blas_workspace_size(backend='cublaslt'),
          lambda: b.cuda.blas_workspace_size(backend='bogus'),
          lambda: b.cuda.blas_workspace_size(backend=3),
          lambda: b.cudnn.conv.other, lambda: setattr(b.mkldnn.conv, 'other', 1),
          lambda: [(k, int(v)) for k, v in b.cuda.SDPBackend.__members__.items()],
          lambda: b.cuda.SDPBackend is L.nn.attention.SDPBackend,
          lambda: [type(m).__name__ for m in (b, b.cudnn, b.cudnn.rnn, b.mkldnn, b.miopen,
                                              b.opt_einsum, b.quantized, b.python_native)],
          lambda: [c.__name__ for c in type(b.cudnn).__mro__],
          lambda: (b.cudnn.ContextProp is b.ContextProp, b.cudnn.PropModule is b.PropModule)]:
    show(f)
''',
    'generic_tf32': "L.backends.fp32_precision = 'tf32'",
    'generic_ieee': "L.backends.fp32_precision = 'ieee'",
    'generic_bf16': "L.backends.fp32_precision = 'bf16'",
    'generic_bad': "show(lambda: setattr(L.backends, 'fp32_precision', 'x'))",
    'cudnn_ieee': "L.backends.cudnn.fp32_precision = 'ieee'",
    'cudnn_conv_ieee': "L.backends.cudnn.conv.fp32_precision = 'ieee'",
    'cudnn_conv_bf16': "show(lambda: setattr(L.backends.cudnn.conv, 'fp32_precision', 'bf16'))",
    'cudnn_rnn_ieee': "L.backends.cudnn.rnn.fp32_precision = 'ieee'",
    'cudnn_allow_tf32_off': "L.backends.cudnn.allow_tf32 = False",
    'cuda_matmul_tf32': "L.backends.cuda.matmul.allow_tf32 = True",
    'cuda_matmul_new_tf32': "L.backends.cuda.matmul.fp32_precision = 'tf32'",
    'mkldnn_matmul_bf16': "L.backends.mkldnn.matmul.fp32_precision = 'bf16'",
    'mkldnn_all_bf16': "L.backends.mkldnn.fp32_precision = 'bf16'",
    'mkldnn_allow_tf32': "L.backends.mkldnn.allow_tf32 = True",
    'matmul_medium': "L.set_float32_matmul_precision('medium')",
    'matmul_high': "L.set_float32_matmul_precision('high')",
    'matmul_highest_then_generic': '''
L.set_float32_matmul_precision('HIGH')
L.backends.fp32_precision = 'ieee'
''',
    'reductions': '''
m = L.backends.cuda.matmul
m.allow_fp16_reduced_precision_reduction = (False, False)
show(lambda: (m.allow_fp16_reduced_precision_reduction,
              m.allow_fp16_reduced_precision_reduction_split_k))
m.allow_bf16_reduced_precision_reduction = [False]
show(lambda: (m.allow_bf16_reduced_precision_reduction,
              m.allow_bf16_reduced_precision_reduction_split_k))
for v in [1, (), (True, True, True), (True, 1)]:
    show(lambda: setattr(m, 'allow_bf16_reduced_precision_reduction', v))
''',
    'cudnn_flags_block': '''
c = L.backends.cudnn
with c.flags(enabled=False, benchmark=True, deterministic=True, allow_tf32=False):
    show(lambda: (c.enabled, c.benchmark, c.deterministic, c.allow_tf32, c.benchmark_limit,
                  c.conv.fp32_precision, c.depthwise_kernel))
show(lambda: (c.enabled, c.benchmark, c.deterministic, c.allow_tf32))
show(lambda: c.set_flags(False, True, 5, True, False))
show(lambda: c.set_flags())
''',
    'mkldnn_flags_block': '''
m = L.backends.mkldnn
with m.flags(enabled=False, deterministic=True):
    show(lambda: (m.enabled, m.deterministic, m.allow_tf32, m.fp32_precision))
show(lambda: (m.enabled, m.deterministic))
''',
    'generic_flags_block': '''
b = L.backends
b.fp32_precision = 'tf32'
with b.flags(fp32_precision='ieee'):
    show(lambda: (b.fp32_precision, b.mkldnn.conv.fp32_precision))
show(lambda: b.fp32_precision)
show(lambda: b.set_flags('bf16'))
''',
    'frozen': '''
b = L.backends
b.disable_global_flags()
show(b.flags_frozen)
show(lambda: setattr(b.cudnn, 'benchmark', True))
show(lambda: setattr(b.mkldnn, 'enabled', False))
show(lambda: setattr(b, 'fp32_precision', 'tf32'))
show(lambda: setattr(b.miopen, 'immediate', True))
show(lambda: setattr(b.python_native.triton, 'enabled', False))
b.cudnn.rnn.fp32_precision = 'tf32'  # cudnn.rnn's own property is never frozen
with b.cudnn.flags(enabled=False, benchmark=True):
    show(lambda: (b.cudnn.enabled, b.cudnn.benchmark))
show(lambda: (b.cudnn.enabled, b.cudnn.benchmark, b.flags_frozen()))
with b.nnpack.flags(enabled=False):
    pass
b.cudnn.rnn.fp32_precision = 'ieee'  # conv and rnn now disagree: the legacy read refuses
show(lambda: b.cudnn.flags().__enter__())
''',
    'nnpack_miopen': '''
b = L.backends
show(lambda: b.nnpack.set_flags(False))
show(lambda: b.nnpack.set_flags(True))
with b.miopen.flags(immediate=True):
    show(lambda: b.miopen.immediate)
show(lambda: b.miopen.immediate)
b.miopen.immediate = True
show(lambda: b.miopen.set_flags())
''',
    'quantized': '''
q = L.backends.quantized
for v in ['none', 'fbgemm', 'qnnpack', 'onednn', 'x86', 'bad', None, '']:
    show(lambda: (setattr(q, 'engine', v), q.engine))
show(lambda: setattr(q, 'supported_engines', []))
''',
    'opt_einsum': '''
o = L.backends.opt_einsum
show(lambda: setattr(o, 'enabled', True))
show(lambda: setattr(o, 'enabled', False))
show(lambda: o.set_flags(None, 'greedy'))
with o.flags():
    show(lambda: (o.enabled, o.strategy))
''',
    'python_native': '''
pn = L.backends.python_native
t = pn.triton
show(lambda: (t.name, t.available, t.version, t.enabled, repr(t)))
t.enabled = False
show(lambda: (t.enabled, pn.is_dsl_disabled('triton'), repr(t)))
t.enabled = True
with t.disabled():
    show(lambda: t.enabled)
show(lambda: (t.enabled, pn.all_dsls, pn.available_dsls, pn.get_dsl_operations('triton')))
pn.disable_operations('scaled_mm')
show(lambda: pn.is_operation_disabled('scaled_mm'))
pn.enable_operations('scaled_mm')
with pn.operations_disabled('a', 'b'):
    show(lambda: pn.is_operation_disabled('a'))
show(lambda: pn.is_operation_disabled('a'))
show(lambda: pn.no_such_dsl)
show(lambda: pn._get_dsl_module('zzz'))
''',
    'cudnn_rnn': '''
r = L.backends.cudnn.rnn
show(lambda: r.get_cudnn_mode('LSTM'))
show(lambda: r.get_cudnn_mode('XX'))
u = r.Unserializable(5)
show(lambda: (u.get(), u.__getstate__()))
show(lambda: r.init_dropout_state(0.5, True, 0, {}))
''',
}

_RUNNER = r'''
import importlib, json, re, sys, warnings
L = importlib.import_module(sys.argv[1])
out = []

def show(f):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            text = repr(f())
        except Exception as e:
            text = f'!{type(e).__name__}: {e}'
        out.append(re.sub(r'\bember\b', 'torch', text))

b = L.backends
TREE = [(b, 'fp32_precision'), (b.cudnn, 'fp32_precision'), (b.cudnn.conv, 'fp32_precision'),
        (b.cudnn.rnn, 'fp32_precision'), (b.mkldnn, 'fp32_precision'),
        (b.mkldnn.matmul, 'fp32_precision'), (b.mkldnn.conv, 'fp32_precision'),
        (b.mkldnn.rnn, 'fp32_precision'), (b.cuda.matmul, 'fp32_precision'),
        (b.cudnn, 'allow_tf32'), (b.cuda.matmul, 'allow_tf32'), (b.mkldnn, 'allow_tf32')]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    exec(sys.stdin.read())
out.append(sorted({str(w.message)[:60] for w in caught}))
for obj, name in TREE:
    show(lambda: getattr(obj, name))
show(L.get_float32_matmul_precision)
print(json.dumps(out))
'''


def _run(lib, body):
    r = subprocess.run([sys.executable, '-c', _RUNNER, lib], input=body, capture_output=True,
                       text=True, env=env(), cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('name', sorted(SCENARIOS))
def test_backends_flags_as_torch(name):
    body = SCENARIOS[name]
    expected = _run('torch', body)
    got = _run('ember', body)
    assert got == expected
