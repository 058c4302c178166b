"""`ember compat` counts ember's own raise-only functions as missing, and they still raise
NotImplementedError naming the torch feature, as every missing name does."""
import pytest

import ember
from ember import _compat, _stubs

RAISE_ONLY = [('torch.onnx', 'export', lambda: ember.onnx.export(None, (), 'm.onnx'))]


@pytest.mark.parametrize('ns,name,call', RAISE_ONLY, ids=[f'{n}.{m}' for n, m, _ in RAISE_ONLY])
def test_raise_only_counts_as_missing(ns, name, call):
    status = {n: ok for n, _, ok in _compat.status(ns)}
    assert status[name] is False
    with pytest.raises(NotImplementedError, match=f'{ns}.{name}'.replace('.', r'\.')):
        call()


def test_real_functions_still_count():
    status = {n: ok for n, _, ok in _compat.status('torch')}
    assert status['zeros'] and status['matrix_exp']
    assert not _stubs.is_missing(ember.matrix_exp)
