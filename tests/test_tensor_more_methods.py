"""Tensor.storage_type, is_distributed, ipu and mtia against torch 2.13 (a CPU-only build)."""
import warnings

import pytest

import ember

torch = pytest.importorskip('torch')


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'float16', 'int64', 'int32', 'int16',
                                   'int8', 'uint8', 'bool', 'complex64', 'complex128'])
def test_storage_type_as_torch(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        e = ember.ones(2, dtype=getattr(ember, dtype)).storage_type()
        t = torch.ones(2, dtype=getattr(torch, dtype)).storage_type()
    assert e.__name__ == t.__name__
    assert e is getattr(ember, t.__name__)


def test_is_distributed_is_false():
    assert ember.ones(2).is_distributed() is torch.ones(2).is_distributed() is False


@pytest.mark.parametrize('method', ['ipu', 'mtia'])
@pytest.mark.parametrize('args', [(), (0,), ('cpu',), ('mtia',), ('ipu',)])
def test_accelerator_moves_fail_as_torch(method, args):
    got = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as e:
            getattr(lib.ones(2), method)(*args)
        got.append((type(e.value).__name__, str(e.value)))
    assert got[0] == got[1]
