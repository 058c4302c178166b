"""bmm does not promote mixed dtypes: torch raises, and so must ember (NumPy would promote)."""
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


@pytest.mark.parametrize('a,b', [('float32', 'int64'), ('int64', 'float32'),
                                 ('float32', 'float64'), ('float64', 'float32'),
                                 ('int32', 'int64')])
def test_bmm_mixed_dtypes_raise_like_torch(a, b):
    msgs = []
    for L in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            L.bmm(L.zeros(2, 3, 4, dtype=getattr(L, a)), L.zeros(2, 4, 5, dtype=getattr(L, b)))
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_bmm_shape_error_comes_before_dtype_error():
    msgs = []
    for L in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            L.bmm(L.zeros(2, 3, 4, dtype=L.long), L.zeros(2, 5, 4))
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('a,b', [('float32', 'int64'), ('int64', 'float32'),
                                 ('float32', 'float64'), ('float64', 'float32')])
@pytest.mark.parametrize('op', [
    lambda L, a, b: L.mv(L.zeros(2, 3, dtype=a), L.zeros(3, dtype=b)),
    lambda L, a, b: L.tensordot(L.zeros(2, 3, dtype=a), L.zeros(3, 2, dtype=b), dims=1),
    lambda L, a, b: L.inner(L.zeros(2, 3, dtype=a), L.zeros(3, dtype=b)[None].expand(4, 3)),
])
def test_mv_tensordot_inner_mixed_dtypes_raise_like_torch(op, a, b):
    msgs = []
    for L in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            op(L, getattr(L, a), getattr(L, b))
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize('a,b', [('float32', 'int64'), ('float32', 'float64'),
                                 ('int64', 'int32')])
@pytest.mark.parametrize('eq,s1,s2', [('ij,jk->ik', (2, 3), (3, 2)), ('i,i->', (3,), (3,)),
                                      ('ij,ij->ij', (2, 3), (2, 3)), ('i,j->ij', (2,), (3,))])
def test_einsum_mixed_dtypes(a, b, eq, s1, s2):
    """torch promotes an elementwise einsum but refuses a contraction over mixed dtypes."""
    res = []
    for L in (torch, ember):
        try:
            r = L.einsum(eq, L.ones(s1, dtype=getattr(L, a)), L.ones(s2, dtype=getattr(L, b)))
            res.append(('ok', str(r.dtype).split('.')[-1], r.tolist()))
        except RuntimeError as e:
            res.append(('error', str(e)))
    assert res[0] == res[1]
