"""DLPack interchange with torch and NumPy: memory shared both ways, dtypes kept, torch's
refusals (a tensor that requires grad)."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool',
                                   'complex64', 'float16'])
def test_round_trips_share_memory(dtype):
    x = np.arange(6).reshape(2, 3).astype(dtype)
    e = ember.tensor(x)
    t = torch.from_dlpack(e)  # torch reads ember's memory
    assert str(t.dtype) == str(e.dtype) and tuple(t.shape) == (2, 3)
    assert np.shares_memory(t.numpy(), e.numpy())
    back = ember.from_dlpack(torch.tensor(x))  # and ember reads torch's
    assert str(back.dtype) == str(e.dtype)
    np.testing.assert_array_equal(back.numpy(), x)
    cap = ember.from_dlpack(torch.utils.dlpack.to_dlpack(torch.tensor(x)))
    np.testing.assert_array_equal(cap.numpy(), x)
    own = ember.from_dlpack(ember.utils.dlpack.to_dlpack(e))
    assert np.shares_memory(own.numpy(), e.numpy())


def test_views_writes_and_refusals():
    e = ember.arange(12.).reshape(3, 4)[:, 1::2]  # a strided view
    t = torch.from_dlpack(e)
    t[0, 0] = 100.0
    assert float(e[0, 0]) == 100.0
    assert np.from_dlpack(e).shape == (3, 2)
    assert e.__dlpack_device__() == torch.ones(1).__dlpack_device__()
    assert int(ember.utils.dlpack.DLDeviceType.kDLCPU) == int(
        torch.utils.dlpack.DLDeviceType.kDLCPU)
    for lib in (torch, ember):
        with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
            lib.ones(2, requires_grad=True).__dlpack__()
