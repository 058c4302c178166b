"""torch's low-precision dtypes (complex32, float8, float4, bits, sub-byte ints) against torch."""
import pickle

import pytest
import torch

import ember
from tests._oracle import assert_same

NAMES = ('complex32 chalf float8_e4m3fn float8_e4m3fnuz float8_e5m2 float8_e5m2fnuz '
         'float8_e8m0fnu float4_e2m1fn_x2 bits1x8 bits2x4 bits4x2 bits8 bits16 bit int1 int2 '
         'int3 int4 int5 int6 int7 uint1 uint2 uint3 uint4 uint5 uint6 uint7').split()
FLOAT8 = ('float8_e4m3fn', 'float8_e4m3fnuz', 'float8_e5m2', 'float8_e5m2fnuz')


@pytest.mark.parametrize('name', NAMES)
def test_dtype_object_matches_torch(name):
    d = getattr(ember, name)
    assert repr(d) == repr(getattr(torch, name))
    assert str(d) == str(getattr(torch, name))
    assert pickle.loads(pickle.dumps(d)) is d
    for attr in ('itemsize', 'is_floating_point', 'is_complex', 'is_signed'):
        assert_same(lambda lib: getattr(getattr(lib, name), attr), torch)
    assert_same(lambda lib: repr(getattr(lib, name).to_real()), torch)
    assert_same(lambda lib: repr(getattr(lib, name).to_complex()), torch)
    assert_same(lambda lib: str(lib.iinfo(getattr(lib, name))), torch)
    if name != 'float4_e2m1fn_x2':      # torch's finfo of it fails on its own attributes
        assert_same(lambda lib: str(lib.finfo(getattr(lib, name))), torch)
        assert_same(lambda lib: lib.finfo(getattr(lib, name)).dtype, torch)


def test_aliases_are_the_same_objects():
    assert ember.chalf is ember.complex32 and ember.bit is ember.uint1
    assert ember.finfo(ember.float4_e2m1fn_x2).bits == torch.finfo(torch.float4_e2m1fn_x2).bits


@pytest.mark.parametrize('a', ['float8_e4m3fn', 'complex32', 'uint4', 'bits8', 'float8_e5m2'])
@pytest.mark.parametrize('b', ['float32', 'float16', 'int64', 'float8_e5m2', 'complex32', 'bool',
                               'bfloat16', 'uint16', 'complex64', 'uint4'])
def test_promotion_and_can_cast(a, b):
    assert_same(lambda lib: repr(lib.promote_types(getattr(lib, a), getattr(lib, b))), torch)
    assert_same(lambda lib: lib.can_cast(getattr(lib, a), getattr(lib, b)), torch)


VALUES = [1.5, -2.25, 1000.0, 0.1, -0.0, 3.0, 240.0, 460.0, float('inf'), 1e-4]


@pytest.mark.parametrize('name', FLOAT8 + ('complex32',))
def test_tensors_of_the_ml_dtypes_types(name):
    pytest.importorskip('ml_dtypes')

    def conv(lib):
        t = lib.tensor(VALUES).to(getattr(lib, name))
        return (repr(t), t.view(lib.uint8).tolist(), repr(t.float()), repr(t.tolist()), t.dtype.itemsize,
                repr(t.reshape(2, 5)[1]), t.is_floating_point(), t.is_complex())
    assert_same(conv, torch)
    assert_same(lambda lib: repr(lib.zeros(2, 3, dtype=getattr(lib, name))), torch)
    assert_same(lambda lib: repr(lib.ones(3, dtype=getattr(lib, name))), torch)
    assert_same(lambda lib: lib.empty(4, dtype=getattr(lib, name)).shape, torch)
    assert_same(lambda lib: repr(lib.full((2,), 3.0, dtype=getattr(lib, name))), torch)
    assert_same(lambda lib: lib.tensor([1.5]).to(getattr(lib, name)).item(), torch)
    assert_same(lambda lib: lib.tensor([1.5]).to(getattr(lib, name)).numpy(), torch)
    assert_same(lambda lib: repr(lib.tensor([1.5, 2.0]).to(getattr(lib, name)).requires_grad_()), torch)


def test_float8_conversions_between_types():
    pytest.importorskip('ml_dtypes')
    assert_same(lambda lib: repr(lib.tensor(VALUES, dtype=lib.float64).to(lib.float8_e4m3fn)
                          .to(lib.float8_e5m2).to(lib.bfloat16)), torch)
    assert_same(lambda lib: repr(lib.tensor([1.5, -2.0]).to(lib.float8_e4m3fn).to(lib.int64)), torch)
    assert_same(lambda lib: repr(lib.tensor([1.5, -2.0]).to(lib.float8_e4m3fn).to(lib.complex32)), torch)
    assert_same(lambda lib: lib.tensor([2.0, -3.0, 1000.0]).to(lib.float8_e8m0fnu).float().tolist(),
         torch)


@pytest.mark.parametrize('name', ['uint4', 'int3', 'bits8', 'float4_e2m1fn_x2'])
def test_tensors_of_sub_byte_types_refused(name):
    with pytest.raises(NotImplementedError, match=repr(getattr(torch, name))):
        ember.tensor([1.0, 2.0]).to(getattr(ember, name))
    with pytest.raises(NotImplementedError):
        torch.tensor([1.0, 2.0]).to(getattr(torch, name))
