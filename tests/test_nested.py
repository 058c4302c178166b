"""torch.nested on ember, against torch: values, padded output, reprs, gradients, errors."""
import re

import numpy as np
import pytest
import torch

import ember
import ember.nested  # noqa: F401
from _oracle import assert_same_error as _assert_same_error

LIBS = (ember, torch)
pytestmark = pytest.mark.filterwarnings('ignore::UserWarning')


def assert_same_error(make):
    _assert_same_error(make, torch, prefix=True)


def assert_close(a, b, **kw):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, **kw)


def assert_same_nested(a, b, **kw):
    """Same components (values and dtypes)."""
    ua, ub = a.unbind(), b.unbind()
    assert len(ua) == len(ub)
    for x, y in zip(ua, ub):
        assert tuple(x.shape) == tuple(y.shape)
        assert str(x.dtype) == str(y.dtype).replace('torch.', 'torch.')
        assert_close(x, y, **kw)


def _parts(L, dtype='float32'):
    a = np.arange(6, dtype=dtype).reshape(2, 3) / 5
    b = np.arange(8, dtype=dtype).reshape(2, 4) / 7 - 0.3
    return [L.tensor(a), L.tensor(b)]


def _nt(L, **kw):
    return L.nested.nested_tensor(_parts(L), **kw)


def _j(s):
    return re.sub(r'j\d+', 'j', s)


def test_nested_tensor_repr_metadata_and_padding():
    res = {}
    for L in LIBS:
        nt = _nt(L)
        ntg = _nt(L, requires_grad=True)
        res[L] = (repr(nt), str(nt), repr(ntg), nt.is_nested, nt.dim(), str(nt.layout),
                  str(nt.dtype), nt.size(0), nt.numel(), nt.element_size(), nt.is_contiguous(),
                  L.nested.to_padded_tensor(nt, 0.0), L.nested.to_padded_tensor(nt, -1.0,
                                                                                  (3, 3, 5)),
                  nt.to_padded_tensor(2.0), repr(L.nested.nested_tensor([])),
                  repr(L.nested.nested_tensor([[1, 2], [3, 4, 5]], dtype=L.float32)),
                  L.ones(2).is_nested)
    e, t = res[ember], res[torch]
    for x, y in zip(e, t):
        if isinstance(x, (ember.Tensor, torch.Tensor)):
            assert_close(x, y)
        else:
            assert x == y, (x, y)


def test_nested_errors_match_torch():
    def nt(L):
        return _nt(L)
    assert_same_error(lambda L: nt(L).size())
    assert_same_error(lambda L: nt(L).shape)
    assert_same_error(lambda L: nt(L).size(2))
    assert_same_error(lambda L: nt(L).size(-1))
    assert_same_error(lambda L: nt(L).stride())
    assert_same_error(lambda L: nt(L).unbind(1))
    assert_same_error(lambda L: nt(L) + L.ones(3))
    assert_same_error(lambda L: L.ones(3) + nt(L))
    assert_same_error(lambda L: nt(L) + L.nested.nested_tensor(_parts(L)[:1]))
    assert_same_error(lambda L: L.softmax(nt(L), 0))
    assert_same_error(lambda L: nt(L).sum())
    assert_same_error(lambda L: nt(L).exp())
    assert_same_error(lambda L: nt(L) ** 2)
    assert_same_error(lambda L: 1 - nt(L))
    assert_same_error(lambda L: nt(L) == nt(L))
    assert_same_error(lambda L: nt(L) > L.tensor(1.0))
    assert_same_error(lambda L: nt(L).sum(-1))
    assert_same_error(lambda L: nt(L).narrow(2, 0, 1))
    assert_same_error(lambda L: nt(L).backward())
    assert_same_error(lambda L: _nt(L, requires_grad=True).sin().backward())
    assert_same_error(lambda L: _nt(L, requires_grad=True).numpy())
    assert_same_error(lambda L: L.nested.to_padded_tensor(nt(L), 0, (1, 1, 1)))
    assert_same_error(lambda L: L.nested.nested_tensor([L.ones(2), L.ones(2, 3)]))
    assert_same_error(lambda L: L.nn.functional.linear(nt(L), L.ones(2, 3)))
    assert_same_error(lambda L: L.bmm(nt(L), L.ones(2, 4, 3)))
    assert_same_error(lambda L: nt(L) @ L.ones(3, 2))


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_elementwise_softmax_matmul_and_linear(dtype):
    res = {}
    for L in LIBS:
        nt = L.nested.nested_tensor(_parts(L, dtype))
        other = L.nested.nested_tensor([p.transpose(0, 1) * 0.5 for p in _parts(L, dtype)])
        sq = L.nested.nested_tensor([L.ones(1, 3, dtype=nt.dtype), L.ones(2, 3, dtype=nt.dtype)])
        w = L.tensor(np.arange(6, dtype=dtype).reshape(2, 3) / 3)
        F = L.nn.functional
        res[L] = [nt + 1, nt - 2.5, nt * L.tensor(3.0, dtype=nt.dtype), nt / 2, 2 * nt,
                  nt + nt, nt * nt, nt.sin(), nt.cos(), nt.tanh(), nt.abs(), -nt, nt.relu(),
                  F.relu(nt), F.gelu(nt), F.silu(nt), F.dropout(nt, 0.5, training=False),
                  L.softmax(nt, -1), F.softmax(nt, 2), nt.softmax(1),
                  L.matmul(nt, other), nt @ other, L.bmm(nt, other), F.linear(sq, w),
                  F.linear(sq, w, L.ones(2, dtype=nt.dtype)),
                  nt.transpose(1, 2), nt.unsqueeze(1), nt.masked_fill(nt > 0.5, 0.0),
                  nt.sum(-1, keepdim=True), nt.clone(), nt.detach(), nt.to(L.float64),
                  nt.double(), nt.sqrt() if False else nt.abs().sqrt()]
    for a, b in zip(res[ember], res[torch]):
        assert_same_nested(a, b)


