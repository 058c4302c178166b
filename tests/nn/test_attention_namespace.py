"""torch.nn.attention's backend queries and flash-attention registry against torch (CPU)."""
import subprocess
import sys

import pytest

import ember
from _subproc import ROOT, env

torch = pytest.importorskip('torch')


def _params(L):
    q = L.ones(1, 1, 4, 8)
    return L.nn.attention.SDPAParams(q, q, q, None, 0.0, False, False), q


def test_sdpa_params_and_kernel_queries_as_torch():
    for L in (torch, ember):
        p, q = _params(L)
        assert (p.query is q, p.key is q, p.attn_mask, p.dropout, p.is_causal,
                p.enable_gqa) == (True, True, None, 0.0, False, False)
        a = L.nn.attention
        assert (a.can_use_flash_attention(p), a.can_use_efficient_attention(p, True)) == \
            (False, False)
        assert a.SDPAParams is L.backends.cuda.SDPAParams
        assert a.can_use_flash_attention is L.backends.cuda.can_use_flash_attention
        with pytest.raises(TypeError, match='incompatible constructor arguments'):
            a.SDPAParams(q, q, q)


_REGISTRY = r'''
import importlib, logging, sys
L = importlib.import_module(sys.argv[1])
logging.basicConfig(stream=sys.stdout, format='%(name)s %(levelname)s %(message)s')
a = L.nn.attention
out = []
def show(f):
    try:
        out.append(repr(f()))
    except Exception as e:
        out.append(f'!{type(e).__name__}: {e}')
class Handle:
    def remove(self):
        out.append('removed')
show(a.list_flash_attention_impls)
show(a.current_flash_attention_impl)
show(lambda: a.activate_flash_attention_impl('FA3'))
show(lambda: a.activate_flash_attention_impl('FA4'))
show(lambda: a.activate_flash_attention_impl('ZZ'))
show(lambda: a.register_flash_attention_impl('X', register_fn=lambda: None))
show(lambda: a.register_flash_attention_impl('H', register_fn=Handle))
show(lambda: a.activate_flash_attention_impl('X'))
show(a.current_flash_attention_impl)
show(lambda: a.activate_flash_attention_impl('H'))
show(a.current_flash_attention_impl)
show(lambda: a.activate_flash_attention_impl('X'))
show(a.current_flash_attention_impl)
show(a.restore_flash_attention_impl)
show(a.list_flash_attention_impls)
print(out)
'''


def test_flash_attention_registry_as_torch():
    got = []
    for lib in ('torch', 'ember'):
        r = subprocess.run([sys.executable, '-c', _REGISTRY, lib], capture_output=True,
                           text=True, env=env(), cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        # the results; and the warning of restoring with nothing active, wherever it is logged
        got.append((r.stdout.splitlines()[-1],
                    'Trying to restore default FA2 impl when no custom impl was activated'
                    in r.stdout + r.stderr))
    assert got[1] == got[0]