def test_gradients_through_components_and_padding():
    res = {}
    for L in LIBS:
        nt = _nt(L, requires_grad=True)
        y = L.softmax((nt * 2).sin(), -1)
        pad = L.nested.to_padded_tensor(y, 0.0)
        (pad * L.arange(pad.numel(), dtype=pad.dtype).reshape(pad.shape)).sum().backward()
        x1, x2 = [L.tensor(p.numpy(), requires_grad=True) for p in _parts(L)]
        z = L.nested.as_nested_tensor([x1, x2])
        L.nested.to_padded_tensor(z.sin(), 0.0).pow(2).sum().backward()
        res[L] = (nt.grad, x1.grad, x2.grad, repr(y).split('grad_fn=')[1], nt.is_leaf,
                  y.is_leaf, y.requires_grad)
    assert_same_nested(res[ember][0], res[torch][0], atol=1e-6)
    assert_close(res[ember][1], res[torch][1], atol=1e-6)
    assert_close(res[ember][2], res[torch][2], atol=1e-6)
    assert res[ember][3:] == res[torch][3:]


def test_indexing_unbind_and_in_place():
    res = {}
    for L in LIBS:
        nt = _nt(L)
        u = nt.unbind()
        m = nt.clone()
        m.mul_(2)
        m.add_(1.0)
        n = nt.clone()
        n.relu_()
        n.zero_()
        res[L] = [u[0], u[1], nt[0], nt[1], nt[1, 0], nt[0, :, 1], m, n,
                  nt.narrow(0, 1, 1)]
    for a, b in zip(res[ember], res[torch]):
        if a.is_nested:
            assert_same_nested(a, b)
        else:
            assert_close(a, b)


def test_as_nested_tensor_from_a_tensor_and_dtype():
    for L in LIBS:
        nt = L.nested.as_nested_tensor(L.arange(6.0).reshape(2, 3), dtype=L.float64)
        assert repr(nt) == repr(torch.nested.as_nested_tensor(
            torch.arange(6.0).reshape(2, 3), dtype=torch.float64))
    assert_same_error(lambda L: L.nested.as_nested_tensor(3))


def test_jagged_layout():
    res = {}
    for L in LIBS:
        v = L.arange(15.0).reshape(5, 3)
        off = L.tensor([0, 2, 5])
        nt = L.nested.nested_tensor_from_jagged(v, off)
        j = L.nested.nested_tensor([L.ones(2, 3), L.ones(3, 3)], layout=L.jagged)
        nl = L.nested.nested_tensor_from_jagged(v, off, lengths=L.tensor([2, 3]))
        t = L.arange(12.0).reshape(3, 4)
        nar = L.nested.narrow(t, 1, L.tensor([0, 1, 2]), L.tensor([2, 2, 1]), layout=L.jagged)
        ms = L.nested.masked_select(t, t > 4)
        res[L] = (_j(repr(nt)), str(nt.layout), _j(str(nt.shape)), nt.dim(), nt.size(0),
                  nt.size(2), nt.offsets().tolist(), nt.lengths(), _j(repr(nt.sin())),
                  _j(repr(j)), j.offsets().tolist(), _j(repr(nl)), _j(repr(nar)),
                  [x.tolist() for x in nar.unbind()], _j(repr(ms)),
                  [x.tolist() for x in ms.unbind()],
                  L.nested.to_padded_tensor(nt, 0.0).tolist(), nt.values().tolist(),
                  L.nested.to_padded_tensor(L.nested.nested_tensor_from_jagged(
                      v, off, max_seqlen=3), 1.0).tolist(),
                  L.nested.to_padded_tensor(j, 0.0).tolist(),
                  L.nested.to_padded_tensor(ms, 0.0).tolist(),
                  [x.tolist() for x in nt.unbind()])
    assert res[ember] == res[torch]
    assert_same_error(lambda L: L.nested.nested_tensor([L.ones(2, 3), L.ones(3, 4)],
                                                       layout=L.jagged))
    assert_same_error(lambda L: L.nested.narrow(L.ones(3, 4), 1, L.tensor([0, 1, 2]),
                                                L.tensor([2, 2, 1])))
    assert_same_error(lambda L: L.nested.narrow(L.ones(3, 4), 1, 1, 2))
    assert_same_error(lambda L: L.nested.to_padded_tensor(L.nested.narrow(
        L.ones(3, 4), 1, L.tensor([0, 1, 2]), L.tensor([2, 2, 1]), layout=L.jagged), 0.0))


def test_other_functions_refuse_with_torchs_error():
    for L in LIBS:
        with pytest.raises(NotImplementedError, match="NestedTensorCPU"):
            L.exp(_nt(L))
        with pytest.raises(NotImplementedError, match="NestedTensorCPU"):
            _nt(L).mean()
        with pytest.raises(NotImplementedError, match="NestedTensorCPU"):
            L.nn.functional.log_softmax(_nt(L), -1)
